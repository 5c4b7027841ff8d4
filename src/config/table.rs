//! The settings table: every setting, once.
//!
//! Each row gives the option name (the field), the global names consulted in order, the
//! type, the default, and a description. The `Settings` struct, the `SettingKey` enum, the
//! public [`SETTINGS`] table and the parsing of string values are all generated from it, so
//! adding a setting is adding a row.

use std::path::PathBuf;
use std::time::Duration;

use super::Secret;
use super::network::{Endpoint, Proxies, ResolveOverrides};
use super::object_parameters::ObjectParameters;
use super::values::*;

/// Where a setting comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// An option of the original storage, with the same name and global setting.
    Option,
    /// A global-only setting of the original (Django settings such as `USE_TZ`); also
    /// accepted as an option here.
    Global,
    /// A setting this crate adds (S3-compatible services' differences, transport).
    Extension,
}

/// One row of the settings table.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SettingInfo {
    /// Option name, as given per storage (`bucket_name`).
    pub option: &'static str,
    /// Global names consulted in order when the option is not given
    /// (`AWS_STORAGE_BUCKET_NAME`).
    pub globals: &'static [&'static str],
    /// Accepted form of a string value.
    pub kind: &'static str,
    /// Default value, as documentation.
    pub default: &'static str,
    /// Whether the value is a secret (never printed).
    pub secret: bool,
    /// What the setting does.
    pub doc: &'static str,
    /// Original option, original global setting, or crate extension.
    pub origin: Origin,
}

macro_rules! settings_table {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $field:ident : $ty:ty = $default:expr, $default_doc:literal,
            [$($global:literal),*], $origin:ident;
    )*) => {
        /// A setting, by its typed key (see [`SETTINGS`] for the whole table).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) enum SettingKey {
            $( $(#[doc = $doc])* $variant, )*
        }

        /// Every setting: option name, global names, type, default and meaning.
        pub const SETTINGS: &[SettingInfo] = &[
            $( SettingInfo {
                option: stringify!($field),
                globals: &[$($global),*],
                kind: <$ty as SettingValue>::KIND,
                default: $default_doc,
                secret: <$ty as SettingValue>::SECRET,
                doc: concat!($($doc, "\n"),*),
                origin: Origin::$origin,
            }, )*
        ];

        impl SettingKey {
            /// Every key, in table order.
            pub const ALL: &'static [SettingKey] = &[$(SettingKey::$variant),*];

            /// This setting's row of the table.
            pub fn info(self) -> &'static SettingInfo {
                &SETTINGS[self as usize]
            }

            /// The option name (`bucket_name`).
            pub fn option_name(self) -> &'static str {
                self.info().option
            }

            /// The key of an option name, if there is such an option.
            pub fn from_option_name(name: &str) -> Option<SettingKey> {
                match name {
                    $( stringify!($field) => Some(SettingKey::$variant), )*
                    _ => None,
                }
            }
        }

        /// Every setting of the storage, typed. Built by [`Settings::builder`] from
        /// explicit options over global settings over defaults; see [`SETTINGS`] for what
        /// each field means and where it is read from.
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub struct Settings {
            $( $(#[doc = $doc])* pub(crate) $field: $ty, )*
            /// Where the global settings were read: credentials providers read the same.
            pub(crate) globals: super::Globals,
            /// The nested `s3` section of the shared config file's profile.
            pub(crate) profile_s3: super::S3Section,
        }

        impl Settings {
            /// Every setting at its default.
            pub(crate) fn defaults() -> Self {
                Settings { $( $field: $default, )* globals: super::Globals::default(), profile_s3: super::S3Section::default() }
            }

            /// Parses `raw` into the field `key` names. On error, the message says what
            /// is wrong without echoing secret values.
            pub(crate) fn set_raw(&mut self, key: SettingKey, raw: &str) -> Result<(), String> {
                match key {
                    $( SettingKey::$variant => parse_into(&mut self.$field, raw), )*
                }
            }
        }
    };
}

/// Parses `raw` into `slot`. One copy per setting type, called from every setting of that
/// type: inlined into each of the hundred arms of `set_raw`, the parsers made the settings
/// builder the largest function of a minimal program (46 KB; 18 KB with this, and the
/// stripped program 4.5 KB smaller).
#[inline(never)]
fn parse_into<T: SettingValue>(slot: &mut T, raw: &str) -> Result<(), String> {
    *slot = T::parse_setting(raw)?;
    Ok(())
}

const MIB: u64 = 1024 * 1024;

fn default_gzip_content_types() -> Vec<String> {
    [
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "image/svg+xml",
    ]
    .map(String::from)
    .to_vec()
}

