//! Legacy AWS Signature Version 2 (`signature_version = "s3"`): HMAC-SHA1 over the
//! method, content MD5 and type, date, `x-amz-*` headers and the resource, as S3's
//! "Signing and Authenticating REST Requests" describes.

use std::time::SystemTime;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderValue, Method, Uri};
use percent_encoding::percent_decode_str;

use crate::credentials::Credentials;
use crate::error::{Error, ErrorKind, Result};

/// Query parameters that are part of the signed resource (sub-resources and response
/// overrides); every other parameter is left out of the signature.
const SIGNED_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// The resource S3 signs: `/bucket` (when the bucket is in the host name) + the path as
/// sent + the signed sub-resources, sorted, with decoded values.
fn canonical_resource(uri: &Uri, bucket_in_host: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(b) = bucket_in_host {
        out.push('/');
        out.push_str(b);
    }
    out.push_str(uri.path());
    if let Some(q) = uri.query() {
        let mut subs: Vec<(String, Option<String>)> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| {
                let (k, v) = match p.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (p, None),
                };
                SIGNED_SUBRESOURCES.contains(&k).then(|| {
                    (
                        k.to_owned(),
                        v.map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned()),
                    )
                })
            })
            .collect();
        subs.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, (k, v)) in subs.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(k);
            if let Some(v) = v {
                out.push('=');
                out.push_str(v);
            }
        }
    }
    out
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The string SigV2 signs. `date` is the `Date` header for header signing, or the
/// `Expires` time (seconds) for presigned URLs.
pub fn string_to_sign_v2(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    date: &str,
    bucket_in_host: Option<&str>,
) -> Result<String> {
    let mut amz: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let name = name.as_str();
        if name.starts_with("x-amz-") {
            let value = value.to_str().map_err(|_| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("header {name} is not visible ASCII"),
                )
            })?;
            match amz.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => {
                    v.push(',');
                    v.push_str(value.trim());
                }
                None => amz.push((name.to_owned(), value.trim().to_owned())),
            }
        }
    }
    amz.sort();
    let mut s = format!(
        "{}\n{}\n{}\n{}\n",
        method.as_str(),
        header(headers, "content-md5"),
        header(headers, "content-type"),
        date
    );
    for (n, v) in amz {
        s.push_str(&n);
        s.push(':');
        s.push_str(&v);
        s.push('\n');
    }
    s.push_str(&canonical_resource(uri, bucket_in_host));
    Ok(s)
}

