//! Presigned POST: browser uploads through an HTML form ("POST Object" with a signed policy),
//! which the AWS SDK for Rust does not offer.
//!
//! A [`PostPolicy`] says what a browser may upload: the key (exact, or any key under a prefix),
//! the size range, the content type, the metadata, the ACL, how long the form stays valid.
//! Signing it ([`Client::presigned_post`], or [`PostPolicy::sign`] without a network) gives a
//! [`PresignedPost`]: the URL the form posts to and the hidden fields it carries, among them the
//! policy document (base64 of JSON) and its signature:
//!
//! - SigV4: `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-security-token` (with
//!   temporary credentials), `policy`, and `x-amz-signature`, the hex HMAC-SHA256 of the base64
//!   policy with the SigV4 signing key of the date, the region and `s3`;
//! - SigV2 (`signature_version = "s3"`): `AWSAccessKeyId`, `x-amz-security-token`, `policy`,
//!   and `signature`, the base64 HMAC-SHA1 of the base64 policy;
//! - unsigned (`signature_version = "unsigned"`): no policy and no signature; only a bucket
//!   that lets anyone write accepts such a form, and none of the conditions is enforced.
//!
//! The form sends the fields in the order given, then **the file, last**, in a field named
//! `file`: S3 ignores every field after the file. Each field the form sends must appear in the
//! policy (the fixed values do; a page that adds its own input, say `Content-Type` for a
//! [`PostPolicy::content_type_starts_with`] condition, needs a condition naming it). A `key`
//! that ends with `${filename}` (what [`PostPolicy::key_starts_with`] gives) is completed by S3
//! with the name of the file the user picked.
//!
//! The policy document and the signatures are pure functions of their inputs
//! ([`PostPolicy::sign`], [`signature_v4`], [`signature_v2`]), tested against the examples AWS
//! publishes.

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;

use crate::config::{ObjectParameters, SignatureVersion};
use crate::credentials::Credentials;
use crate::error::{Error, ErrorKind, Result};
use crate::s3::Client;
use crate::s3::addressing::{MAX_KEY_LEN, check_key};

/// The variable S3 replaces, in the `key` field, with the name of the uploaded file.
pub const FILENAME_VARIABLE: &str = "${filename}";

/// The SigV4 algorithm of the `x-amz-algorithm` field.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How long a form is valid when the policy does not say (boto3's default).
pub const DEFAULT_EXPIRES: Duration = Duration::from_secs(3600);

/// Form fields that signing writes, or that name the request itself: never a condition of
/// the caller's (compared without case, as S3 does).
const RESERVED_FIELDS: &[&str] = &[
    "key",
    "bucket",
    "file",
    "policy",
    "x-amz-signature",
    "signature",
    "awsaccesskeyid",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
    "content-length-range",
];

/// Upload parameters (boto3 names) that a POST form carries, and the form field of each.
const PARAMETER_FIELDS: &[(&str, &str)] = &[
    ("ACL", "acl"),
    ("BucketKeyEnabled", "x-amz-server-side-encryption-bucket-key-enabled"),
    ("CacheControl", "Cache-Control"),
    ("ContentDisposition", "Content-Disposition"),
    ("ContentEncoding", "Content-Encoding"),
    ("ContentType", "Content-Type"),
    ("Expires", "Expires"),
    ("SSEKMSEncryptionContext", "x-amz-server-side-encryption-context"),
    ("SSEKMSKeyId", "x-amz-server-side-encryption-aws-kms-key-id"),
    ("ServerSideEncryption", "x-amz-server-side-encryption"),
    ("StorageClass", "x-amz-storage-class"),
    ("WebsiteRedirectLocation", "x-amz-website-redirect-location"),
];

/// When a policy stops being accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiration {
    /// This long after the signing time.
    In(Duration),
    /// At this time (a time already past gives a form S3 refuses).
    At(SystemTime),
}

/// Which keys a form may upload to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCondition {
    /// Exactly this key.
    Exact(String),
    /// Any key that starts with this prefix (`""`: any key of the bucket). The form's `key`
    /// field is the prefix followed by `${filename}`.
    StartsWith(String),
}

/// One condition of a policy, beyond the bucket and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// The field must be exactly `value`; the value is also a hidden field of the form.
    Eq {
        /// Form field name, without `$` (`Content-Type`, `acl`, `x-amz-meta-owner`, ...).
        field: String,
        /// The value.
        value: String,
    },
    /// The field must start with `prefix` (`""`: any value). The page supplies the field
    /// (an input of its own); the form does not carry it.
    StartsWith {
        /// Form field name, without `$`.
        field: String,
        /// The prefix.
        prefix: String,
    },
    /// The file must be between `min` and `max` bytes long, both included.
    ContentLengthRange {
        /// Fewest bytes.
        min: u64,
        /// Most bytes.
        max: u64,
    },
}

impl Condition {
    /// The field this condition is about (none for the length range).
    pub fn field(&self) -> Option<&str> {
        match self {
            Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => Some(field),
            Condition::ContentLengthRange { .. } => None,
        }
    }

