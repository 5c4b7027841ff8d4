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
//!
//! The policy and its conditions are here; signing them into a form (the policy document, its
//! signatures, [`PresignedPost`] and [`Client::presigned_post`]) in `form`.
//!
//! [`Client::presigned_post`]: crate::s3::Client::presigned_post

mod form;
#[cfg(test)]
mod tests;

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::config::ObjectParameters;
use crate::error::{Error, ErrorKind, Result};
use crate::s3::addressing::{MAX_KEY_LEN, check_key};

// One module to its users (the fuzz targets reach the signatures as `post::signature_v4`, ...);
// `form` is only where signing is written.
pub use form::*;

/// The variable S3 replaces, in the `key` field, with the name of the uploaded file.
pub const FILENAME_VARIABLE: &str = "${filename}";

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
    pub(crate) fn constrains(&self, field: &str) -> bool {
        let field = field.strip_prefix('$').unwrap_or(field);
        self.conditions
            .iter()
            .any(|c| c.field().is_some_and(|f| same_field(f, field)))
    }

    /// The key condition, if set.
    pub(crate) fn key_condition(&self) -> Option<&KeyCondition> {
        self.key.as_ref()
    }

    /// The expiration, if set.
    #[cfg_attr(not(feature = "storage"), allow(dead_code))]
    pub(crate) fn expiration(&self) -> Option<Expiration> {
        self.expiration
    }

    /// The fixed signing time, if set.
    pub(crate) fn signing_time(&self) -> Option<SystemTime> {
        self.signed_at
    }

    /// The conditions beyond bucket and key, in the order given.
    #[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
    pub(crate) fn conditions(&self) -> &[Condition] {
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
