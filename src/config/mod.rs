//! Typed settings: explicit option > global setting > default.
//!
//! Every setting of the original storage is here under the same option name and global
//! name ([`SETTINGS`] is the table). [`Settings::builder`] resolves them in the original's
//! order: an explicit option wins, then the storage kind's own value (static storages turn
//! `querystring_auth` off), then the global settings (the process environment by default,
//! or any [`GlobalSource`]), then the default. Everything is parsed and validated once, at
//! `build()`, and a bad value is an [`ErrorKind::InvalidSetting`](crate::ErrorKind) error
//! that names the setting.
//!
//! # `client_config` and the settings it shares keys with
//!
//! One order for every setting that `client_config` (botocore's `Config`) can also give:
//! `client_config` wins. This is the original's rule for `addressing_style`,
//! `signature_version` and `proxies`, which a given `client_config` replaces, and
//! botocore's for its own keys: `region_name`, `connect_timeout`, `read_timeout`,
//! `max_pool_connections`, `retries` (over `max_attempts` and `retry_mode`),
//! `request_checksum_calculation`, `response_checksum_validation` and
//! `s3.payload_signing_enabled` (over `payload_signing`). Then the setting (option, then
//! global), then the shared config file's profile, then the provider preset, then the
//! default. (boto3 lets a `region_name` given beside the config win over the config's; here
//! the one order holds for the region too.)
//!
//! # What every AWS tool reads
//!
//! After the storage's own settings and their Django global names, the crate reads what
//! botocore (and so the original) reads from the environment, in botocore's order:
//!
//! | variable | used for | when |
//! |---|---|---|
//! | `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL` | `endpoint_url` | `AWS_S3_ENDPOINT_URL` unset, `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` not true |
//! | `AWS_CA_BUNDLE` | `verify` (a CA bundle) | `AWS_S3_VERIFY` unset |
//! | `AWS_REGION`, `AWS_DEFAULT_REGION` | `region_name` | `AWS_S3_REGION_NAME` unset |
//! | `AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE` | retries | not in `client_config` |
//! | `http_proxy`/`HTTP_PROXY`, `https_proxy`/`HTTPS_PROXY` | proxies | neither `proxies` nor `client_config`'s proxies set (and only then read, or checked); the lower-case one wins, empty it cancels the upper-case one, an empty upper-case one is unset; `HTTP_PROXY` ignored when `REQUEST_METHOD` is set (CGI) |
//! | `no_proxy`/`NO_PROXY` | destinations that skip those proxies, as Python decides it for botocore: `*` alone for all; host names or addresses, with or without a port, with their subdomains (no networks) | with the environment's proxies |
//! | `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` | `true` drops the endpoints of the environment and the shared config file | decides over the profile's `ignore_configured_endpoint_urls` |
//! | `AWS_CONFIG_FILE` (else `~/.aws/config`), `AWS_PROFILE` | the shared config file and its profile | `session_profile` unset (it names the profile) |
//!
//! Then, for what is still unset, the shared config file's profile, as botocore reads it:
//!
//! | profile key | used for |
//! |---|---|
//! | `region` | `region_name` |
//! | `ca_bundle` | `verify` (a CA bundle) |
//! | `max_attempts`, `retry_mode` | retries |
//! | the `s3` entry of the `[services name]` section that `services` names, then `endpoint_url` | `endpoint_url` (unless endpoints are ignored) |
//! | `s3 =` nested `addressing_style` | addressing, after `addressing_style` and `client_config`'s |
//! | `s3 =` nested `use_accelerate_endpoint`, `use_dualstack_endpoint` | AWS's Transfer Acceleration and dual-stack hosts, after `client_config`'s |
//!
//! A profile the file lacks gives nothing; a file that cannot be parsed, or a value that is
//! not valid, is an [`ErrorKind::InvalidSetting`](crate::ErrorKind) naming the file (and line).
//!
//! ```
//! use std::collections::HashMap;
//! use storages_s3::{Settings, config::AddressingStyle};
//!
//! let globals = HashMap::from([
//!     ("AWS_STORAGE_BUCKET_NAME".to_string(), "media-bucket".to_string()),
//!     ("AWS_S3_ADDRESSING_STYLE".to_string(), "path".to_string()),
//! ]);
//! let settings = Settings::builder()
//!     .option("location", "uploads")
//!     .global_source(globals)
//!     .build()
//!     .unwrap();
//! assert_eq!(settings.bucket(), "media-bucket");
//! assert_eq!(settings.location(), "uploads");
//! assert_eq!(settings.addressing_style(), AddressingStyle::Path);
//! ```

