//! The chain of credential sources, and the default chain of SPEC §2.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::cache::CachedProvider;
#[cfg(feature = "credentials-container")]
use super::container::ContainerProvider;
use super::env::EnvironmentProvider;
#[cfg(feature = "credentials-imds")]
use super::imds::ImdsProvider;
#[cfg(feature = "credentials-profile")]
use super::profile::{ProfileNotFound, ProfileProvider};
#[cfg(feature = "credentials-profile")]
use super::web_identity::WebIdentityProvider;
use super::{BoxFuture, Credentials, ProvideCredentials, StaticProvider};
use crate::config::{GlobalSource, Settings};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{HttpClient, HttpConfig};

/// Tries sources in order; the first that yields credentials wins and is asked alone from
/// then on.
///
/// A source that has nothing ([`ErrorKind::NoCredentials`]) passes to the next. Any other
/// error stops the chain and is returned: a source that is set up but broken (a profile
/// whose role cannot be assumed, a container endpoint that fails) must not silently give way
/// to another identity. A profile asked for by name that does not exist
/// ([`ProfileNotFound`]) stops it too. When no source has credentials the error names them
/// all: `Unable to locate credentials (tried: environment, profile default, ...)`.
///
/// The chain does not cache: wrap it in a [`CachedProvider`] (as [`DefaultChain::build`] does).
pub struct CredentialsChain {
    links: Vec<(Cow<'static, str>, Arc<dyn ProvideCredentials>)>,
    winner: std::sync::Mutex<Option<usize>>,
}

impl fmt::Debug for CredentialsChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let winner = *self.winner.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("CredentialsChain")
            .field("sources", &self.links.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .field("providers", &self.links.iter().map(|(_, p)| p).collect::<Vec<_>>())
            .field("winner", &winner.map(|i| &self.links[i].0))
            .finish()
    }
}

impl Default for CredentialsChain {
    fn default() -> Self {
        Self::new()
    }
}

impl CredentialsChain {
    /// An empty chain.
    pub fn new() -> Self {
        CredentialsChain {
            links: Vec::new(),
            winner: std::sync::Mutex::new(None),
        }
    }

    /// Appends a source, with the name errors give it.
    pub fn push(mut self, name: impl Into<Cow<'static, str>>, provider: Arc<dyn ProvideCredentials>) -> Self {
        self.links.push((name.into(), provider));
        self
    }

    /// The names of the sources, in order.
    pub fn sources(&self) -> Vec<&str> {
        self.links.iter().map(|(n, _)| n.as_ref()).collect()
    }

    /// The source that yielded credentials, once one has.
    pub fn winner(&self) -> Option<&str> {
        let w = *self.winner.lock().unwrap_or_else(|p| p.into_inner());
        w.map(|i| self.links[i].0.as_ref())
    }

    async fn load(&self) -> Result<Credentials> {
        let winner = *self.winner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = winner {
            return self.links[i].1.provide().await;
        }
        for (i, (_, provider)) in self.links.iter().enumerate() {
            match provider.provide().await {
                Ok(c) => {
                    *self.winner.lock().unwrap_or_else(|p| p.into_inner()) = Some(i);
                    return Ok(c);
                }
                Err(e) if e.kind() == ErrorKind::NoCredentials && !is_profile_not_found(&e) => {}
                Err(e) => return Err(e),
            }
        }
        let tried: Vec<&str> = self.links.iter().map(|(n, _)| n.as_ref()).collect();
        Err(Error::new(
            ErrorKind::NoCredentials,
            format!("Unable to locate credentials (tried: {})", tried.join(", ")),
        ))
    }
}

fn is_profile_not_found(e: &Error) -> bool {
    #[cfg(feature = "credentials-profile")]
    return std::error::Error::source(e).is_some_and(|s| s.is::<ProfileNotFound>());
    #[cfg(not(feature = "credentials-profile"))]
    return {
        let _ = e;
        false
    };
}

impl ProvideCredentials for CredentialsChain {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.load())
    }
}

