//! Object parameters in boto3's naming, and the table of the headers they become.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::setting_value::{SettingValue, json_object, json_string};
use super::values::ChecksumAlgorithm;

/// Where an object parameter goes: on uploads, on reads (HEAD/GET), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamUse {
    /// Sent with PutObject and CreateMultipartUpload.
    Write,
    /// Sent with HeadObject and GetObject (and with uploads where S3 wants it too).
    Read,
    /// Sent with both.
    Both,
}

/// Every object parameter the crate knows: boto3's name, the HTTP header it becomes, and
/// where it is sent. `Metadata` (a map, `x-amz-meta-*`) and `VersionId` (a query
/// parameter on reads) are handled apart.
pub const OBJECT_PARAMETERS: &[(&str, &str, ParamUse)] = &[
    ("ACL", "x-amz-acl", ParamUse::Write),
    (
        "BucketKeyEnabled",
        "x-amz-server-side-encryption-bucket-key-enabled",
        ParamUse::Write,
    ),
    ("CacheControl", "cache-control", ParamUse::Write),
    // The checksum an upload carries: computed by the client, so no header of its own.
    ("ChecksumAlgorithm", "", ParamUse::Write),
    ("ChecksumMode", "x-amz-checksum-mode", ParamUse::Read),
    ("ContentDisposition", "content-disposition", ParamUse::Write),
    ("ContentEncoding", "content-encoding", ParamUse::Write),
    ("ContentLanguage", "content-language", ParamUse::Write),
    ("ContentType", "content-type", ParamUse::Write),
    ("ExpectedBucketOwner", "x-amz-expected-bucket-owner", ParamUse::Both),
    ("Expires", "expires", ParamUse::Write),
    ("GrantFullControl", "x-amz-grant-full-control", ParamUse::Write),
    ("GrantRead", "x-amz-grant-read", ParamUse::Write),
    ("GrantReadACP", "x-amz-grant-read-acp", ParamUse::Write),
    ("GrantWriteACP", "x-amz-grant-write-acp", ParamUse::Write),
    (
        "ObjectLockLegalHoldStatus",
        "x-amz-object-lock-legal-hold",
        ParamUse::Write,
    ),
    ("ObjectLockMode", "x-amz-object-lock-mode", ParamUse::Write),
    (
        "ObjectLockRetainUntilDate",
        "x-amz-object-lock-retain-until-date",
        ParamUse::Write,
    ),
    ("RequestPayer", "x-amz-request-payer", ParamUse::Both),
    (
        "SSECustomerAlgorithm",
        "x-amz-server-side-encryption-customer-algorithm",
        ParamUse::Both,
    ),
    (
        "SSECustomerKey",
        "x-amz-server-side-encryption-customer-key",
        ParamUse::Both,
    ),
    (
        "SSECustomerKeyMD5",
        "x-amz-server-side-encryption-customer-key-md5",
        ParamUse::Both,
    ),
    (
        "SSEKMSEncryptionContext",
        "x-amz-server-side-encryption-context",
        ParamUse::Write,
    ),
    (
        "SSEKMSKeyId",
        "x-amz-server-side-encryption-aws-kms-key-id",
        ParamUse::Write,
    ),
    ("ServerSideEncryption", "x-amz-server-side-encryption", ParamUse::Write),
    ("StorageClass", "x-amz-storage-class", ParamUse::Write),
    ("Tagging", "x-amz-tagging", ParamUse::Write),
    ("VersionId", "", ParamUse::Read),
    (
        "WebsiteRedirectLocation",
        "x-amz-website-redirect-location",
        ParamUse::Write,
    ),
];

fn param_name(name: &str) -> Option<&'static str> {
    OBJECT_PARAMETERS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, _)| *n)
}

/// Upload and download parameters in boto3's naming (`object_parameters`,
/// `AWS_S3_OBJECT_PARAMETERS`): `CacheControl`, `ContentType`, `ACL`, `Metadata`, SSE, ...
///
/// ```
/// use storages_s3::config::ObjectParameters;
///
/// let p: ObjectParameters =
///     r#"{"CacheControl": "max-age=86400", "Metadata": {"owner": "ana"}}"#.parse().unwrap();
/// assert_eq!(p.get("CacheControl"), Some("max-age=86400"));
/// assert_eq!(p.metadata().get("owner").map(String::as_str), Some("ana"));
/// assert!("{\"CacheControll\": \"x\"}".parse::<ObjectParameters>().is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ObjectParameters {
    values: BTreeMap<&'static str, String>,
    metadata: BTreeMap<String, String>,
}

