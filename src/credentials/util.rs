//! Small pieces the providers share: reading the environment, home-relative paths, RFC 3339
//! time stamps, credential documents in JSON, and HTTP replies of credential services.
//!
//! Nothing here puts a value it reads into an error: errors name the variable, field or file,
//! never what it held (it may be a secret).
// Each helper serves some of the optional sources; a build without all of them leaves some
// unused.
#![cfg_attr(
    not(all(
        feature = "credentials-profile",
        feature = "credentials-container",
        feature = "credentials-imds"
    )),
    allow(dead_code, unused_imports)
)]

use std::path::Path;
use std::time::SystemTime;

use bytes::Bytes;
use http::{Request, StatusCode};
use serde_json::{Map, Value};

use super::Credentials;
pub(crate) use crate::config::{expand_home, home_dir, var};
use crate::error::{Error, ErrorKind, Result, ServiceError};
use crate::http::{Body, HttpClient};

/// Largest reply body a credential service may send (STS replies are ~2 KiB, metadata ~1 KiB).
pub(crate) const MAX_REPLY: usize = 256 * 1024;

/// An RFC 3339 time stamp (`2026-01-02T03:04:05Z`, fractions and offsets allowed).
pub(crate) fn parse_timestamp(text: &str) -> Option<SystemTime> {
    crate::timestamp::parse_rfc3339(text)
}

/// An error of a credential source's reply.
pub(crate) fn invalid(what: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidResponse, format!("{what}: {message}"))
}

/// "This source has no credentials": the chain goes on to the next source.
pub(crate) fn not_configured(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::NoCredentials, message)
}

/// A JSON object, with an error that gives the position only (serde_json's messages can quote
/// the document, and the document holds secrets).
pub(crate) fn json_object(body: &[u8], what: &str) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid(what, "the reply is not a JSON object")),
        Err(e) if e.is_eof() => Err(invalid(what, "the JSON document is truncated")),
        Err(e) => Err(invalid(
            what,
            format_args!("malformed JSON at line {} column {}", e.line(), e.column()),
        )),
    }
}

/// A string field; `None` when absent or null, an error when of another type.
pub(crate) fn json_str<'a>(obj: &'a Map<String, Value>, field: &str, what: &str) -> Result<Option<&'a str>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid(what, format_args!("`{field}` is not a string"))),
    }
}

/// A string field that must be present and non-empty.
pub(crate) fn json_required<'a>(obj: &'a Map<String, Value>, field: &str, what: &str) -> Result<&'a str> {
    match json_str(obj, field, what)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(invalid(what, format_args!("`{field}` is empty"))),
        None => Err(invalid(what, format_args!("the reply has no `{field}`"))),
    }
}

/// Credentials from a JSON document with `AccessKeyId`, `SecretAccessKey`, the session token
/// under `token_field`, and an optional RFC 3339 `Expiration`.
pub(crate) fn json_credentials(obj: &Map<String, Value>, token_field: &str, what: &str) -> Result<Credentials> {
    let key = json_required(obj, "AccessKeyId", what)?;
    let secret = json_required(obj, "SecretAccessKey", what)?;
    let mut creds = Credentials::new(key.trim(), secret.trim());
    if let Some(token) = json_str(obj, token_field, what)?.filter(|t| !t.trim().is_empty()) {
        creds = creds.with_session_token(token.trim());
    }
    if let Some(expiration) = json_str(obj, "Expiration", what)?.filter(|e| !e.trim().is_empty()) {
        let expiry =
            parse_timestamp(expiration).ok_or_else(|| invalid(what, "`Expiration` is not an RFC 3339 time stamp"))?;
        creds = creds.with_expiry(expiry);
    }
    Ok(creds)
}

/// Sends a request and collects the reply (at most [`MAX_REPLY`] bytes).
pub(crate) async fn fetch(http: &HttpClient, request: Request<Body>) -> Result<(StatusCode, http::HeaderMap, Bytes)> {
    let reply = http.send(request).await?;
    let (parts, body) = reply.into_parts();
    let body = body.collect(MAX_REPLY).await?;
    Ok((parts.status, parts.headers, body))
}

/// An error reply of a credential service (container endpoint, instance metadata): the status
/// and, when the body is a JSON error document, its short `code` and `message`.
pub(crate) fn status_error(operation: &'static str, status: StatusCode, body: &[u8]) -> Error {
    let (mut code, mut message) = (String::new(), String::new());
    if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) {
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| obj.get(*n).and_then(Value::as_str))
                .map(|s| s.chars().take(200).collect::<String>())
        };
        code = field(&["code", "Code"]).unwrap_or_default();
        message = field(&["message", "Message"]).unwrap_or_default();
    }
    Error::service(ServiceError {
        status: status.as_u16(),
        code,
        message,
        request_id: None,
        bucket_region: None,
    })
    .with_operation(operation)
}

