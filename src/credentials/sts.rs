//! AWS STS: `AssumeRole` (SigV4-signed with the source credentials, service `sts`) and
//! `AssumeRoleWithWebIdentity` (unsigned), as query-protocol POST requests, and their XML
//! replies.
//!
//! Building a request and parsing a reply are pure functions; [`call`] sends one. The XML
//! reader is small and strict in the ways that matter for hostile input: it never panics,
//! elements nest at most [`MAX_DEPTH`] deep (a loop, no recursion), only the predefined
//! entities and character references are expanded, DOCTYPEs are ignored (so no entity is ever
//! declared), and a field that occurs twice is an error.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use quick_xml::Reader;
use quick_xml::events::Event;

use super::util::{check_region, fetch, parse_timestamp, timed_out};
use super::{Credentials, util};
use crate::error::{Error, ErrorKind, Result, ServiceError};
use crate::http::{Body, HttpClient};

/// The deepest nesting an STS reply may have (they need 4).
pub(crate) const MAX_DEPTH: usize = 16;

/// The API version every STS request names.
const VERSION: &str = "2011-06-15";

/// Characters escaped in `application/x-www-form-urlencoded` values: all but unreserved.
const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Where STS requests go, and the region they are signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StsEndpoint {
    /// Scheme and authority (and optional path), without a trailing `/`.
    pub url: String,
    /// The signing region.
    pub region: String,
}

/// The endpoint for `region` (`None`: the global endpoint), `sts_regional_endpoints` =
/// `regional` (the default) or `legacy` (the global endpoint, `us-east-1`), or an override
/// (a local STS in tests, `AWS_ENDPOINT_URL_STS`), which is signed for `region` or
/// `us-east-1`.
pub(crate) fn endpoint(override_url: Option<&str>, region: Option<&str>, mode: Option<&str>) -> Result<StsEndpoint> {
    if let Some(region) = region {
        check_region(region, "the profile or AWS_REGION")?;
    }
    let legacy = match mode.map(|m| m.trim().to_ascii_lowercase()).as_deref() {
        None | Some("regional") => false,
        Some("legacy") => true,
        Some(_) => {
            return Err(Error::new(
                ErrorKind::InvalidSetting,
                "sts_regional_endpoints must be `regional` or `legacy`",
            ));
        }
    };
    let signing_region = region.unwrap_or("us-east-1").to_owned();
    if let Some(url) = override_url {
        let url = url.trim().trim_end_matches('/');
        let parsed: Uri = url
            .parse()
            .map_err(|_| Error::new(ErrorKind::InvalidSetting, "the STS endpoint is not a URL"))?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.authority().is_none() {
            return Err(Error::new(
                ErrorKind::InvalidSetting,
                "the STS endpoint must be an http:// or https:// URL",
            ));
        }
        return Ok(StsEndpoint {
            url: url.to_owned(),
            region: signing_region,
        });
    }
    Ok(match region {
        Some(region) if !legacy => {
            let suffix = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            StsEndpoint {
                url: format!("https://sts.{region}.{suffix}"),
                region: region.to_owned(),
            }
        }
        _ => StsEndpoint {
            url: "https://sts.amazonaws.com".into(),
            region: "us-east-1".into(),
        },
    })
}

/// What an `AssumeRole` request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssumeRoleParams {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    /// 900 to 43200 seconds; STS's default (3600) when `None`.
    pub duration_seconds: Option<u32>,
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.extend(utf8_percent_encode(v, FORM));
    }
    out
}

fn post(endpoint: &StsEndpoint, body: String) -> Result<(Uri, HeaderMap, String)> {
    let url = if endpoint.url.matches('/').count() > 2 {
        endpoint.url.clone()
    } else {
        format!("{}/", endpoint.url)
    };
    let uri: Uri = url
        .parse()
        .map_err(|_| Error::new(ErrorKind::InvalidSetting, "the STS endpoint is not a URL"))?;
    let authority = uri
        .authority()
        .ok_or_else(|| Error::new(ErrorKind::InvalidSetting, "the STS endpoint has no host"))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::HOST,
        HeaderValue::from_str(authority.as_str())
            .map_err(|_| Error::new(ErrorKind::InvalidSetting, "the STS endpoint host is not a valid header"))?,
    );
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
    );
    headers.insert(http::header::ACCEPT, HeaderValue::from_static("text/xml"));
    Ok((uri, headers, body))
}

