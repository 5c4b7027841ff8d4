//! Logging through `tracing` (feature `tracing`): the crate's events and spans, compiled to
//! nothing without the feature. Floor-neutral: every floor logs through these macros.
//!
//! Nothing secret is ever logged: keys, secrets, tokens and signatures never reach a field.

/// An event at `$level` (`trace`, `debug`, `info`, `warn`, `error`), with `tracing`'s syntax.
macro_rules! event {
    ($level:ident, $($arg:tt)+) => {
        #[cfg(feature = "tracing")]
        {
            ::tracing::$level!(target: "storages_s3", $($arg)+);
        }
    };
}

pub(crate) use event;
