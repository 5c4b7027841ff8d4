//! EC2 instance metadata (IMDSv2): a session token from `PUT /latest/api/token`
//! (`x-aws-ec2-metadata-token-ttl-seconds: 21600`, kept until its TTL), then the role name
//! from `GET /latest/meta-data/iam/security-credentials/` and the role's credentials from
//! `GET /latest/meta-data/iam/security-credentials/<role>`, both with
//! `x-aws-ec2-metadata-token`.
//!
//! Settings from the environment: `AWS_EC2_METADATA_DISABLED=true` turns it off,
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` (or `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`)
//! moves it, `AWS_METADATA_SERVICE_TIMEOUT` (seconds, default 1) and
//! `AWS_METADATA_SERVICE_NUM_ATTEMPTS` (default 1) bound the time spent: off EC2, start-up
//! waits about a second at most. There is no IMDSv1 fallback.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderValue, Method, Request, StatusCode};

use super::util::{fetch, invalid, json_credentials, json_object, json_str, not_configured, status_error, var};
use super::{BoxFuture, Credentials, ProvideCredentials};
use crate::config::{GlobalSource, Secret};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Body, HttpClient};

/// The instance metadata service's address.
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254";
/// Its IPv6 address.
pub const IMDS_ENDPOINT_IPV6: &str = "http://[fd00:ec2::254]";

/// The session token lifetime asked for: 6 hours, the longest IMDS grants.
pub const TOKEN_TTL_SECONDS: u64 = 21_600;

const WHAT: &str = "instance metadata";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

#[derive(Clone)]
struct Token {
    value: Secret,
    until: Instant,
}

/// Credentials of the instance profile's role, from the instance metadata service.
///
/// When the service cannot be reached (off EC2, disabled, no role attached) this source has
/// nothing ([`ErrorKind::NoCredentials`], the cause as its source); a service that answers with
/// an error or a malformed document is an error of its own kind.
#[derive(Clone)]
pub struct ImdsProvider {
    env: Arc<dyn GlobalSource>,
    http: HttpClient,
    endpoint: Option<String>,
    timeout: Option<Duration>,
    attempts: Option<u32>,
    token: Arc<tokio::sync::Mutex<Option<Token>>>,
}

impl fmt::Debug for ImdsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImdsProvider")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl ImdsProvider {
    /// A provider reading its settings from `env`.
    pub fn new(env: Arc<dyn GlobalSource>, http: HttpClient) -> Self {
        ImdsProvider {
            env,
            http,
            endpoint: None,
            timeout: None,
            attempts: None,
            token: Arc::default(),
        }
    }

    /// The service's base URL (default: `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else
    /// `http://169.254.169.254`).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Time allowed per attempt (default: `AWS_METADATA_SERVICE_TIMEOUT`, else 1 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Attempts (default: `AWS_METADATA_SERVICE_NUM_ATTEMPTS`, else 1).
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = Some(attempts.max(1));
        self
    }

    fn base(&self) -> Result<String> {
        let env = &*self.env;
        let base = match (self.endpoint.clone(), var(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
            (Some(e), _) | (None, Some(e)) => e.trim().trim_end_matches('/').to_owned(),
            (None, None) => match var(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") {
                Some(m) if m.trim().eq_ignore_ascii_case("ipv6") => IMDS_ENDPOINT_IPV6.into(),
                Some(m) if m.trim().eq_ignore_ascii_case("ipv4") => IMDS_ENDPOINT.into(),
                None => IMDS_ENDPOINT.into(),
                Some(_) => {
                    return Err(Error::new(
                        ErrorKind::InvalidSetting,
                        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6",
                    ));
                }
            },
        };
        match base.parse::<http::Uri>() {
            Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.authority().is_some() => Ok(base),
            _ => Err(Error::new(
                ErrorKind::InvalidSetting,
                "the instance metadata endpoint must be an http:// or https:// URL",
            )),
        }
    }

    fn limits(&self) -> Result<(Duration, u32)> {
        let env = &*self.env;
        let timeout = match self.timeout {
            Some(t) => t,
            None => match var(env, "AWS_METADATA_SERVICE_TIMEOUT") {
                Some(t) => t
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidSetting,
                            "AWS_METADATA_SERVICE_TIMEOUT must be a number of seconds",
                        )
                    })?,
                None => Duration::from_secs(1),
            },
        };
        let attempts = match self.attempts {
            Some(a) => a,
            None => match var(env, "AWS_METADATA_SERVICE_NUM_ATTEMPTS") {
                Some(a) => a
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|a| (1..=10).contains(a))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidSetting,
                            "AWS_METADATA_SERVICE_NUM_ATTEMPTS must be 1 to 10",
                        )
                    })?,
                None => 1,
            },
        };
        Ok((timeout, attempts))
    }

    async fn load(&self) -> Result<Credentials> {
        let disabled = var(&*self.env, "AWS_EC2_METADATA_DISABLED");
        if disabled.is_some_and(|d| d.trim().eq_ignore_ascii_case("true")) {
            return Err(not_configured(
                "instance metadata: disabled by AWS_EC2_METADATA_DISABLED",
            ));
        }
        let base = self.base()?;
        let (timeout, attempts) = self.limits()?;
        let mut last = None;
        for _ in 0..attempts {
            let error = match tokio::time::timeout(timeout, self.fetch(&base)).await {
                Ok(Ok(creds)) => return Ok(creds),
                Ok(Err(e)) if matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout) => e,
                Ok(Err(e)) if e.status().is_some_and(|s| s >= 500) => e,
                Ok(Err(e)) => return Err(e),
                Err(_) => Error::new(
                    ErrorKind::Timeout,
                    format!("instance metadata: no reply within {timeout:?}"),
                ),
            };
            last = Some(error);
        }
        let last = last.expect("at least one attempt");
        if last.status().is_some() {
            return Err(last);
        }
        Err(not_configured(format!("instance metadata: no service at {}", without_userinfo(&base))).with_source(last))
    }

    /// Token, role name, credentials; a token the service refuses (401) is renewed once.
    async fn fetch(&self, base: &str) -> Result<Credentials> {
        let mut renewed = false;
        loop {
            let token = self.token(base).await?;
            match self.fetch_with(base, &token).await {
                Err(e) if e.status() == Some(401) && !renewed => {
                    *self.token.lock().await = None;
                    renewed = true;
                }
                other => return other,
            }
        }
    }

    async fn fetch_with(&self, base: &str, token: &Secret) -> Result<Credentials> {
        let (status, body) = self.get(&format!("{base}{CREDENTIALS_PATH}"), token).await?;
        if status == StatusCode::NOT_FOUND {
            return Err(not_configured(
                "instance metadata: no IAM role is attached to this instance",
            ));
        }
        if !status.is_success() {
            return Err(status_error("instance metadata", status, &body));
        }
        let role = parse_role_name(&body)?;
        let (status, body) = self.get(&format!("{base}{CREDENTIALS_PATH}{role}"), token).await?;
        if !status.is_success() {
            return Err(status_error("instance metadata", status, &body));
        }
        parse(&body)
    }

    async fn get(&self, url: &str, token: &Secret) -> Result<(StatusCode, bytes::Bytes)> {
        let mut value = HeaderValue::from_str(token.expose())
            .map_err(|_| invalid(WHAT, "the session token is not a valid header value"))?;
        value.set_sensitive(true);
        let request = Request::builder()
            .method(Method::GET)
            .uri(url)
            .header("x-aws-ec2-metadata-token", value)
            .body(Body::from(""))
            .map_err(|e| Error::new(ErrorKind::InvalidSetting, "bad instance metadata request").with_source(e))?;
        let (status, _, body) = fetch(&self.http, request).await?;
        Ok((status, body))
    }

    /// The cached session token, or a new one.
    async fn token(&self, base: &str) -> Result<Secret> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.until
        {
            return Ok(t.value.clone());
        }
        let request = Request::builder()
            .method(Method::PUT)
            .uri(format!("{base}/latest/api/token"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS.to_string())
            .header(http::header::CONTENT_LENGTH, "0")
            .body(Body::from(""))
            .map_err(|e| Error::new(ErrorKind::InvalidSetting, "bad instance metadata request").with_source(e))?;
        let asked = Instant::now();
        let (status, headers, body) = fetch(&self.http, request).await?;
        if status == StatusCode::FORBIDDEN {
            return Err(not_configured(
                "instance metadata: the session token request was refused (IMDS is disabled for this instance)",
            ));
        }
        if !status.is_success() {
            return Err(status_error("instance metadata", status, &body));
        }
        let value = std::str::from_utf8(&body)
            .ok()
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| invalid(WHAT, "the session token reply is empty or not printable"))?;
        let ttl = headers
            .get("x-aws-ec2-metadata-token-ttl-seconds")
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .unwrap_or(TOKEN_TTL_SECONDS)
            .min(TOKEN_TTL_SECONDS);
        let ttl = Duration::from_secs(ttl);
        // Renew a minute early (half the TTL for very short ones), so a token never expires
        // between this check and the service's.
        let until = asked + ttl - Duration::from_secs(60).min(ttl / 2);
        let token = Token {
            value: Secret::new(value),
            until,
        };
        *cached = Some(token.clone());
        Ok(token.value)
    }
}

