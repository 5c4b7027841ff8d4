//! The credential chain end to end, against local fakes of the services on 127.0.0.1
//! (`crate::common::metadata`): shared profile files, `credential_process`, STS AssumeRole (SigV4
//! checked) and AssumeRoleWithWebIdentity, the container endpoint, IMDSv2, caching and
//! refresh, the default chain, and that no secret ever shows in an error or `Debug`.
//!
//! Nothing here reads the process environment or the real `~/.aws`: every provider gets a
//! map as its environment and a temporary directory as its home.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http::Method;
use storages_s3::config::GlobalSource;
use storages_s3::credentials::{
    CachedProvider, ContainerProvider, Credentials, CredentialsChain, DefaultChain, EnvironmentProvider, ImdsProvider,
    ProcessProvider, ProfileNotFound, ProfileProvider, ProvideCredentials, WebIdentityProvider,
};
use storages_s3::http::{Body, HttpClient, HttpConfig};
use storages_s3::{ErrorKind, Settings};

use crate::common::metadata::{
    self, FakeServer, IMDS_ROLE, Reply, StsLog, credentials_json, refused_url, sts_error, sts_reply,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn env(vars: &[(&str, &str)]) -> Arc<dyn GlobalSource> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Arc::new(map)
}

/// The default chain of `settings` over the environment `globals`, as a storage builds it.
fn default_chain_for(
    settings: &Settings,
    globals: Arc<dyn GlobalSource>,
    http: HttpClient,
) -> Arc<dyn ProvideCredentials> {
    DefaultChain::new(globals, http).build(settings)
}

fn http() -> HttpClient {
    HttpClient::new(&HttpConfig::default().with_timeouts(Duration::from_secs(1), Duration::from_secs(3))).unwrap()
}

/// A home directory with `.aws/config` and `.aws/credentials`.
fn home(config: &str, credentials: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".aws")).unwrap();
    std::fs::write(dir.path().join(".aws/config"), config).unwrap();
    std::fs::write(dir.path().join(".aws/credentials"), credentials).unwrap();
    dir
}

fn settings(extra: &[(&str, &str)]) -> Settings {
    let mut b = Settings::builder().option("bucket_name", "creds-bucket").no_globals();
    for (k, v) in extra {
        b = b.option(k, *v);
    }
    b.build().unwrap()
}

/// Today as SigV4's credential scope writes it.
fn today() -> String {
    metadata::rfc3339(SystemTime::now())[..10].replace('-', "")
}

/// Lets `d` pass for the credential cache without waiting: tokio's clock is paused, advanced
/// and resumed, and the cache's clock follows tokio's (a current-thread runtime; timers due
/// meanwhile fire, as they would have).
async fn pass(d: Duration) {
    tokio::time::pause();
    tokio::time::advance(d).await;
    tokio::time::resume();
}

async fn concurrently(provider: Arc<dyn ProvideCredentials>, n: usize) -> Vec<String> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let p = provider.clone();
            tokio::spawn(async move { p.provide().await.unwrap().access_key().to_owned() })
        })
        .collect();
    let mut keys = Vec::new();
    for t in tasks {
        keys.push(t.await.unwrap());
    }
    keys
}