pub(crate) mod ini;
pub(crate) mod network;
mod object_parameters;
mod provider;
mod secret;
mod setting_value;
mod shared_file;
pub(crate) mod table;
pub(crate) mod values;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use network::{Endpoint, Proxies, ProxyUrl};
pub use object_parameters::ObjectParameters;
pub(crate) use object_parameters::{OBJECT_PARAMETERS, ParamUse};
pub(crate) use provider::ProviderDefaults;
pub use secret::Secret;
pub(crate) use shared_file::{ProfileConfig, S3Section, expand_home, home_dir, var};
#[cfg(feature = "credentials-profile")]
pub(crate) use shared_file::{SharedFile, read_shared_file};
pub(crate) use table::SettingKey;
pub(crate) use table::Settings;
pub use table::{Origin, SETTINGS, SettingInfo};
pub use values::{
    AddressingStyle, ChecksumAlgorithm, ChecksumPolicy, ListObjectsVersion, PayloadSigning, Provider, RetryMode,
    SignatureVersion,
};
pub(crate) use values::{TransferConfig, Verify};

use crate::error::{Error, Result};

/// Where global settings come from: the process environment ([`Env`], the default) or any
/// map of names to values, so a server can pass its own configuration.
///
/// An empty value counts as unset.
pub trait GlobalSource: Send + Sync {
    /// The value of the global setting `name`, if set.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment as a [`GlobalSource`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Env;

impl GlobalSource for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl GlobalSource for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

impl GlobalSource for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

/// No global settings at all: only options and defaults.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoGlobals;

impl GlobalSource for NoGlobals {
    fn get(&self, _: &str) -> Option<String> {
        None
    }
}

/// The global source settings were read from, kept with them.
#[derive(Clone)]
pub(crate) struct Globals(pub(crate) Arc<dyn GlobalSource>);

impl Default for Globals {
    fn default() -> Self {
        Globals(Arc::new(Env))
    }
}

impl std::fmt::Debug for Globals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GlobalSource")
    }
}

/// Which storage the settings are for: they differ only in defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(feature = "manifest"), allow(dead_code))]
pub(crate) enum StorageKind {
    /// `S3Storage`: user uploads.
    #[default]
    Media,
    /// `S3StaticStorage`: `querystring_auth` is off, and only an explicit option turns it
    /// on (the original's class attribute beats global settings).
    Static,
    /// `S3ManifestStaticStorage`: as `Static`, with hashed names and a manifest.
    ManifestStatic,
}

impl StorageKind {
    /// The original's class name, for messages.
    pub(crate) fn class_name(self) -> &'static str {
        match self {
            StorageKind::Media => "S3Storage",
            StorageKind::Static => "S3StaticStorage",
            StorageKind::ManifestStatic => "S3ManifestStaticStorage",
        }
    }

    /// The value a storage class fixes for a setting, above global settings.
    fn class_value(self, key: SettingKey) -> Option<&'static str> {
        match (self, key) {
            (StorageKind::Static | StorageKind::ManifestStatic, SettingKey::QuerystringAuth) => Some("false"),
            _ => None,
        }
    }
}

/// Builds [`Settings`]: collects options, then resolves and validates everything at
/// [`build`](SettingsBuilder::build).
pub struct SettingsBuilder {
    kind: StorageKind,
    options: Vec<(SettingKey, String)>,
    unknown: Vec<String>,
    source: Arc<dyn GlobalSource>,
}