/// The transport settings for credential services: the storage's resolve overrides, short
/// timeouts (1 s to connect, 5 s to read), and neither the storage's proxies nor its `verify`
/// setting, which are S3's (as in the original, where they configure the S3 client only).
pub(crate) fn http_config(settings: &Settings) -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(1),
        read_timeout: Duration::from_secs(5),
        resolve: settings.resolve.0.clone(),
        max_idle_per_host: 2,
        ..HttpConfig::default()
    }
}

/// Builds the default chain with overrides (a home directory, local endpoints for tests).
///
/// ```no_run
/// use std::collections::HashMap;
/// use std::sync::Arc;
/// use storages_s3::credentials::DefaultChain;
/// use storages_s3::http::{HttpClient, HttpConfig};
///
/// # fn demo(settings: &storages_s3::Settings) -> storages_s3::Result<()> {
/// let env: HashMap<String, String> = HashMap::from([("AWS_PROFILE".into(), "ci".into())]);
/// let provider = DefaultChain::new(Arc::new(env), HttpClient::new(&HttpConfig::default())?)
///     .home("/srv/app")
///     .build(settings);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DefaultChain {
    env: Arc<dyn GlobalSource>,
    #[cfg_attr(
        not(any(
            feature = "credentials-profile",
            feature = "credentials-container",
            feature = "credentials-imds"
        )),
        allow(dead_code)
    )]
    http: HttpClient,
    home: Option<PathBuf>,
    sts_endpoint: Option<String>,
    container_base: Option<String>,
    imds_endpoint: Option<String>,
    imds_timeout: Option<Duration>,
    refresh_window: Duration,
}

impl fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultChain")
            .field("home", &self.home)
            .field("sts_endpoint", &self.sts_endpoint)
            .field("container_base", &self.container_base)
            .field("imds_endpoint", &self.imds_endpoint)
            .finish_non_exhaustive()
    }
}

impl DefaultChain {
    /// Sources reading `env`, calling services through `http`.
    pub fn new(env: Arc<dyn GlobalSource>, http: HttpClient) -> Self {
        DefaultChain {
            env,
            http,
            home: None,
            sts_endpoint: None,
            container_base: None,
            imds_endpoint: None,
            imds_timeout: None,
            refresh_window: super::cache::REFRESH_WINDOW,
        }
    }