/// `scheme://host[:port]` of a base URL, without any `user:password@`.
fn without_userinfo(base: &str) -> String {
    match base.parse::<http::Uri>() {
        Ok(u) => {
            let host = u.host().unwrap_or("");
            match u.port_u16() {
                Some(p) => format!("{}://{host}:{p}", u.scheme_str().unwrap_or("http")),
                None => format!("{}://{host}", u.scheme_str().unwrap_or("http")),
            }
        }
        Err(_) => "(the configured endpoint)".into(),
    }
}

/// The role name of the `security-credentials/` listing (its first line).
pub fn parse_role_name(body: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(body).map_err(|_| invalid(WHAT, "the role listing is not UTF-8"))?;
    let role = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or_else(|| not_configured("instance metadata: no IAM role is attached to this instance"))?;
    // IAM role names: letters, digits and `+=,.@_-`, at most 64 characters.
    if role.len() > 64
        || !role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        return Err(invalid(WHAT, "the role listing does not hold an IAM role name"));
    }
    Ok(role.to_owned())
}

/// The credentials document of a role:
/// `{"Code": "Success", "AccessKeyId", "SecretAccessKey", "Token", "Expiration", ...}`.
pub fn parse(body: &[u8]) -> Result<Credentials> {
    let obj = json_object(body, WHAT)?;
    match json_str(&obj, "Code", WHAT)? {
        Some("Success") | None => {}
        Some(code) => {
            let code: String = code.chars().take(64).collect();
            return Err(invalid(WHAT, format_args!("the service reports `{code}`")));
        }
    }
    json_credentials(&obj, "Token", WHAT)
}