impl std::fmt::Debug for SettingsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options: Vec<_> = self
            .options
            .iter()
            .map(|(k, v)| (k.option_name(), if k.info().secret { "***" } else { v.as_str() }))
            .collect();
        f.debug_struct("SettingsBuilder")
            .field("kind", &self.kind)
            .field("options", &options)
            .finish_non_exhaustive()
    }
}

impl Default for SettingsBuilder {
    fn default() -> Self {
        SettingsBuilder {
            kind: StorageKind::Media,
            options: Vec::new(),
            unknown: Vec::new(),
            source: Arc::new(Env),
        }
    }
}

impl SettingsBuilder {
    /// Settings for this kind of storage.
    #[cfg_attr(not(feature = "storage"), allow(dead_code))]
    pub(crate) fn kind(mut self, kind: StorageKind) -> Self {
        self.kind = kind;
        self
    }

    /// An explicit option, by option name (`"bucket_name"`), as a string. An unknown name
    /// makes `build()` fail, as the original refuses unknown options.
    pub fn option(mut self, name: &str, value: impl Into<String>) -> Self {
        match SettingKey::from_option_name(name) {
            Some(key) => self.options.push((key, value.into())),
            None => self.unknown.push(name.to_owned()),
        }
        self
    }

    /// Many explicit options by option name, such as a map read from a config file.
    pub fn options<K: AsRef<str>, V: Into<String>>(mut self, options: impl IntoIterator<Item = (K, V)>) -> Self {
        for (k, v) in options {
            self = self.option(k.as_ref(), v);
        }
        self
    }

    /// Where global settings are read (default: the process environment).
    pub fn global_source(mut self, source: impl GlobalSource + 'static) -> Self {
        self.source = Arc::new(source);
        self
    }

    /// Ignore global settings: options over defaults only.
    pub fn no_globals(self) -> Self {
        self.global_source(NoGlobals)
    }

    /// Resolves every setting (option > storage kind > global > default), parses and
    /// validates them.
    pub fn build(self) -> Result<Settings> {
        if let Some(name) = self.unknown.first() {
            return Err(Error::invalid_setting(
                name,
                format!("Invalid setting '{name}' for {}", self.kind.class_name()),
            ));
        }
        let mut settings = Settings::defaults();
        // What a key is given before the shared config file: an explicit option (the last
        // one, as with keyword arguments), the storage kind's value, a global setting.
        let given = |key: SettingKey, endpoints: bool| -> Option<(String, Option<String>)> {
            let explicit = self
                .options
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (v.clone(), None));
            explicit
                .or_else(|| self.kind.class_value(key).map(|v| (v.to_owned(), None)))
                .or_else(|| {
                    key.info().globals.iter().find_map(|g| {
                        // botocore's own endpoint variables come after the storage's, and
                        // ignoring configured endpoints turns them off, as in botocore.
                        if g.starts_with("AWS_ENDPOINT_URL") && !endpoints {
                            return None;
                        }
                        self.source
                            .get(g)
                            .filter(|v| !v.trim().is_empty())
                            .map(|v| (v, Some((*g).to_owned())))
                    })
                })
        };
        let profile_name = given(SettingKey::SessionProfile, true)
            .map(|(v, _)| v)
            .or_else(|| self.source.get("AWS_PROFILE"))
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "default".to_owned());
        let profile = ProfileConfig::load(&*self.source, &profile_name)?;
        // The variable, when set, decides over the profile's key, as botocore resolves it.
        let ignores_configured_endpoints = match self.source.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
            Some(v) if !v.trim().is_empty() => v.trim().eq_ignore_ascii_case("true"),
            _ => profile.ignores_configured_endpoints(),
        };
        let from_file = profile.values(!ignores_configured_endpoints);
        for &key in SettingKey::ALL {
            let info = key.info();
            let chosen = given(key, !ignores_configured_endpoints).or_else(|| {
                from_file
                    .iter()
                    .find(|(k, _, _)| *k == key)
                    .map(|(_, v, name)| ((*v).to_owned(), Some(format!("{name} of {}", profile.origin))))
            });
            if let Some((raw, global)) = chosen {
                settings.set_raw(key, &raw).map_err(|why| {
                    let from = global.map(|g| format!(" (from {g})")).unwrap_or_default();
                    let shown = if info.secret {
                        String::new()
                    } else {
                        format!(" {raw:?}")
                    };
                    Error::invalid_setting(info.option, format!("invalid value{shown}{from}: {why}"))
                })?;
            }
        }
        settings.profile_s3 = profile.s3;
        settings.globals = Globals(self.source);
        settings.validate_for(self.kind)?;
        Ok(settings)
    }
}

