//! Container credentials (ECS task roles, EKS Pod Identity, local emulators):
//! `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on `http://169.254.170.2`) or
//! `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read
//! on every request) or `AWS_CONTAINER_AUTHORIZATION_TOKEN` as the `Authorization` header.
//!
//! A full URI must be `https`, or `http` to a loopback address or to the ECS/EKS agent
//! addresses (169.254.170.2, 169.254.170.23, fd00:ec2::23), as the AWS SDKs require: a
//! token must not travel in clear text to an arbitrary host.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method, Request, Uri};

use super::util::{
    expand_home, fetch, home_dir, is_retryable, json_credentials, json_object, not_configured, read_token_file,
    status_error, timed_out, var,
};
use super::{BoxFuture, Credentials, ProvideCredentials};
use crate::config::GlobalSource;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Body, HttpClient};

/// The ECS agent's address, the base of relative URIs.
pub const ECS_HOST: &str = "http://169.254.170.2";

const WHAT: &str = "container credentials";

/// Credentials from the container credentials endpoint. When neither URI variable is set
/// this source has nothing ([`ErrorKind::NoCredentials`]); when one is, failures are errors of
/// their own kind (timeout, transport, HTTP status, malformed reply).
#[derive(Clone)]
pub struct ContainerProvider {
    env: Arc<dyn GlobalSource>,
    http: HttpClient,
    relative_base: String,
    timeout: Duration,
    attempts: u32,
}

impl fmt::Debug for ContainerProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContainerProvider")
            .field("relative_base", &self.relative_base)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl ContainerProvider {
    /// A provider reading its variables from `env`.
    pub fn new(env: Arc<dyn GlobalSource>, http: HttpClient) -> Self {
        ContainerProvider {
            env,
            http,
            relative_base: ECS_HOST.into(),
            timeout: Duration::from_secs(2),
            attempts: 3,
        }
    }

    /// The scheme and host relative URIs are resolved against (default `http://169.254.170.2`;
    /// a local server in tests).
    pub fn with_relative_base(mut self, base: impl Into<String>) -> Self {
        self.relative_base = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// Longest time for all attempts together (default 2 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Attempts for connection failures and 5xx replies (default 3).
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    async fn load(&self) -> Result<Credentials> {
        let env = &*self.env;
        let uri = if let Some(relative) = var(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            let relative = relative.trim();
            if !relative.starts_with('/') {
                return Err(Error::new(
                    ErrorKind::InvalidSetting,
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with `/`",
                ));
            }
            format!("{}{relative}", self.relative_base)
                .parse::<Uri>()
                .map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidSetting,
                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is malformed",
                    )
                })?
        } else if let Some(full) = var(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            check_full_uri(full.trim())?
        } else {
            return Err(not_configured(
                "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set",
            ));
        };
        let token = if let Some(file) = var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            let path = expand_home(file.trim(), home_dir(env).as_deref()).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidSetting,
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE needs a home directory",
                )
            })?;
            Some(read_token_file(&path, "container authorization token file").await?)
        } else {
            var(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN").map(|t| t.trim().to_owned())
        };
        let auth = match token {
            Some(t) => {
                let mut v = HeaderValue::from_str(&t).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidSetting,
                        "the container authorization token is not a valid header value",
                    )
                })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let attempts = async {
            let mut attempt = 1;
            loop {
                match self.attempt(&uri, auth.as_ref()).await {
                    Err(e) if attempt < self.attempts && is_retryable(&e) => {
                        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                        attempt += 1;
                    }
                    other => return other,
                }
            }
        };
        match tokio::time::timeout(self.timeout, attempts).await {
            Ok(result) => result,
            Err(_) => Err(timed_out(WHAT, self.timeout)),
        }
    }

    async fn attempt(&self, uri: &Uri, auth: Option<&HeaderValue>) -> Result<Credentials> {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(uri.clone())
            .header(http::header::ACCEPT, "application/json");
        if let Some(auth) = auth {
            request = request.header(http::header::AUTHORIZATION, auth.clone());
        }
        let request = request
            .body(Body::from(""))
            .map_err(|e| Error::new(ErrorKind::InvalidSetting, "bad container credentials request").with_source(e))?;
        let (status, _, body) = fetch(&self.http, request).await?;
        if !status.is_success() {
            return Err(status_error("container credentials", status, &body));
        }
        parse(&body)
    }
}

