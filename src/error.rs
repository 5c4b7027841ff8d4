//! The crate's one error type.
//!
//! [`Error`] is opaque and cheap to move (one pointer). Ask it what went wrong with
//! [`Error::kind`] or the `is_*` predicates; S3 replies keep their code, message and request
//! id ([`Error::service`]). Every error names the operation, bucket and key it concerns, and
//! none ever carries a secret: settings errors name the setting, not its value, when the
//! setting is secret.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// A boxed error, as streams of upload data yield.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A setting is missing, malformed or contradicts another one.
    InvalidSetting,
    /// A bucket name S3 would refuse.
    InvalidBucketName,
    /// An object key that cannot be sent: empty, longer than 1024 bytes, or not expressible
    /// in a request.
    InvalidKey,
    /// A storage name that Django's rules refuse (its `SuspiciousOperation` and
    /// `SuspiciousFileOperation`): a path escaping the location, an absolute name, `..`, a
    /// name from which no file name can be derived, or one that cannot fit `max_length`.
    InvalidName,
    /// No credentials could be found for a request that must be signed.
    NoCredentials,
    /// The object, bucket or upload does not exist (HTTP 404).
    NotFound,
    /// The server refused the credentials or the signature, or the caller lacks permission
    /// (HTTP 403). [`Error::code`] tells `AccessDenied` from `SignatureDoesNotMatch`,
    /// `InvalidAccessKeyId`, `RequestTimeTooSkewed`, ...
    AccessDenied,
    /// A conditional request's condition did not hold (HTTP 412), e.g. `If-None-Match: *`
    /// on an object that already exists.
    PreconditionFailed,
    /// Any other error reply from the service.
    Service,
    /// The server's reply could not be understood (malformed or truncated XML, missing
    /// fields, impossible values).
    InvalidResponse,
    /// The bytes read do not match the checksum the server stored with the object: they
    /// were corrupted on the way (or the stored copy is). Reading again may succeed.
    ChecksumMismatch,
    /// A connect, read or overall timeout elapsed.
    Timeout,
    /// The connection failed or broke: refused, reset, TLS failure, closed mid-body.
    Transport,
    /// Reading or writing local data failed (a caller's stream, a file).
    Io,
    /// A multipart upload was abandoned: its parts were discarded and nothing was stored.
    Aborted,
    /// An argument of a call is out of range or malformed (a presigned URL's lifetime, a
    /// part number, a batch size, an empty byte range, a header value): the call's own
    /// input, not a setting, a name or a key.
    InvalidArgument,
    /// More data than the caller's bound: a body larger than the limit given to
    /// `collect`, a listing with more entries than `collect_up_to` takes.
    LimitExceeded,
    /// The operation does not exist for this storage or file (the original's
    /// `NotImplementedError` and `AttributeError`: accessed time on S3, reading a file opened
    /// for writing, ...).
    Unsupported,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidSetting => "invalid setting",
            ErrorKind::InvalidBucketName => "invalid bucket name",
            ErrorKind::InvalidKey => "invalid key",
            ErrorKind::InvalidName => "invalid name",
            ErrorKind::NoCredentials => "no credentials",
            ErrorKind::NotFound => "not found",
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::PreconditionFailed => "precondition failed",
            ErrorKind::Service => "service error",
            ErrorKind::InvalidResponse => "invalid response",
            ErrorKind::ChecksumMismatch => "checksum mismatch",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Transport => "transport error",
            ErrorKind::Io => "i/o error",
            ErrorKind::Aborted => "upload aborted",
            ErrorKind::LimitExceeded => "limit exceeded",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

/// An error reply from S3: the HTTP status and what the XML body said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// HTTP status of the reply (200 for an error inside a successful reply).
    pub status: u16,
    /// S3 error code, such as `NoSuchKey` or `SignatureDoesNotMatch`; empty when the reply
    /// had no body (HEAD requests).
    pub code: String,
    /// Human-readable message from the server.
    pub message: String,
    /// `x-amz-request-id` (or the body's `RequestId`), for support requests.
    pub request_id: Option<String>,
    /// Region the bucket lives in, when the server said (`x-amz-bucket-region`).
    pub bucket_region: Option<String>,
}

