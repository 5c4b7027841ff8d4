//! Local fakes of the credential services, on 127.0.0.1.
//!
//! [`FakeServer`] is a recording HTTP/1.1 server (hyper-util) whose replies a test scripts with
//! a closure; [`imds`], [`sts`] and the helpers below script it to speak the services'
//! documented protocols: IMDSv2 (token PUT with its TTL header, token required on every GET,
//! 401 without), STS (form-encoded query protocol, XML replies, SigV4 checked by an
//! independent implementation written here with hmac + sha2), and the container endpoint.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    /// Path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The form fields of an `application/x-www-form-urlencoded` body.
    pub fn form(&self) -> BTreeMap<String, String> {
        form_decode(std::str::from_utf8(&self.body).unwrap_or(""))
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (a slow service).
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(200, body)
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A recording HTTP server.
pub struct FakeServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Serves `handler` on a free port of 127.0.0.1.
    pub async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let handler: Handler = Arc::new(handler);
        let (s, h) = (seen.clone(), handler.clone());
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (http, s, h) = (http.clone(), s.clone(), h.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (s, h) = (s.clone(), h.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let seen = Seen {
                                method: parts.method,
                                path: parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
                                headers: parts.headers,
                                body,
                            };
                            s.lock().unwrap().push(seen.clone());
                            let reply = h(&seen);
                            if !reply.delay.is_zero() {
                                tokio::time::sleep(reply.delay).await;
                            }
                            let mut response = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
                            for (k, v) in &reply.headers {
                                response = response.header(k, v);
                            }
                            Ok::<_, Infallible>(response.body(Full::new(Bytes::from(reply.body))).unwrap())
                        }
                    });
                    let _ = http.serve_connection(TokioIo::new(socket), service).await;
                });
            }
        });
        FakeServer { addr, seen, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests had this method and a path starting with `prefix`.
    pub fn count(&self, method: Method, prefix: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == method && s.path.starts_with(prefix))
            .count()
    }
}

/// A URL on which nothing listens: connections are refused.
pub async fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// A credentials document as the container endpoint and IMDS send it.
pub fn credentials_json(key: &str, secret: &str, token: &str, expires_in: Duration) -> String {
    let expiration = rfc3339(std::time::SystemTime::now() + expires_in);
    format!(
        r#"{{"Code": "Success", "LastUpdated": "2026-01-01T00:00:00Z", "Type": "AWS-HMAC", "AccessKeyId": "{key}", "SecretAccessKey": "{secret}", "Token": "{token}", "Expiration": "{expiration}", "RoleArn": "arn:aws:iam::123456789012:role/app"}}"#
    )
}

/// An RFC 3339 UTC time stamp, whole seconds.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

// ---------------------------------------------------------------------------------------------
// IMDSv2
// ---------------------------------------------------------------------------------------------

pub const IMDS_ROLE: &str = "app-instance-role";

