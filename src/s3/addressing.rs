//! Where a request goes: (endpoint, region, bucket, key, style) to scheme, host and path.
//!
//! Keys are percent-encoded once, here, by S3's rule: every byte but the unreserved
//! characters (`A-Z a-z 0-9 - _ . ~`) and `/`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::config::{AddressingStyle, Endpoint, is_dns_compatible};
use crate::error::{Error, ErrorKind, Result};

/// Bytes escaped in a query component: everything but unreserved characters.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// Bytes escaped in a key: as in a query component, but `/` separates path segments.
const KEY: &AsciiSet = &QUERY.remove(b'/');

/// The longest key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// Percent-encodes an object key for a URL path: every byte but unreserved characters and
/// `/` (`dir/file name+é.txt` is `dir/file%20name%2B%C3%A9.txt`).
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY).to_string()
}

/// Percent-encodes a query parameter name or value (SigV4's rule; `/` and `+` escaped).
pub fn encode_query_component(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string()
}

/// Checks that a key can be sent: not empty, at most 1024 bytes.
pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::new(ErrorKind::InvalidKey, "an object key cannot be empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(Error::new(
            ErrorKind::InvalidKey,
            format!(
                "an object key is at most {MAX_KEY_LEN} bytes of UTF-8; this one has {}",
                key.len()
            ),
        ));
    }
    Ok(())
}

/// Which of S3's endpoints on AWS: the region's own, its dual-stack twin (IPv4 and IPv6), or
/// Transfer Acceleration's global one (optionally dual-stack).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AwsVariant {
    pub(crate) accelerate: bool,
    pub(crate) dualstack: bool,
}

/// The AWS endpoint of a region, as botocore names them.
pub(crate) fn aws_endpoint(region: &str, https: bool, variant: AwsVariant) -> Endpoint {
    let dualstack = if variant.dualstack { "dualstack." } else { "" };
    let host = match region {
        _ if variant.accelerate => format!("s3-accelerate.{dualstack}amazonaws.com"),
        "us-east-1" | "aws-global" if !variant.dualstack => "s3.amazonaws.com".to_owned(),
        "aws-global" => "s3.dualstack.us-east-1.amazonaws.com".to_owned(),
        r if r.starts_with("cn-") => format!("s3.{dualstack}{r}.amazonaws.com.cn"),
        r => format!("s3.{dualstack}{r}.amazonaws.com"),
    };
    Endpoint {
        https,
        host,
        port: None,
        path: String::new(),
    }
}

/// How requests of a client are addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressing {
    /// The endpoint requests go to.
    pub endpoint: Endpoint,
    /// Whether the endpoint is a custom one (`endpoint_url`) rather than AWS's.
    pub custom_endpoint: bool,
    /// The configured style.
    pub style: AddressingStyle,
}

/// Where one request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// `host[:port]`, the bucket included in virtual-hosted style.
    pub authority: String,
    /// Encoded path, the bucket included in path style.
    pub path: String,
    /// The bucket, when it is in the host name (SigV2 signs it as part of the resource).
    pub bucket_in_host: Option<String>,
}

impl Target {
    /// The full URL, with an encoded query (without `?` when empty).
    pub fn url(&self, query: &str) -> String {
        let mut url = String::with_capacity(self.authority.len() + self.path.len() + query.len() + 10);
        url.push_str(self.scheme);
        url.push_str("://");
        url.push_str(&self.authority);
        url.push_str(&self.path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        url
    }
}

impl Addressing {
    /// Requests to AWS in `region`.
    #[cfg_attr(not(feature = "fuzzing"), allow(dead_code))]
    pub fn aws(region: &str, https: bool, style: AddressingStyle) -> Self {
        Addressing {
            endpoint: aws_endpoint(region, https, AwsVariant::default()),
            custom_endpoint: false,
            style,
        }
    }

    /// Requests to a custom endpoint.
    pub fn custom(endpoint: Endpoint, style: AddressingStyle) -> Self {
        Addressing {
            endpoint,
            custom_endpoint: true,
            style,
        }
    }