impl ServiceError {
    /// The kind an error reply maps to.
    pub(crate) fn kind(&self) -> ErrorKind {
        match (self.status, self.code.as_str()) {
            (_, "NoSuchKey" | "NoSuchBucket" | "NoSuchUpload" | "NoSuchVersion") | (404, _) => ErrorKind::NotFound,
            (_, "PreconditionFailed") | (412, _) => ErrorKind::PreconditionFailed,
            (403, _) | (_, "AccessDenied" | "SignatureDoesNotMatch" | "InvalidAccessKeyId") => ErrorKind::AccessDenied,
            _ => ErrorKind::Service,
        }
    }
}

/// Where an error happened: the operation and the object it concerned.
#[derive(Debug, Clone, Default)]
struct Context {
    operation: Option<&'static str>,
    bucket: Option<String>,
    key: Option<String>,
    setting: Option<String>,
    /// Attempts made and the time they took, when more than one was made or the
    /// operation's deadline passed.
    attempts: Option<(u32, Duration)>,
    /// The operation's deadline, when it stopped further attempts.
    deadline: Option<Duration>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    /// What the caller may do about it.
    note: Option<&'static str>,
    service: Option<ServiceError>,
    context: Context,
    source: Option<BoxError>,
    /// The message already says what the source chain says (its innermost cause): the
    /// source stays reachable through `source()` but is not printed again.
    source_in_message: bool,
    /// No connection was made: the request never reached the server.
    connect_failure: bool,
}