fn assert_kind<T: std::fmt::Debug>(r: storages_s3::Result<T>, kind: ErrorKind) -> storages_s3::Error {
    match r {
        Err(e) => {
            assert_eq!(e.kind(), kind, "{e}");
            e
        }
        Ok(v) => panic!("expected a {kind:?} error, got {v:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn environment_variables() {
    let p = EnvironmentProvider::new(env(&[
        ("AWS_ACCESS_KEY_ID", "ENVKEY"),
        ("AWS_SECRET_ACCESS_KEY", "ENVSECRET"),
        ("AWS_SECURITY_TOKEN", "ENVTOKEN"),
    ]));
    let c = p.provide().await.unwrap();
    assert_eq!((c.access_key(), c.secret_key().expose()), ("ENVKEY", "ENVSECRET"));
    assert_eq!(c.session_token().unwrap().expose(), "ENVTOKEN");
    let e = assert_kind(
        EnvironmentProvider::new(env(&[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")]))
            .provide()
            .await,
        ErrorKind::NoCredentials,
    );
    assert!(e.to_string().contains("AWS_ACCESS_KEY_ID"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Profiles: static keys
// ---------------------------------------------------------------------------------------------

const CONFIG: &str = "\
# The shared config file, with the quirks people write.
; semicolon comment
[default]
region=us-west-2

[profile  dev ]   # a comment after the header
REGION   =   eu-west-1
output: json
s3 =
    max_concurrent_requests = 20
    aws_access_key_id = NESTEDNOTAKEY

[profile onlyregion]
region = ap-south-1

[profile halfkey]
aws_access_key_id = HALFKEY
";

const CREDENTIALS: &str = "\
[default]
aws_access_key_id     = DEFAULTKEY
aws_secret_access_key = DEFAULTSECRET

# dev has a session token; the key is typed with odd case and tabs
[dev]
AWS_Access_Key_Id\t=\tDEVKEY
aws_secret_access_key=DEVSECRET
aws_session_token =DEVTOKEN
aws_session_token_extra_unknown_key = ignored

[emptytoken]
aws_access_key_id = EKEY
aws_secret_access_key = ESECRET
aws_session_token =
";

#[tokio::test]
async fn profile_static_keys_with_comments_spacing_and_missing_keys() {
    let home = home(CONFIG, CREDENTIALS);
    let provider = |vars: &[(&str, &str)], name: Option<&str>| {
        let p = match name {
            Some(n) => ProfileProvider::named(env(vars), http(), n),
            None => ProfileProvider::new(env(vars), http()),
        };
        p.with_home(home.path())
    };

    let c = provider(&[], None).provide().await.unwrap();
    assert_eq!(
        (c.access_key(), c.secret_key().expose()),
        ("DEFAULTKEY", "DEFAULTSECRET")
    );
    assert!(c.session_token().is_none());

    let dev = provider(&[("AWS_PROFILE", "dev")], None);
    assert_eq!(dev.profile_name(), "dev");
    let c = dev.provide().await.unwrap();
    assert_eq!((c.access_key(), c.secret_key().expose()), ("DEVKEY", "DEVSECRET"));
    assert_eq!(c.session_token().unwrap().expose(), "DEVTOKEN");
    assert_eq!(c.expiry(), None);

    // An empty token is no token.
    let c = provider(&[], Some("emptytoken")).provide().await.unwrap();
    assert!(c.session_token().is_none());

    // A profile with a region only has no credentials.
    let e = assert_kind(
        provider(&[], Some("onlyregion")).provide().await,
        ErrorKind::NoCredentials,
    );
    assert!(e.to_string().contains("profile onlyregion has no credentials"), "{e}");

    // A key without its secret is a configuration error.
    let e = assert_kind(
        provider(&[], Some("halfkey")).provide().await,
        ErrorKind::InvalidSetting,
    );
    assert!(e.to_string().contains("no aws_secret_access_key"), "{e}");

    // An unknown profile: the original's ProfileNotFound, naming it.
    let e = assert_kind(provider(&[], Some("staging")).provide().await, ErrorKind::NoCredentials);
    assert_eq!(
        e.to_string(),
        "no credentials: The config profile (staging) could not be found"
    );
    let nf = std::error::Error::source(&e)
        .unwrap()
        .downcast_ref::<ProfileNotFound>()
        .unwrap();
    assert_eq!(nf.profile(), "staging");
}

#[tokio::test]
async fn profile_file_locations_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("my-creds.ini");
    let config = dir.path().join("my-config.ini");
    std::fs::write(
        &creds,
        "[ci]\naws_access_key_id = CIKEY\naws_secret_access_key = CISECRET\n",
    )
    .unwrap();
    std::fs::write(&config, "[profile ci]\nregion = eu-north-1\n[default]\n").unwrap();
    let vars = [
        ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_PROFILE", "ci"),
    ];
    // No home at all: the variables alone locate the files.
    let c = ProfileProvider::new(env(&vars), http()).provide().await.unwrap();
    assert_eq!(c.access_key(), "CIKEY");
    // `~` in a path is the home directory.
    let home = home(
        "",
        "[default]\naws_access_key_id = HOMEKEY\naws_secret_access_key = S\n",
    );
    std::fs::write(
        home.path().join("alt"),
        "[x]\naws_access_key_id = TILDEKEY\naws_secret_access_key = S\n",
    )
    .unwrap();
    let p =
        ProfileProvider::named(env(&[("AWS_SHARED_CREDENTIALS_FILE", "~/alt")]), http(), "x").with_home(home.path());
    assert_eq!(p.provide().await.unwrap().access_key(), "TILDEKEY");
    // Missing files: nothing, not an error.
    let empty = tempfile::tempdir().unwrap();
    let p = ProfileProvider::new(env(&[]), http()).with_home(empty.path());
    assert_kind(p.provide().await, ErrorKind::NoCredentials);
    // A malformed file: an error naming the line, not its content.
    let bad = home_with_credentials("[default]\naws_secret_access_key SECRETONBADLINE\n");
    let e = assert_kind(
        ProfileProvider::new(env(&[]), http())
            .with_home(bad.path())
            .provide()
            .await,
        ErrorKind::InvalidSetting,
    );
    assert!(e.to_string().contains("line 2"), "{e}");
    assert!(!format!("{e} {e:?}").contains("SECRETONBADLINE"));
}

fn home_with_credentials(credentials: &str) -> tempfile::TempDir {
    home("", credentials)
}

// ---------------------------------------------------------------------------------------------
// Profiles: credential_process
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[tokio::test]
async fn credential_process_success_and_failures() {
    let config = r#"
[profile proc]
credential_process = sh -c 'printf "%s" "{\"Version\": 1, \"AccessKeyId\": \"PROCKEY\", \"SecretAccessKey\": \"PROCSECRET\", \"SessionToken\": \"PROCTOKEN\", \"Expiration\": \"2099-01-01T00:00:00Z\"}"'

[profile echo]
credential_process = echo '{"Version": 1, "AccessKeyId": "ECHOKEY", "SecretAccessKey": "ECHOSECRET"}'

[profile fails]
credential_process = sh -c 'echo "{\"Version\": 1, \"AccessKeyId\": \"K\", \"SecretAccessKey\": \"LEAKEDSECRET\"}"; echo "token expired, run login" >&2; exit 1'

[profile badjson]
credential_process = printf '{"Version": 1, "AccessKeyId": "K", "SecretAccessKey": "HALFSECRET"'

[profile version2]
credential_process = echo '{"Version": 2, "AccessKeyId": "K", "SecretAccessKey": "S"}'

[profile slow]
credential_process = sleep 5

[profile missing]
credential_process = /nonexistent/get-creds --password hunter2
"#;
    let home = home(config, "");
    let p = |name: &str| {
        ProfileProvider::named(env(&[]), http(), name)
            .with_home(home.path())
            .with_process_timeout(Duration::from_millis(500))
    };

    let c = p("proc").provide().await.unwrap();
    assert_eq!((c.access_key(), c.secret_key().expose()), ("PROCKEY", "PROCSECRET"));
    assert_eq!(c.session_token().unwrap().expose(), "PROCTOKEN");
    assert!(c.expiry().unwrap() > SystemTime::now());
    let c = p("echo").provide().await.unwrap();
    assert_eq!((c.access_key(), c.session_token(), c.expiry()), ("ECHOKEY", None, None));

    let e = assert_kind(p("fails").provide().await, ErrorKind::InvalidResponse);
    assert_eq!(
        e.to_string(),
        "invalid response: credential_process `sh` exited with status 1: token expired, run login"
    );
    assert!(!format!("{e:?}").contains("LEAKEDSECRET"));

    let e = assert_kind(p("badjson").provide().await, ErrorKind::InvalidResponse);
    assert!(e.to_string().contains("truncated"), "{e}");
    assert!(!format!("{e} {e:?}").contains("HALFSECRET"));
    let e = assert_kind(p("version2").provide().await, ErrorKind::InvalidResponse);
    assert!(e.to_string().contains("`Version` is not 1"), "{e}");

    let started = Instant::now();
    let e = assert_kind(p("slow").provide().await, ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(e.to_string().contains("killed"), "{e}");

    // The shell reports the missing program (127); the arguments stay out of the message.
    let e = p("missing").provide().await.unwrap_err();
    assert!(e.to_string().contains("/nonexistent/get-creds"), "{e}");
    assert!(!format!("{e} {e:?}").contains("hunter2"), "{e}");

    // The provider on its own.
    let c = ProcessProvider::new("echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"B\"}'")
        .provide()
        .await
        .unwrap();
    assert_eq!(c.access_key(), "A");
}

#[cfg(unix)]
#[tokio::test]
async fn credential_process_is_rerun_once_for_concurrent_callers() {
    // The process counts its runs in a file and prints the expiry prepared for each run:
    // 3 seconds for the first, an hour after.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let now = SystemTime::now();
    std::fs::write(dir.path().join("exp0"), metadata::rfc3339(now + Duration::from_secs(3))).unwrap();
    std::fs::write(
        dir.path().join("exp1"),
        metadata::rfc3339(now + Duration::from_secs(3600)),
    )
    .unwrap();
    let command = format!(
        r#"n=$(cat {d}/count 2>/dev/null || echo 0); echo $((n+1)) > {d}/count; sleep 0.1; printf '{{"Version": 1, "AccessKeyId": "PKEY-%s", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "%s"}}' "$n" "$(cat {d}/exp$n 2>/dev/null || cat {d}/exp1)""#
    );
    let cached: Arc<dyn ProvideCredentials> = Arc::new(CachedProvider::new(Arc::new(ProcessProvider::new(command))));
    assert_eq!(cached.provide().await.unwrap().access_key(), "PKEY-0");
    assert_eq!(cached.provide().await.unwrap().access_key(), "PKEY-0");
    pass(Duration::from_millis(1600)).await;
    assert!(concurrently(cached.clone(), 12).await.iter().all(|k| k == "PKEY-1"));
    assert_eq!(std::fs::read_to_string(dir.path().join("count")).unwrap().trim(), "2");
}

// ---------------------------------------------------------------------------------------------
// Profiles: AssumeRole through STS
// ---------------------------------------------------------------------------------------------

async fn fake_sts(expires_in: Duration) -> (FakeServer, Arc<Mutex<StsLog>>) {
    let log = Arc::new(Mutex::new(StsLog::default()));
    let server = FakeServer::start(metadata::sts(
        vec![
            ("BASEKEY", "BASESECRET"),
            ("ROLEKEY-0", "ROLESECRET-0"),
            ("ENVBASEKEY", "ENVBASESECRET"),
        ],
        "eyJ-valid-token",
        expires_in,
        log.clone(),
    ))
    .await;
    (server, log)
}

const ROLE_CONFIG: &str = "\
[profile base]
region = us-west-2

[profile admin]
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = base
role_session_name = deploy@example.com
external_id = ext-123
duration_seconds = 1800
region = eu-central-1

[profile chained]
role_arn = arn:aws:iam::123456789012:role/chained
source_profile = admin

[profile fromenv]
role_arn = arn:aws:iam::123456789012:role/fromenv
credential_source = Environment
sts_regional_endpoints = legacy

[profile badsigner]
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = wrongsecret
";

const ROLE_CREDENTIALS: &str = "\
[base]
aws_access_key_id = BASEKEY
aws_secret_access_key = BASESECRET

[wrongsecret]
aws_access_key_id = BASEKEY
aws_secret_access_key = NOT-THE-SECRET
";

#[tokio::test]
async fn assume_role_is_sigv4_signed_for_sts() {
    let (sts, log) = fake_sts(Duration::from_secs(3600)).await;
    let home = home(ROLE_CONFIG, ROLE_CREDENTIALS);
    let p = ProfileProvider::named(env(&[]), http(), "admin")
        .with_home(home.path())
        .with_sts_endpoint(sts.url());
    let c = p.provide().await.unwrap();
    assert_eq!(c.access_key(), "ROLEKEY-0");
    assert_eq!(c.secret_key().expose(), "ROLESECRET-0");
    assert_eq!(c.session_token().unwrap().expose(), "ROLETOKEN-0");
    assert!(c.expiry().unwrap() > SystemTime::now() + Duration::from_secs(3000));

    let seen = &sts.requests()[0];
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/"));
    let auth = seen.header("authorization").unwrap();
    let scope = format!(
        "AWS4-HMAC-SHA256 Credential=BASEKEY/{}/eu-central-1/sts/aws4_request, ",
        today()
    );
    assert!(auth.starts_with(&scope), "{auth}");
    assert!(seen.header("x-amz-security-token").is_none());
    let log = log.lock().unwrap().clone();
    assert_eq!(log.regions, ["eu-central-1"]);
    let form = &log.calls[0];
    assert_eq!(form["Action"], "AssumeRole");
    assert_eq!(form["RoleArn"], "arn:aws:iam::123456789012:role/admin");
    assert_eq!(form["RoleSessionName"], "deploy@example.com");
    assert_eq!(form["ExternalId"], "ext-123");
    assert_eq!(form["DurationSeconds"], "1800");
}

#[tokio::test]
async fn chained_roles_and_credential_source() {
    let (sts, log) = fake_sts(Duration::from_secs(3600)).await;
    let home = home(ROLE_CONFIG, ROLE_CREDENTIALS);
    let p = ProfileProvider::named(env(&[("AWS_REGION", "ca-central-1")]), http(), "chained")
        .with_home(home.path())
        .with_sts_endpoint(sts.url());
    // admin is assumed with base's keys, then chained with admin's temporary credentials.
    assert_eq!(p.provide().await.unwrap().access_key(), "ROLEKEY-1");
    let requests = sts.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("x-amz-security-token"), Some("ROLETOKEN-0"));
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.calls[1]["RoleArn"], "arn:aws:iam::123456789012:role/chained");
    // The chained profile has no region of its own: AWS_REGION, while admin keeps its own.
    assert_eq!(seen.regions, ["eu-central-1", "ca-central-1"]);
    assert!(seen.calls[1]["RoleSessionName"].starts_with("storages-s3-"));

    // credential_source = Environment signs with the environment's keys (an endpoint override
    // is signed for the region even with legacy endpoints).
    let p = ProfileProvider::named(
        env(&[
            ("AWS_ACCESS_KEY_ID", "ENVBASEKEY"),
            ("AWS_SECRET_ACCESS_KEY", "ENVBASESECRET"),
            ("AWS_REGION", "eu-west-3"),
        ]),
        http(),
        "fromenv",
    )
    .with_home(home.path())
    .with_sts_endpoint(sts.url());
    assert_eq!(p.provide().await.unwrap().access_key(), "ROLEKEY-2");
    let requests = sts.requests();
    let auth = requests[2].header("authorization").unwrap();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=ENVBASEKEY/"), "{auth}");
    assert_eq!(log.lock().unwrap().regions[2], "eu-west-3");
}

#[tokio::test]
async fn assume_role_failures() {
    let (sts, _log) = fake_sts(Duration::from_secs(3600)).await;
    let home = home(ROLE_CONFIG, ROLE_CREDENTIALS);
    // A signature STS cannot verify.
    let p = ProfileProvider::named(env(&[]), http(), "badsigner")
        .with_home(home.path())
        .with_sts_endpoint(sts.url());
    let e = assert_kind(p.provide().await, ErrorKind::AccessDenied);
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(e.operation(), Some("AssumeRole"));
    assert!(!format!("{e} {e:?}").contains("NOT-THE-SECRET"));

    // Malformed XML, a 500 and a slow STS.
    for (reply, kind) in [
        (
            Reply::ok("<AssumeRoleResponse><AssumeRoleResult><Credentials>"),
            ErrorKind::InvalidResponse,
        ),
        (Reply::ok("{\"not\": \"xml\"}"), ErrorKind::InvalidResponse),
        (sts_error(500, "InternalFailure", "boom"), ErrorKind::Service),
    ] {
        let server = FakeServer::start(move |_| reply.clone()).await;
        let p = ProfileProvider::named(env(&[]), http(), "admin")
            .with_home(home.path())
            .with_sts_endpoint(server.url());
        assert_kind(p.provide().await, kind);
    }
    let slow = FakeServer::start(|_| {
        Reply::ok(sts_reply("AssumeRole", "K", "S", "T", Duration::from_secs(3600))).after(Duration::from_secs(10))
    })
    .await;
    let p = ProfileProvider::named(env(&[]), http(), "admin")
        .with_home(home.path())
        .with_sts_endpoint(slow.url())
        .with_sts_timeout(Duration::from_millis(500));
    let started = Instant::now();
    assert_kind(p.provide().await, ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    // Nothing listening.
    let p = ProfileProvider::named(env(&[]), http(), "admin")
        .with_home(home.path())
        .with_sts_endpoint(refused_url().await);
    assert_kind(p.provide().await, ErrorKind::Transport);
}

#[tokio::test]
async fn assumed_role_is_refreshed_once_for_concurrent_callers() {
    let (sts, _log) = fake_sts(Duration::from_secs(3)).await;
    let home = home(ROLE_CONFIG, ROLE_CREDENTIALS);
    let p = ProfileProvider::named(env(&[]), http(), "admin")
        .with_home(home.path())
        .with_sts_endpoint(sts.url());
    let cached: Arc<dyn ProvideCredentials> = Arc::new(CachedProvider::new(Arc::new(p)));
    assert_eq!(cached.provide().await.unwrap().access_key(), "ROLEKEY-0");
    assert_eq!(cached.provide().await.unwrap().access_key(), "ROLEKEY-0");
    assert_eq!(sts.count(Method::POST, "/"), 1);
    pass(Duration::from_millis(1600)).await;
    assert!(concurrently(cached.clone(), 12).await.iter().all(|k| k == "ROLEKEY-1"));
    assert_eq!(sts.count(Method::POST, "/"), 2);
}

// ---------------------------------------------------------------------------------------------
// Web identity
// ---------------------------------------------------------------------------------------------

fn web_env(token_file: &Path, extra: &[(&str, &str)]) -> Arc<dyn GlobalSource> {
    let mut vars = vec![
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/eks-app"),
    ];
    vars.extend_from_slice(extra);
    env(&vars)
}

#[tokio::test]
async fn web_identity_trades_the_token_file_and_rereads_it() {
    let (sts, log) = fake_sts(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJ-valid-token-1\n").unwrap();
    let p = WebIdentityProvider::new(web_env(&token, &[("AWS_ROLE_SESSION_NAME", "pod-a")]), http())
        .with_sts_endpoint(sts.url());
    let c = p.provide().await.unwrap();
    assert_eq!((c.access_key(), c.secret_key().expose()), ("ROLEKEY-0", "ROLESECRET-0"));
    assert_eq!(c.session_token().unwrap().expose(), "ROLETOKEN-0");
    // The platform rotates the token: the next call sends the new one.
    std::fs::write(&token, "eyJ-valid-token-2").unwrap();
    assert_eq!(p.provide().await.unwrap().access_key(), "ROLEKEY-1");
    let calls = log.lock().unwrap().calls.clone();
    assert_eq!(calls[0]["Action"], "AssumeRoleWithWebIdentity");
    assert_eq!(calls[0]["RoleArn"], "arn:aws:iam::123456789012:role/eks-app");
    assert_eq!(calls[0]["RoleSessionName"], "pod-a");
    assert_eq!(calls[0]["WebIdentityToken"], "eyJ-valid-token-1");
    assert_eq!(calls[1]["WebIdentityToken"], "eyJ-valid-token-2");
    assert!(sts.requests().iter().all(|r| r.header("authorization").is_none()));
}

#[tokio::test]
async fn web_identity_is_refreshed_once_for_concurrent_callers() {
    let (sts, _log) = fake_sts(Duration::from_secs(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "eyJ-valid-token").unwrap();
    let p = WebIdentityProvider::new(web_env(&token, &[]), http()).with_sts_endpoint(sts.url());
    let cached: Arc<dyn ProvideCredentials> = Arc::new(CachedProvider::new(Arc::new(p)));
    assert_eq!(cached.provide().await.unwrap().access_key(), "ROLEKEY-0");
    assert_eq!(cached.provide().await.unwrap().access_key(), "ROLEKEY-0");
    pass(Duration::from_millis(1600)).await;
    // The second credentials live 3 s too: all callers share the one refresh.
    assert!(concurrently(cached.clone(), 12).await.iter().all(|k| k == "ROLEKEY-1"));
    assert_eq!(sts.count(Method::POST, "/"), 2);
}

#[tokio::test]
async fn web_identity_failures() {
    let (sts, _log) = fake_sts(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "forged-token").unwrap();
    // Not configured: nothing here.
    let e = assert_kind(
        WebIdentityProvider::new(env(&[("AWS_ROLE_ARN", "arn:aws:iam::1:role/x")]), http())
            .provide()
            .await,
        ErrorKind::NoCredentials,
    );
    assert!(e.to_string().contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "{e}");
    // STS refuses the token.
    let p = WebIdentityProvider::new(web_env(&token, &[]), http()).with_sts_endpoint(sts.url());
    let e = assert_kind(p.provide().await, ErrorKind::Service);
    assert_eq!(e.code(), Some("InvalidIdentityToken"));
    assert_eq!(e.status(), Some(400));
    assert!(!format!("{e} {e:?}").contains("forged-token"));
    // A role ARN STS refuses.
    std::fs::write(&token, "eyJ-valid-token").unwrap();
    let p = WebIdentityProvider::new(
        env(&[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
            ("AWS_ROLE_ARN", "not-an-arn"),
        ]),
        http(),
    )
    .with_sts_endpoint(sts.url());
    assert_eq!(p.provide().await.unwrap_err().code(), Some("ValidationError"));
    // The token file vanished.
    let p = WebIdentityProvider::new(web_env(&dir.path().join("gone"), &[]), http()).with_sts_endpoint(sts.url());
    assert_kind(p.provide().await, ErrorKind::InvalidSetting);
    // Truncated XML; a slow STS.
    let broken = FakeServer::start(|_| Reply::ok("<AssumeRoleWithWebIdentityResponse><Assume")).await;
    let p = WebIdentityProvider::new(web_env(&token, &[]), http()).with_sts_endpoint(broken.url());
    assert_kind(p.provide().await, ErrorKind::InvalidResponse);
    let slow = FakeServer::start(|_| Reply::ok("").after(Duration::from_secs(10))).await;
    let p = WebIdentityProvider::new(web_env(&token, &[]), http())
        .with_sts_endpoint(slow.url())
        .with_timeout(Duration::from_millis(400));
    let started = Instant::now();
    assert_kind(p.provide().await, ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn web_identity_in_a_profile() {
    let (sts, log) = fake_sts(Duration::from_secs(3600)).await;
    let home = home(
        "[profile irsa]\nrole_arn = arn:aws:iam::123456789012:role/irsa\nweb_identity_token_file = ~/tok\n\
         role_session_name = from-profile\n",
        "",
    );
    std::fs::write(home.path().join("tok"), "eyJ-valid-token-profile").unwrap();
    let p = ProfileProvider::named(env(&[]), http(), "irsa")
        .with_home(home.path())
        .with_sts_endpoint(sts.url());
    assert_eq!(p.provide().await.unwrap().access_key(), "ROLEKEY-0");
    let call = log.lock().unwrap().calls[0].clone();
    assert_eq!(call["RoleArn"], "arn:aws:iam::123456789012:role/irsa");
    assert_eq!(call["RoleSessionName"], "from-profile");
    assert_eq!(call["WebIdentityToken"], "eyJ-valid-token-profile");
}

// ---------------------------------------------------------------------------------------------
// Container credentials
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn container_relative_uri_with_a_token_file_read_each_time() {
    let server = FakeServer::start(|seen| {
        if seen.path != "/v2/credentials/task-1" {
            return Reply::new(404, r#"{"code": "NotFound", "message": "no such task"}"#);
        }
        match seen.header("authorization") {
            Some(t) if t.starts_with("pod-identity-token") => Reply::ok(credentials_json(
                "CONTAINERKEY",
                "CONTAINERSECRET",
                "CONTAINERTOKEN",
                Duration::from_secs(3600),
            )),
            _ => Reply::new(401, r#"{"code": "Unauthorized"}"#),
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("eks-pod-identity-token");
    std::fs::write(&token_file, "pod-identity-token-1\n").unwrap();
    let p = ContainerProvider::new(
        env(&[
            ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/task-1"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file.to_str().unwrap()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-a-file-is-set"),
        ]),
        http(),
    )
    .with_relative_base(server.url());
    let c = p.provide().await.unwrap();
    assert_eq!(
        (c.access_key(), c.secret_key().expose()),
        ("CONTAINERKEY", "CONTAINERSECRET")
    );
    assert_eq!(c.session_token().unwrap().expose(), "CONTAINERTOKEN");
    std::fs::write(&token_file, "pod-identity-token-2").unwrap();
    p.provide().await.unwrap();
    let auth: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_owned())
        .collect();
    assert_eq!(auth, ["pod-identity-token-1", "pod-identity-token-2"]);

    // A wrong path: the endpoint's error, with its code.
    let p = ContainerProvider::new(env(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/other")]), http())
        .with_relative_base(server.url());
    let e = assert_kind(p.provide().await, ErrorKind::NotFound);
    assert_eq!(e.code(), Some("NotFound"));
}

#[tokio::test]
async fn container_full_uri_rules_and_token_variable() {
    let server = FakeServer::start(|seen| match seen.header("authorization") {
        Some("Basic static-token") => {
            Reply::ok(credentials_json("FULLKEY", "FULLSECRET", "T", Duration::from_secs(600)))
        }
        _ => Reply::new(401, ""),
    })
    .await;
    let full = format!("{}/creds", server.url());
    let p = ContainerProvider::new(
        env(&[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic static-token"),
        ]),
        http(),
    );
    assert_eq!(p.provide().await.unwrap().access_key(), "FULLKEY");
    assert_eq!(server.requests()[0].path, "/creds");
    // A token never goes in clear text to another host.
    let p = ContainerProvider::new(
        env(&[
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://metadata.example.com/creds",
            ),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic static-token"),
        ]),
        http(),
    );
    let e = assert_kind(p.provide().await, ErrorKind::InvalidSetting);
    assert!(e.to_string().contains("loopback"), "{e}");
    // Neither variable: nothing here, no request.
    assert_kind(
        ContainerProvider::new(env(&[]), http()).provide().await,
        ErrorKind::NoCredentials,
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn container_failures_are_bounded() {
    let rel = |url: &str| {
        ContainerProvider::new(env(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds")]), http())
            .with_relative_base(url.to_owned())
    };
    // 500: retried, then the error.
    let failing = FakeServer::start(|_| Reply::new(500, "")).await;
    let e = assert_kind(rel(&failing.url()).provide().await, ErrorKind::Service);
    assert_eq!(e.status(), Some(500));
    assert_eq!(failing.requests().len(), 3);
    // A 500 then a good reply: the retry succeeds.
    let flaky = FakeServer::start({
        let n = std::sync::atomic::AtomicUsize::new(0);
        move |_| {
            if n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                Reply::new(503, "")
            } else {
                Reply::ok(credentials_json("RETRIED", "S", "T", Duration::from_secs(600)))
            }
        }
    })
    .await;
    assert_eq!(rel(&flaky.url()).provide().await.unwrap().access_key(), "RETRIED");
    // Malformed JSON: not retried, and the secret in it is not quoted.
    let malformed =
        FakeServer::start(|_| Reply::ok(r#"{"AccessKeyId": "K", "SecretAccessKey": "MALFORMEDSECRET""#)).await;
    let e = assert_kind(rel(&malformed.url()).provide().await, ErrorKind::InvalidResponse);
    assert!(!format!("{e} {e:?}").contains("MALFORMEDSECRET"));
    assert_eq!(malformed.requests().len(), 1);
    // Connection refused.
    let e = assert_kind(rel(&refused_url().await).provide().await, ErrorKind::Transport);
    assert!(e.to_string().contains("connect"), "{e}");
    // A slow endpoint: the overall timeout holds.
    let slow = FakeServer::start(|_| Reply::ok("").after(Duration::from_secs(10))).await;
    let started = Instant::now();
    assert_kind(
        rel(&slow.url())
            .with_timeout(Duration::from_millis(500))
            .provide()
            .await,
        ErrorKind::Timeout,
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn container_credentials_are_refreshed_once_for_concurrent_callers() {
    let server = FakeServer::start({
        let n = std::sync::atomic::AtomicUsize::new(0);
        move |_| {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let life = if i == 0 { 3 } else { 3600 };
            Reply::ok(credentials_json(
                &format!("CKEY-{i}"),
                "S",
                "T",
                Duration::from_secs(life),
            ))
            .after(Duration::from_millis(100))
        }
    })
    .await;
    let p = ContainerProvider::new(env(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds")]), http())
        .with_relative_base(server.url());
    let cached: Arc<dyn ProvideCredentials> = Arc::new(CachedProvider::new(Arc::new(p)));
    assert_eq!(cached.provide().await.unwrap().access_key(), "CKEY-0");
    assert_eq!(cached.provide().await.unwrap().access_key(), "CKEY-0");
    pass(Duration::from_millis(1600)).await;
    assert!(concurrently(cached.clone(), 16).await.iter().all(|k| k == "CKEY-1"));
    assert_eq!(server.requests().len(), 2);
    assert_eq!(cached.provide().await.unwrap().access_key(), "CKEY-1");
    assert_eq!(server.requests().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Instance metadata (IMDSv2)
// ---------------------------------------------------------------------------------------------

fn imds_provider(url: &str) -> ImdsProvider {
    ImdsProvider::new(env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)]), http())
}

#[tokio::test]
async fn imds_v2_token_then_role_then_credentials() {
    let server = FakeServer::start(metadata::imds(|_| {
        Reply::ok(credentials_json(
            "IMDSKEY",
            "IMDSSECRET",
            "IMDSTOKEN",
            Duration::from_secs(6 * 3600),
        ))
    }))
    .await;
    let p = imds_provider(&server.url());
    let c = p.provide().await.unwrap();
    assert_eq!((c.access_key(), c.secret_key().expose()), ("IMDSKEY", "IMDSSECRET"));
    assert_eq!(c.session_token().unwrap().expose(), "IMDSTOKEN");
    assert!(c.expiry().unwrap() > SystemTime::now() + Duration::from_secs(5 * 3600));
    // The session token is kept for its TTL: a second fetch asks for none.
    p.provide().await.unwrap();
    assert_eq!(server.count(Method::PUT, "/latest/api/token"), 1);
    let gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == Method::GET)
        .collect();
    assert_eq!(
        gets.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        [
            "/latest/meta-data/iam/security-credentials/",
            &format!("/latest/meta-data/iam/security-credentials/{IMDS_ROLE}"),
            "/latest/meta-data/iam/security-credentials/",
            &format!("/latest/meta-data/iam/security-credentials/{IMDS_ROLE}"),
        ]
    );
    assert!(
        gets.iter()
            .all(|r| r.header("x-aws-ec2-metadata-token") == Some("AQAEAFakeImdsToken-0=="))
    );
    let put = &server.requests()[0];
    assert_eq!(put.header("x-aws-ec2-metadata-token-ttl-seconds"), Some("21600"));

    // The fake refuses what IMDSv2 refuses: a GET without a token, a PUT without the TTL.
    let raw = http();
    let get = http::Request::get(format!("{}/latest/meta-data/iam/security-credentials/", server.url()))
        .body(Body::from(""))
        .unwrap();
    assert_eq!(raw.send(get).await.unwrap().status(), 401);
    let put = http::Request::put(format!("{}/latest/api/token", server.url()))
        .body(Body::from(""))
        .unwrap();
    assert_eq!(raw.send(put).await.unwrap().status(), 400);
}

#[tokio::test]
async fn imds_renews_a_refused_token() {
    // The service forgets tokens (an instance restarted): the first GET with the old token
    // is refused, and the provider fetches a new one once.
    let forget = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let inner = metadata::imds(|_| Reply::ok(credentials_json("RENEWED", "S", "T", Duration::from_secs(3600))));
    let f = forget.clone();
    let server = FakeServer::start(move |seen| {
        if f.load(std::sync::atomic::Ordering::SeqCst)
            && seen.header("x-aws-ec2-metadata-token") == Some("AQAEAFakeImdsToken-0==")
        {
            return Reply::new(401, "");
        }
        inner(seen)
    })
    .await;
    let p = imds_provider(&server.url());
    p.provide().await.unwrap();
    forget.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(p.provide().await.unwrap().access_key(), "RENEWED");
    assert_eq!(server.count(Method::PUT, "/latest/api/token"), 2);
}

#[tokio::test]
async fn imds_failures() {
    // Disabled: no request at all.
    let server = FakeServer::start(metadata::imds(|_| Reply::ok(""))).await;
    let p = ImdsProvider::new(
        env(&[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &server.url()),
            ("AWS_EC2_METADATA_DISABLED", "TRUE"),
        ]),
        http(),
    );
    assert_kind(p.provide().await, ErrorKind::NoCredentials);
    assert!(server.requests().is_empty());

    // Malformed document; a failure code; a 500.
    for (reply, kind) in [
        (
            Reply::ok(r#"{"Code": "Success", "AccessKeyId": "K", "SecretAccessKey": "IMDSLEAK", "#),
            ErrorKind::InvalidResponse,
        ),
        (
            Reply::ok(r#"{"Code": "AssumeRoleUnauthorizedAccess", "Message": "x"}"#),
            ErrorKind::InvalidResponse,
        ),
        (Reply::new(500, ""), ErrorKind::Service),
    ] {
        let server = FakeServer::start(metadata::imds(move |_| reply.clone())).await;
        let e = assert_kind(imds_provider(&server.url()).provide().await, kind);
        assert!(!format!("{e} {e:?}").contains("IMDSLEAK"));
    }

    // No role attached: nothing here.
    let no_role = FakeServer::start(|seen| match seen.method {
        Method::PUT => Reply::ok("tok"),
        _ => Reply::new(404, ""),
    })
    .await;
    let e = assert_kind(imds_provider(&no_role.url()).provide().await, ErrorKind::NoCredentials);
    assert!(e.to_string().contains("no IAM role"), "{e}");

    // Nothing listening: nothing here, quickly.
    let started = Instant::now();
    let e = assert_kind(
        imds_provider(&refused_url().await).provide().await,
        ErrorKind::NoCredentials,
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<storages_s3::Error>())
            .map(|s| s.kind()),
        Some(ErrorKind::Transport)
    );

    // A service that never answers: the default one-second budget holds.
    let slow = FakeServer::start(|_| Reply::ok("tok").after(Duration::from_secs(30))).await;
    let started = Instant::now();
    let e = assert_kind(imds_provider(&slow.url()).provide().await, ErrorKind::NoCredentials);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_millis(2500),
        "{elapsed:?}"
    );
    assert!(e.to_string().contains("no service at"), "{e}");

    // AWS_METADATA_SERVICE_TIMEOUT and _NUM_ATTEMPTS.
    let p = ImdsProvider::new(
        env(&[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &slow.url()),
            ("AWS_METADATA_SERVICE_TIMEOUT", "0.2"),
            ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2"),
        ]),
        http(),
    );
    let before = slow.count(Method::PUT, "/");
    let started = Instant::now();
    assert_kind(p.provide().await, ErrorKind::NoCredentials);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(slow.count(Method::PUT, "/") - before, 2);
}

#[tokio::test]
async fn imds_credentials_are_refreshed_once_for_concurrent_callers() {
    let server = FakeServer::start(metadata::imds(|n| {
        let life = if n == 0 { 3 } else { 3600 };
        Reply::ok(credentials_json(
            &format!("IKEY-{n}"),
            "S",
            "T",
            Duration::from_secs(life),
        ))
        .after(Duration::from_millis(100))
    }))
    .await;
    let cached: Arc<dyn ProvideCredentials> = Arc::new(CachedProvider::new(Arc::new(imds_provider(&server.url()))));
    assert_eq!(cached.provide().await.unwrap().access_key(), "IKEY-0");
    assert_eq!(cached.provide().await.unwrap().access_key(), "IKEY-0");
    pass(Duration::from_millis(1600)).await;
    assert!(concurrently(cached.clone(), 16).await.iter().all(|k| k == "IKEY-1"));
    let role_path = format!("/latest/meta-data/iam/security-credentials/{IMDS_ROLE}");
    assert_eq!(server.count(Method::GET, &role_path), 2);
    assert_eq!(server.count(Method::PUT, "/latest/api/token"), 1);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_old_credentials_while_they_hold() {
    let server = FakeServer::start(metadata::imds(|n| match n {
        0 => Reply::ok(credentials_json("STILLGOOD", "S", "T", Duration::from_secs(4))),
        _ => Reply::new(500, ""),
    }))
    .await;
    let cached = CachedProvider::new(Arc::new(imds_provider(&server.url())));
    assert_eq!(cached.provide().await.unwrap().access_key(), "STILLGOOD");
    pass(Duration::from_millis(2100)).await;
    // Due for refresh, the service fails, the credentials still hold.
    assert_eq!(cached.provide().await.unwrap().access_key(), "STILLGOOD");
    pass(Duration::from_millis(2000)).await;
    // Expired now: the failure shows.
    assert_kind(cached.provide().await, ErrorKind::Service);
}

// ---------------------------------------------------------------------------------------------
// The default chain
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn static_settings_short_circuit_without_io() {
    let imds = FakeServer::start(metadata::imds(|_| Reply::ok(""))).await;
    let empty = tempfile::tempdir().unwrap();
    let s = settings(&[
        ("access_key", "SETTINGSKEY"),
        ("secret_key", "SETTINGSSECRET"),
        ("security_token", "ST"),
    ]);
    let provider = DefaultChain::new(env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url())]), http())
        .home(empty.path())
        .build(&s);
    let c = provider.provide().await.unwrap();
    assert_eq!(
        (c.access_key(), c.session_token().unwrap().expose()),
        ("SETTINGSKEY", "ST")
    );
    assert!(format!("{provider:?}").starts_with("StaticProvider"), "{provider:?}");
    assert!(imds.requests().is_empty());
}

#[tokio::test]
async fn default_chain_order_environment_then_profile_then_metadata() {
    let imds = FakeServer::start(metadata::imds(|_| {
        Reply::ok(credentials_json("FROMIMDS", "S", "T", Duration::from_secs(3600)))
    }))
    .await;
    let imds_var = ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url());
    let profile_home = home(
        "",
        "[default]\naws_access_key_id = FROMPROFILE\naws_secret_access_key = S\n",
    );
    let empty = tempfile::tempdir().unwrap();
    let s = settings(&[]);

    // Environment first.
    let p = DefaultChain::new(
        env(&[
            (imds_var.0, &imds_var.1),
            ("AWS_ACCESS_KEY_ID", "FROMENV"),
            ("AWS_SECRET_ACCESS_KEY", "S"),
        ]),
        http(),
    )
    .home(profile_home.path())
    .build(&s);
    assert_eq!(p.provide().await.unwrap().access_key(), "FROMENV");
    // Then the default profile.
    let p = DefaultChain::new(env(&[(imds_var.0, &imds_var.1)]), http())
        .home(profile_home.path())
        .build(&s);
    assert_eq!(p.provide().await.unwrap().access_key(), "FROMPROFILE");
    assert!(imds.requests().is_empty());
    // Then, with no files, web identity and container unset, instance metadata.
    let p = DefaultChain::new(env(&[(imds_var.0, &imds_var.1)]), http())
        .home(empty.path())
        .build(&s);
    assert_eq!(p.provide().await.unwrap().access_key(), "FROMIMDS");
    // The winner is remembered and cached: no more requests.
    let before = imds.requests().len();
    assert_eq!(p.provide().await.unwrap().access_key(), "FROMIMDS");
    assert_eq!(imds.requests().len(), before);
    let debug = format!("{p:?}");
    assert!(debug.contains("winner: Some(\"instance metadata\")"), "{debug}");
}

#[tokio::test]
async fn default_chain_container_and_web_identity() {
    let (sts, _log) = fake_sts(Duration::from_secs(3600)).await;
    let container =
        FakeServer::start(|_| Reply::ok(credentials_json("FROMCONTAINER", "S", "T", Duration::from_secs(3600)))).await;
    let empty = tempfile::tempdir().unwrap();
    let token = empty.path().join("token");
    std::fs::write(&token, "eyJ-valid-token").unwrap();
    let s = settings(&[]);
    let both = env(&[
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web"),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"),
    ]);
    let p = DefaultChain::new(both, http())
        .home(empty.path())
        .sts_endpoint(sts.url())
        .container_base(container.url())
        .build(&s);
    assert_eq!(p.provide().await.unwrap().access_key(), "ROLEKEY-0");
    assert!(container.requests().is_empty());
    let p = DefaultChain::new(env(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds")]), http())
        .home(empty.path())
        .container_base(container.url())
        .build(&s);
    assert_eq!(p.provide().await.unwrap().access_key(), "FROMCONTAINER");
}

#[tokio::test]
async fn nothing_found_names_every_source_within_a_second() {
    let empty = tempfile::tempdir().unwrap();
    let slow = FakeServer::start(|_| Reply::ok("").after(Duration::from_secs(30))).await;
    for endpoint in [refused_url().await, slow.url()] {
        let p = default_chain_for(
            &settings(&[]),
            env(&[
                ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint),
                ("HOME", empty.path().to_str().unwrap()),
            ]),
            http(),
        );
        let started = Instant::now();
        let e = assert_kind(p.provide().await, ErrorKind::NoCredentials);
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            e.to_string(),
            "no credentials: Unable to locate credentials (tried: environment, profile default, web identity, \
             container, instance metadata)"
        );
    }
}

#[tokio::test]
async fn an_unknown_aws_profile_stops_the_chain() {
    let imds = FakeServer::start(metadata::imds(|_| {
        Reply::ok(credentials_json("NO", "S", "T", Duration::from_secs(3600)))
    }))
    .await;
    let home = home(CONFIG, CREDENTIALS);
    let p = DefaultChain::new(
        env(&[
            ("AWS_PROFILE", "typo"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url()),
        ]),
        http(),
    )
    .home(home.path())
    .build(&settings(&[]));
    let e = assert_kind(p.provide().await, ErrorKind::NoCredentials);
    assert!(
        e.to_string().contains("The config profile (typo) could not be found"),
        "{e}"
    );
    assert!(imds.requests().is_empty());
}

#[tokio::test]
async fn session_profile_is_the_only_source() {
    let imds = FakeServer::start(metadata::imds(|_| {
        Reply::ok(credentials_json("NO", "S", "T", Duration::from_secs(3600)))
    }))
    .await;
    let home = home(CONFIG, CREDENTIALS);
    let vars = env(&[
        ("AWS_ACCESS_KEY_ID", "AMBIENTKEY"),
        ("AWS_SECRET_ACCESS_KEY", "AMBIENTSECRET"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url()),
    ]);
    let p = DefaultChain::new(vars.clone(), http())
        .home(home.path())
        .build(&settings(&[("session_profile", "dev")]));
    assert_eq!(p.provide().await.unwrap().access_key(), "DEVKEY");
    // A profile without credentials does not fall back to the environment or metadata.
    let p = DefaultChain::new(vars.clone(), http())
        .home(home.path())
        .build(&settings(&[("session_profile", "onlyregion")]));
    assert_kind(p.provide().await, ErrorKind::NoCredentials);
    let p = DefaultChain::new(vars, http())
        .home(home.path())
        .build(&settings(&[("session_profile", "nope")]));
    let e = assert_kind(p.provide().await, ErrorKind::NoCredentials);
    assert!(e.to_string().contains("(nope)"), "{e}");
    assert!(imds.requests().is_empty());
}

#[tokio::test]
async fn custom_chains_and_the_s3_client() {
    // A chain of one's own, handed to a storage.
    let chain = CredentialsChain::new().push(
        "fixed",
        Arc::new(storages_s3::credentials::StaticProvider::new(Credentials::new(
            "CUSTOM", "S",
        ))),
    );
    assert_eq!(chain.sources(), ["fixed"]);
    let provider: Arc<dyn ProvideCredentials> = Arc::new(CachedProvider::new(Arc::new(chain)));
    let bed = crate::common::Bed::new().await;
    let mut o = bed.options(&crate::common::unique_bucket("customcreds"), crate::common::Style::Path);
    o.remove("access_key");
    o.remove("secret_key");
    let storage = storages_s3::S3Storage::builder()
        .options(o)
        .no_globals()
        .credentials(provider)
        .build()
        .unwrap();
    // The in-process server knows only its own key: the custom one is what was sent.
    if bed.checks_signatures() {
        let e = storage.client().create_bucket().await.unwrap_err();
        assert!(e.is_access_denied(), "{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets never show
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[tokio::test]
async fn no_secret_in_any_error_or_debug_output() {
    const SECRETS: &[&str] = &[
        "ENV-SECRET-7f3a",
        "ENV-TOKEN-7f3a",
        "PROFILE-SECRET-7f3a",
        "PROFILE-TOKEN-7f3a",
        "HALF-SECRET-7f3a",
        "PROCESS-SECRET-7f3a",
        "PROCESS-FAIL-SECRET-7f3a",
        "PROCESS-ARG-SECRET-7f3a",
        "CONTAINER-AUTH-7f3a",
        "CONTAINER-SECRET-7f3a",
        "CONTAINER-BAD-SECRET-7f3a",
        "IMDS-SECRET-7f3a",
        "IMDS-TOKEN-7f3a",
        "IMDS-BAD-SECRET-7f3a",
        "WEB-TOKEN-7f3a",
        "STS-SECRET-7f3a",
        "STS-BAD-SECRET-7f3a",
        "BASESECRET",
        "ROLESECRET-0",
        "ROLETOKEN-0",
        // The IMDS session token of the fake service.
        "AQAEAFakeImdsToken",
    ];
    let mut out: Vec<String> = Vec::new();
    let mut record = |what: &dyn std::fmt::Debug, r: &storages_s3::Result<Credentials>| {
        out.push(format!("{what:?}"));
        match r {
            Ok(c) => out.push(format!("{c:?}")),
            Err(e) => {
                out.push(format!("{e}"));
                out.push(format!("{e:?}"));
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    out.push(format!("{s} {s:?}"));
                    source = s.source();
                }
            }
        }
    };

    // Environment: good and partial.
    let good_env = env(&[
        ("AWS_ACCESS_KEY_ID", "AK"),
        ("AWS_SECRET_ACCESS_KEY", "ENV-SECRET-7f3a"),
        ("AWS_SESSION_TOKEN", "ENV-TOKEN-7f3a"),
    ]);
    let p = EnvironmentProvider::new(good_env.clone());
    record(&p, &p.provide().await);
    let p = EnvironmentProvider::new(env(&[("AWS_SECRET_ACCESS_KEY", "ENV-SECRET-7f3a")]));
    record(&p, &p.provide().await);

    // Profiles: static, partial, malformed file, process success and failure, assume role.
    let (sts, _log) = fake_sts(Duration::from_secs(3600)).await;
    let home = home(
        "[profile proc]\ncredential_process = echo '{\"Version\": 1, \"AccessKeyId\": \"P\", \"SecretAccessKey\": \"PROCESS-SECRET-7f3a\"}'\n\
         [profile procfail]\ncredential_process = sh -c 'echo \"{\\\"SecretAccessKey\\\": \\\"PROCESS-FAIL-SECRET-7f3a\\\"}\"; exit 2' PROCESS-ARG-SECRET-7f3a\n\
         [profile procbad]\ncredential_process = echo '{\"Version\": 1, \"AccessKeyId\": \"P\", \"SecretAccessKey\": \"PROCESS-SECRET-7f3a\"'\n\
         [profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n\
         [profile rolebad]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = wrong\n",
        "[default]\naws_access_key_id = PK\naws_secret_access_key = PROFILE-SECRET-7f3a\naws_session_token = PROFILE-TOKEN-7f3a\n\
         [half]\naws_secret_access_key = HALF-SECRET-7f3a\n\
         [base]\naws_access_key_id = BASEKEY\naws_secret_access_key = BASESECRET\n\
         [wrong]\naws_access_key_id = BASEKEY\naws_secret_access_key = STS-BAD-SECRET-7f3a\n",
    );
    for name in [
        "default", "half", "proc", "procfail", "procbad", "role", "rolebad", "absent",
    ] {
        let p = ProfileProvider::named(env(&[]), http(), name)
            .with_home(home.path())
            .with_sts_endpoint(sts.url());
        record(&p, &p.provide().await);
    }
    let bad_file = home_with_credentials("[default]\nPROFILE-SECRET-7f3a\n");
    let p = ProfileProvider::new(env(&[]), http()).with_home(bad_file.path());
    record(&p, &p.provide().await);

    // STS replies with a secret, and a truncated one.
    for body in [
        sts_reply("AssumeRoleWithWebIdentity", "WK", "STS-SECRET-7f3a", "T", Duration::from_secs(3600)),
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><SecretAccessKey>STS-SECRET-7f3a"
            .to_owned(),
    ] {
        let server = FakeServer::start(move |_| Reply::ok(body.clone())).await;
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("t");
        std::fs::write(&token, "WEB-TOKEN-7f3a").unwrap();
        let p = WebIdentityProvider::new(web_env(&token, &[]), http()).with_sts_endpoint(server.url());
        record(&p, &p.provide().await);
    }
    // STS refusing the web token.
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("t");
    std::fs::write(&token, "WEB-TOKEN-7f3a").unwrap();
    let p = WebIdentityProvider::new(web_env(&token, &[]), http()).with_sts_endpoint(sts.url());
    record(&p, &p.provide().await);

    // Container: good, malformed, refused, with the authorization token.
    for body in [
        credentials_json("CK", "CONTAINER-SECRET-7f3a", "T", Duration::from_secs(3600)),
        r#"{"AccessKeyId": "CK", "SecretAccessKey": "CONTAINER-BAD-SECRET-7f3a", "Expiration": 5}"#.to_owned(),
    ] {
        let server = FakeServer::start(move |_| Reply::ok(body.clone())).await;
        let p = ContainerProvider::new(
            env(&[
                ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "CONTAINER-AUTH-7f3a"),
            ]),
            http(),
        )
        .with_relative_base(server.url());
        record(&p, &p.provide().await);
    }
    let p = ContainerProvider::new(
        env(&[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/c"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "CONTAINER-AUTH-7f3a"),
        ]),
        http(),
    );
    record(&p, &p.provide().await);

    // IMDS: good, malformed, and a token the service returns that is a secret too.
    for body in [
        credentials_json("IK", "IMDS-SECRET-7f3a", "IMDS-TOKEN-7f3a", Duration::from_secs(3600)),
        r#"{"Code": "Success", "AccessKeyId": "IK", "SecretAccessKey": "IMDS-BAD-SECRET-7f3a", "Token": 1}"#.to_owned(),
    ] {
        let server = FakeServer::start(metadata::imds(move |_| Reply::ok(body.clone()))).await;
        let p = imds_provider(&server.url());
        record(&p, &p.provide().await);
    }

    // A whole chain, cached, after it found credentials, and the failing default chain.
    let imds = FakeServer::start(metadata::imds(|_| {
        Reply::ok(credentials_json(
            "IK",
            "IMDS-SECRET-7f3a",
            "IMDS-TOKEN-7f3a",
            Duration::from_secs(3600),
        ))
    }))
    .await;
    let empty = tempfile::tempdir().unwrap();
    let chain = DefaultChain::new(env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url())]), http())
        .home(empty.path())
        .build(&settings(&[]));
    let r = chain.provide().await;
    record(&chain, &r);
    let chain = DefaultChain::new(good_env, http())
        .home(empty.path())
        .build(&settings(&[]));
    let r = chain.provide().await;
    record(&chain, &r);
    let s = settings(&[
        ("access_key", "SK"),
        ("secret_key", "ENV-SECRET-7f3a"),
        ("security_token", "ENV-TOKEN-7f3a"),
    ]);
    let chain = DefaultChain::new(env(&[]), http()).build(&s);
    let r = chain.provide().await;
    record(&chain, &r);
    let dc = DefaultChain::new(env(&[]), http());
    out.push(format!("{dc:?} {s:?}"));

    let all = out.join("\n");
    assert!(
        all.contains("ROLEKEY-0") && all.contains("IK") && all.contains("PK"),
        "{all}"
    );
    for secret in SECRETS {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}
