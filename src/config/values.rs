//! The typed values settings hold, and how each is parsed from a string.
//!
//! Strings come from the environment or from an options map; structured values
//! (`object_parameters`, `proxies`, `client_config`, `transfer_config`) are JSON objects with
//! the original's key names.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;

use super::network::Proxies;
pub use super::setting_value::SettingValue;
use super::setting_value::{json_bool, json_object, json_secs, json_string, json_u64, parse_bool};

/// Defines a string-keyed enum setting with its accepted spellings.
macro_rules! enum_setting {
    (
        $(#[$meta:meta])*
        pub enum $name:ident : $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident = [$($spelling:literal),+] ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant ),* }

        impl $name {
            /// The canonical spelling of this value.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => [$($spelling),+][0] ),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(raw: &str) -> Result<Self, String> {
                let lower = raw.trim().to_ascii_lowercase();
                $( if [$($spelling),+].contains(&lower.as_str()) { return Ok($name::$variant); } )*
                Err(format!("expected one of: {}", $kind))
            }
        }

        impl SettingValue for $name {
            const KIND: &'static str = $kind;
            fn parse_setting(raw: &str) -> Result<Self, String> {
                raw.parse()
            }
        }
    };
}

enum_setting! {
    /// How the bucket appears in request URLs.
    pub enum AddressingStyle : "auto, virtual, path" {
        /// Virtual-hosted on AWS for DNS-compatible names, path style otherwise and for any
        /// custom endpoint (the original's rule).
        Auto = ["auto", "none", "null"],
        /// `https://bucket.host/key`.
        Virtual = ["virtual"],
        /// `https://host/bucket/key`.
        Path = ["path"],
    }
}

enum_setting! {
    /// How requests are signed.
    pub enum SignatureVersion : "s3v4, s3, unsigned" {
        /// AWS Signature Version 4.
        V4 = ["s3v4", "v4", "sigv4"],
        /// Legacy AWS Signature Version 2 (`"s3"` in boto).
        V2 = ["s3", "v2", "sigv2", "s3v2"],
        /// No signature, for public buckets: an explicit choice, never a fallback.
        Unsigned = ["unsigned", "anonymous"],
    }
}

enum_setting! {
    /// When to use flexible checksums (`x-amz-checksum-*`): botocore's
    /// `request_checksum_calculation` (uploads) and `response_checksum_validation`
    /// (downloads) take these values.
    pub enum ChecksumPolicy : "when_required, when_supported" {
        /// Only where S3 requires one: no checksum sent with uploads, none checked on reads.
        WhenRequired = ["when_required"],
        /// Uploads carry a checksum the service stores (CRC64NVME unless the object
        /// parameter `ChecksumAlgorithm` names another); reads ask for the stored checksum
        /// and check the bytes against it.
        WhenSupported = ["when_supported"],
    }
}

enum_setting! {
    /// A checksum algorithm S3 computes, stores with an object and returns with it
    /// (boto3's `ChecksumAlgorithm`).
    ///
    /// ```
    /// use storages_s3::config::ChecksumAlgorithm;
    /// assert_eq!("CRC64NVME".parse::<ChecksumAlgorithm>().unwrap(), ChecksumAlgorithm::Crc64Nvme);
    /// assert_eq!(ChecksumAlgorithm::Crc32c.name(), "CRC32C");
    /// ```
    #[non_exhaustive]
    pub enum ChecksumAlgorithm : "CRC64NVME, CRC32C, CRC32, SHA1, SHA256" {
        /// CRC-64/NVME: what AWS adds to every new object, and the one algorithm every
        /// service that takes checksums stores whole for multipart uploads (`FULL_OBJECT`).
        Crc64Nvme = ["crc64nvme"],
        /// CRC-32C (Castagnoli).
        Crc32c = ["crc32c"],
        /// CRC-32 (ISO-HDLC, as zlib's).
        Crc32 = ["crc32"],
        /// SHA-1.
        Sha1 = ["sha1"],
        /// SHA-256.
        Sha256 = ["sha256"],
    }
}

enum_setting! {
    /// Whether SigV4 signs the SHA-256 of request bodies (`x-amz-content-sha256`), or sends
    /// `UNSIGNED-PAYLOAD`, which S3 allows over HTTPS (TLS already protects the body).
    pub enum PayloadSigning : "auto, always, never" {
        /// Sign bodies over plain HTTP; over HTTPS send `UNSIGNED-PAYLOAD` (with the
        /// checksum every upload carries where the service stores one: see
        /// [`Settings::upload_checksum`](crate::Settings::upload_checksum)).
        /// `false` means this, as botocore's `payload_signing_enabled = false` does.
        Auto = ["auto", "false"],
        /// Sign every body (botocore's `payload_signing_enabled = true`).
        Always = ["always", "true"],
        /// Never hash bodies, plain HTTP included (for trusted networks only: nothing then
        /// protects a body in transit but the checksum, where one is sent). Spelled out
        /// only: no boolean means it.
        Never = ["never"],
    }
}