fn request(uri: Uri, headers: HeaderMap, body: String) -> Result<Request<Body>> {
    let mut builder = Request::builder().method(Method::POST).uri(uri);
    for (k, v) in &headers {
        builder = builder.header(k, v);
    }
    builder
        .header(http::header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .map_err(|e| Error::new(ErrorKind::InvalidSetting, "the STS request could not be built").with_source(e))
}

fn signing_error(e: impl Into<crate::error::BoxError>) -> Error {
    Error::new(ErrorKind::InvalidSetting, "the STS request could not be signed").with_source(e)
}

/// A signed `AssumeRole` request: `source` signs it (SigV4, service `sts`) at `time`.
pub(crate) fn assume_role_request(
    endpoint: &StsEndpoint,
    params: &AssumeRoleParams,
    source: &Credentials,
    time: SystemTime,
) -> Result<Request<Body>> {
    let duration = params.duration_seconds.map(|d| d.to_string());
    let mut pairs = vec![
        ("Action", "AssumeRole"),
        ("Version", VERSION),
        ("RoleArn", params.role_arn.as_str()),
        ("RoleSessionName", params.session_name.as_str()),
    ];
    if let Some(id) = &params.external_id {
        pairs.push(("ExternalId", id));
    }
    if let Some(d) = &duration {
        pairs.push(("DurationSeconds", d));
    }
    let (uri, mut headers, body) = post(endpoint, form(&pairs))?;
    let identity: Identity = aws_credential_types::Credentials::new(
        source.access_key(),
        source.secret_key().expose(),
        source.session_token().map(|t| t.expose().to_owned()),
        source.expiry(),
        "storages-s3",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&endpoint.region)
        .name("sts")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(signing_error)?
        .into();
    let uri_string = uri.to_string();
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| Ok((k.as_str(), v.to_str().map_err(signing_error)?)))
        .collect::<Result<_>>()?;
    let signable = SignableRequest::new(
        "POST",
        &uri_string,
        pairs.into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(signing_error)?;
    let (instructions, _) = sign(signable, &params).map_err(signing_error)?.into_parts();
    let (new_headers, _) = instructions.into_parts();
    for h in new_headers {
        let mut value = HeaderValue::from_str(h.value()).map_err(signing_error)?;
        value.set_sensitive(h.sensitive());
        headers.insert(HeaderName::from_static(h.name()), value);
    }
    request(uri, headers, body)
}

/// An unsigned `AssumeRoleWithWebIdentity` request.
pub(crate) fn web_identity_request(
    endpoint: &StsEndpoint,
    role_arn: &str,
    session_name: &str,
    token: &str,
) -> Result<Request<Body>> {
    let body = form(&[
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", VERSION),
        ("RoleArn", role_arn),
        ("RoleSessionName", session_name),
        ("WebIdentityToken", token),
    ]);
    let (uri, headers, body) = post(endpoint, body)?;
    request(uri, headers, body)
}

/// Sends a request built above and parses the reply of `action`, within `limit`.
pub(crate) async fn call(
    http: &HttpClient,
    request: Request<Body>,
    action: &'static str,
    limit: Duration,
) -> Result<Credentials> {
    let exchange = async {
        let (status, _, body) = fetch(http, request).await?;
        if status.is_success() {
            parse_credentials(action, &body)
        } else {
            Err(parse_error(status.as_u16(), &body).with_operation(action))
        }
    };
    match tokio::time::timeout(limit, exchange).await {
        Ok(result) => result,
        Err(_) => Err(timed_out(action, limit)),
    }
}

fn invalid(message: impl std::fmt::Display) -> Error {
    util::invalid("STS reply", message)
}

/// The credentials of an `<{action}Response>` document.
pub(crate) fn parse_credentials(action: &'static str, xml: &[u8]) -> Result<Credentials> {
    let (mut key, mut secret, mut token, mut expiration) = (None, None, None, None);
    let root = walk(xml, |path, text| {
        let slot = match path {
            [_, _, c, field] if c == "Credentials" => match field.as_str() {
                "AccessKeyId" => &mut key,
                "SecretAccessKey" => &mut secret,
                "SessionToken" => &mut token,
                "Expiration" => &mut expiration,
                _ => return Ok(()),
            },
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(invalid("a credentials field occurs twice"));
        }
        *slot = Some(text.trim().to_owned());
        Ok(())
    })?;
    if root == "ErrorResponse" {
        return Err(parse_error(200, xml).with_operation(action));
    }
    if root.strip_suffix("Response") != Some(action) {
        return Err(invalid(format_args!("expected an <{action}Response> document")));
    }
    let nonempty = |v: Option<String>, name: &str| {
        v.filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(format_args!("the reply has no {name}")))
    };
    let mut creds = Credentials::new(nonempty(key, "AccessKeyId")?, nonempty(secret, "SecretAccessKey")?)
        .with_session_token(nonempty(token, "SessionToken")?);
    let expiration = nonempty(expiration, "Expiration")?;
    let expiry = parse_timestamp(&expiration).ok_or_else(|| invalid("Expiration is not an ISO 8601 time stamp"))?;
    creds = creds.with_expiry(expiry);
    Ok(creds)
}