    /// The condition as it appears in the JSON policy: `{"field": "value"}`,
    /// `["starts-with", "$field", "prefix"]` or `["content-length-range", min, max]`.
    pub fn to_json(&self) -> Value {
        match self {
            Condition::Eq { field, value } => eq_json(field, value),
            Condition::StartsWith { field, prefix } => Value::Array(vec![
                "starts-with".into(),
                format!("${field}").into(),
                prefix.as_str().into(),
            ]),
            Condition::ContentLengthRange { min, max } => {
                Value::Array(vec!["content-length-range".into(), (*min).into(), (*max).into()])
            }
        }
    }
}

fn eq_json(field: &str, value: &str) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(field.to_owned(), Value::String(value.to_owned()));
    Value::Object(m)
}

/// The status S3 answers a successful upload with, when the form gives no redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuccessActionStatus {
    /// `200 OK`, empty body.
    Ok,
    /// `201 Created`, with an XML document (`Location`, `Bucket`, `Key`, `ETag`).
    Created,
    /// `204 No Content` (S3's default).
    NoContent,
}

impl SuccessActionStatus {
    /// The field value: `"200"`, `"201"` or `"204"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SuccessActionStatus::Ok => "200",
            SuccessActionStatus::Created => "201",
            SuccessActionStatus::NoContent => "204",
        }
    }
}

/// How a policy is signed ([`PostPolicy::sign`]).
#[derive(Debug, Clone, Copy)]
pub enum PostSigning<'a> {
    /// AWS Signature Version 4, for `region`.
    V4 {
        /// The keys.
        credentials: &'a Credentials,
        /// The signing region (the bucket's).
        region: &'a str,
    },
    /// Legacy Signature Version 2 (`signature_version = "s3"`).
    V2 {
        /// The keys.
        credentials: &'a Credentials,
    },
    /// No policy and no signature (`signature_version = "unsigned"`), for buckets that let
    /// anyone write.
    Unsigned,
}

/// What a browser form may upload: a builder of S3's POST policy.
///
/// Every condition that fixes a value (`content_type`, `acl`, `metadata`, `eq`, ...) also
/// becomes a hidden field of the form; `*_starts_with` conditions leave the field to the page.
/// Setting a fixed value again for the same field replaces it (names compared without case).
///
/// A web handler hands [`PresignedPost::url`] and [`PresignedPost::fields`] to its page; the
/// file input comes last:
///
/// ```no_run
/// # async fn handler() -> storages_s3::Result<String> {
/// use std::time::Duration;
///
/// use storages_s3::Settings;
/// use storages_s3::s3::{Client, PostPolicy, SuccessActionStatus};
///
/// let client = Client::new(&Settings::builder().option("bucket_name", "uploads-bucket").build()?)?;
/// let policy = PostPolicy::new()
///     .key_starts_with("incoming/ana/")
///     .content_length_range(1, 10 << 20)
///     .content_type_starts_with("image/")
///     .success_action_status(SuccessActionStatus::Created)
///     .expires_in(Duration::from_secs(600));
/// let post = client.presigned_post(&policy).await?;
///
/// fn escape(s: &str) -> String {
///     s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
/// }
/// let mut html = format!(
///     "<form action=\"{}\" method=\"post\" enctype=\"multipart/form-data\">\n",
///     escape(&post.url)
/// );
/// for (name, value) in &post.fields {
///     html += &format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">\n", escape(name), escape(value));
/// }
/// // The policy has a starts-with condition on Content-Type: the page supplies the field.
/// html += "<input type=\"hidden\" name=\"Content-Type\" value=\"image/png\">\n";
/// // The file last: S3 ignores any field after it.
/// html += "<input type=\"file\" name=\"file\" accept=\"image/*\">\n<button>Upload</button>\n</form>\n";
/// Ok(html)
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostPolicy {
    key: Option<KeyCondition>,
    expiration: Option<Expiration>,
    conditions: Vec<Condition>,
    signed_at: Option<SystemTime>,
}