enum_setting! {
    /// Which ListObjects API to call.
    pub enum ListObjectsVersion : "1, 2" {
        /// `ListObjects` with markers, for stores without V2.
        V1 = ["1", "v1"],
        /// `ListObjectsV2` with continuation tokens.
        V2 = ["2", "v2"],
    }
}

enum_setting! {
    /// Retry mode (botocore's names).
    pub enum RetryMode : "standard, legacy, adaptive" {
        /// Bounded attempts, exponential backoff with full jitter (3 attempts by default).
        Standard = ["standard"],
        /// botocore's legacy mode: 5 attempts by default, same rules otherwise.
        Legacy = ["legacy"],
        /// Accepted for compatibility; behaves as `standard`.
        Adaptive = ["adaptive"],
    }
}

enum_setting! {
    /// S3-compatible service whose known differences from AWS are applied as defaults.
    pub enum Provider : "aws, r2, minio, rustfs, garage" {
        /// Amazon S3.
        Aws = ["aws", "s3", "amazon"],
        /// Cloudflare R2: region `auto`, path style.
        R2 = ["r2", "cloudflare"],
        /// MinIO: region `us-east-1`, path style.
        Minio = ["minio"],
        /// RustFS: region `us-east-1`, path style.
        RustFs = ["rustfs"],
        /// Garage: region `garage`, path style, no conditional writes.
        Garage = ["garage"],
    }
}

/// TLS certificate verification (`AWS_S3_VERIFY`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Verify {
    /// Verify with the bundled (or native) root certificates.
    #[default]
    Default,
    /// Do not verify certificates at all (testing only).
    Off,
    /// Verify against the PEM CA bundle at this path.
    CaBundle(PathBuf),
}

impl SettingValue for Verify {
    const KIND: &'static str = "true, false, or a path to a PEM CA bundle";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(Verify::Default);
        }
        match parse_bool(t) {
            Ok(true) => Ok(Verify::Default),
            Ok(false) => Ok(Verify::Off),
            Err(_) => Ok(Verify::CaBundle(PathBuf::from(t))),
        }
    }
}

/// Retry settings of `client_config` (botocore's `retries` dict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetriesConfig {
    /// Total attempts, the first included.
    pub total_max_attempts: Option<u32>,
    /// Retry mode.
    pub mode: Option<RetryMode>,
}

/// The client configuration (`client_config`, `AWS_S3_CLIENT_CONFIG`): botocore `Config`'s
/// keys as a JSON object. When given, it replaces what `addressing_style`,
/// `signature_version` and `proxies` say, as in the original.
///
/// ```
/// use storages_s3::{Settings, config::AddressingStyle};
///
/// let s = Settings::builder()
///     .no_globals()
///     .option("bucket_name", "media")
///     .option("region_name", "us-east-1")
///     .option("client_config", r#"{"s3": {"addressing_style": "path"}, "region_name": "eu-west-3",
///                                  "retries": {"max_attempts": 4, "mode": "standard"}}"#)
///     .build()
///     .unwrap();
/// assert_eq!(s.addressing_style(), AddressingStyle::Path);
/// assert_eq!(s.region(), "eu-west-3"); // client_config wins
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientConfig {
    /// Signing region.
    pub region_name: Option<String>,
    /// Signature version.
    pub signature_version: Option<SignatureVersion>,
    /// Replaces the `User-Agent`.
    pub user_agent: Option<String>,
    /// Appended to the `User-Agent`.
    pub user_agent_extra: Option<String>,
    /// TCP (and proxy) connect timeout.
    pub connect_timeout: Option<Duration>,
    /// Longest wait for the reply's head or for each piece of its body.
    pub read_timeout: Option<Duration>,
    /// Idle connections kept per host.
    pub max_pool_connections: Option<usize>,
    /// Proxies by scheme.
    pub proxies: Option<Proxies>,
    /// `s3.addressing_style`.
    pub addressing_style: Option<AddressingStyle>,
    /// `s3.use_accelerate_endpoint`: requests go to `<bucket>.s3-accelerate.amazonaws.com`.
    pub use_accelerate_endpoint: Option<bool>,
    /// `s3.use_dualstack_endpoint`: requests go to `s3.dualstack.<region>.amazonaws.com`
    /// (IPv4 and IPv6).
    pub use_dualstack_endpoint: Option<bool>,
    /// `s3.payload_signing_enabled`: `true` signs every body, `false` leaves bodies sent over
    /// HTTPS unsigned (as [`PayloadSigning::Auto`]).
    pub payload_signing_enabled: Option<bool>,
    /// `retries`.
    pub retries: RetriesConfig,
    /// `request_checksum_calculation`.
    pub request_checksum_calculation: Option<ChecksumPolicy>,
    /// `response_checksum_validation`.
    pub response_checksum_validation: Option<ChecksumPolicy>,
    /// `tcp_keepalive`.
    pub tcp_keepalive: Option<bool>,
}