    /// The home directory of `.aws/` (default: `HOME` of the environment).
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// STS's URL (default: regional endpoints).
    pub fn sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.sts_endpoint = Some(url.into());
        self
    }

    /// Base of `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (default `http://169.254.170.2`).
    pub fn container_base(mut self, base: impl Into<String>) -> Self {
        self.container_base = Some(base.into());
        self
    }

    /// The instance metadata service (default: `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else
    /// `http://169.254.169.254`).
    pub fn imds_endpoint(mut self, url: impl Into<String>) -> Self {
        self.imds_endpoint = Some(url.into());
        self
    }

    /// Time allowed to the instance metadata service (default 1 s).
    pub fn imds_timeout(mut self, timeout: Duration) -> Self {
        self.imds_timeout = Some(timeout);
        self
    }

    /// Refresh temporary credentials this long before they expire (default 5 minutes).
    pub fn refresh_window(mut self, window: Duration) -> Self {
        self.refresh_window = window;
        self
    }

    #[cfg(feature = "credentials-container")]
    fn container(&self) -> ContainerProvider {
        let c = ContainerProvider::new(self.env.clone(), self.http.clone());
        match &self.container_base {
            Some(b) => c.with_relative_base(b.clone()),
            None => c,
        }
    }

    #[cfg(feature = "credentials-imds")]
    fn imds(&self) -> ImdsProvider {
        let mut i = ImdsProvider::new(self.env.clone(), self.http.clone());
        if let Some(e) = &self.imds_endpoint {
            i = i.with_endpoint(e.clone());
        }
        if let Some(t) = self.imds_timeout {
            i = i.with_timeout(t);
        }
        i
    }

    #[cfg(feature = "credentials-profile")]
    fn profile(&self, name: Option<&str>) -> ProfileProvider {
        let mut p = match name {
            Some(n) => ProfileProvider::named(self.env.clone(), self.http.clone(), n),
            None => ProfileProvider::new(self.env.clone(), self.http.clone()),
        };
        if let Some(h) = &self.home {
            p = p.with_home(h.clone());
        }
        if let Some(e) = &self.sts_endpoint {
            p = p.with_sts_endpoint(e.clone());
        }
        #[cfg(feature = "credentials-container")]
        let p = p.with_container(self.container());
        #[cfg(feature = "credentials-imds")]
        let p = p.with_imds(self.imds());
        p
    }

    /// The chain of SPEC §2 for these settings:
    ///
    /// 1. static credentials of the settings (`access_key` + `secret_key` [+
    ///    `security_token`]), without any I/O;
    /// 2. else, with `session_profile`: that profile alone;
    /// 3. else environment → profile (`AWS_PROFILE`, else `default`) → web identity →
    ///    container → instance metadata, the first source with credentials winning.
    ///
    /// Profiles and network sources are cached and refreshed before expiry.
    pub fn build(&self, settings: &Settings) -> Arc<dyn ProvideCredentials> {
        if let Some(c) = Credentials::from_settings(settings) {
            return Arc::new(StaticProvider::new(c));
        }
        if let Some(name) = settings
            .session_profile
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            #[cfg(feature = "credentials-profile")]
            return Arc::new(
                CachedProvider::new(Arc::new(self.profile(Some(name)))).with_refresh_window(self.refresh_window),
            );
            #[cfg(not(feature = "credentials-profile"))]
            return Arc::new(Unavailable(format!(
                "session_profile `{name}` needs the crate's `credentials-profile` feature, which this build leaves out"
            )));
        }
        let chain = CredentialsChain::new().push("environment", Arc::new(EnvironmentProvider::new(self.env.clone())));
        #[cfg(feature = "credentials-profile")]
        let chain = {
            let profile = self.profile(None);
            let profile_name = format!("profile {}", profile.profile_name());
            let mut web = WebIdentityProvider::new(self.env.clone(), self.http.clone());
            if let Some(e) = &self.sts_endpoint {
                web = web.with_sts_endpoint(e.clone());
            }
            chain
                .push(profile_name, Arc::new(profile))
                .push("web identity", Arc::new(web))
        };
        #[cfg(feature = "credentials-container")]
        let chain = chain.push("container", Arc::new(self.container()));
        #[cfg(feature = "credentials-imds")]
        let chain = chain.push("instance metadata", Arc::new(self.imds()));
        Arc::new(CachedProvider::new(Arc::new(chain)).with_refresh_window(self.refresh_window))
    }
}

/// A source this build leaves out, asked for by the settings: its error says which feature.
#[cfg(not(feature = "credentials-profile"))]
#[derive(Debug)]
struct Unavailable(String);

#[cfg(not(feature = "credentials-profile"))]
impl ProvideCredentials for Unavailable {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        let message = self.0.clone();
        Box::pin(async move { Err(Error::new(ErrorKind::InvalidSetting, message)) })
    }
}