fn same_field(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn field_name(field: &str) -> String {
    field.strip_prefix('$').unwrap_or(field).to_owned()
}

impl PostPolicy {
    /// An empty policy: give it a key ([`key`](Self::key) or
    /// [`key_starts_with`](Self::key_starts_with)) before signing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uploads go to exactly this key.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(KeyCondition::Exact(key.into()));
        self
    }

    /// Uploads go to any key that starts with `prefix`; the form's `key` field is
    /// `<prefix>${filename}`, which S3 completes with the uploaded file's name (a page may
    /// also set the field itself, to any key under the prefix).
    pub fn key_starts_with(mut self, prefix: impl Into<String>) -> Self {
        self.key = Some(KeyCondition::StartsWith(prefix.into()));
        self
    }

    /// The form is valid for this long after the signing time (default: one hour).
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.expiration = Some(Expiration::In(lifetime));
        self
    }

    /// The form is valid until this time.
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expiration = Some(Expiration::At(at));
        self
    }

    /// Signs at this time rather than now, for reproducible forms. (S3-compatible servers may
    /// refuse an `x-amz-date` far from their clock; s3s allows 15 minutes.)
    pub fn signed_at(mut self, at: SystemTime) -> Self {
        self.signed_at = Some(at);
        self
    }

    /// The file must be between `min` and `max` bytes long, both included (replaces an
    /// earlier range).
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        self.conditions
            .retain(|c| !matches!(c, Condition::ContentLengthRange { .. }));
        self.conditions.push(Condition::ContentLengthRange { min, max });
        self
    }

    /// The field `field` must be exactly `value`, which the form carries as a hidden field.
    /// Replaces an earlier exact value of the same field.
    pub fn exact(mut self, field: impl AsRef<str>, value: impl Into<String>) -> Self {
        let field = field_name(field.as_ref());
        self.conditions
            .retain(|c| !matches!(c, Condition::Eq { field: f, .. } if same_field(f, &field)));
        self.conditions.push(Condition::Eq {
            field,
            value: value.into(),
        });
        self
    }

    /// The field `field` must start with `prefix` (`""`: any value); the page supplies the
    /// field. Replaces an earlier prefix of the same field.
    pub fn starts_with(mut self, field: impl AsRef<str>, prefix: impl Into<String>) -> Self {
        let field = field_name(field.as_ref());
        self.conditions
            .retain(|c| !matches!(c, Condition::StartsWith { field: f, .. } if same_field(f, &field)));
        self.conditions.push(Condition::StartsWith {
            field,
            prefix: prefix.into(),
        });
        self
    }

    /// The object's `Content-Type` is exactly `value`.
    pub fn content_type(self, value: impl Into<String>) -> Self {
        self.exact("Content-Type", value)
    }

    /// The object's `Content-Type` starts with `prefix` (`"image/"`); the page sets the
    /// `Content-Type` field.
    pub fn content_type_starts_with(self, prefix: impl Into<String>) -> Self {
        self.starts_with("Content-Type", prefix)
    }

    /// S3 answers a successful upload with this status (when there is no redirect).
    pub fn success_action_status(self, status: SuccessActionStatus) -> Self {
        self.exact("success_action_status", status.as_str())
    }

    /// S3 redirects the browser here (`303 See Other`, with `bucket`, `key` and `etag`
    /// added to the query) after a successful upload.
    pub fn success_action_redirect(self, url: impl Into<String>) -> Self {
        self.exact("success_action_redirect", url)
    }

    /// The object's canned ACL (`private`, `public-read`, ...).
    pub fn acl(self, acl: impl Into<String>) -> Self {
        self.exact("acl", acl)
    }

    /// User metadata `x-amz-meta-<name>` (the name in lower case) is exactly `value`.
    pub fn metadata(self, name: &str, value: impl Into<String>) -> Self {
        self.exact(format!("x-amz-meta-{}", name.to_ascii_lowercase()), value)
    }

    /// User metadata `x-amz-meta-<name>` starts with `prefix`; the page sets the field.
    pub fn metadata_starts_with(self, name: &str, prefix: impl Into<String>) -> Self {
        self.starts_with(format!("x-amz-meta-{}", name.to_ascii_lowercase()), prefix)
    }

    /// The object's `Cache-Control`.
    pub fn cache_control(self, value: impl Into<String>) -> Self {
        self.exact("Cache-Control", value)
    }

    /// The object's `Content-Disposition`.
    pub fn content_disposition(self, value: impl Into<String>) -> Self {
        self.exact("Content-Disposition", value)
    }

    /// Adds the upload parameters (boto3 names, as in `object_parameters`) that a POST form
    /// can carry, as fixed fields, unless the policy already has a condition on the field:
    /// `ACL` (`acl`), `CacheControl`, `ContentDisposition`, `ContentEncoding`, `ContentType`,
    /// `Expires`, `Metadata` (`x-amz-meta-*`), `StorageClass`, `WebsiteRedirectLocation`, and
    /// the SSE-S3/SSE-KMS ones (`ServerSideEncryption`, `SSEKMSKeyId`,
    /// `SSEKMSEncryptionContext`, `BucketKeyEnabled`).
    ///
    /// SSE-C parameters are refused ([`ErrorKind::Unsupported`]): the form would hand the
    /// customer key to every browser. Parameters with no form field (`ContentLanguage`,
    /// `Grant*`, `ObjectLock*`, `Tagging`) and read parameters (`VersionId`, `ChecksumMode`,
    /// `RequestPayer`, `ExpectedBucketOwner`) are left out.
    pub fn with_parameters(mut self, params: &ObjectParameters) -> Result<Self> {
        if params.contains("SSECustomerKey") || params.contains("SSECustomerAlgorithm") {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "a presigned POST cannot use SSE-C: the form would give the customer key to the browser",
            ));
        }
        for (name, value) in params.iter() {
            if let Some((_, field)) = PARAMETER_FIELDS.iter().find(|(n, _)| *n == name)
                && !self.constrains(field)
            {
                self = self.exact(*field, value);
            }
        }
        for (name, value) in params.metadata() {
            let field = format!("x-amz-meta-{}", name.to_ascii_lowercase());
            if !self.constrains(&field) {
                self = self.exact(field, value.as_str());
            }
        }
        Ok(self)
    }

    /// Whether a condition (exact or prefix) names `field` (compared without case).
    pub fn constrains(&self, field: &str) -> bool {
        let field = field.strip_prefix('$').unwrap_or(field);
        self.conditions
            .iter()
            .any(|c| c.field().is_some_and(|f| same_field(f, field)))
    }

    /// The key condition, if set.
    pub fn key_condition(&self) -> Option<&KeyCondition> {
        self.key.as_ref()
    }

    /// The expiration, if set.
    pub fn expiration(&self) -> Option<Expiration> {
        self.expiration
    }

    /// The fixed signing time, if set.
    pub fn signing_time(&self) -> Option<SystemTime> {
        self.signed_at
    }

    /// The conditions beyond bucket and key, in the order given.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn check(&self) -> Result<&KeyCondition> {
        let key = self.key.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidKey,
                "a POST policy needs a key: PostPolicy::key or PostPolicy::key_starts_with",
            )
        })?;
        match key {
            KeyCondition::Exact(k) => check_key(k)?,
            KeyCondition::StartsWith(p) if p.len() >= MAX_KEY_LEN => {
                return Err(Error::new(
                    ErrorKind::InvalidKey,
                    format!("a key prefix leaves no room for a name under S3's {MAX_KEY_LEN} bytes"),
                ));
            }
            KeyCondition::StartsWith(_) => {}
        }
        for c in &self.conditions {
            match c {
                Condition::ContentLengthRange { min, max } if min > max => {
                    return Err(Error::new(
                        ErrorKind::InvalidSetting,
                        format!("content-length-range: the minimum {min} is above the maximum {max}"),
                    ));
                }
                Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => check_field(field)?,
                Condition::ContentLengthRange { .. } => {}
            }
        }
        Ok(key)
    }

    /// The signed form, without any I/O: `url` is the bucket's URL the form posts to,
    /// `bucket` its name (a condition of the policy), `time` the signing time.
    pub fn sign(
        &self,
        url: impl Into<String>,
        bucket: &str,
        signing: PostSigning<'_>,
        time: SystemTime,
    ) -> Result<PresignedPost> {
        let key = self.check()?;
        let (key_field, key_json) = match key {
            KeyCondition::Exact(k) => (k.clone(), eq_json("key", k)),
            KeyCondition::StartsWith(p) => (
                format!("{p}{FILENAME_VARIABLE}"),
                Condition::StartsWith {
                    field: "key".into(),
                    prefix: p.clone(),
                }
                .to_json(),
            ),
        };
        let mut fields = vec![("key".to_owned(), key_field)];
        for c in &self.conditions {
            if let Condition::Eq { field, value } = c {
                fields.push((field.clone(), value.clone()));
            }
        }
        let url = url.into();
        let expiration = match self.expiration.unwrap_or(Expiration::In(DEFAULT_EXPIRES)) {
            Expiration::In(d) => time
                .checked_add(d)
                .ok_or_else(|| Error::new(ErrorKind::InvalidSetting, "the POST policy's lifetime is out of range"))?,
            Expiration::At(t) => t,
        };
        // The policy writes its expiration, and SigV4 its date, with four-digit years.
        if utc(expiration).is_none() {
            return Err(Error::new(
                ErrorKind::InvalidSetting,
                "the POST policy's expiration is out of range (years 0 to 9999)",
            ));
        }
        if matches!(signing, PostSigning::V4 { .. }) && utc(time).is_none() {
            return Err(Error::new(
                ErrorKind::InvalidSetting,
                "the POST policy's signing time is out of range (years 0 to 9999)",
            ));
        }
        let mut conditions = vec![eq_json("bucket", bucket), key_json];
        conditions.extend(self.conditions.iter().map(Condition::to_json));
        match signing {
            PostSigning::Unsigned => Ok(PresignedPost { url, fields }),
            PostSigning::V4 { credentials, region } => {
                let credential = format!(
                    "{}/{}/{region}/s3/aws4_request",
                    credentials.access_key(),
                    &amz_date(time)[..8]
                );
                // AWS's example order in the policy; boto3's in the form.
                let auth = [
                    ("x-amz-credential", credential.clone()),
                    ("x-amz-algorithm", ALGORITHM.to_owned()),
                    ("x-amz-date", amz_date(time)),
                ];
                conditions.extend(auth.iter().map(|(n, v)| eq_json(n, v)));
                fields.push(("x-amz-algorithm".into(), ALGORITHM.into()));
                fields.push(("x-amz-credential".into(), credential));
                fields.push(("x-amz-date".into(), amz_date(time)));
                if let Some(token) = credentials.session_token() {
                    conditions.push(eq_json("x-amz-security-token", token.expose()));
                    fields.push(("x-amz-security-token".into(), token.expose().to_owned()));
                }
                let policy = encode_policy(&policy_document(expiration, &conditions));
                let signature = signature_v4(&policy, credentials.secret_key().expose(), time, region);
                fields.push(("policy".into(), policy));
                fields.push(("x-amz-signature".into(), signature));
                Ok(PresignedPost { url, fields })
            }
            PostSigning::V2 { credentials } => {
                fields.push(("AWSAccessKeyId".into(), credentials.access_key().to_owned()));
                if let Some(token) = credentials.session_token() {
                    conditions.push(eq_json("x-amz-security-token", token.expose()));
                    fields.push(("x-amz-security-token".into(), token.expose().to_owned()));
                }
                let policy = encode_policy(&policy_document(expiration, &conditions));
                let signature = signature_v2(&policy, credentials.secret_key().expose());
                fields.push(("policy".into(), policy));
                fields.push(("signature".into(), signature));
                Ok(PresignedPost { url, fields })
            }
        }
    }
}