settings_table! {
    /// Bucket name. Required.
    BucketName bucket_name: Option<String> = None, "none (required)", ["AWS_STORAGE_BUCKET_NAME"], Option;
    /// Key prefix for every name. Must not start with `/`; a trailing `/` is ignored.
    Location location: String = String::new(), "\"\"", ["AWS_LOCATION"], Option;
    /// True: a name is overwritten on save. False: a free name is found (random suffix).
    FileOverwrite file_overwrite: bool = true, "true", ["AWS_S3_FILE_OVERWRITE"], Option;
    /// Upload parameters in boto3 naming (`CacheControl`, `Metadata`, SSE, ...).
    ObjectParameters object_parameters: ObjectParameters = ObjectParameters::new(), "{}", ["AWS_S3_OBJECT_PARAMETERS"], Option;
    /// Canned ACL applied when `object_parameters` has no `ACL`.
    DefaultAcl default_acl: Option<String> = None, "none", ["AWS_DEFAULT_ACL"], Option;
    /// True: `url()` gives presigned URLs; false: plain URLs.
    QuerystringAuth querystring_auth: bool = true, "true (false for static storages)", ["AWS_QUERYSTRING_AUTH"], Option;
    /// Lifetime of presigned URLs, in seconds.
    QuerystringExpire querystring_expire: u64 = 3600, "3600", ["AWS_QUERYSTRING_EXPIRE"], Option;
    /// Scheme of custom/public domain URLs, with its colon (`https:`).
    UrlProtocol url_protocol: String = "https:".into(), "\"https:\"", ["AWS_S3_URL_PROTOCOL"], Option;
    /// Host (and optional path) for plain URLs, e.g. a CDN. No trailing `/`.
    CustomDomain custom_domain: Option<String> = None, "none", ["AWS_S3_CUSTOM_DOMAIN"], Option;
    /// Host for path-style public URLs when `endpoint_url` is internal. No trailing `/`.
    PublicDomain public_domain: Option<String> = None, "none", ["AWS_S3_PUBLIC_DOMAIN"], Option;
    /// Full URL of an S3-compatible endpoint (`http://127.0.0.1:9000`).
    EndpointUrl endpoint_url: Option<Endpoint> = None, "none (AWS)", ["AWS_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"], Option;
    /// Signing region; also picks the AWS endpoint.
    RegionName region_name: Option<String> = None, "none (provider's, else us-east-1)", ["AWS_S3_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"], Option;
    /// HTTPS (true) or HTTP for the computed AWS endpoint; ignored with `endpoint_url`.
    UseSsl use_ssl: bool = true, "true", ["AWS_S3_USE_SSL"], Option;
    /// TLS verification: true, false, or a CA bundle path.
    Verify verify: Verify = Verify::Default, "true", ["AWS_S3_VERIFY", "AWS_CA_BUNDLE"], Option;
    /// `virtual`, `path`, or unset for automatic.
    AddressingStyle addressing_style: Option<AddressingStyle> = None, "none (auto)", ["AWS_S3_ADDRESSING_STYLE"], Option;
    /// `s3v4` (SigV4), `s3` (legacy SigV2) or `unsigned`.
    SignatureVersion signature_version: SignatureVersion = SignatureVersion::V4, "s3v4", ["AWS_S3_SIGNATURE_VERSION"], Option;
    /// Proxies by scheme.
    Proxies proxies: Option<Proxies> = None, "none", ["AWS_S3_PROXIES"], Option;
    /// botocore-style client config; replaces `addressing_style`, `signature_version` and `proxies`.
    ClientConfig client_config: Option<ClientConfig> = None, "none", ["AWS_S3_CLIENT_CONFIG"], Option;
    /// Upload and download chunking.
    TransferConfig transfer_config: TransferConfig = TransferConfig::default(), "8 MiB threshold and parts, 10 in flight", ["AWS_S3_TRANSFER_CONFIG"], Option;
    /// Compress uploads whose content type is in `gzip_content_types`.
    Gzip gzip: bool = false, "false", ["AWS_IS_GZIPPED"], Option;
    /// Content types compressed when `gzip` is on (exact match).
    GzipContentTypes gzip_content_types: Vec<String> = default_gzip_content_types(), "text/css, text/javascript, application/javascript, application/x-javascript, image/svg+xml", ["GZIP_CONTENT_TYPES"], Option;
    /// Size above which a file's local copy spills to disk; 0 keeps it in memory.
    MaxMemorySize max_memory_size: u64 = 0, "0", ["AWS_S3_MAX_MEMORY_SIZE"], Option;
    /// Accepted for compatibility; unused, as in the original.
    FileNameCharset file_name_charset: String = "utf-8".into(), "\"utf-8\"", ["AWS_S3_FILE_NAME_CHARSET"], Option;
    /// Access key id.
    AccessKey access_key: Option<String> = None, "none", ["AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"], Option;
    /// Secret access key.
    SecretKey secret_key: Option<Secret> = None, "none", ["AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"], Option;
    /// Session token of temporary credentials.
    SecurityToken security_token: Option<Secret> = None, "none", ["AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"], Option;
    /// Named profile of the shared AWS config files.
    SessionProfile session_profile: Option<String> = None, "none", ["AWS_S3_SESSION_PROFILE"], Option;
    /// Part size threshold of files opened for writing, in bytes (at least 5 MiB).
    FileBufferSize file_buffer_size: u64 = 5 * MIB, "5242880", ["AWS_S3_FILE_BUFFER_SIZE"], Global;
    /// Directory for spilled local copies; the system temp dir when unset.
    FileUploadTempDir file_upload_temp_dir: Option<PathBuf> = None, "none (system temp dir)", ["FILE_UPLOAD_TEMP_DIR"], Global;
    /// Django's `USE_TZ`: modified times are UTC when true.
    UseTz use_tz: bool = true, "true", ["USE_TZ"], Global;
    /// Django's `TIME_ZONE`, for naive modified times when `use_tz` is false.
    TimeZone time_zone: String = "America/Chicago".into(), "\"America/Chicago\"", ["TIME_ZONE"], Global;
    /// S3-compatible service whose known differences apply as defaults.
    Provider provider: Option<Provider> = None, "none (aws)", ["AWS_S3_PROVIDER"], Extension;
    /// `when_supported` (every upload carries a checksum the service stores: CRC64NVME,
    /// or the object parameter `ChecksumAlgorithm`) or `when_required` (none). Unset: the
    /// provider preset's word, and on a custom endpoint without one, none.
    RequestChecksumCalculation request_checksum_calculation: Option<ChecksumPolicy> = None, "provider's (when_supported on aws, r2, minio, rustfs, garage; when_required on other endpoints)", ["AWS_REQUEST_CHECKSUM_CALCULATION"], Extension;
    /// `when_supported` (reads ask for the stored checksum and check the bytes against it)
    /// or `when_required` (no check).
    ResponseChecksumValidation response_checksum_validation: Option<ChecksumPolicy> = None, "when_supported", ["AWS_RESPONSE_CHECKSUM_VALIDATION"], Extension;
    /// Whether request bodies are signed (SHA-256) or sent as `UNSIGNED-PAYLOAD` over HTTPS:
    /// `auto` (unsigned over HTTPS, with a CRC32 checksum where the service takes one),
    /// `always`, `never`.
    PayloadSigning payload_signing: Option<PayloadSigning> = None, "auto", ["AWS_S3_PAYLOAD_SIGNING"], Extension;
    /// ListObjects API version, 2 or 1 (for stores without V2).
    ListObjectsVersion list_objects_version: Option<ListObjectsVersion> = None, "2", ["AWS_S3_LIST_OBJECTS_VERSION"], Extension;
    /// Whether the service honours `If-None-Match: *` on uploads.
    ConditionalWrites conditional_writes: Option<bool> = None, "provider's (true for aws, r2, minio, rustfs)", ["AWS_S3_CONDITIONAL_WRITES"], Extension;
    /// Whether the service supports DeleteObjects (bulk delete).
    BulkDelete bulk_delete: Option<bool> = None, "true", ["AWS_S3_BULK_DELETE"], Extension;
    /// TCP (and proxy) connect timeout, in seconds.
    ConnectTimeout connect_timeout: Option<Duration> = None, "60", ["AWS_S3_CONNECT_TIMEOUT"], Extension;
    /// Longest wait for a reply's head or each piece of its body, in seconds.
    ReadTimeout read_timeout: Option<Duration> = None, "60", ["AWS_S3_READ_TIMEOUT"], Extension;
    /// Longest time one operation may take, over all its attempts and the reading of its
    /// reply (XML replies; a download the caller streams is bounded by `read_timeout` per
    /// read instead), in seconds; 0 for none.
    OperationTimeout operation_timeout: Option<Duration> = None, "300", ["AWS_S3_OPERATION_TIMEOUT"], Extension;
    /// Total attempts per request, the first included.
    MaxAttempts max_attempts: Option<u32> = None, "3 (standard), 5 (legacy)", ["AWS_MAX_ATTEMPTS"], Extension;
    /// Retry mode: `standard`, `legacy` or `adaptive`.
    RetryMode retry_mode: Option<RetryMode> = None, "standard", ["AWS_RETRY_MODE"], Extension;
    /// Host names dialled at fixed addresses (`host=ip:port,...`), like curl's `--resolve`.
    Resolve resolve: ResolveOverrides = ResolveOverrides::default(), "none", ["AWS_S3_RESOLVE"], Extension;
}