/// S3's bucket naming rules, with the legacy us-east-1 allowance for upper case and
/// underscores (such names only work in path style).
pub(crate) fn check_bucket_name(name: &str) -> std::result::Result<(), String> {
    if !(3..=255).contains(&name.len()) {
        return Err("must be 3 to 63 characters long (255 for legacy names)".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err("may only contain letters, digits, `.`, `-` and `_`".into());
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return Err("must start with a letter or digit".into());
    }
    Ok(())
}

/// Whether a bucket can be a DNS label in virtual-hosted style.
pub(crate) fn is_dns_compatible(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.'])
        && !bucket.contains("..")
        && bucket.parse::<std::net::Ipv4Addr>().is_err()
}

/// The lifetimes a presigned URL may have, in seconds: SigV4 URLs live 1 second to 7 days
/// (S3 refuses longer ones when they are used). The setting and a per-call `expire` are
/// held to the same range.
pub(crate) fn check_expire(version: SignatureVersion, secs: u64) -> std::result::Result<(), &'static str> {
    if version == SignatureVersion::V4 && !(1..=604_800).contains(&secs) {
        return Err("SigV4 presigned URLs live 1 second to 7 days (604800)");
    }
    Ok(())
}

/// A region name: lower-case letters, digits and dashes (`auto` included).
pub(crate) fn check_region(region: &str) -> std::result::Result<(), String> {
    if region.is_empty() || region.len() > 64 {
        return Err("must be 1 to 64 characters".into());
    }
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may only contain lower-case letters, digits and `-`".into());
    }
    Ok(())
}

const MIB: u64 = 1024 * 1024;

impl Settings {
    /// A builder for media storage settings, reading globals from the environment.
    pub fn builder() -> SettingsBuilder {
        SettingsBuilder::default()
    }

    /// Settings from the environment alone, as a Django project's settings would give them.
    pub fn from_env() -> Result<Settings> {
        Settings::builder().build()
    }

    /// Checks what the original left to fail later (SPEC §7.13): a missing bucket, a
    /// location with a leading slash, malformed domains, partial credentials, ...
    /// `build()` calls it.
    #[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
    pub(crate) fn validate(&mut self) -> Result<()> {
        self.validate_for(StorageKind::Media)
    }