impl FromStr for ClientConfig {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let mut c = ClientConfig::default();
        for (k, v) in json_object(raw)? {
            match k.as_str() {
                "region_name" => c.region_name = Some(json_string(&k, &v)?),
                "signature_version" => c.signature_version = Some(json_string(&k, &v)?.parse()?),
                "user_agent" => c.user_agent = Some(json_string(&k, &v)?),
                "user_agent_extra" => c.user_agent_extra = Some(json_string(&k, &v)?),
                "connect_timeout" => c.connect_timeout = Some(json_secs(&k, &v)?),
                "read_timeout" => c.read_timeout = Some(json_secs(&k, &v)?),
                "max_pool_connections" => c.max_pool_connections = Some(json_u64(&k, &v)? as usize),
                "proxies" => {
                    let Value::Object(m) = &v else {
                        return Err("`proxies` must be a JSON object".into());
                    };
                    c.proxies = Some(Proxies::from_map(m)?);
                }
                "s3" => {
                    let Value::Object(m) = &v else {
                        return Err("`s3` must be a JSON object".into());
                    };
                    for (sk, sv) in m {
                        match sk.as_str() {
                            "addressing_style" => c.addressing_style = Some(json_string(sk, sv)?.parse()?),
                            "use_accelerate_endpoint" => c.use_accelerate_endpoint = Some(json_bool(sk, sv)?),
                            "use_dualstack_endpoint" => c.use_dualstack_endpoint = Some(json_bool(sk, sv)?),
                            "payload_signing_enabled" => c.payload_signing_enabled = Some(json_bool(sk, sv)?),
                            "us_east_1_regional_endpoint" => {}
                            _ => return Err(format!("unknown key `s3.{sk}`")),
                        }
                    }
                }
                "retries" => {
                    let Value::Object(m) = &v else {
                        return Err("`retries` must be a JSON object".into());
                    };
                    for (rk, rv) in m {
                        match rk.as_str() {
                            "total_max_attempts" => {
                                c.retries.total_max_attempts = Some(json_u64(rk, rv)?.max(1) as u32)
                            }
                            // botocore: retries after the first attempt.
                            "max_attempts" => {
                                if c.retries.total_max_attempts.is_none() {
                                    c.retries.total_max_attempts =
                                        Some(json_u64(rk, rv)?.saturating_add(1).min(100) as u32)
                                }
                            }
                            "mode" => c.retries.mode = Some(json_string(rk, rv)?.parse()?),
                            _ => return Err(format!("unknown key `retries.{rk}`")),
                        }
                    }
                }
                "request_checksum_calculation" => c.request_checksum_calculation = Some(json_string(&k, &v)?.parse()?),
                "response_checksum_validation" => c.response_checksum_validation = Some(json_string(&k, &v)?.parse()?),
                "tcp_keepalive" => c.tcp_keepalive = Some(json_bool(&k, &v)?),
                // Accepted for compatibility with botocore configurations; no effect here.
                "parameter_validation" | "inject_host_prefix" | "client_cert" | "proxies_config" => {}
                _ => return Err(format!("unknown client_config key `{k}`")),
            }
        }
        Ok(c)
    }
}

impl SettingValue for ClientConfig {
    const KIND: &'static str = "JSON object of botocore Config keys";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        raw.parse()
    }
}

const MIB: u64 = 1024 * 1024;

/// Chunking of uploads and downloads (`transfer_config`, `AWS_S3_TRANSFER_CONFIG`):
/// boto3 `TransferConfig`'s keys as a JSON object.
///
/// ```text
/// {"multipart_chunksize": 16777216, "max_concurrency": 4}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferConfig {
    /// Uploads at least this large use multipart (default 8 MiB).
    pub multipart_threshold: u64,
    /// Size of each part (default 8 MiB); grown so a known size fits in 10,000 parts.
    pub multipart_chunksize: u64,
    /// Parts in flight at once (default 10).
    pub max_concurrency: usize,
    /// Attempts for a download broken midway (default 5).
    pub num_download_attempts: u32,
    /// Accepted for compatibility (boto3 `max_io_queue`).
    pub max_io_queue: usize,
    /// Size of the pieces a download is read in (default 256 KiB).
    pub io_chunksize: u64,
    /// Accepted for compatibility; uploads always use tasks.
    pub use_threads: bool,
    /// Accepted for compatibility; no bandwidth cap is applied.
    pub max_bandwidth: Option<u64>,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            multipart_threshold: 8 * MIB,
            multipart_chunksize: 8 * MIB,
            max_concurrency: 10,
            num_download_attempts: 5,
            max_io_queue: 100,
            io_chunksize: 256 * 1024,
            use_threads: true,
            max_bandwidth: None,
        }
    }
}