/// A fake instance metadata service: issues tokens on `PUT /latest/api/token` (400 without
/// the TTL header of 21600), refuses every GET without an issued token (401), names
/// [`IMDS_ROLE`], and answers the role's credentials with `credentials(n)` for the n-th
/// (0-based) credentials request.
pub fn imds(credentials: impl Fn(usize) -> Reply + Send + Sync + 'static) -> impl Fn(&Seen) -> Reply + Send + Sync {
    let issued = AtomicUsize::new(0);
    let fetched = AtomicUsize::new(0);
    move |seen: &Seen| {
        if seen.method == Method::PUT && seen.path == "/latest/api/token" {
            if seen.header("x-aws-ec2-metadata-token-ttl-seconds") != Some("21600") {
                return Reply::new(400, "missing or wrong x-aws-ec2-metadata-token-ttl-seconds");
            }
            let n = issued.fetch_add(1, Ordering::SeqCst);
            return Reply::ok(format!("AQAEAFakeImdsToken-{n}=="))
                .header("x-aws-ec2-metadata-token-ttl-seconds", "21600");
        }
        if seen.method != Method::GET {
            return Reply::new(405, "");
        }
        let valid = seen.header("x-aws-ec2-metadata-token").is_some_and(|t| {
            t.strip_prefix("AQAEAFakeImdsToken-")
                .and_then(|r| r.strip_suffix("=="))
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n < issued.load(Ordering::SeqCst))
        });
        if !valid {
            return Reply::new(401, "");
        }
        match seen.path.as_str() {
            "/latest/meta-data/iam/security-credentials/" => Reply::ok(IMDS_ROLE),
            p if p == format!("/latest/meta-data/iam/security-credentials/{IMDS_ROLE}") => {
                credentials(fetched.fetch_add(1, Ordering::SeqCst))
            }
            _ => Reply::new(404, ""),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// STS
// ---------------------------------------------------------------------------------------------

/// The XML reply of `action` with these credentials.
pub fn sts_reply(action: &str, key: &str, secret: &str, token: &str, expires_in: Duration) -> String {
    let expiration = rfc3339(std::time::SystemTime::now() + expires_in);
    format!(
        r#"<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <{action}Result>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/demo/s</Arn><AssumedRoleId>ARO:s</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{key}</AccessKeyId>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </{action}Result>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</{action}Response>"#
    )
}

/// STS's error document.
pub fn sts_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::new(
        status,
        format!(
            r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>"#
        ),
    )
    .header("content-type", "text/xml")
}

fn form_decode(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Checks a request's SigV4 `Authorization` header for `service`, recomputing the signature
/// from the request as received with the secret of `access_key`. Returns the region signed
/// for.
pub fn verify_sigv4(seen: &Seen, access_key: &str, secret: &str, service: &str) -> Result<String, String> {
    let auth = seen.header("authorization").ok_or("no Authorization header")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .ok_or_else(|| format!("not SigV4: {auth}"))?;
    let mut fields = rest.split(", ");
    let credential = fields.next().ok_or("no credential")?;
    let signed_headers = fields
        .next()
        .and_then(|f| f.strip_prefix("SignedHeaders="))
        .ok_or("no SignedHeaders")?;
    let signature = fields
        .next()
        .and_then(|f| f.strip_prefix("Signature="))
        .ok_or("no Signature")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, date, region, svc, "aws4_request"] = scope[..] else {
        return Err(format!("bad credential scope {credential}"));
    };
    if key != access_key {
        return Err(format!("signed by {key}, expected {access_key}"));
    }
    if svc != service {
        return Err(format!("signed for service {svc}, expected {service}"));
    }
    let amz_date = seen.header("x-amz-date").ok_or("no x-amz-date")?;
    if !amz_date.starts_with(date) {
        return Err("x-amz-date and the scope's date differ".into());
    }
    for required in ["host", "x-amz-date"] {
        if !signed_headers.split(';').any(|h| h == required) {
            return Err(format!("{required} is not signed"));
        }
    }
    let (path, query) = seen.path.split_once('?').unwrap_or((&seen.path, ""));
    let mut canonical = format!("{}\n{path}\n{query}\n", seen.method);
    for name in signed_headers.split(';') {
        let values: Vec<&str> = seen
            .headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("").trim())
            .collect();
        canonical.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    canonical.push_str(&format!(
        "\n{signed_headers}\n{}",
        hex::encode(Sha256::digest(&seen.body))
    ));
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let k = hmac(format!("AWS4{secret}").as_bytes(), date);
    let k = hmac(&k, region);
    let k = hmac(&k, service);
    let k = hmac(&k, "aws4_request");
    let expected = hex::encode(hmac(&k, &string_to_sign));
    if expected != signature {
        return Err("signature does not match".into());
    }
    Ok(region.to_owned())
}

/// What a fake STS saw of each call, for assertions.
#[derive(Debug, Clone, Default)]
pub struct StsLog {
    pub calls: Vec<BTreeMap<String, String>>,
    /// The signing region of each signed call.
    pub regions: Vec<String>,
}

/// A fake STS. `AssumeRole` calls must be signed (service `sts`) by one of `signers`
/// (access key → secret); `AssumeRoleWithWebIdentity` calls must be unsigned and carry a token
/// starting with `web_token`. Both need a role ARN of the right form and a session name. Either answers with credentials `ROLEKEY-<n>` (n counts successful
/// calls), living `expires_in`.
pub fn sts(
    signers: Vec<(&'static str, &'static str)>,
    web_token: &'static str,
    expires_in: Duration,
    log: Arc<Mutex<StsLog>>,
) -> impl Fn(&Seen) -> Reply + Send + Sync {
    let issued = AtomicUsize::new(0);
    move |seen: &Seen| {
        if seen.method != Method::POST
            || !seen
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        {
            return sts_error(400, "InvalidAction", "expected a form POST");
        }
        let form = seen.form();
        log.lock().unwrap().calls.push(form.clone());
        if form.get("Version").map(String::as_str) != Some("2011-06-15") {
            return sts_error(400, "InvalidAction", "bad version");
        }
        let role_ok = form
            .get("RoleArn")
            .is_some_and(|r| r.starts_with("arn:aws:iam::") && r.contains(":role/"));
        if !role_ok {
            return sts_error(400, "ValidationError", "RoleArn is not a role ARN");
        }
        if form.get("RoleSessionName").is_none_or(|s| s.len() < 2) {
            return sts_error(400, "ValidationError", "RoleSessionName is required");
        }
        let action = form.get("Action").cloned().unwrap_or_default();
        match action.as_str() {
            "AssumeRole" => {
                let key = seen
                    .header("authorization")
                    .and_then(|a| a.strip_prefix("AWS4-HMAC-SHA256 Credential="))
                    .and_then(|c| c.split('/').next())
                    .unwrap_or("");
                let Some((k, s)) = signers.iter().find(|(k, _)| *k == key) else {
                    return sts_error(
                        403,
                        "InvalidClientTokenId",
                        "The security token included in the request is invalid.",
                    );
                };
                match verify_sigv4(seen, k, s, "sts") {
                    Ok(region) => log.lock().unwrap().regions.push(region),
                    Err(why) => return sts_error(403, "SignatureDoesNotMatch", &why),
                }
            }
            "AssumeRoleWithWebIdentity" => {
                if seen.header("authorization").is_some() {
                    return sts_error(400, "InvalidAction", "web identity calls are not signed");
                }
                if !form.get("WebIdentityToken").is_some_and(|t| t.starts_with(web_token)) {
                    return sts_error(
                        400,
                        "InvalidIdentityToken",
                        "Couldn't retrieve verification key from your identity provider",
                    );
                }
            }
            _ => return sts_error(400, "InvalidAction", "unknown action"),
        }
        let n = issued.fetch_add(1, Ordering::SeqCst);
        Reply::ok(sts_reply(
            &action,
            &format!("ROLEKEY-{n}"),
            &format!("ROLESECRET-{n}"),
            &format!("ROLETOKEN-{n}"),
            expires_in,
        ))
        .header("content-type", "text/xml")
    }
}