    fn validate_for(&mut self, kind: StorageKind) -> Result<()> {
        let bucket = self.bucket_name.as_deref().ok_or_else(|| {
            Error::invalid_setting("bucket_name", "a bucket name is required (AWS_STORAGE_BUCKET_NAME)")
        })?;
        check_bucket_name(bucket).map_err(|why| {
            Error::new(
                crate::ErrorKind::InvalidBucketName,
                format!("bucket name {bucket:?} {why}"),
            )
        })?;
        if self.location.starts_with('/') {
            return Err(Error::invalid_setting(
                "location",
                format!(
                    "{}.location cannot begin with a leading slash. Found '{}'. Use '{}' instead.",
                    kind.class_name(),
                    self.location,
                    self.location.trim_start_matches('/')
                ),
            ));
        }
        match self.url_protocol.as_str() {
            "http" | "https" => self.url_protocol.push(':'),
            p if p.ends_with(':') && p.len() > 1 && p[..p.len() - 1].bytes().all(|b| b.is_ascii_alphanumeric()) => {}
            _ => {
                return Err(Error::invalid_setting(
                    "url_protocol",
                    "must be a scheme with its colon, such as \"https:\"",
                ));
            }
        }
        for (name, domain) in [
            ("custom_domain", &self.custom_domain),
            ("public_domain", &self.public_domain),
        ] {
            if let Some(d) = domain {
                if d.ends_with('/') {
                    return Err(Error::invalid_setting(name, "must not end with `/`"));
                }
                if d.contains("://") {
                    return Err(Error::invalid_setting(
                        name,
                        "is a host (and optional path), without a scheme",
                    ));
                }
                if d.is_empty() || d.starts_with('/') || d.bytes().any(|b| b <= b' ' || b >= 0x7f) {
                    return Err(Error::invalid_setting(
                        name,
                        "must be a host name, optionally followed by a path",
                    ));
                }
            }
        }
        if let Some(region) = self.region_name.as_deref() {
            check_region(region).map_err(|why| Error::invalid_setting("region_name", why))?;
        }
        if let Some(region) = self.client_config.as_ref().and_then(|c| c.region_name.as_deref()) {
            check_region(region)
                .map_err(|why| Error::invalid_setting("client_config", format!("region_name {why}")))?;
        }
        if self.signature_version() == SignatureVersion::V2
            && let Some(provider) = self.provider
            && !self.provider_defaults().sigv2
        {
            return Err(Error::invalid_setting(
                "signature_version",
                format!("{} does not accept SigV2 (\"s3\"): use \"s3v4\"", provider.as_str()),
            ));
        }
        check_expire(self.signature_version(), self.querystring_expire)
            .map_err(|why| Error::invalid_setting("querystring_expire", why))?;
        // The environment's proxies are checked only where they are used: a storage given
        // its proxies never fails for a variable it does not read.
        if self.configured_proxies().is_none() {
            self.environment_proxies()?;
        }
        let has_key = self.access_key.as_deref().is_some_and(|k| !k.is_empty());
        let has_secret = self.secret_key.as_ref().is_some_and(|s| !s.is_empty());
        if self.session_profile.is_some() && (has_key || has_secret) {
            return Err(Error::invalid_setting(
                "session_profile",
                "AWS_S3_SESSION_PROFILE/session_profile should not be provided with \
                 AWS_S3_ACCESS_KEY_ID/access_key and AWS_S3_SECRET_ACCESS_KEY/secret_key",
            ));
        }
        if has_key != has_secret {
            let (missing, given) = if has_key {
                ("secret_key", "access_key")
            } else {
                ("access_key", "secret_key")
            };
            return Err(Error::invalid_setting(
                missing,
                format!("{given} is set but {missing} is not: give both or neither"),
            ));
        }
        if self.file_buffer_size < 5 * MIB {
            return Err(Error::invalid_setting(
                "file_buffer_size",
                "must be at least 5 MiB (5242880), S3's smallest part",
            ));
        }
        self.transfer_config
            .check()
            .map_err(|why| Error::invalid_setting("transfer_config", why))?;
        if let Verify::CaBundle(path) = &self.verify
            && !path.is_file()
        {
            return Err(Error::invalid_setting(
                "verify",
                format!("CA bundle {} is not a readable file", path.display()),
            ));
        }
        if self.max_attempts() == 0 {
            return Err(Error::invalid_setting("max_attempts", "must be at least 1"));
        }
        self.check_aws_endpoint_variants()?;
        if self.region() == "auto" && self.endpoint_url.is_none() {
            return Err(Error::invalid_setting(
                "region_name",
                "region `auto` needs an endpoint_url (it is not an AWS region)",
            ));
        }
        Ok(())
    }