/// The error type of every fallible operation in this crate.
///
/// ```
/// use storages_s3::{ErrorKind, Settings};
///
/// let err = Settings::builder()
///     .option("bucket_name", "media-bucket")
///     .option("location", "/media")
///     .no_globals()
///     .build()
///     .unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidSetting);
/// assert_eq!(err.setting(), Some("location"));
/// ```
pub struct Error {
    inner: Box<Inner>,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                note: None,
                service: None,
                context: Context::default(),
                source: None,
                source_in_message: false,
                connect_failure: false,
            }),
        }
    }

    /// An error reply from the server.
    pub(crate) fn service(service: ServiceError) -> Self {
        let mut e = Error::new(service.kind(), String::new());
        e.inner.service = Some(service);
        e
    }

    /// A setting that cannot be used; `setting` is the option name.
    pub(crate) fn invalid_setting(setting: &str, message: impl Into<String>) -> Self {
        let mut e = Error::new(ErrorKind::InvalidSetting, message);
        e.inner.context.setting = Some(setting.to_owned());
        e
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// [`with_source`](Self::with_source) for a source whose cause the message already
    /// gives: `Display` does not repeat the source's own wording.
    pub(crate) fn with_source_in_message(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self.inner.source_in_message = true;
        self
    }

    /// Adds advice for the caller, shown after the error.
    pub(crate) fn with_note(mut self, note: &'static str) -> Self {
        self.inner.note = Some(note);
        self
    }

    /// Records how many attempts the operation made and for how long (kept from the
    /// innermost layer that knew; shown only when it tried more than once).
    pub(crate) fn with_attempts(mut self, attempts: u32, elapsed: Duration) -> Self {
        let timed_out = self.inner.kind == ErrorKind::Timeout || self.inner.context.deadline.is_some();
        if (attempts > 1 || timed_out) && self.inner.context.attempts.is_none() {
            self.inner.context.attempts = Some((attempts, elapsed));
        }
        self
    }

    /// Marks a failure to connect: the request never reached the server.
    pub(crate) fn connect_failure(mut self) -> Self {
        self.inner.connect_failure = true;
        self
    }

    /// Whether no connection was made (so the server never saw the request).
    pub(crate) fn is_connect_failure(&self) -> bool {
        self.inner.connect_failure
    }

    /// Records that the operation's deadline stopped further attempts.
    pub(crate) fn with_deadline(mut self, deadline: Duration) -> Self {
        self.inner.context.deadline.get_or_insert(deadline);
        self
    }

    /// Attempts the operation made, when it made more than one (or ran out of time).
    pub fn attempts(&self) -> Option<u32> {
        self.inner.context.attempts.map(|(n, _)| n)
    }

    /// How long the operation's attempts took, when [`attempts`](Error::attempts) says.
    pub fn elapsed(&self) -> Option<Duration> {
        self.inner.context.attempts.map(|(_, t)| t)
    }

    /// Names the operation, unless an inner layer already did.
    pub(crate) fn with_operation(mut self, operation: &'static str) -> Self {
        self.inner.context.operation.get_or_insert(operation);
        self
    }

    pub(crate) fn with_object(mut self, bucket: &str, key: Option<&str>) -> Self {
        let ctx = &mut self.inner.context;
        if ctx.bucket.is_none() {
            ctx.bucket = Some(bucket.to_owned());
            ctx.key = key.map(str::to_owned);
        }
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The server's error reply, when there was one.
    #[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
    pub(crate) fn service_error(&self) -> Option<&ServiceError> {
        self.inner.service.as_ref()
    }

    /// The S3 error code (`NoSuchKey`, `SignatureDoesNotMatch`, ...), when the server sent one.
    pub fn code(&self) -> Option<&str> {
        self.inner
            .service
            .as_ref()
            .map(|s| s.code.as_str())
            .filter(|c| !c.is_empty())
    }

    /// The HTTP status of the server's reply, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.inner.service.as_ref().map(|s| s.status)
    }

    /// The S3 request id of the failed request, for support cases.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.service.as_ref()?.request_id.as_deref()
    }

    /// The S3 operation that failed (`PutObject`, ...).
    pub fn operation(&self) -> Option<&'static str> {
        self.inner.context.operation
    }

    /// The bucket the failed operation addressed.
    pub fn bucket(&self) -> Option<&str> {
        self.inner.context.bucket.as_deref()
    }

    /// The key the failed operation addressed.
    pub fn key(&self) -> Option<&str> {
        self.inner.context.key.as_deref()
    }

    /// The option name of the setting at fault, for [`ErrorKind::InvalidSetting`].
    pub fn setting(&self) -> Option<&str> {
        self.inner.context.setting.as_deref()
    }

    /// The object, bucket or upload does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// The request was refused for its credentials, signature or permissions.
    pub fn is_access_denied(&self) -> bool {
        self.kind() == ErrorKind::AccessDenied
    }

    /// The server could not verify the request's signature: usually a wrong secret key.
    pub fn is_signature_mismatch(&self) -> bool {
        self.code() == Some("SignatureDoesNotMatch")
    }

    /// A conditional request's precondition failed.
    pub fn is_precondition_failed(&self) -> bool {
        self.kind() == ErrorKind::PreconditionFailed
    }

    /// A storage name was refused by Django's name rules (suspicious operation).
    pub fn is_invalid_name(&self) -> bool {
        self.kind() == ErrorKind::InvalidName
    }

    /// The bytes read did not match the checksum the server stored for the object.
    pub fn is_checksum_mismatch(&self) -> bool {
        self.kind() == ErrorKind::ChecksumMismatch
    }

    /// A timeout elapsed.
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// The connection failed or broke.
    pub fn is_transport(&self) -> bool {
        self.kind() == ErrorKind::Transport
    }

    /// A setting is invalid.
    pub fn is_invalid_setting(&self) -> bool {
        self.kind() == ErrorKind::InvalidSetting
    }

    /// No credentials were found.
    pub fn is_no_credentials(&self) -> bool {
        self.kind() == ErrorKind::NoCredentials
    }

    /// The server's reply was malformed.
    pub fn is_invalid_response(&self) -> bool {
        self.kind() == ErrorKind::InvalidResponse
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let ctx = &inner.context;
        if let Some(op) = ctx.operation {
            f.write_str(op)?;
            if let Some(bucket) = &ctx.bucket {
                write!(f, " s3://{bucket}/{}", ctx.key.as_deref().unwrap_or(""))?;
            }
            f.write_str(": ")?;
        }
        if let Some(setting) = &ctx.setting {
            write!(f, "setting `{setting}`: ")?;
        }
        f.write_str(inner.kind.as_str())?;
        if !inner.message.is_empty() {
            write!(f, ": {}", inner.message)?;
        }
        if let Some(s) = &inner.service {
            write!(f, " (HTTP {}", s.status)?;
            if !s.code.is_empty() {
                write!(f, " {}", s.code)?;
            }
            if !s.message.is_empty() {
                write!(f, ": {}", s.message)?;
            }
            if let Some(id) = &s.request_id {
                write!(f, "; request id {id}")?;
            }
            f.write_str(")")?;
        }
        if let Some(source) = inner.source.as_ref().filter(|_| !inner.source_in_message) {
            write!(f, ": {source}")?;
        }
        if let Some((n, elapsed)) = ctx.attempts {
            let s = if n == 1 { "" } else { "s" };
            write!(f, " (after {n} attempt{s} in {:.1} s)", elapsed.as_secs_f64())?;
        }
        if let Some(deadline) = ctx.deadline {
            write!(
                f,
                " (no further attempt: the operation's deadline of {deadline:?} passed)"
            )?;
        }
        if let Some(note) = inner.note {
            write!(f, " ({note})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &inner.kind);
        if !inner.message.is_empty() {
            d.field("message", &inner.message);
        }
        if let Some(s) = &inner.service {
            d.field("service", s);
        }
        if let Some(op) = inner.context.operation {
            d.field("operation", &op);
        }
        if let Some(b) = &inner.context.bucket {
            d.field("bucket", b);
        }
        if let Some(k) = &inner.context.key {
            d.field("key", k);
        }
        if let Some(s) = &inner.context.setting {
            d.field("setting", s);
        }
        if let Some((n, elapsed)) = inner.context.attempts {
            d.field("attempts", &n).field("elapsed", &elapsed);
        }
        if let Some(src) = &inner.source {
            d.field("source", src);
        }
        if let Some(note) = inner.note {
            d.field("note", &note);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source.as_ref().map(|s| &**s as &(dyn StdError + 'static))
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        let kind = match e.kind() {
            ErrorKind::NotFound => std::io::ErrorKind::NotFound,
            ErrorKind::AccessDenied => std::io::ErrorKind::PermissionDenied,
            ErrorKind::Timeout => std::io::ErrorKind::TimedOut,
            ErrorKind::InvalidKey
            | ErrorKind::InvalidName
            | ErrorKind::InvalidSetting
            | ErrorKind::InvalidBucketName => std::io::ErrorKind::InvalidInput,
            ErrorKind::InvalidResponse => std::io::ErrorKind::InvalidData,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// An I/O error back into this crate's error: the original error when it travelled inside
/// the `io::Error` (through `AsyncRead`/`AsyncWrite`), else [`ErrorKind::Io`].
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            let inner = e.into_inner().expect("checked above");
            return *inner.downcast::<Error>().expect("checked above");
        }
        let kind = match e.kind() {
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Io,
        };
        Error::new(kind, "i/o failed").with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_survive_a_trip_through_io_error() {
        let e = Error::new(ErrorKind::InvalidName, "bad").with_operation("save");
        let back = Error::from(std::io::Error::from(e));
        assert_eq!((back.kind(), back.operation()), (ErrorKind::InvalidName, Some("save")));
        let plain = Error::from(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe"));
        assert_eq!(plain.kind(), ErrorKind::Io);
    }

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn service_errors_map_to_kinds() {
        let e = |status, code: &str| {
            Error::service(ServiceError {
                status,
                code: code.into(),
                message: String::new(),
                request_id: None,
                bucket_region: None,
            })
        };
        assert!(e(404, "NoSuchKey").is_not_found());
        assert!(e(404, "").is_not_found());
        assert!(e(403, "SignatureDoesNotMatch").is_signature_mismatch());
        assert!(e(403, "SignatureDoesNotMatch").is_access_denied());
        assert!(e(412, "PreconditionFailed").is_precondition_failed());
        assert_eq!(e(503, "SlowDown").kind(), ErrorKind::Service);
        assert_eq!(e(200, "InternalError").kind(), ErrorKind::Service);
    }

    #[test]
    fn display_names_operation_object_and_reply() {
        let err = Error::service(ServiceError {
            status: 404,
            code: "NoSuchKey".into(),
            message: "The specified key does not exist.".into(),
            request_id: Some("R1".into()),
            bucket_region: None,
        })
        .with_operation("GetObject")
        .with_object("b", Some("k/x.txt"));
        assert_eq!(
            err.to_string(),
            "GetObject s3://b/k/x.txt: not found (HTTP 404 NoSuchKey: The specified key does not exist.; request id R1)"
        );
    }
}
