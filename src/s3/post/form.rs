//! Signing a policy into a form: the policy document, its SigV4 or SigV2 signature, the
//! form's fields, and the client's [`presigned_post`](Client::presigned_post).

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;

use super::{Condition, DEFAULT_EXPIRES, Expiration, FILENAME_VARIABLE, KeyCondition, PostPolicy, eq_json, same_field};
use crate::config::SignatureVersion;
use crate::credentials::Credentials;
use crate::error::{Error, ErrorKind, Result};
use crate::s3::Client;

/// The SigV4 algorithm of the `x-amz-algorithm` field.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

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

impl PostPolicy {
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
pub(super) fn amz_date(time: SystemTime) -> String {
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
#[non_exhaustive]
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