impl ObjectParameters {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of a parameter, by boto3 name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether a parameter is present (`Metadata` counts when non-empty).
    pub fn contains(&self, name: &str) -> bool {
        if name == "Metadata" {
            return !self.metadata.is_empty();
        }
        self.values.contains_key(name)
    }

    /// Sets a parameter by boto3 name; unknown names are refused, and so is a
    /// `ChecksumAlgorithm` that names no algorithm.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> Result<&mut Self, String> {
        let known = param_name(name).ok_or_else(|| format!("unknown object parameter `{name}`"))?;
        let value = value.into();
        if known == "ChecksumAlgorithm" {
            value
                .parse::<ChecksumAlgorithm>()
                .map_err(|why| format!("ChecksumAlgorithm: {why}"))?;
        }
        self.values.insert(known, value);
        Ok(self)
    }

    /// `ChecksumAlgorithm`: the checksum an upload carries instead of the client's own.
    pub fn checksum_algorithm(&self) -> Option<ChecksumAlgorithm> {
        self.get("ChecksumAlgorithm").and_then(|v| v.parse().ok())
    }

    /// Removes a parameter, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        if name == "Metadata" {
            self.metadata.clear();
            return None;
        }
        self.values.remove(name)
    }

    /// User metadata (`x-amz-meta-*`).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// User metadata, to change.
    pub fn metadata_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.metadata
    }

    /// The parameters, by boto3 name, in name order (`Metadata` apart).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Only the parameters that also belong on reads (HEAD/GET), as the original filters
    /// them: SSE-C, checksum mode, version, requester-pays, expected owner.
    pub fn read_parameters(&self) -> ObjectParameters {
        let values = self
            .values
            .iter()
            .filter(|(k, _)| {
                OBJECT_PARAMETERS
                    .iter()
                    .any(|(n, _, u)| n == *k && matches!(u, ParamUse::Read | ParamUse::Both))
            })
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        ObjectParameters {
            values,
            metadata: BTreeMap::new(),
        }
    }

    /// True when there are no parameters at all.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.metadata.is_empty()
    }
}

impl fmt::Debug for ObjectParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.values {
            if *k == "SSECustomerKey" {
                m.entry(k, &"***");
            } else {
                m.entry(k, v);
            }
        }
        if !self.metadata.is_empty() {
            m.entry(&"Metadata", &self.metadata);
        }
        m.finish()
    }
}

impl FromStr for ObjectParameters {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let mut out = ObjectParameters::new();
        for (k, v) in json_object(raw)? {
            if k == "Metadata" {
                let Value::Object(meta) = v else {
                    return Err("`Metadata` must be a JSON object".into());
                };
                for (mk, mv) in meta {
                    let s = json_string(&mk, &mv)?;
                    out.metadata.insert(mk, s);
                }
                continue;
            }
            let s = json_string(&k, &v)?;
            out.set(&k, s)?;
        }
        Ok(out)
    }
}

impl SettingValue for ObjectParameters {
    const KIND: &'static str = "JSON object of boto3 upload parameters";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        raw.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn object_parameters_hide_sse_c_keys() {
        let p: ObjectParameters =
            r#"{"SSECustomerKey": "0123456789abcdef0123456789abcdef", "SSECustomerAlgorithm": "AES256"}"#
                .parse()
                .unwrap();
        assert!(!format!("{p:?}").contains("0123456789"));
        let r = p.read_parameters();
        assert!(r.contains("SSECustomerKey"));
        let w: ObjectParameters = r#"{"CacheControl": "no-cache", "VersionId": "v1"}"#.parse().unwrap();
        assert!(!w.read_parameters().contains("CacheControl"));
        assert!(w.read_parameters().contains("VersionId"));
        assert!("[1]".parse::<ObjectParameters>().is_err());
        assert!(r#"{"Metadata": "x"}"#.parse::<ObjectParameters>().is_err());
    }
}