    /// Transfer Acceleration and dual-stack are AWS endpoints: refused with a custom endpoint,
    /// as botocore refuses them; acceleration also needs a bucket that is a DNS label
    /// without dots, in the host name (it has no path-style form).
    fn check_aws_endpoint_variants(&self) -> Result<()> {
        let bucket = self.bucket();
        let accelerate = self.use_accelerate_endpoint();
        let dualstack = self.use_dualstack_endpoint();
        let option = if accelerate {
            "use_accelerate_endpoint"
        } else {
            "use_dualstack_endpoint"
        };
        if (accelerate || dualstack) && self.endpoint_url.is_some() {
            return Err(Error::invalid_setting(
                "client_config",
                format!("s3.{option} cannot be combined with a custom endpoint_url"),
            ));
        }
        if accelerate {
            if self.addressing_style() == AddressingStyle::Path {
                return Err(Error::invalid_setting(
                    "client_config",
                    "s3.use_accelerate_endpoint needs virtual-hosted addressing, not path style",
                ));
            }
            if !is_dns_compatible(bucket) || bucket.contains('.') {
                return Err(Error::invalid_setting(
                    "client_config",
                    format!(
                        "s3.use_accelerate_endpoint needs a bucket name that is a DNS label without dots; \
                         {bucket:?} is not"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Where the global settings were read (the environment unless the builder was given
    /// another source); credentials providers read their variables there too.
    pub(crate) fn global_source(&self) -> Arc<dyn GlobalSource> {
        self.globals.0.clone()
    }

    /// The bucket name (validated present by `build()`).
    pub fn bucket(&self) -> &str {
        self.bucket_name.as_deref().unwrap_or_default()
    }

    /// The key prefix of every name (`location`), as given.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether `url()` presigns (`querystring_auth`; static storages turn it off).
    pub fn querystring_auth(&self) -> bool {
        self.querystring_auth
    }

    /// The part size of files opened for writing (`file_buffer_size`), in bytes.
    pub fn file_buffer_size(&self) -> u64 {
        self.file_buffer_size
    }

    /// The known differences of the configured provider (AWS when none is set).
    pub(crate) fn provider_defaults(&self) -> ProviderDefaults {
        ProviderDefaults::of(self.provider.unwrap_or(Provider::Aws))
    }

    /// Addressing style: `client_config` replaces the setting; then the provider's.
    pub fn addressing_style(&self) -> AddressingStyle {
        let from_file = self.profile_s3.addressing_style;
        match &self.client_config {
            Some(c) => c.addressing_style.or(from_file).unwrap_or(AddressingStyle::Auto),
            None => self
                .addressing_style
                .or(from_file)
                .unwrap_or(self.provider_defaults().addressing_style),
        }
    }

    /// Payload signing: `client_config`'s `s3.payload_signing_enabled`, else the setting,
    /// else the shared config file's (`true` is `always`, `false` is `auto`, as botocore
    /// reads them, and as the setting reads them too), else `auto`.
    pub(crate) fn payload_signing(&self) -> PayloadSigning {
        let from_flag = |enabled: bool| {
            if enabled {
                PayloadSigning::Always
            } else {
                PayloadSigning::Auto
            }
        };
        self.client_config
            .as_ref()
            .and_then(|c| c.payload_signing_enabled)
            .map(from_flag)
            .or(self.payload_signing)
            .or_else(|| self.profile_s3.payload_signing_enabled.map(from_flag))
            .unwrap_or(PayloadSigning::Auto)
    }

    /// The checksum uploads carry (`x-amz-checksum-*`, computed before the body is sent):
    /// none with `request_checksum_calculation = when_required` (from `client_config`, else
    /// the setting) or a signature other than SigV4 (where flexible checksums were not
    /// established); with `when_supported`, the provider's algorithm or CRC64NVME; unset,
    /// the provider preset's, and without one AWS's own (CRC64NVME) when no `endpoint_url`
    /// is set: nothing is known of another service. The object parameter
    /// `ChecksumAlgorithm` can name another algorithm per upload.
    pub fn upload_checksum(&self) -> Option<ChecksumAlgorithm> {
        if self.signature_version() != SignatureVersion::V4 {
            return None;
        }
        let policy = self
            .client_config
            .as_ref()
            .and_then(|c| c.request_checksum_calculation)
            .or(self.request_checksum_calculation);
        let known = match self.provider {
            Some(_) => self.provider_defaults().upload_checksum,
            None if self.endpoint_url.is_none() => ProviderDefaults::of(Provider::Aws).upload_checksum,
            None => None,
        };
        match policy {
            Some(ChecksumPolicy::WhenRequired) => None,
            Some(ChecksumPolicy::WhenSupported) => Some(known.unwrap_or(ChecksumAlgorithm::Crc64Nvme)),
            None => known,
        }
    }

    /// Whether reads ask for the object's stored checksum and check the bytes against it:
    /// `response_checksum_validation` from `client_config`, else the setting, else
    /// `when_supported` (botocore's default).
    pub(crate) fn response_checksum_validation(&self) -> ChecksumPolicy {
        self.client_config
            .as_ref()
            .and_then(|c| c.response_checksum_validation)
            .or(self.response_checksum_validation)
            .unwrap_or(ChecksumPolicy::WhenSupported)
    }

    /// Whether requests go to S3 Transfer Acceleration (`<bucket>.s3-accelerate.amazonaws.com`):
    /// `client_config`'s `s3.use_accelerate_endpoint`, else the shared config file profile's.
    pub(crate) fn use_accelerate_endpoint(&self) -> bool {
        self.client_config
            .as_ref()
            .and_then(|c| c.use_accelerate_endpoint)
            .or(self.profile_s3.use_accelerate_endpoint)
            .unwrap_or(false)
    }

    /// Whether requests go to S3's dual-stack endpoint (`s3.dualstack.<region>.amazonaws.com`):
    /// `client_config`'s `s3.use_dualstack_endpoint`, else the shared config file profile's.
    pub(crate) fn use_dualstack_endpoint(&self) -> bool {
        self.client_config
            .as_ref()
            .and_then(|c| c.use_dualstack_endpoint)
            .or(self.profile_s3.use_dualstack_endpoint)
            .unwrap_or(false)
    }

    /// Signature version: `client_config` replaces the setting.
    pub fn signature_version(&self) -> SignatureVersion {
        match &self.client_config {
            Some(c) => c.signature_version.unwrap_or(SignatureVersion::V4),
            None => self.signature_version,
        }
    }

    /// Proxies: `client_config`'s, else the `proxies` setting, else the environment's
    /// (`http_proxy`/`HTTP_PROXY`, `https_proxy`/`HTTPS_PROXY`, with `no_proxy`/`NO_PROXY`),
    /// as botocore takes them.
    pub(crate) fn proxies(&self) -> Proxies {
        match self.configured_proxies() {
            Some(configured) => configured,
            // Checked when the settings were built.
            None => self.environment_proxies().unwrap_or_default(),
        }
    }

    /// The proxies the configuration gives (`client_config`'s, else the `proxies`
    /// setting), when it gives any: then the environment's are not used.
    fn configured_proxies(&self) -> Option<Proxies> {
        let configured = match &self.client_config {
            Some(c) => c.proxies.clone(),
            None => self.proxies.clone(),
        }?;
        (configured.http.is_some() || configured.https.is_some()).then_some(configured)
    }

    /// The proxies of the environment (the global source), as Python's `urllib` reads them
    /// for botocore: the lower-case variable wins; set but empty, it cancels the upper-case
    /// one, and an empty upper-case one counts as unset; `HTTP_PROXY` is ignored in a CGI
    /// process (`REQUEST_METHOD` set), where a request's `Proxy:` header would set it
    /// ("httpoxy").
    fn environment_proxies(&self) -> Result<Proxies> {
        let globals = &self.globals.0;
        let cgi = globals.get("REQUEST_METHOD").is_some();
        let pick = |lower: &'static str, upper: &'static str| -> Option<(&'static str, String)> {
            match globals.get(lower) {
                Some(v) if !v.is_empty() => Some((lower, v)),
                Some(_) => None,
                None if upper == "HTTP_PROXY" && cgi => None,
                None => globals.get(upper).filter(|v| !v.is_empty()).map(|v| (upper, v)),
            }
        };
        let read = |lower, upper| -> Result<Option<ProxyUrl>> {
            pick(lower, upper)
                .map(|(name, raw)| {
                    raw.parse()
                        .map_err(|why| Error::invalid_setting("proxies", format!("{name}: {why}")))
                })
                .transpose()
        };
        Ok(Proxies {
            http: read("http_proxy", "HTTP_PROXY")?,
            https: read("https_proxy", "HTTPS_PROXY")?,
            no_proxy: pick("no_proxy", "NO_PROXY").map(|(_, v)| v),
        })
    }

    /// Signing region: `client_config`, the setting, the provider's, else `us-east-1`.
    pub fn region(&self) -> &str {
        self.client_config
            .as_ref()
            .and_then(|c| c.region_name.as_deref())
            .or(self.region_name.as_deref())
            .unwrap_or(self.provider_defaults().region)
    }

    /// ListObjects version: the setting, else the provider's.
    pub(crate) fn list_objects_version(&self) -> ListObjectsVersion {
        self.list_objects_version
            .unwrap_or(self.provider_defaults().list_objects_version)
    }

    /// Whether `If-None-Match: *` uploads are honoured: the setting, else the provider's.
    pub fn conditional_writes(&self) -> bool {
        self.conditional_writes
            .unwrap_or(self.provider_defaults().conditional_writes)
    }

    /// Whether DeleteObjects is available: the setting, else the provider's.
    pub fn bulk_delete(&self) -> bool {
        self.bulk_delete.unwrap_or(self.provider_defaults().bulk_delete)
    }

    /// Connect timeout: `client_config`, the setting, else 60 s (botocore's).
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.client_config
            .as_ref()
            .and_then(|c| c.connect_timeout)
            .or(self.connect_timeout)
            .unwrap_or(Duration::from_secs(60))
    }

    /// Read timeout: `client_config`, the setting, else 60 s (botocore's).
    pub(crate) fn read_timeout(&self) -> Duration {
        self.client_config
            .as_ref()
            .and_then(|c| c.read_timeout)
            .or(self.read_timeout)
            .unwrap_or(Duration::from_secs(60))
    }

    /// The deadline of one operation over all its attempts: the setting, else 5 minutes;
    /// `None` when set to 0.
    pub(crate) fn operation_timeout(&self) -> Option<Duration> {
        let t = self.operation_timeout.unwrap_or(Duration::from_secs(300));
        (!t.is_zero()).then_some(t)
    }

    /// Retry mode: `client_config`, the setting, else standard.
    pub(crate) fn retry_mode(&self) -> RetryMode {
        self.client_config
            .as_ref()
            .and_then(|c| c.retries.mode)
            .or(self.retry_mode)
            .unwrap_or(RetryMode::Standard)
    }

    /// Total attempts per request: `client_config`, the setting, else the mode's default.
    pub(crate) fn max_attempts(&self) -> u32 {
        self.client_config
            .as_ref()
            .and_then(|c| c.retries.total_max_attempts)
            .or(self.max_attempts)
            .unwrap_or(match self.retry_mode() {
                RetryMode::Legacy => 5,
                RetryMode::Standard | RetryMode::Adaptive => 3,
            })
    }

    /// Idle connections kept per host: `client_config`, else 10 (botocore's).
    pub(crate) fn max_pool_connections(&self) -> usize {
        self.client_config
            .as_ref()
            .and_then(|c| c.max_pool_connections)
            .unwrap_or(10)
    }
}

#[cfg(test)]
mod tests;
