//! Web identity federation (EKS IRSA and the like): `AWS_WEB_IDENTITY_TOKEN_FILE` +
//! `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`) traded for temporary credentials with STS
//! `AssumeRoleWithWebIdentity`. The token file is read again on every refresh (the platform
//! rotates it).

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::sts::{self, StsEndpoint};
use super::util::{default_session_name, expand_home, home_dir, not_configured, read_token_file, var};
use super::{BoxFuture, Credentials, ProvideCredentials};
use crate::config::GlobalSource;
use crate::error::{Error, ErrorKind, Result};
use crate::http::HttpClient;

/// Longest wait for an STS reply, by default.
pub(crate) const STS_TIMEOUT: Duration = Duration::from_secs(5);

/// Credentials for the role of `AWS_ROLE_ARN`, by the token in `AWS_WEB_IDENTITY_TOKEN_FILE`.
/// When either variable is unset this source has nothing ([`ErrorKind::NoCredentials`]).
#[derive(Clone)]
pub struct WebIdentityProvider {
    env: Arc<dyn GlobalSource>,
    http: HttpClient,
    sts_endpoint: Option<String>,
    timeout: Duration,
}

impl fmt::Debug for WebIdentityProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentityProvider")
            .field("sts_endpoint", &self.sts_endpoint)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WebIdentityProvider {
    /// A provider reading its variables from `env`, calling STS through `http`.
    pub fn new(env: Arc<dyn GlobalSource>, http: HttpClient) -> Self {
        WebIdentityProvider {
            env,
            http,
            sts_endpoint: None,
            timeout: STS_TIMEOUT,
        }
    }

    /// Calls STS at this URL instead of the regional endpoint (also `AWS_ENDPOINT_URL_STS`).
    pub fn with_sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.sts_endpoint = Some(url.into());
        self
    }

    /// Longest wait for STS (default 5 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn load(&self) -> Result<Credentials> {
        let env = &*self.env;
        let (Some(token_file), Some(role_arn)) = (var(env, "AWS_WEB_IDENTITY_TOKEN_FILE"), var(env, "AWS_ROLE_ARN"))
        else {
            return Err(not_configured(
                "web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not both set",
            ));
        };
        let path = expand_home(token_file.trim(), home_dir(env).as_deref()).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidSetting,
                "AWS_WEB_IDENTITY_TOKEN_FILE starts with `~` but the home directory is unknown",
            )
        })?;
        let session = var(env, "AWS_ROLE_SESSION_NAME").unwrap_or_else(default_session_name);
        let region = var(env, "AWS_REGION").or_else(|| var(env, "AWS_DEFAULT_REGION"));
        let override_url = self.sts_endpoint.clone().or_else(|| var(env, "AWS_ENDPOINT_URL_STS"));
        let endpoint = sts::endpoint(
            override_url.as_deref(),
            region.as_deref().map(str::trim),
            var(env, "AWS_STS_REGIONAL_ENDPOINTS").as_deref(),
        )?;
        assume_role_with_web_identity(
            &self.http,
            &endpoint,
            role_arn.trim(),
            session.trim(),
            &path,
            self.timeout,
        )
        .await
    }
}

/// Reads the token at `token_file` and trades it for the role's credentials.
pub(crate) async fn assume_role_with_web_identity(
    http: &HttpClient,
    endpoint: &StsEndpoint,
    role_arn: &str,
    session_name: &str,
    token_file: &Path,
    timeout: Duration,
) -> Result<Credentials> {
    let token = read_token_file(token_file, "web identity token file").await?;
    let request = sts::web_identity_request(endpoint, role_arn, session_name, &token)?;
    sts::call(http, request, "AssumeRoleWithWebIdentity", timeout).await
}

impl ProvideCredentials for WebIdentityProvider {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.load())
    }
}