/// The error of an `<ErrorResponse>` document (or of any body, when it is not one).
pub(crate) fn parse_error(status: u16, xml: &[u8]) -> Error {
    let (mut code, mut message, mut request_id) = (String::new(), String::new(), None);
    let parsed = walk(xml, |path, text| {
        let short = || text.trim().chars().take(512).collect::<String>();
        match path {
            [_, e, f] if e == "Error" && f == "Code" => code = short(),
            [_, e, f] if e == "Error" && f == "Message" => message = short(),
            [_, f] if f == "RequestId" => request_id = Some(short()),
            _ => {}
        }
        Ok(())
    });
    if parsed.is_err() {
        code.clear();
        message.clear();
        request_id = None;
    }
    Error::service(ServiceError {
        status,
        code,
        message,
        request_id,
        bucket_region: None,
    })
}

/// Walks the elements of `xml`, calling `visit(path, text)` at the end of each element with
/// the local names from the root down and the element's own text. Returns the root's name.
fn walk(xml: &[u8], mut visit: impl FnMut(&[String], &str) -> Result<()>) -> Result<String> {
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut root: Option<String> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|_| invalid(format_args!("malformed XML near byte {}", reader.error_position())))?;
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                if path.is_empty() && root.is_some() {
                    return Err(invalid("more than one root element"));
                }
                if path.len() >= MAX_DEPTH {
                    return Err(invalid(format_args!("elements nest deeper than {MAX_DEPTH}")));
                }
                let name = std::str::from_utf8(tag.local_name().into_inner())
                    .map_err(|_| invalid("an element name is not UTF-8"))?
                    .to_owned();
                root.get_or_insert_with(|| name.clone());
                path.push(name);
                text.clear();
                if matches!(event, Event::Empty(_)) {
                    visit(&path, "")?;
                    path.pop();
                }
            }
            Event::End(_) => {
                if path.is_empty() {
                    return Err(invalid("an end tag without a start tag"));
                }
                visit(&path, &text)?;
                path.pop();
                text.clear();
            }
            Event::Text(chunk) => {
                let chunk = chunk.into_inner();
                if path.is_empty() {
                    if !chunk.iter().all(u8::is_ascii_whitespace) {
                        return Err(invalid("text outside the root element"));
                    }
                } else {
                    text.push_str(std::str::from_utf8(&chunk).map_err(|_| invalid("text is not UTF-8"))?);
                }
            }
            Event::CData(chunk) => {
                if path.is_empty() {
                    return Err(invalid("CDATA outside the root element"));
                }
                let chunk = chunk.into_inner();
                text.push_str(std::str::from_utf8(&chunk).map_err(|_| invalid("text is not UTF-8"))?);
            }
            Event::GeneralRef(reference) => {
                if path.is_empty() {
                    return Err(invalid("an entity reference outside the root element"));
                }
                text.push(crate::xml_ref::expand_reference(&reference).map_err(|m| invalid(format!("an {m}")))?);
            }
            Event::Decl(_) | Event::DocType(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => {
                if !path.is_empty() {
                    return Err(invalid("the document ends inside an element (truncated reply?)"));
                }
                return root.ok_or_else(|| invalid("the document has no root element"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example reply of AssumeRole (API reference, "Examples").
    pub(crate) const ASSUME_ROLE_REPLY: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
  <SourceIdentity>Alice</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>
       AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW
       LWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGd
       QrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU
       9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz
       +scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==
      </SessionToken>
      <Expiration>2019-11-09T13:34:41Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>"#;

    /// AWS's documented example reply of AssumeRoleWithWebIdentity.
    const WEB_IDENTITY_REPLY: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A</SubjectFromWebIdentityToken>
    <Audience>client.5498841531868486423.1548@apps.example.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1</Arn>
      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <Expiration>2014-10-24T23:00:23Z</Expiration>
      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
    </Credentials>
    <SourceIdentity>SourceIdentityValue</SourceIdentity>
    <Provider>www.amazon.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#;

    const ERROR_REPLY: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::123456789012:user/dev is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/demo</Message>
  </Error>
  <RequestId>4d0a6f4c-2a9b-4b8a-9a4e-EXAMPLE</RequestId>
</ErrorResponse>"#;

    fn assert_invalid(r: Result<Credentials>) {
        match r {
            Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{e}"),
            Ok(c) => panic!("parsed {c:?}"),
        }
    }

    #[test]
    fn parses_assume_role_reply() {
        let c = parse_credentials("AssumeRole", ASSUME_ROLE_REPLY.as_bytes()).unwrap();
        assert_eq!(c.access_key(), "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(c.secret_key().expose(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        let token = c.session_token().unwrap().expose();
        assert!(token.starts_with("AQoDYXdzEPT") && token.ends_with("BA=="), "{token}");
        assert_eq!(
            c.expiry().unwrap().duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_secs(1_573_306_481)
        );
    }

    #[test]
    fn parses_web_identity_reply() {
        let c = parse_credentials("AssumeRoleWithWebIdentity", WEB_IDENTITY_REPLY.as_bytes()).unwrap();
        assert_eq!(c.access_key(), "ASgeIAIOSFODNN7EXAMPLE");
        assert_eq!(
            c.session_token().unwrap().expose(),
            "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE"
        );
        // The reply of another action is refused.
        assert_invalid(parse_credentials("AssumeRole", WEB_IDENTITY_REPLY.as_bytes()));
    }

    #[test]
    fn error_documents_become_service_errors() {
        let e = parse_error(403, ERROR_REPLY.as_bytes()).with_operation("AssumeRole");
        assert_eq!(e.kind(), ErrorKind::AccessDenied);
        assert_eq!(e.code(), Some("AccessDenied"));
        assert_eq!(e.request_id(), Some("4d0a6f4c-2a9b-4b8a-9a4e-EXAMPLE"));
        assert!(
            e.to_string()
                .starts_with("AssumeRole: access denied (HTTP 403 AccessDenied: User:"),
            "{e}"
        );
        // An error document inside a 200 reply.
        let e = parse_credentials("AssumeRole", ERROR_REPLY.as_bytes()).unwrap_err();
        assert_eq!(e.code(), Some("AccessDenied"));
        // A body that is not XML still gives the status.
        let e = parse_error(503, b"<html>busy");
        assert_eq!((e.status(), e.code()), (Some(503), None));
    }

    #[test]
    fn hostile_and_truncated_replies_are_errors() {
        let half = &ASSUME_ROLE_REPLY[..ASSUME_ROLE_REPLY.len() / 2];
        assert_invalid(parse_credentials("AssumeRole", half.as_bytes()));
        assert_invalid(parse_credentials("AssumeRole", b""));
        assert_invalid(parse_credentials("AssumeRole", b"not xml"));
        assert_invalid(parse_credentials("AssumeRole", b"<a></b>"));
        assert_invalid(parse_credentials("AssumeRole", b"<a/><b/>"));
        assert_invalid(parse_credentials("AssumeRole", &[0xff, 0xfe, b'<']));
        let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
        assert_invalid(parse_credentials("AssumeRole", deep.as_bytes()));
        let bomb = r#"<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>
            <AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>&b;</AccessKeyId>
            </Credentials></AssumeRoleResult></AssumeRoleResponse>"#;
        assert_invalid(parse_credentials("AssumeRole", bomb.as_bytes()));
        let twice = ASSUME_ROLE_REPLY.replace(
            "<AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>",
            "<AccessKeyId>A</AccessKeyId><AccessKeyId>B</AccessKeyId>",
        );
        assert_invalid(parse_credentials("AssumeRole", twice.as_bytes()));
        let no_token = ASSUME_ROLE_REPLY
            .replace("<SessionToken>", "<X>")
            .replace("</SessionToken>", "</X>");
        assert_invalid(parse_credentials("AssumeRole", no_token.as_bytes()));
        let bad_time = ASSUME_ROLE_REPLY.replace("2019-11-09T13:34:41Z", "tomorrow");
        assert_invalid(parse_credentials("AssumeRole", bad_time.as_bytes()));
        // Entities and CDATA are decoded, prefixes ignored.
        let fancy = r#"<s:AssumeRoleResponse xmlns:s="x"><s:AssumeRoleResult><s:Credentials>
            <s:AccessKeyId>A&amp;&#66;</s:AccessKeyId><s:SecretAccessKey><![CDATA[S<>]]></s:SecretAccessKey>
            <s:SessionToken>T</s:SessionToken><s:Expiration>2030-01-01T00:00:00.000Z</s:Expiration>
            </s:Credentials></s:AssumeRoleResult></s:AssumeRoleResponse>"#;
        let c = parse_credentials("AssumeRole", fancy.as_bytes()).unwrap();
        assert_eq!((c.access_key(), c.secret_key().expose()), ("A&B", "S<>"));
    }

    #[test]
    fn parse_never_panics_on_prefixes_of_a_reply() {
        for end in 0..ASSUME_ROLE_REPLY.len() {
            if ASSUME_ROLE_REPLY.is_char_boundary(end) {
                let _ = parse_credentials("AssumeRole", &ASSUME_ROLE_REPLY.as_bytes()[..end]);
                let _ = parse_error(400, &ERROR_REPLY.as_bytes()[..end.min(ERROR_REPLY.len())]);
            }
        }
    }

    #[test]
    fn endpoints() {
        let e = endpoint(None, Some("eu-west-1"), None).unwrap();
        assert_eq!(
            (e.url.as_str(), e.region.as_str()),
            ("https://sts.eu-west-1.amazonaws.com", "eu-west-1")
        );
        let e = endpoint(None, Some("eu-west-1"), Some("legacy")).unwrap();
        assert_eq!(
            (e.url.as_str(), e.region.as_str()),
            ("https://sts.amazonaws.com", "us-east-1")
        );
        let e = endpoint(None, None, None).unwrap();
        assert_eq!(e.url, "https://sts.amazonaws.com");
        let e = endpoint(None, Some("cn-north-1"), Some("Regional")).unwrap();
        assert_eq!(e.url, "https://sts.cn-north-1.amazonaws.com.cn");
        let e = endpoint(Some("http://127.0.0.1:9/"), Some("eu-west-1"), None).unwrap();
        assert_eq!((e.url.as_str(), e.region.as_str()), ("http://127.0.0.1:9", "eu-west-1"));
        assert!(
            endpoint(None, Some("evil.com/x"), None)
                .unwrap_err()
                .is_invalid_setting()
        );
        assert!(
            endpoint(None, None, Some("sometimes"))
                .unwrap_err()
                .is_invalid_setting()
        );
        assert!(endpoint(Some("ftp://x"), None, None).unwrap_err().is_invalid_setting());
    }

    #[test]
    fn assume_role_is_signed_for_sts() {
        let ep = endpoint(None, Some("eu-west-1"), None).unwrap();
        let params = AssumeRoleParams {
            role_arn: "arn:aws:iam::123456789012:role/demo".into(),
            session_name: "s1".into(),
            external_id: Some("ext id/1".into()),
            duration_seconds: Some(900),
        };
        let source = Credentials::new("AKIDSOURCE", "SOURCESECRET").with_session_token("SOURCETOKEN");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_323_045); // 2026-01-02T03:04:05Z
        let req = assume_role_request(&ep, &params, &source, time).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri().to_string(), "https://sts.eu-west-1.amazonaws.com/");
        let h = req.headers();
        let auth = h["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDSOURCE/20260102/eu-west-1/sts/aws4_request, "),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=") && auth.contains("content-type;host;x-amz-date"),
            "{auth}"
        );
        assert!(!auth.contains("SOURCESECRET"));
        assert_eq!(h["x-amz-date"], "20260102T030405Z");
        assert_eq!(h["x-amz-security-token"], "SOURCETOKEN");
        assert!(h["x-amz-security-token"].is_sensitive());
        let body = std::str::from_utf8(req.body().as_bytes().unwrap()).unwrap();
        assert_eq!(
            body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo\
             &RoleSessionName=s1&ExternalId=ext%20id%2F1&DurationSeconds=900"
        );
        assert_eq!(h["content-length"], body.len().to_string().as_str());
    }

    #[test]
    fn web_identity_request_is_an_unsigned_form() {
        let ep = endpoint(Some("http://127.0.0.1:1234"), None, None).unwrap();
        let req = web_identity_request(&ep, "arn:aws:iam::1:role/r", "sess", "eyJ.tok+en").unwrap();
        assert_eq!(req.uri().to_string(), "http://127.0.0.1:1234/");
        assert!(req.headers().get("authorization").is_none());
        assert_eq!(req.headers()["host"], "127.0.0.1:1234");
        let body = std::str::from_utf8(req.body().as_bytes().unwrap()).unwrap();
        assert_eq!(
            body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr\
             &RoleSessionName=sess&WebIdentityToken=eyJ.tok%2Ben"
        );
    }
}
