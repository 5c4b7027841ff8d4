//! AWS Signature Version 4, computed by the `aws-sigv4` crate with S3's settings: keys
//! are encoded once and paths are not normalised (S3 keys may contain `//` and `..`).

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use super::PayloadHash;
use crate::credentials::Credentials;
use crate::error::{Error, ErrorKind, Result};

fn identity(creds: &Credentials) -> Identity {
    aws_credential_types::Credentials::new(
        creds.access_key(),
        creds.secret_key().expose(),
        creds.session_token().map(|t| t.expose().to_owned()),
        creds.expiry(),
        "storages-s3",
    )
    .into()
}

fn settings(location: SignatureLocation) -> SigningSettings {
    let mut s = SigningSettings::default();
    s.percent_encoding_mode = PercentEncodingMode::Single;
    s.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    s.signature_location = location;
    s.payload_checksum_kind = match location {
        SignatureLocation::Headers => PayloadChecksumKind::XAmzSha256,
        _ => PayloadChecksumKind::NoHeader,
    };
    s
}

fn header_pairs(headers: &HeaderMap) -> Result<Vec<(&str, &str)>> {
    headers
        .iter()
        .map(|(k, v)| {
            let v = v.to_str().map_err(|_| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("header {k} is not visible ASCII and cannot be signed"),
                )
            })?;
            Ok((k.as_str(), v))
        })
        .collect()
}

fn signing_error(e: impl Into<crate::error::BoxError>) -> Error {
    Error::new(ErrorKind::InvalidSetting, "request could not be signed").with_source(e)
}

/// Signs a request in its headers: adds `x-amz-date`, `x-amz-content-sha256`,
/// `x-amz-security-token` (temporary credentials) and `authorization`. Every header
/// present is signed, `x-amz-*` ones included.
pub fn sign_v4(
    method: &Method,
    uri: &Uri,
    headers: &mut HeaderMap,
    creds: &Credentials,
    region: &str,
    time: SystemTime,
    payload: &PayloadHash,
) -> Result<()> {
    let identity = identity(creds);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings(SignatureLocation::Headers))
        .build()
        .map_err(signing_error)?
        .into();
    let uri_string = uri.to_string();
    let body = match payload {
        PayloadHash::Sha256(h) => SignableBody::Precomputed(h.clone()),
        PayloadHash::Unsigned => SignableBody::UnsignedPayload,
    };
    let pairs = header_pairs(headers)?;
    let signable =
        SignableRequest::new(method.as_str(), &uri_string, pairs.into_iter(), body).map_err(signing_error)?;
    let (instructions, _signature) = sign(signable, &params).map_err(signing_error)?.into_parts();
    let (new_headers, _) = instructions.into_parts();
    for h in new_headers {
        let mut value = HeaderValue::from_str(h.value()).map_err(signing_error)?;
        value.set_sensitive(h.sensitive());
        headers.insert(HeaderName::from_static(h.name()), value);
    }
    Ok(())
}