/// Whether a failed attempt is worth another: connection failures, timeouts and 5xx replies.
pub(crate) fn is_retryable(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout) || e.status().is_some_and(|s| s >= 500)
}

/// A timeout error for a whole exchange with a credential service.
pub(crate) fn timed_out(what: &str, limit: std::time::Duration) -> Error {
    Error::new(ErrorKind::Timeout, format!("{what}: no credentials within {limit:?}"))
}

/// Validates a region name before it goes into a host name.
pub(crate) fn check_region(region: &str, from: &str) -> Result<()> {
    crate::config::check_region(region)
        .map_err(|why| Error::new(ErrorKind::InvalidSetting, format!("region from {from} {why}")))
}

/// Reads a small local file (a token, a shared config file): `Ok(None)` when it does not exist.
pub(crate) async fn read_small_file(path: &Path, limit: u64, what: &str) -> Result<Option<Vec<u8>>> {
    use tokio::io::AsyncReadExt as _;
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::new(
                ErrorKind::InvalidSetting,
                format!("{what} {} cannot be read", path.display()),
            )
            .with_source(e));
        }
    };
    let mut buf = Vec::new();
    file.take(limit + 1).read_to_end(&mut buf).await.map_err(|e| {
        Error::new(
            ErrorKind::InvalidSetting,
            format!("{what} {} cannot be read", path.display()),
        )
        .with_source(e)
    })?;
    if buf.len() as u64 > limit {
        return Err(Error::new(
            ErrorKind::InvalidSetting,
            format!("{what} {} is larger than {limit} bytes", path.display()),
        ));
    }
    Ok(Some(buf))
}

/// A token read from a file: UTF-8, surrounding white space trimmed, not empty.
pub(crate) async fn read_token_file(path: &Path, what: &str) -> Result<String> {
    let bytes = read_small_file(path, 64 * 1024, what).await?.ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidSetting,
            format!("{what} {} does not exist", path.display()),
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorKind::InvalidSetting,
            format!("{what} {} is not UTF-8", path.display()),
        )
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidSetting,
            format!("{what} {} is empty", path.display()),
        ));
    }
    Ok(token.to_owned())
}

/// A default role session name: `storages-s3-<unix time in ms>`.
pub(crate) fn default_session_name() -> String {
    let ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!("storages-s3-{ms}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::time::Duration;

    #[test]
    fn empty_variables_are_unset() {
        let env = HashMap::from([
            ("A".to_string(), "".to_string()),
            ("B".to_string(), "  ".to_string()),
            ("C".to_string(), "x".to_string()),
        ]);
        assert_eq!((var(&env, "A"), var(&env, "B")), (None, None));
        assert_eq!(var(&env, "C").as_deref(), Some("x"));
        assert_eq!(var(&env, "D"), None);
    }

    #[test]
    fn home_paths_expand() {
        let home = Path::new("/home/u");
        assert_eq!(expand_home("~", Some(home)).unwrap(), PathBuf::from("/home/u"));
        assert_eq!(expand_home("~/x/y", Some(home)).unwrap(), PathBuf::from("/home/u/x/y"));
        assert_eq!(expand_home("/abs", None).unwrap(), PathBuf::from("/abs"));
        assert_eq!(expand_home("~/x", None), None);
        let env = HashMap::from([("HOME".to_string(), "/h".to_string())]);
        assert_eq!(home_dir(&env), Some(PathBuf::from("/h")));
        let env = HashMap::from([
            ("HOMEDRIVE".to_string(), "C:".to_string()),
            ("HOMEPATH".to_string(), "\\Users\\u".to_string()),
        ]);
        assert_eq!(home_dir(&env), Some(PathBuf::from("C:\\Users\\u")));
    }

    #[test]
    fn timestamps() {
        let t = parse_timestamp("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_secs(1_767_323_045)
        );
        assert_eq!(parse_timestamp("2026-01-02T03:04:05.000Z"), Some(t));
        assert_eq!(parse_timestamp("2026-01-02T04:04:05+01:00"), Some(t));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn json_errors_do_not_quote_the_document() {
        let e = json_object(br#"{"SecretAccessKey": "TOPSECRET" "#, "test").unwrap_err();
        assert!(!e.to_string().contains("TOPSECRET"), "{e}");
        let e = json_object(br#"{"SecretAccessKey": "TOPSECRET",}"#, "test").unwrap_err();
        assert!(!format!("{e} {e:?}").contains("TOPSECRET"), "{e}");
        let obj = json_object(br#"{"AccessKeyId": "AK", "SecretAccessKey": 7}"#, "test").unwrap();
        let e = json_credentials(&obj, "Token", "test").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        assert!(e.to_string().contains("`SecretAccessKey` is not a string"), "{e}");
    }
}