fn check_field(field: &str) -> Result<()> {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
        return Err(Error::new(
            ErrorKind::InvalidSetting,
            format!("{field:?} is not a form field name (visible ASCII, no quotes)"),
        ));
    }
    if RESERVED_FIELDS.iter().any(|r| same_field(r, field)) {
        return Err(Error::new(
            ErrorKind::InvalidSetting,
            format!("the form field {field:?} is set by the policy itself, not by a condition"),
        ));
    }
    Ok(())
}

/// `time` in UTC when its year has four digits (0 to 9999), the years a policy's `expiration`
/// and SigV4's `x-amz-date` can write; `None` otherwise (the conversion never panics).
fn utc(time: SystemTime) -> Option<time::OffsetDateTime> {
    let t = match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => time::OffsetDateTime::UNIX_EPOCH.checked_add(time::Duration::try_from(after).ok()?),
        Err(before) => time::OffsetDateTime::UNIX_EPOCH.checked_sub(time::Duration::try_from(before.duration()).ok()?),
    }?;
    (0..=9999).contains(&t.year()).then_some(t)
}

/// `YYYYMMDD'T'HHMMSS'Z'` in UTC (a time [`PostPolicy::sign`] checked with `utc`).
fn amz_date(time: SystemTime) -> String {
    let t = utc(time).expect("a signing time in years 0 to 9999");
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The policy's `expiration`: ISO 8601 in UTC, to the second, as AWS writes it
/// (`2015-12-30T12:00:00.000Z`).
///
/// # Panics
///
/// When the year is outside 0 to 9999, which the format cannot write; [`PostPolicy::sign`]
/// refuses such an expiration ([`ErrorKind::InvalidSetting`]) before writing it.
pub fn format_expiration(time: SystemTime) -> String {
    let t = utc(time).expect("an expiration in years 0 to 9999");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The JSON policy document: `{"expiration": ..., "conditions": [...]}`, every value written
/// by serde_json (members in this order whatever serde_json's map features are).
pub fn policy_document(expiration: SystemTime, conditions: &[Value]) -> String {
    let expiration = Value::String(format_expiration(expiration));
    format!(
        "{{\"expiration\":{},\"conditions\":{}}}",
        expiration,
        Value::Array(conditions.to_vec())
    )
}

/// The `policy` field: base64 of the JSON document's UTF-8 bytes.
pub fn encode_policy(document: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(document.as_bytes())
}

/// The SigV4 `x-amz-signature` of a base64 policy: hex HMAC-SHA256 of the policy with the
/// signing key of `time`'s UTC date, `region` and `s3`.
pub fn signature_v4(policy_base64: &str, secret_key: &str, time: SystemTime, region: &str) -> String {
    let key = aws_sigv4::sign::v4::generate_signing_key(secret_key, time, region, "s3");
    aws_sigv4::sign::v4::calculate_signature(key, policy_base64.as_bytes())
}

/// The SigV2 `signature` of a base64 policy: base64 HMAC-SHA1 of the policy with the secret.
pub fn signature_v2(policy_base64: &str, secret_key: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret_key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(policy_base64.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A signed upload form: where it posts and the hidden fields it carries, in order.
///
/// The form is `<form action="{url}" method="post" enctype="multipart/form-data">`, then
/// one hidden input per field (names and values HTML-escaped), then the page's own inputs
/// named by `starts-with` conditions, then **`<input type="file" name="file">` last**: S3
/// ignores every field after the file. See [`PostPolicy`] for a handler that writes one.
///
/// `Debug` hides the session token of temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedPost {
    /// The form's `action`: the bucket's URL in the client's addressing style
    /// (`https://bucket.s3.amazonaws.com/`, `http://127.0.0.1:9000/bucket/`).
    pub url: String,
    /// The hidden fields, in form order: `key`, the conditions' fixed values, the signing
    /// fields and `policy`, the signature last.
    pub fields: Vec<(String, String)>,
}

impl PresignedPost {
    /// The value of a field (the name compared without case, as S3 does).
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use storages_s3::s3::{PostPolicy, PostSigning};
    ///
    /// let post = PostPolicy::new()
    ///     .key("a.txt")
    ///     .sign("https://b.s3.amazonaws.com/", "b", PostSigning::Unsigned, SystemTime::now())
    ///     .unwrap();
    /// assert_eq!(post.field("KEY"), Some("a.txt"));
    /// ```
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| same_field(n, name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON policy document the `policy` field carries, decoded (for logs and tests);
    /// `None` for an unsigned form.
    pub fn policy_document(&self) -> Option<String> {
        let b64 = self.field("policy")?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        String::from_utf8(bytes).ok()
    }
}

impl fmt::Debug for PresignedPost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(n, v)| {
                if same_field(n, "x-amz-security-token") {
                    (n.as_str(), "***")
                } else {
                    (n.as_str(), v.as_str())
                }
            })
            .collect();
        f.debug_struct("PresignedPost")
            .field("url", &self.url)
            .field("fields", &fields)
            .finish()
    }
}

impl Client {
    /// A signed browser-upload form for this bucket ([`PostPolicy`]): the bucket's URL in the
    /// client's addressing style and the form's hidden fields, signed with SigV4 (or SigV2,
    /// or not at all, as `signature_version` says) by the client's credentials, for the
    /// client's region, at the policy's signing time or now (corrected for learned clock
    /// skew). No request is sent but a credentials lookup.
    ///
    /// ```no_run
    /// # async fn demo(client: storages_s3::s3::Client) -> storages_s3::Result<()> {
    /// use storages_s3::s3::PostPolicy;
    ///
    /// let post = client.presigned_post(&PostPolicy::new().key("reports/q3.pdf")).await?;
    /// // An HTML form: action = post.url, one hidden input per (name, value) of post.fields,
    /// // then <input type="file" name="file"> last.
    /// # Ok(()) }
    /// ```
    pub async fn presigned_post(&self, policy: &PostPolicy) -> Result<PresignedPost> {
        let bucket = self.bucket();
        let key = match policy.key_condition() {
            Some(KeyCondition::Exact(k)) | Some(KeyCondition::StartsWith(k)) => Some(k.as_str()),
            None => None,
        };
        let context = |e: Error| e.with_operation("PresignedPost").with_object(bucket, key);
        policy.check().map_err(context)?;
        let url = self.target(None).url("");
        let time = policy.signing_time().unwrap_or_else(|| {
            let skew = self.clock_skew_ms();
            let now = SystemTime::now();
            if skew >= 0 {
                now + Duration::from_millis(skew as u64)
            } else {
                now - Duration::from_millis(skew.unsigned_abs())
            }
        });
        let credentials = self.credentials().await.map_err(context)?;
        let region = self.region();
        let signing = match (&credentials, self.options().signature_version) {
            (None, _) => PostSigning::Unsigned,
            (Some(credentials), SignatureVersion::V2) => PostSigning::V2 { credentials },
            (Some(credentials), _) => PostSigning::V4 {
                credentials,
                region: &region,
            },
        };
        policy.sign(url, bucket, signing, time).map_err(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    /// "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)", S3 API
    /// Reference (sigv4-post-example): the base64 policy AWS publishes (its JSON has CRLF line
    /// ends) and the signature it gives for it, AKIAIOSFODNN7EXAMPLE, 20151229, us-east-1.
    const AWS_V4_POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const AWS_V4_SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";

    /// "Upload examples (AWS signature version 2)", S3 user guide (HTTPPOSTExamples, file
    /// upload): the base64 policy and the signature AWS publishes for it. The page does not
    /// name the secret; the one that gives this signature is the example secret of AWS's
    /// 2006-03-01 S3 developer guide (access key 0PN5J17HBGZHT7JJ3X82).
    const AWS_V2_POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDA3LTEyLTAxVDEyOjAwOjAwLjAwMFoiLAogICJjb25kaXRpb25zIjogWwogICAgeyJidWNrZXQiOiAiam9obnNtaXRoIn0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci9lcmljLyJdLAogICAgeyJhY2wiOiAicHVibGljLXJlYWQifSwKICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL2pvaG5zbWl0aC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwKICAgIFsic3RhcnRzLXdpdGgiLCAiJENvbnRlbnQtVHlwZSIsICJpbWFnZS8iXSwKICAgIHsieC1hbXotbWV0YS11dWlkIjogIjE0MzY1MTIzNjUxMjc0In0sCiAgICBbInN0YXJ0cy13aXRoIiwgIiR4LWFtei1tZXRhLXRhZyIsICIiXQogIF0KfQo=";
    const AWS_V2_SECRET: &str = "uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o";
    const AWS_V2_SIGNATURE: &str = "0RavWzkygo6QX9caELEqKi9kDbU=";

    fn creds() -> Credentials {
        Credentials::new(ACCESS_KEY, SECRET)
    }

    /// 2015-12-29T00:00:00Z.
    fn dec29() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_451_347_200)
    }

    fn decode(b64: &str) -> String {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
    }

    fn v4(policy: &PostPolicy, c: &Credentials) -> PresignedPost {
        policy
            .sign(
                "https://sigv4examplebucket.s3.amazonaws.com/",
                "sigv4examplebucket",
                PostSigning::V4 {
                    credentials: c,
                    region: "us-east-1",
                },
                dec29(),
            )
            .unwrap()
    }

    /// The policy of AWS's SigV4 example, built with the builder.
    fn aws_example_policy() -> PostPolicy {
        PostPolicy::new()
            .key_starts_with("user/user1/")
            .acl("public-read")
            .success_action_redirect("http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html")
            .content_type_starts_with("image/")
            .metadata("uuid", "14365123651274")
            .exact("x-amz-server-side-encryption", "AES256")
            .metadata_starts_with("tag", "")
            // 2015-12-30T12:00:00Z
            .expires_at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_451_476_800))
    }

    #[test]
    fn sigv4_known_answer_from_aws_post_example() {
        assert_eq!(
            signature_v4(AWS_V4_POLICY, SECRET, dec29(), "us-east-1"),
            AWS_V4_SIGNATURE
        );
        // Any time of that UTC day has the same signing key.
        let later = dec29() + Duration::from_secs(86_399);
        assert_eq!(
            signature_v4(AWS_V4_POLICY, SECRET, later, "us-east-1"),
            AWS_V4_SIGNATURE
        );
        assert_ne!(
            signature_v4(AWS_V4_POLICY, SECRET, dec29(), "us-west-2"),
            AWS_V4_SIGNATURE
        );
    }

    #[test]
    fn sigv2_known_answer_from_aws_post_example() {
        assert_eq!(signature_v2(AWS_V2_POLICY, AWS_V2_SECRET), AWS_V2_SIGNATURE);
        assert!(decode(AWS_V2_POLICY).contains("{\"bucket\": \"johnsmith\"}"));
    }

    #[test]
    fn builder_writes_the_document_of_aws_example() {
        // Same document as AWS's (whitespace apart), so the same conditions in the same order.
        let post = v4(&aws_example_policy(), &creds());
        let ours: Value = serde_json::from_str(&post.policy_document().unwrap()).unwrap();
        let theirs: Value = serde_json::from_str(&decode(AWS_V4_POLICY)).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(
            post.field("x-amz-credential"),
            Some("AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request")
        );
        assert_eq!(post.field("x-amz-date"), Some("20151229T000000Z"));
        assert_eq!(post.field("key"), Some("user/user1/${filename}"));
        // Our bytes differ from AWS's (no CRLF, no spaces): the signature is that of our bytes.
        let policy = post.field("policy").unwrap();
        assert_eq!(
            post.field("x-amz-signature"),
            Some(signature_v4(policy, SECRET, dec29(), "us-east-1").as_str())
        );
    }

    #[test]
    fn v4_fields_in_form_order_and_exact_document() {
        let policy = PostPolicy::new()
            .key("dir/a \"b\" é.txt")
            .content_type("text/plain")
            .content_length_range(1, 1024)
            .success_action_status(SuccessActionStatus::Created)
            .expires_in(Duration::from_secs(600));
        let post = v4(&policy, &creds());
        assert_eq!(post.url, "https://sigv4examplebucket.s3.amazonaws.com/");
        let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "Content-Type",
                "success_action_status",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "policy",
                "x-amz-signature"
            ]
        );
        assert_eq!(post.field("key"), Some("dir/a \"b\" é.txt"));
        assert_eq!(post.field("success_action_status"), Some("201"));
        assert_eq!(
            post.policy_document().unwrap(),
            "{\"expiration\":\"2015-12-29T00:10:00.000Z\",\"conditions\":[\
             {\"bucket\":\"sigv4examplebucket\"},{\"key\":\"dir/a \\\"b\\\" é.txt\"},\
             {\"Content-Type\":\"text/plain\"},[\"content-length-range\",1,1024],\
             {\"success_action_status\":\"201\"},\
             {\"x-amz-credential\":\"AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request\"},\
             {\"x-amz-algorithm\":\"AWS4-HMAC-SHA256\"},{\"x-amz-date\":\"20151229T000000Z\"}]}"
        );
        let sig = post.field("x-amz-signature").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(sig.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn session_token_is_a_field_and_a_condition_and_hidden_from_debug() {
        let c = creds().with_session_token("TOKEN/+=");
        let post = v4(&PostPolicy::new().key("k"), &c);
        assert_eq!(post.field("x-amz-security-token"), Some("TOKEN/+="));
        let doc = post.policy_document().unwrap();
        assert!(doc.contains("{\"x-amz-security-token\":\"TOKEN/+=\"}"), "{doc}");
        let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names[names.len() - 3..],
            ["x-amz-security-token", "policy", "x-amz-signature"]
        );
        let debug = format!("{post:?}");
        assert!(!debug.contains("TOKEN"), "{debug}");
        assert!(debug.contains("x-amz-signature"));
    }

    #[test]
    fn v2_fields() {
        let c = creds().with_session_token("T");
        let post = PostPolicy::new()
            .key_starts_with("up/")
            .acl("private")
            .expires_at(dec29())
            .sign(
                "https://b.s3.amazonaws.com/",
                "b",
                PostSigning::V2 { credentials: &c },
                dec29(),
            )
            .unwrap();
        let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "acl",
                "AWSAccessKeyId",
                "x-amz-security-token",
                "policy",
                "signature"
            ]
        );
        assert_eq!(post.field("key"), Some("up/${filename}"));
        assert_eq!(
            post.policy_document().unwrap(),
            "{\"expiration\":\"2015-12-29T00:00:00.000Z\",\"conditions\":[{\"bucket\":\"b\"},\
             [\"starts-with\",\"$key\",\"up/\"],{\"acl\":\"private\"},{\"x-amz-security-token\":\"T\"}]}"
        );
        let sig = post.field("signature").unwrap();
        assert_eq!(base64::engine::general_purpose::STANDARD.decode(sig).unwrap().len(), 20);
    }

    #[test]
    fn unsigned_forms_carry_no_policy() {
        let post = PostPolicy::new()
            .key("k")
            .content_type("text/plain")
            .sign("http://h/b/", "b", PostSigning::Unsigned, dec29())
            .unwrap();
        assert_eq!(
            post.fields,
            [
                ("key".to_owned(), "k".to_owned()),
                ("Content-Type".to_owned(), "text/plain".to_owned())
            ]
        );
        assert_eq!(post.policy_document(), None);
    }

    #[test]
    fn default_lifetime_is_an_hour() {
        let post = v4(&PostPolicy::new().key("k"), &creds());
        assert!(
            post.policy_document()
                .unwrap()
                .starts_with("{\"expiration\":\"2015-12-29T01:00:00.000Z\",")
        );
    }

    #[test]
    fn fixed_values_replace_and_conditions_accumulate() {
        let p = PostPolicy::new()
            .content_type("a/b")
            .exact("content-type", "c/d")
            .content_type_starts_with("c/")
            .content_length_range(0, 5)
            .content_length_range(1, 9)
            .starts_with("$x-amz-meta-a", "");
        assert_eq!(
            p.conditions(),
            [
                Condition::Eq {
                    field: "content-type".into(),
                    value: "c/d".into()
                },
                Condition::StartsWith {
                    field: "Content-Type".into(),
                    prefix: "c/".into()
                },
                Condition::ContentLengthRange { min: 1, max: 9 },
                Condition::StartsWith {
                    field: "x-amz-meta-a".into(),
                    prefix: "".into()
                },
            ]
        );
        assert!(p.constrains("CONTENT-TYPE"));
        assert!(p.constrains("$x-amz-meta-a"));
        assert!(!p.constrains("acl"));
    }

    fn sign_err(p: PostPolicy) -> Error {
        p.sign("u", "b", PostSigning::V2 { credentials: &creds() }, dec29())
            .unwrap_err()
    }

    #[test]
    fn invalid_policies_are_errors() {
        assert_eq!(sign_err(PostPolicy::new()).kind(), ErrorKind::InvalidKey);
        assert_eq!(sign_err(PostPolicy::new().key("")).kind(), ErrorKind::InvalidKey);
        assert_eq!(
            sign_err(PostPolicy::new().key("k".repeat(1025))).kind(),
            ErrorKind::InvalidKey
        );
        assert_eq!(
            sign_err(PostPolicy::new().key_starts_with("p".repeat(1024))).kind(),
            ErrorKind::InvalidKey
        );
        assert_eq!(
            sign_err(PostPolicy::new().key("k").content_length_range(10, 9)).kind(),
            ErrorKind::InvalidSetting
        );
        for reserved in ["Policy", "x-amz-signature", "KEY", "bucket", "AWSAccessKeyId", "file"] {
            let e = sign_err(PostPolicy::new().key("k").exact(reserved, "x"));
            assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{reserved}");
        }
        for bad in ["", "a b", "a\"b", "é", "a\nb"] {
            let e = sign_err(PostPolicy::new().key("k").starts_with(bad, ""));
            assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{bad:?}");
        }
        assert!(
            PostPolicy::new()
                .key_starts_with("")
                .sign("u", "b", PostSigning::Unsigned, dec29())
                .is_ok()
        );
    }

    #[test]
    fn object_parameters_fill_unconstrained_fields() {
        let params: ObjectParameters = r#"{"ACL": "public-read", "CacheControl": "max-age=60",
            "ContentType": "text/csv", "ContentLanguage": "fr", "StorageClass": "STANDARD_IA",
            "Metadata": {"Owner": "ana"}, "VersionId": "v1"}"#
            .parse()
            .unwrap();
        let p = PostPolicy::new()
            .key("k")
            .content_type_starts_with("text/")
            .acl("private")
            .with_parameters(&params)
            .unwrap();
        let post = p.sign("u", "b", PostSigning::Unsigned, dec29()).unwrap();
        assert_eq!(
            post.fields,
            [
                ("key", "k"),
                ("acl", "private"),
                ("Cache-Control", "max-age=60"),
                ("x-amz-storage-class", "STANDARD_IA"),
                ("x-amz-meta-owner", "ana"),
            ]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
        let ssec: ObjectParameters = r#"{"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k"}"#.parse().unwrap();
        assert_eq!(
            PostPolicy::new().with_parameters(&ssec).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
    }

    #[test]
    fn times_beyond_year_9999_are_refused() {
        // Found by the `policy` fuzz target: signing panicked in the time crate.
        let c = creds();
        let ten_thousand_years = Duration::from_secs(10_000 * 366 * 86_400);
        let v2 = PostSigning::V2 { credentials: &c };
        let v4 = PostSigning::V4 {
            credentials: &c,
            region: "us-east-1",
        };
        for signing in [v2, v4, PostSigning::Unsigned] {
            let far = PostPolicy::new().key("k").expires_in(ten_thousand_years);
            let e = far
                .sign("https://b.s3.amazonaws.com/", "b", signing, dec29())
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{e}");
            let past = PostPolicy::new()
                .key("k")
                .expires_at(SystemTime::UNIX_EPOCH - ten_thousand_years);
            let e = past
                .sign("https://b.s3.amazonaws.com/", "b", signing, dec29())
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{e}");
        }
        // A SigV4 signing time out of range; SigV2 does not write it.
        let late = SystemTime::UNIX_EPOCH + ten_thousand_years;
        let policy = PostPolicy::new().key("k").expires_at(dec29());
        let e = policy.sign("u", "b", v4, late).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{e}");
        assert!(policy.sign("u", "b", v2, late).is_ok());
        // The last second of year 9999 is still written.
        let last = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799);
        assert_eq!(format_expiration(last), "9999-12-31T23:59:59.000Z");
        let post = PostPolicy::new()
            .key("k")
            .expires_at(last)
            .sign("u", "b", v4, last)
            .unwrap();
        assert!(post.policy_document().unwrap().contains("9999-12-31T23:59:59.000Z"));
        assert_eq!(post.field("x-amz-date"), Some("99991231T235959Z"));
    }

    #[test]
    fn expiration_is_iso8601_to_the_second() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_704_164_645_999);
        assert_eq!(format_expiration(t), "2024-01-02T03:04:05.000Z");
        assert_eq!(amz_date(t), "20240102T030405Z");
    }
}