/// A presigned URL: the query of `uri` plus `X-Amz-*` parameters, valid for `expires`.
/// `headers` are the headers the user of the URL will send and must sign (at least
/// `host`; SSE-C headers when used).
pub fn presign_v4(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    creds: &Credentials,
    region: &str,
    time: SystemTime,
    expires: Duration,
) -> Result<String> {
    let identity = identity(creds);
    let mut s = settings(SignatureLocation::QueryParams);
    s.expires_in = Some(expires);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(s)
        .build()
        .map_err(signing_error)?
        .into();
    let uri_string = uri.to_string();
    let pairs = header_pairs(headers)?;
    let signable = SignableRequest::new(
        method.as_str(),
        &uri_string,
        pairs.into_iter(),
        SignableBody::UnsignedPayload,
    )
    .map_err(signing_error)?;
    let (instructions, _signature) = sign(signable, &params).map_err(signing_error)?.into_parts();
    let (_, mut query) = instructions.into_parts();
    // The signature last, as boto writes it (after X-Amz-Security-Token).
    query.sort_by_key(|(name, _)| *name == "X-Amz-Signature");
    let mut url = uri_string;
    let mut sep = if uri.query().is_some() { '&' } else { '?' };
    for (name, value) in query {
        url.push(sep);
        sep = '&';
        url.push_str(name);
        url.push('=');
        url.push_str(&crate::s3::addressing::encode_query_component(&value));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    //! Known answers from AWS's "Signature Calculations for the Authorization Header" and
    //! "Query String Authentication" examples for S3 (examplebucket, us-east-1,
    //! 20130524T000000Z, AKIAIOSFODNN7EXAMPLE).

    use super::*;
    use crate::s3::sign::{EMPTY_SHA256, PayloadHash};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn creds() -> Credentials {
        Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET)
    }

    fn time() -> SystemTime {
        // Fri, 24 May 2013 00:00:00 GMT
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600)
    }

    fn signature(headers: &HeaderMap) -> String {
        let auth = headers["authorization"].to_str().unwrap();
        auth.rsplit_once("Signature=").unwrap().1.to_owned()
    }

    #[test]
    fn get_object_with_range() {
        let uri: Uri = "https://examplebucket.s3.amazonaws.com/test.txt".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        h.insert("range", "bytes=0-9".parse().unwrap());
        sign_v4(
            &Method::GET,
            &uri,
            &mut h,
            &creds(),
            "us-east-1",
            time(),
            &PayloadHash::Sha256(EMPTY_SHA256.into()),
        )
        .unwrap();
        assert_eq!(
            signature(&h),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        let auth = h["authorization"].to_str().unwrap();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        ));
        assert_eq!(h["x-amz-date"], "20130524T000000Z");
        assert_eq!(h["x-amz-content-sha256"], EMPTY_SHA256);
    }

    #[test]
    fn put_object() {
        let uri: Uri = "https://examplebucket.s3.amazonaws.com/test%24file.text"
            .parse()
            .unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        h.insert("date", "Fri, 24 May 2013 00:00:00 GMT".parse().unwrap());
        h.insert("x-amz-storage-class", "REDUCED_REDUNDANCY".parse().unwrap());
        let payload = PayloadHash::of(b"Welcome to Amazon S3.");
        sign_v4(&Method::PUT, &uri, &mut h, &creds(), "us-east-1", time(), &payload).unwrap();
        assert_eq!(
            signature(&h),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    #[test]
    fn get_bucket_lifecycle() {
        let uri: Uri = "https://examplebucket.s3.amazonaws.com/?lifecycle".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        sign_v4(
            &Method::GET,
            &uri,
            &mut h,
            &creds(),
            "us-east-1",
            time(),
            &PayloadHash::of(b""),
        )
        .unwrap();
        assert_eq!(
            signature(&h),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        );
    }

    #[test]
    fn list_objects() {
        let uri: Uri = "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J"
            .parse()
            .unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        sign_v4(
            &Method::GET,
            &uri,
            &mut h,
            &creds(),
            "us-east-1",
            time(),
            &PayloadHash::of(b""),
        )
        .unwrap();
        assert_eq!(
            signature(&h),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    #[test]
    fn presigned_get() {
        let uri: Uri = "https://examplebucket.s3.amazonaws.com/test.txt".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        let url = presign_v4(
            &Method::GET,
            &uri,
            &h,
            &creds(),
            "us-east-1",
            time(),
            Duration::from_secs(86400),
        )
        .unwrap();
        assert_eq!(
            url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn session_token_is_signed_and_sent() {
        let uri: Uri = "https://examplebucket.s3.amazonaws.com/test.txt".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        let c = creds().with_session_token("TOKEN/+=");
        sign_v4(
            &Method::GET,
            &uri,
            &mut h,
            &c,
            "us-east-1",
            time(),
            &PayloadHash::Unsigned,
        )
        .unwrap();
        assert_eq!(h["x-amz-security-token"], "TOKEN/+=");
        assert_eq!(h["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        assert!(h["authorization"].to_str().unwrap().contains("x-amz-security-token"));
        assert!(h["x-amz-security-token"].is_sensitive());
    }

    #[test]
    fn non_ascii_header_is_an_error_not_a_panic() {
        let uri: Uri = "https://b.s3.amazonaws.com/k".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("host", "b.s3.amazonaws.com".parse().unwrap());
        h.insert("x-amz-meta-x", HeaderValue::from_bytes("é".as_bytes()).unwrap());
        let e = sign_v4(
            &Method::PUT,
            &uri,
            &mut h,
            &creds(),
            "us-east-1",
            time(),
            &PayloadHash::of(b""),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
}