impl ProvideCredentials for ImdsProvider {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    /// A reply of `security-credentials/<role>`, as the EC2 user guide documents it.
    const REPLY: &str = r#"{
  "Code" : "Success",
  "LastUpdated" : "2012-04-26T16:39:16Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAIOSFODNN7EXAMPLE",
  "SecretAccessKey" : "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "Token" : "token",
  "Expiration" : "2017-05-17T15:09:54Z"
}"#;

    #[test]
    fn parses_the_documented_reply() {
        let c = parse(REPLY.as_bytes()).unwrap();
        assert_eq!(c.access_key(), "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(c.secret_key().expose(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert_eq!(c.session_token().unwrap().expose(), "token");
        assert_eq!(
            c.expiry().unwrap().duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_secs(1_495_033_794)
        );
    }

    #[test]
    fn failure_codes_and_malformed_documents() {
        let e = parse(REPLY.replace("Success", "Failure").as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        assert!(e.to_string().contains("`Failure`"), "{e}");
        for body in ["", "{", "null", r#"{"Code": "Success"}"#, r#"{"Code": 3}"#] {
            assert_eq!(
                parse(body.as_bytes()).unwrap_err().kind(),
                ErrorKind::InvalidResponse,
                "{body}"
            );
        }
        let e = parse(REPLY.replace("2017-05-17T15:09:54Z", "never").as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        assert!(!format!("{e:?}").contains("wJalrXUtnFEMI"));
    }

    #[test]
    fn endpoints_in_messages_lose_their_userinfo() {
        assert_eq!(without_userinfo("http://user:pw@10.0.0.1:8080"), "http://10.0.0.1:8080");
        assert_eq!(without_userinfo("http://[fd00:ec2::254]"), "http://[fd00:ec2::254]");
    }

    #[test]
    fn role_names() {
        assert_eq!(parse_role_name(b"my-role\n").unwrap(), "my-role");
        assert_eq!(
            parse_role_name(b"\n  web@app+x=1,y.z_w  \nother\n").unwrap(),
            "web@app+x=1,y.z_w"
        );
        assert_eq!(parse_role_name(b"").unwrap_err().kind(), ErrorKind::NoCredentials);
        assert_eq!(
            parse_role_name(b"../../x").unwrap_err().kind(),
            ErrorKind::InvalidResponse
        );
        assert_eq!(parse_role_name(b"a?b").unwrap_err().kind(), ErrorKind::InvalidResponse);
        assert_eq!(parse_role_name(&[0xff]).unwrap_err().kind(), ErrorKind::InvalidResponse);
    }
}