fn hmac_sha1_base64(secret: &str, data: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs a request in its headers: sets `Date` (when absent), `x-amz-security-token`
/// for temporary credentials, and `Authorization: AWS <key>:<signature>`.
pub fn sign_v2(
    method: &Method,
    uri: &Uri,
    headers: &mut HeaderMap,
    creds: &Credentials,
    time: SystemTime,
    bucket_in_host: Option<&str>,
) -> Result<()> {
    if !headers.contains_key("date") {
        let date = httpdate::fmt_http_date(time);
        headers.insert("date", HeaderValue::from_str(&date).expect("HTTP dates are ASCII"));
    }
    if let Some(token) = creds.session_token() {
        let mut v = HeaderValue::from_str(token.expose())
            .map_err(|_| Error::new(ErrorKind::InvalidSetting, "session token is not a valid header value"))?;
        v.set_sensitive(true);
        headers.insert("x-amz-security-token", v);
    }
    let date = header(headers, "date").to_owned();
    let sts = string_to_sign_v2(method, uri, headers, &date, bucket_in_host)?;
    let signature = hmac_sha1_base64(creds.secret_key().expose(), &sts);
    let mut auth = HeaderValue::from_str(&format!("AWS {}:{signature}", creds.access_key()))
        .map_err(|_| Error::new(ErrorKind::InvalidSetting, "access key is not a valid header value"))?;
    auth.set_sensitive(true);
    headers.insert("authorization", auth);
    Ok(())
}

/// A presigned SigV2 URL: `AWSAccessKeyId`, `Signature` and `Expires` (a Unix time)
/// appended to the query of `uri`.
pub fn presign_v2(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    creds: &Credentials,
    expires_at: u64,
    bucket_in_host: Option<&str>,
) -> Result<String> {
    let mut headers = headers.clone();
    if let Some(token) = creds.session_token() {
        headers.insert(
            "x-amz-security-token",
            HeaderValue::from_str(token.expose())
                .map_err(|_| Error::new(ErrorKind::InvalidSetting, "session token is not a valid header value"))?,
        );
    }
    let sts = string_to_sign_v2(method, uri, &headers, &expires_at.to_string(), bucket_in_host)?;
    let signature = hmac_sha1_base64(creds.secret_key().expose(), &sts);
    let enc = crate::s3::addressing::encode_query_component;
    let mut url = uri.to_string();
    url.push(if uri.query().is_some() { '&' } else { '?' });
    // botocore's order: the key, the signature, the signed x-amz-* headers (the token),
    // then `Expires`.
    url.push_str(&format!(
        "AWSAccessKeyId={}&Signature={}",
        enc(creds.access_key()),
        enc(&signature)
    ));
    if let Some(token) = creds.session_token() {
        url.push_str(&format!("&x-amz-security-token={}", enc(token.expose())));
    }
    url.push_str(&format!("&Expires={expires_at}"));
    Ok(url)
}

#[cfg(test)]
mod tests {
    //! Known answers from S3's SigV2 documentation ("Signing and Authenticating REST
    //! Requests"): bucket awsexamplebucket1, AKIAIOSFODNN7EXAMPLE.

    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn creds() -> Credentials {
        Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET)
    }

    fn signed(method: Method, url: &str, headers: &[(&str, &str)], bucket_in_host: Option<&str>) -> (String, String) {
        let uri: Uri = url.parse().unwrap();
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let date = header(&h, "date").to_owned();
        let sts = string_to_sign_v2(&method, &uri, &h, &date, bucket_in_host).unwrap();
        sign_v2(&method, &uri, &mut h, &creds(), SystemTime::now(), bucket_in_host).unwrap();
        (sts, h["authorization"].to_str().unwrap().to_owned())
    }

    #[test]
    fn object_get() {
        let (sts, auth) = signed(
            Method::GET,
            "https://awsexamplebucket1.s3.amazonaws.com/photos/puppy.jpg",
            &[("date", "Tue, 27 Mar 2007 19:36:42 +0000")],
            Some("awsexamplebucket1"),
        );
        assert_eq!(
            sts,
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"
        );
        assert_eq!(auth, "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    }

    #[test]
    fn object_put() {
        let (sts, auth) = signed(
            Method::PUT,
            "https://awsexamplebucket1.s3.amazonaws.com/photos/puppy.jpg",
            &[
                ("content-type", "image/jpeg"),
                ("content-length", "94328"),
                ("date", "Tue, 27 Mar 2007 21:15:45 +0000"),
            ],
            Some("awsexamplebucket1"),
        );
        assert_eq!(
            sts,
            "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg"
        );
        assert_eq!(auth, "AWS AKIAIOSFODNN7EXAMPLE:iqRzw+ileNPu1fhspnRs8nOjjIA=");
    }

    #[test]
    fn list_with_unsigned_query_parameters() {
        let (sts, auth) = signed(
            Method::GET,
            "https://awsexamplebucket1.s3.amazonaws.com/?prefix=photos&max-keys=50&marker=puppy",
            &[("date", "Tue, 27 Mar 2007 19:42:41 +0000")],
            Some("awsexamplebucket1"),
        );
        assert_eq!(sts, "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/");
        assert_eq!(auth, "AWS AKIAIOSFODNN7EXAMPLE:m0WP8eCtspQl5Ahe6L1SozdX9YA=");
    }

    #[test]
    fn fetch_acl_subresource() {
        let (sts, auth) = signed(
            Method::GET,
            "https://awsexamplebucket1.s3.amazonaws.com/?acl",
            &[("date", "Tue, 27 Mar 2007 19:44:46 +0000")],
            Some("awsexamplebucket1"),
        );
        assert_eq!(sts, "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl");
        assert_eq!(auth, "AWS AKIAIOSFODNN7EXAMPLE:82ZHiFIjc+WbcwFKGUVEQspPn+0=");
    }

    #[test]
    fn delete_with_x_amz_date_in_path_style() {
        let (sts, auth) = signed(
            Method::DELETE,
            "https://s3.amazonaws.com/awsexamplebucket1/photos/puppy.jpg",
            &[
                ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
                ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
            ],
            None,
        );
        assert_eq!(
            sts,
            "DELETE\n\n\nTue, 27 Mar 2007 21:20:27 +0000\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg"
        );
        assert!(auth.starts_with("AWS AKIAIOSFODNN7EXAMPLE:"));
    }

    #[test]
    fn upload_with_amz_headers() {
        let (sts, auth) = signed(
            Method::PUT,
            "https://static.example.com:8080/db-backup.dat.gz",
            &[
                ("user-agent", "curl/7.15.5"),
                ("date", "Tue, 27 Mar 2007 21:06:08 +0000"),
                ("x-amz-acl", "public-read"),
                ("content-type", "application/x-download"),
                ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
                ("x-amz-meta-reviewedby", "joe@johnsmith.net"),
                ("x-amz-meta-reviewedby", "jane@johnsmith.net"),
                ("x-amz-meta-filechecksum", "0x02661779"),
                ("x-amz-meta-checksumalgorithm", "crc32"),
                ("content-disposition", "attachment; filename=database.dat"),
                ("content-encoding", "gzip"),
                ("content-length", "5913339"),
            ],
            Some("static.example.com"),
        );
        assert_eq!(
            sts,
            "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n\
             x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n\
             x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.example.com/db-backup.dat.gz"
        );
        // The documented string to sign is the known answer here; the HMAC step is proven
        // by the other examples.
        assert!(auth.starts_with("AWS AKIAIOSFODNN7EXAMPLE:"));
    }

    #[test]
    fn presigned_query_string_authentication() {
        // The older edition of the guide, whose bucket is johnsmith.
        let uri: Uri = "https://johnsmith.s3.amazonaws.com/photos/puppy.jpg".parse().unwrap();
        let url = presign_v2(
            &Method::GET,
            &uri,
            &HeaderMap::new(),
            &creds(),
            1_175_139_620,
            Some("johnsmith"),
        )
        .unwrap();
        assert_eq!(
            url,
            "https://johnsmith.s3.amazonaws.com/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE\
             &Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
        );
    }

    #[test]
    fn response_overrides_are_signed_decoded_and_sorted() {
        let uri: Uri = "https://s3.amazonaws.com/b/k?response-content-type=text%2Fplain&versionId=v1&x-id=GetObject"
            .parse()
            .unwrap();
        let sts = string_to_sign_v2(&Method::GET, &uri, &HeaderMap::new(), "1", None).unwrap();
        assert!(
            sts.ends_with("\n/b/k?response-content-type=text/plain&versionId=v1"),
            "{sts}"
        );
    }
}