impl FromStr for TransferConfig {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let mut t = TransferConfig::default();
        for (k, v) in json_object(raw)? {
            match k.as_str() {
                "multipart_threshold" => t.multipart_threshold = json_u64(&k, &v)?,
                "multipart_chunksize" => t.multipart_chunksize = json_u64(&k, &v)?,
                "max_concurrency" => t.max_concurrency = json_u64(&k, &v)? as usize,
                "num_download_attempts" => t.num_download_attempts = json_u64(&k, &v)? as u32,
                "max_io_queue" => t.max_io_queue = json_u64(&k, &v)? as usize,
                "io_chunksize" => t.io_chunksize = json_u64(&k, &v)?,
                "use_threads" => t.use_threads = json_bool(&k, &v)?,
                "max_bandwidth" => t.max_bandwidth = if v.is_null() { None } else { Some(json_u64(&k, &v)?) },
                _ => return Err(format!("unknown transfer_config key `{k}`")),
            }
        }
        t.check()?;
        Ok(t)
    }
}

impl TransferConfig {
    /// S3's limits: parts of 5 MiB to 5 GiB, at least one part in flight.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !(5 * MIB..=5 * 1024 * MIB).contains(&self.multipart_chunksize) {
            return Err("multipart_chunksize must be between 5 MiB and 5 GiB".into());
        }
        if self.multipart_threshold > 5 * 1024 * MIB {
            return Err("multipart_threshold must be at most 5 GiB".into());
        }
        if self.max_concurrency == 0 || self.max_concurrency > 1000 {
            return Err("max_concurrency must be between 1 and 1000".into());
        }
        if self.num_download_attempts == 0 {
            return Err("num_download_attempts must be at least 1".into());
        }
        Ok(())
    }
}

impl SettingValue for TransferConfig {
    const KIND: &'static str = "JSON object of boto3 TransferConfig keys";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        raw.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bools_accept_python_and_env_spellings() {
        for t in ["True", "true", "1", "yes", "ON"] {
            assert!(bool::parse_setting(t).unwrap(), "{t}");
        }
        for f in ["False", "0", "no", "off", "None"] {
            assert!(!bool::parse_setting(f).unwrap(), "{f}");
        }
        assert!(bool::parse_setting("maybe").is_err());
    }

    #[test]
    fn lists_parse_from_json_or_commas() {
        assert_eq!(
            Vec::<String>::parse_setting(r#"["text/css", "image/svg+xml"]"#).unwrap(),
            vec!["text/css", "image/svg+xml"]
        );
        assert_eq!(
            Vec::<String>::parse_setting("text/css, text/javascript").unwrap(),
            vec!["text/css", "text/javascript"]
        );
        assert!(Vec::<String>::parse_setting("[1,2]").is_err());
    }

    #[test]
    fn verify_is_bool_or_path() {
        assert_eq!(Verify::parse_setting("False").unwrap(), Verify::Off);
        assert_eq!(Verify::parse_setting("true").unwrap(), Verify::Default);
        assert_eq!(
            Verify::parse_setting("/etc/ca.pem").unwrap(),
            Verify::CaBundle("/etc/ca.pem".into())
        );
    }

    #[test]
    fn enums_parse_their_spellings() {
        assert_eq!("s3v4".parse::<SignatureVersion>().unwrap(), SignatureVersion::V4);
        assert_eq!("s3".parse::<SignatureVersion>().unwrap(), SignatureVersion::V2);
        assert_eq!("Virtual".parse::<AddressingStyle>().unwrap(), AddressingStyle::Virtual);
        assert!("dns".parse::<AddressingStyle>().is_err());
        assert_eq!(Option::<Provider>::parse_setting("").unwrap(), None);
        assert_eq!("R2".parse::<Provider>().unwrap(), Provider::R2);
    }

    #[test]
    fn transfer_config_enforces_s3_part_limits() {
        assert!(r#"{"multipart_chunksize": 1024}"#.parse::<TransferConfig>().is_err());
        assert!(r#"{"max_concurrency": 0}"#.parse::<TransferConfig>().is_err());
        assert!(r#"{"unknown": 1}"#.parse::<TransferConfig>().is_err());
    }

    #[test]
    fn durations_are_seconds() {
        assert_eq!(Duration::parse_setting("2.5").unwrap(), Duration::from_millis(2500));
        assert!(Duration::parse_setting("-1").is_err());
        assert!(Duration::parse_setting("soon").is_err());
    }
}