/// Whether a full URI may receive the authorization token; the URI when it may.
pub(crate) fn check_full_uri(full: &str) -> Result<Uri> {
    let bad = |why: &str| {
        Error::new(
            ErrorKind::InvalidSetting,
            format!("AWS_CONTAINER_CREDENTIALS_FULL_URI {why}"),
        )
    };
    let uri: Uri = full.parse().map_err(|_| bad("is not a URL"))?;
    let host = uri.host().ok_or_else(|| bad("has no host"))?;
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let allowed = bare.eq_ignore_ascii_case("localhost")
                || match bare.parse::<IpAddr>() {
                    Ok(ip) => {
                        ip.is_loopback()
                            || ip == IpAddr::from([169, 254, 170, 2])
                            || ip == IpAddr::from([169, 254, 170, 23])
                            || ip == IpAddr::from([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23])
                    }
                    Err(_) => false,
                };
            if allowed {
                Ok(uri)
            } else {
                Err(bad(
                    "must use https, or http to a loopback address or the container agent \
                     (169.254.170.2, 169.254.170.23, fd00:ec2::23)",
                ))
            }
        }
        _ => Err(bad("must be an http:// or https:// URL")),
    }
}

/// The credentials of the endpoint's JSON reply
/// (`{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "RoleArn"}`).
pub fn parse(body: &[u8]) -> Result<Credentials> {
    let obj = json_object(body, WHAT)?;
    json_credentials(&obj, "Token", WHAT)
}

impl ProvideCredentials for ContainerProvider {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    /// A reply of the ECS agent, as documented ("Amazon ECS task IAM role").
    const ECS_REPLY: &str = r#"{
    "AccessKeyId": "ACCESS_KEY_ID",
    "Expiration": "2026-05-15T02:33:45Z",
    "RoleArn": "TASK_ROLE_ARN",
    "SecretAccessKey": "SECRET_ACCESS_KEY",
    "Token": "SECURITY_TOKEN_STRING"
}"#;

    #[test]
    fn parses_the_agent_reply() {
        let c = parse(ECS_REPLY.as_bytes()).unwrap();
        assert_eq!(c.access_key(), "ACCESS_KEY_ID");
        assert_eq!(c.secret_key().expose(), "SECRET_ACCESS_KEY");
        assert_eq!(c.session_token().unwrap().expose(), "SECURITY_TOKEN_STRING");
        assert_eq!(
            c.expiry().unwrap().duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_secs(1_778_812_425)
        );
    }

    #[test]
    fn malformed_replies_are_invalid_responses() {
        for body in [
            "",
            "[]",
            "{",
            r#"{"AccessKeyId": "A"}"#,
            r#"{"AccessKeyId": "A", "SecretAccessKey": ""}"#,
            r#"{"AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "later"}"#,
            r#"{"AccessKeyId": 1, "SecretAccessKey": "S"}"#,
        ] {
            let e = parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{body}: {e}");
        }
    }

    #[test]
    fn full_uris_must_be_safe() {
        for ok in [
            "https://creds.example.com/get",
            "http://127.0.0.1:8080/creds",
            "http://127.1.2.3/x",
            "http://localhost:9/x",
            "http://[::1]:9/x",
            "http://169.254.170.2/v2/credentials",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
        ] {
            assert!(check_full_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/creds",
            "http://10.0.0.1/creds",
            "http://169.254.169.254/latest",
            "ftp://127.0.0.1/x",
            "not a url",
            "/relative",
        ] {
            assert!(check_full_uri(bad).unwrap_err().is_invalid_setting(), "{bad}");
        }
    }
}
