//! Where keys come from.
//!
//! [`Credentials`] are what requests are signed with; a [`ProvideCredentials`] yields them
//! (possibly from the network, possibly temporary). Settings give static credentials
//! (`access_key`/`secret_key`/`security_token`, from options or `AWS_S3_ACCESS_KEY_ID`,
//! `AWS_ACCESS_KEY_ID`, ...); without them, the [`DefaultChain`] looks where the AWS SDKs look:
//!
//! - [`EnvironmentProvider`]: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
//! - [`ProfileProvider`]: `~/.aws/config` and `~/.aws/credentials` (static keys, assume role,
//!   `credential_process`, web identity);
//! - [`WebIdentityProvider`]: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` through STS;
//! - [`ContainerProvider`]: the ECS / EKS Pod Identity credentials endpoint;
//! - [`ImdsProvider`]: EC2 instance metadata (IMDSv2);
//!
//! in a [`CredentialsChain`] behind a [`CachedProvider`] that refreshes temporary credentials
//! before they expire. Every provider reads the environment through a
//! [`GlobalSource`](crate::config::GlobalSource), so tests (and servers with their own
//! configuration) never depend on the process environment.
//!
//! Nothing here prints a secret: `Debug` of every type hides secret keys and tokens, and
//! errors name variables, files and fields, never their values.

mod cache;
mod chain;
#[cfg(feature = "credentials-container")]
mod container;
mod env;
#[cfg(feature = "credentials-imds")]
mod imds;
#[cfg(feature = "credentials-profile")]
mod process;
#[cfg(feature = "credentials-profile")]
mod profile;
#[cfg(feature = "credentials-profile")]
mod sts;
mod util;
#[cfg(feature = "credentials-profile")]
mod web_identity;

pub use cache::CachedProvider;
pub use chain::{CredentialsChain, DefaultChain};
pub(crate) use chain::{default_chain, http_config};
#[cfg(feature = "credentials-container")]
pub use container::ContainerProvider;
pub use env::EnvironmentProvider;
#[cfg(feature = "credentials-imds")]
pub use imds::ImdsProvider;
#[cfg(feature = "credentials-profile")]
pub use process::ProcessProvider;
#[cfg(feature = "credentials-profile")]
pub use profile::{ProfileNotFound, ProfileProvider};
#[cfg(feature = "credentials-profile")]
pub use web_identity::WebIdentityProvider;

/// Pure parsers of the credential documents, for tests and fuzzing. Malformed or hostile
/// input is an [`ErrorKind::InvalidResponse`] error, never a panic.
#[cfg(feature = "fuzzing")]
pub(crate) mod parse {
    #[cfg(feature = "credentials-profile")]
    use super::Credentials;

    #[cfg(feature = "credentials-container")]
    pub use super::container::parse as container;
    #[cfg(feature = "credentials-imds")]
    pub use super::imds::{parse as instance_metadata, parse_role_name as instance_metadata_role};
    #[cfg(feature = "credentials-profile")]
    pub use super::process::parse as credential_process;

    /// The reply of STS `AssumeRole` (an `<ErrorResponse>` is the service error it reports).
    #[cfg(feature = "credentials-profile")]
    pub fn sts_assume_role(xml: &[u8]) -> crate::Result<Credentials> {
        super::sts::parse_credentials("AssumeRole", xml)
    }

    /// The reply of STS `AssumeRoleWithWebIdentity`.
    #[cfg(feature = "credentials-profile")]
    pub fn sts_web_identity(xml: &[u8]) -> crate::Result<Credentials> {
        super::sts::parse_credentials("AssumeRoleWithWebIdentity", xml)
    }
}

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use crate::config::{Secret, Settings};
use crate::error::{Error, ErrorKind, Result};

/// An access key, its secret, and for temporary credentials a session token and expiry.
/// `Debug` never shows the secret or the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key: String,
    secret_key: Secret,
    session_token: Option<Secret>,
    expiry: Option<SystemTime>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key)
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("expiry", &self.expiry)
            .finish()
    }
}

impl Credentials {
    /// Long-term credentials.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<Secret>) -> Self {
        Credentials {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            session_token: None,
            expiry: None,
        }
    }

    /// Adds a session token (temporary credentials).
    pub fn with_session_token(mut self, token: impl Into<Secret>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    /// Sets when these credentials stop working.
    pub fn with_expiry(mut self, expiry: SystemTime) -> Self {
        self.expiry = Some(expiry);
        self
    }

    /// The access key id.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret access key.
    pub fn secret_key(&self) -> &Secret {
        &self.secret_key
    }

    /// The session token of temporary credentials.
    pub fn session_token(&self) -> Option<&Secret> {
        self.session_token.as_ref()
    }

    /// When temporary credentials expire.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.expiry
    }

    /// The static credentials the settings give, if any.
    pub(crate) fn from_settings(settings: &Settings) -> Option<Credentials> {
        let key = settings.access_key.as_deref().filter(|k| !k.is_empty())?;
        let secret = settings.secret_key.clone().filter(|s| !s.is_empty())?;
        let mut c = Credentials::new(key, secret);
        if let Some(token) = settings.security_token.clone().filter(|t| !t.is_empty()) {
            c = c.with_session_token(token);
        }
        Some(c)
    }
}

/// A boxed future, as providers return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that yields credentials (static keys, a profile, a metadata service, ...).
pub trait ProvideCredentials: fmt::Debug + Send + Sync {
    /// Current credentials, or an error (`NoCredentials` when this source has none).
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>>;
}

/// Fixed credentials.
#[derive(Debug, Clone)]
pub struct StaticProvider(Credentials);

impl StaticProvider {
    /// A provider that always yields these credentials.
    pub fn new(credentials: Credentials) -> Self {
        StaticProvider(credentials)
    }
}

impl ProvideCredentials for StaticProvider {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        let c = self.0.clone();
        Box::pin(async move { Ok(c) })
    }
}

/// A provider that has nothing: every signed request fails with `NoCredentials`, naming
/// the sources that were tried.
#[derive(Debug, Clone)]
pub struct NoProvider {
    tried: String,
}

impl NoProvider {
    /// No credentials, after trying `tried`.
    pub fn new(tried: impl Into<String>) -> Self {
        NoProvider { tried: tried.into() }
    }
}

impl ProvideCredentials for NoProvider {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        let tried = self.tried.clone();
        Box::pin(async move {
            Err(Error::new(
                ErrorKind::NoCredentials,
                format!("Unable to locate credentials (tried: {tried})"),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret_and_token() {
        let c = Credentials::new("AKID", "SECRETVALUE").with_session_token("TOKENVALUE");
        let d = format!("{c:?}");
        assert!(
            d.contains("AKID") && !d.contains("SECRETVALUE") && !d.contains("TOKENVALUE"),
            "{d}"
        );
    }

    #[tokio::test]
    async fn no_provider_is_a_typed_error() {
        let e = NoProvider::new("settings, environment").provide().await.unwrap_err();
        assert!(e.is_no_credentials());
        assert!(e.to_string().contains("Unable to locate credentials"));
    }
}