/// The credentials of SPEC §2 for `settings`: see [`DefaultChain::build`]. `globals` is where
/// the environment is read; `http` calls STS and the metadata services (built from
/// [`http_config`]).
pub(crate) fn default_chain(
    settings: &Settings,
    globals: Arc<dyn GlobalSource>,
    http: HttpClient,
) -> Arc<dyn ProvideCredentials> {
    DefaultChain::new(globals, http).build(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::NoProvider;

    #[derive(Debug)]
    struct Fails(ErrorKind);

    impl ProvideCredentials for Fails {
        fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
            let kind = self.0;
            Box::pin(async move { Err(Error::new(kind, "failed")) })
        }
    }

    #[derive(Debug, Default)]
    struct Counts(std::sync::atomic::AtomicUsize);

    impl ProvideCredentials for Counts {
        fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Box::pin(async { Ok(Credentials::new("COUNTED", "s")) })
        }
    }

    #[tokio::test]
    async fn first_source_with_credentials_wins_and_is_remembered() {
        let first = Arc::new(Counts::default());
        let chain = CredentialsChain::new()
            .push("a", Arc::new(NoProvider::new("a")))
            .push("b", first.clone())
            .push("c", Arc::new(Fails(ErrorKind::Transport)));
        assert_eq!(chain.provide().await.unwrap().access_key(), "COUNTED");
        assert_eq!(chain.winner(), Some("b"));
        assert_eq!(chain.provide().await.unwrap().access_key(), "COUNTED");
        assert_eq!(first.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn nothing_found_names_every_source() {
        let chain = CredentialsChain::new()
            .push("environment", Arc::new(NoProvider::new("x")))
            .push("profile default", Arc::new(NoProvider::new("y")));
        let e = chain.provide().await.unwrap_err();
        assert!(e.is_no_credentials());
        assert_eq!(
            e.to_string(),
            "no credentials: Unable to locate credentials (tried: environment, profile default)"
        );
        assert_eq!(chain.winner(), None);
    }

    #[tokio::test]
    async fn a_broken_source_stops_the_chain() {
        let later = Arc::new(Counts::default());
        let chain = CredentialsChain::new()
            .push("broken", Arc::new(Fails(ErrorKind::InvalidResponse)))
            .push("later", later.clone());
        assert_eq!(chain.provide().await.unwrap_err().kind(), ErrorKind::InvalidResponse);
        assert_eq!(later.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[test]
    fn credential_services_do_not_inherit_s3_transport_settings() {
        let settings = Settings::builder()
            .option("bucket_name", "bucket")
            .option("proxies", r#"{"https": "http://proxy.example:3128"}"#)
            .option("verify", "false")
            .no_globals()
            .build()
            .unwrap();
        let c = http_config(&settings);
        assert!(c.proxies.https.is_none());
        assert!(matches!(c.verify, crate::config::Verify::Default));
        assert!(c.connect_timeout <= Duration::from_secs(1));
    }

    /// The chain holds the sources this build has, in SPEC §2's order; a `session_profile`
    /// in a build without profiles is a setting error that names the feature.
    #[tokio::test]
    async fn the_default_chain_has_the_sources_the_build_has() {
        use std::collections::HashMap;
        let env: Arc<dyn GlobalSource> = Arc::new(HashMap::<String, String>::new());
        let http = HttpClient::new(&HttpConfig::default()).unwrap();
        let settings = Settings::builder()
            .option("bucket_name", "b-1")
            .no_globals()
            .build()
            .unwrap();
        let chain = DefaultChain::new(env.clone(), http.clone())
            .home("/nonexistent")
            .build(&settings);
        let mut expected = vec!["environment"];
        if cfg!(feature = "credentials-profile") {
            expected.extend(["profile default", "web identity"]);
        }
        if cfg!(feature = "credentials-container") {
            expected.push("container");
        }
        if cfg!(feature = "credentials-imds") {
            expected.push("instance metadata");
        }
        let debug = format!("{chain:?}");
        for source in &expected {
            assert!(debug.contains(&format!("{source:?}")), "{source} in {debug}");
        }
        let named = Settings::builder()
            .option("bucket_name", "b-1")
            .option("session_profile", "ci")
            .no_globals()
            .build()
            .unwrap();
        let e = DefaultChain::new(env, http)
            .home("/nonexistent")
            .build(&named)
            .provide()
            .await
            .unwrap_err();
        if cfg!(feature = "credentials-profile") {
            assert_eq!(e.kind(), ErrorKind::NoCredentials, "{e}");
        } else {
            assert_eq!(e.kind(), ErrorKind::InvalidSetting, "{e}");
            assert!(e.to_string().contains("credentials-profile"), "{e}");
        }
    }
}