    /// Whether `bucket` goes in the host name. Forced virtual style still falls back to
    /// path style where a host name cannot carry the bucket, as botocore does: IP
    /// endpoints, names that are not DNS labels, and dotted names (a dotted label breaks
    /// the `*.s3...` wildcard certificate, and botocore's DNS check refuses dots whatever
    /// the scheme). `auto` uses virtual style only on AWS, and not for dotted names over
    /// TLS.
    pub fn is_virtual(&self, bucket: &str) -> bool {
        if self.endpoint.is_ip() || !is_dns_compatible(bucket) {
            return false;
        }
        match self.style {
            AddressingStyle::Path => false,
            AddressingStyle::Virtual => !bucket.contains('.'),
            AddressingStyle::Auto => !(self.custom_endpoint || (self.endpoint.https && bucket.contains('.'))),
        }
    }

    /// The target of a request on `bucket` and, for object operations, `key` (unencoded).
    pub fn target(&self, bucket: &str, key: Option<&str>) -> Target {
        let ep = &self.endpoint;
        let virtual_host = self.is_virtual(bucket);
        let mut path = ep.path.clone();
        let authority = if virtual_host {
            let mut a = String::with_capacity(bucket.len() + ep.host.len() + 7);
            a.push_str(bucket);
            a.push('.');
            a.push_str(&ep.authority());
            a
        } else {
            path.push('/');
            path.push_str(bucket);
            ep.authority()
        };
        path.push('/');
        if let Some(key) = key {
            path.push_str(&encode_key(key));
        }
        Target {
            scheme: ep.scheme(),
            authority,
            path,
            bucket_in_host: virtual_host.then(|| bucket.to_owned()),
        }
    }
}

/// Encodes query parameters, in the order given; a `None` value gives a bare name
/// (`?uploads`).
pub fn encode_query(params: &[(&str, Option<&str>)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&encode_query_component(k));
        if let Some(v) = v {
            out.push('=');
            out.push_str(&encode_query_component(v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_encoded_once_every_byte_but_unreserved_and_slash() {
        assert_eq!(encode_key("dir/file name+é.txt"), "dir/file%20name%2B%C3%A9.txt");
        assert_eq!(encode_key("a//b~c?#%"), "a//b~c%3F%23%25");
    }

    use super::*;

    fn custom(url: &str, style: AddressingStyle) -> Addressing {
        Addressing::custom(url.parse().unwrap(), style)
    }

    #[test]
    fn keys_are_encoded_once_by_s3_rules() {
        let cases = [
            ("a b.txt", "a%20b.txt"),
            ("a#b.txt", "a%23b.txt"),
            ("a?b.txt", "a%3Fb.txt"),
            ("a%b.txt", "a%25b.txt"),
            ("ü.txt", "%C3%BC.txt"),
            ("a;b,c.txt", "a%3Bb%2Cc.txt"),
            ("a+b.txt", "a%2Bb.txt"),
            ("a&b=c.txt", "a%26b%3Dc.txt"),
            ("~a'b(c)!*.txt", "~a%27b%28c%29%21%2A.txt"),
            ("dir//x/", "dir//x/"),
            ("日本語", "%E6%97%A5%E6%9C%AC%E8%AA%9E"),
            ("emoji😀", "emoji%F0%9F%98%80"),
            ("tab\tnl\n", "tab%09nl%0A"),
        ];
        for (key, enc) in cases {
            assert_eq!(encode_key(key), enc, "{key}");
        }
    }

    #[test]
    fn aws_auto_style_is_virtual_for_dns_names() {
        let a = Addressing::aws("us-east-1", true, AddressingStyle::Auto);
        let t = a.target("bucket", Some("dir/file name+é.txt"));
        assert_eq!(
            t.url(""),
            "https://bucket.s3.amazonaws.com/dir/file%20name%2B%C3%A9.txt"
        );
        assert_eq!(t.bucket_in_host.as_deref(), Some("bucket"));
        // Dots over TLS, upper case and underscores fall back to path style.
        for b in ["my.bucket", "My_Bucket"] {
            assert_eq!(
                a.target(b, Some("x")).url(""),
                format!("https://s3.amazonaws.com/{b}/x")
            );
        }
        // Without TLS a dotted name can be virtual.
        let plain = Addressing::aws("us-east-1", false, AddressingStyle::Auto);
        assert_eq!(
            plain.target("my.bucket", Some("x")).url(""),
            "http://my.bucket.s3.amazonaws.com/x"
        );
    }

    #[test]
    fn regional_endpoints() {
        let a = Addressing::aws("eu-west-1", true, AddressingStyle::Path);
        assert_eq!(
            a.target("bucket", Some("x")).url(""),
            "https://s3.eu-west-1.amazonaws.com/bucket/x"
        );
        let v = Addressing::aws("eu-west-1", true, AddressingStyle::Auto);
        assert_eq!(
            v.target("bucket", Some("x")).url(""),
            "https://bucket.s3.eu-west-1.amazonaws.com/x"
        );
        let host =
            |region, accelerate, dualstack| aws_endpoint(region, true, AwsVariant { accelerate, dualstack }).host;
        assert_eq!(host("cn-north-1", false, false), "s3.cn-north-1.amazonaws.com.cn");
        assert_eq!(host("us-east-1", false, false), "s3.amazonaws.com");
        assert_eq!(host("us-east-1", false, true), "s3.dualstack.us-east-1.amazonaws.com");
        assert_eq!(host("aws-global", false, true), "s3.dualstack.us-east-1.amazonaws.com");
        assert_eq!(host("eu-west-3", false, true), "s3.dualstack.eu-west-3.amazonaws.com");
        assert_eq!(
            host("cn-north-1", false, true),
            "s3.dualstack.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(host("eu-west-3", true, false), "s3-accelerate.amazonaws.com");
        assert_eq!(host("eu-west-3", true, true), "s3-accelerate.dualstack.amazonaws.com");
    }

    #[test]
    fn custom_endpoints_default_to_path_style() {
        let a = custom("http://127.0.0.1:9000", AddressingStyle::Auto);
        assert_eq!(a.target("bucket", Some("k")).url(""), "http://127.0.0.1:9000/bucket/k");
        let r2 = custom("https://acct.r2.cloudflarestorage.com", AddressingStyle::Auto);
        assert_eq!(
            r2.target("bucket", Some("k")).url(""),
            "https://acct.r2.cloudflarestorage.com/bucket/k"
        );
        assert_eq!(
            r2.target("bucket", None).url("list-type=2"),
            "https://acct.r2.cloudflarestorage.com/bucket/?list-type=2"
        );
    }

    #[test]
    fn virtual_style_on_custom_endpoints_but_never_on_ip_literals() {
        let v = custom("http://minio:9000", AddressingStyle::Virtual);
        assert_eq!(v.target("bucket", Some("k")).url(""), "http://bucket.minio:9000/k");
        assert_eq!(v.target("bucket", None).url(""), "http://bucket.minio:9000/");
        let ip = custom("http://127.0.0.1:9000", AddressingStyle::Virtual);
        assert_eq!(ip.target("bucket", Some("k")).url(""), "http://127.0.0.1:9000/bucket/k");
        let v6 = custom("http://[::1]:9000", AddressingStyle::Virtual);
        assert_eq!(v6.target("bucket", Some("k")).url(""), "http://[::1]:9000/bucket/k");
        // A bucket name that is not a DNS label stays in the path.
        assert_eq!(v.target("Bucket_1", Some("k")).url(""), "http://minio:9000/Bucket_1/k");
    }

    #[test]
    fn endpoint_path_prefix_is_kept() {
        let a = custom("https://gw.example.com:8443/s3/", AddressingStyle::Path);
        assert_eq!(
            a.target("b", Some("k/x")).url(""),
            "https://gw.example.com:8443/s3/b/k/x"
        );
        let v = custom("https://gw.example.com/s3", AddressingStyle::Virtual);
        assert_eq!(v.target("b-1", Some("k")).url(""), "https://b-1.gw.example.com/s3/k");
    }

    #[test]
    fn keys_are_checked_before_sending() {
        assert_eq!(check_key("").unwrap_err().kind(), ErrorKind::InvalidKey);
        assert!(check_key(&"a".repeat(1024)).is_ok());
        assert_eq!(check_key(&"a".repeat(1025)).unwrap_err().kind(), ErrorKind::InvalidKey);
        // 342 three-byte characters are 1026 bytes.
        assert!(check_key(&"語".repeat(342)).is_err());
    }

    #[test]
    fn query_encoding() {
        assert_eq!(
            encode_query(&[("list-type", Some("2")), ("prefix", Some("a b/+")), ("uploads", None)]),
            "list-type=2&prefix=a%20b%2F%2B&uploads"
        );
    }
}
