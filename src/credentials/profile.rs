//! Named profiles of the shared files `~/.aws/config` and `~/.aws/credentials`
//! (`AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` move them).
//!
//! A profile gives credentials in one of these ways, tried in this order:
//!
//! 1. `role_arn` + `web_identity_token_file` (+ `role_session_name`): STS
//!    `AssumeRoleWithWebIdentity`;
//! 2. `role_arn` + `source_profile` (another profile, resolved the same way, or the profile
//!    itself for its static keys) or `credential_source` (`Environment`,
//!    `Ec2InstanceMetadata`, `EcsContainer`): STS `AssumeRole`, signed with the source's
//!    credentials, with `role_session_name`, `external_id` and `duration_seconds`;
//! 3. `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`);
//! 4. `credential_process`.
//!
//! STS is called in the profile's `region` (else `AWS_REGION`, `AWS_DEFAULT_REGION`;
//! `sts_regional_endpoints = legacy` or no region: the global endpoint). Profiles needing a
//! person at the keyboard (`mfa_serial`) or an SSO login (`sso_*`) are refused with an
//! [`ErrorKind::InvalidSetting`] error that says what to use instead.
//!
//! The files are read again on every call, so a refresh sees edited files.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

#[cfg(feature = "credentials-container")]
use super::container::ContainerProvider;
#[cfg(feature = "credentials-imds")]
use super::imds::ImdsProvider;
use super::process::{self, PROCESS_TIMEOUT};
use super::sts::{self, AssumeRoleParams};
use super::util::{default_session_name, expand_home, home_dir, not_configured, var};
use super::web_identity::{STS_TIMEOUT, assume_role_with_web_identity};
use super::{BoxFuture, Credentials, ProvideCredentials, env};
use crate::config::GlobalSource;
use crate::config::ini::{self, Profiles};
use crate::config::{SharedFile, read_shared_file};
use crate::error::{Error, ErrorKind, Result};
use crate::http::HttpClient;

/// Deepest chain of `source_profile`s.
const MAX_CHAIN: usize = 8;

/// The original's `ProfileNotFound`: the source of the [`ErrorKind::NoCredentials`] error of a
/// profile that neither shared file defines. A [`CredentialsChain`](super::CredentialsChain)
/// stops at it rather than trying the next source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileNotFound {
    profile: String,
}

impl ProfileNotFound {
    /// The profile that was asked for.
    pub fn profile(&self) -> &str {
        &self.profile
    }
}

impl fmt::Display for ProfileNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "The config profile ({}) could not be found", self.profile)
    }
}

impl std::error::Error for ProfileNotFound {}

/// Where `credential_source` credentials come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialSource {
    Environment,
    Ec2InstanceMetadata,
    EcsContainer,
}

/// Where STS is, as a profile says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StsSettings {
    pub region: Option<String>,
    pub mode: Option<String>,
}

/// How a profile's credentials are obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    Static(Credentials),
    Process {
        command: String,
    },
    WebIdentity {
        role_arn: String,
        token_file: String,
        session_name: String,
        sts: StsSettings,
    },
    AssumeRole {
        params: AssumeRoleParams,
        sts: StsSettings,
        source: Box<Plan>,
    },
    Source(CredentialSource),
}

fn setting_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidSetting, message)
}

/// How the profile `name` gives credentials. A profile that does not exist is a
/// [`ProfileNotFound`] error when it was asked for by name (`explicit`) or is not `default`,
/// and "no credentials here" otherwise.
pub(crate) fn plan(profiles: &Profiles, name: &str, explicit: bool) -> Result<Plan> {
    let Some(top) = profiles.get(name) else {
        if explicit || name != "default" {
            return Err(Error::new(ErrorKind::NoCredentials, "").with_source(ProfileNotFound {
                profile: name.to_owned(),
            }));
        }
        return Err(not_configured("profile default: no such profile in the shared files"));
    };
    let mut visited = vec![name.to_owned()];
    plan_for(profiles, name, top, &mut visited)
}

type Profile = BTreeMap<String, String>;

fn plan_for(profiles: &Profiles, name: &str, top: &Profile, visited: &mut Vec<String>) -> Result<Plan> {
    let p = &profiles[name];
    let get = |k: &str| p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(role_arn) = get("role_arn") {
        if get("mfa_serial").is_some() {
            return Err(setting_error(format!(
                "profile {name}: mfa_serial needs an MFA code typed by a person, which a storage cannot \
                 ask for; use credential_process or temporary credentials instead"
            )));
        }
        let top_get = |k: &str| top.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let sts = StsSettings {
            region: get("region").map(str::to_owned).or_else(|| top_get("region")),
            mode: get("sts_regional_endpoints")
                .map(str::to_owned)
                .or_else(|| top_get("sts_regional_endpoints")),
        };
        let session_name = match get("role_session_name") {
            Some(s) => {
                check_session_name(s, name)?;
                s.to_owned()
            }
            None => default_session_name(),
        };
        if let Some(token_file) = get("web_identity_token_file") {
            return Ok(Plan::WebIdentity {
                role_arn: role_arn.to_owned(),
                token_file: token_file.to_owned(),
                session_name,
                sts,
            });
        }
        let duration_seconds = match get("duration_seconds") {
            Some(d) => Some(
                d.parse::<u32>()
                    .ok()
                    .filter(|d| (900..=43_200).contains(d))
                    .ok_or_else(|| {
                        setting_error(format!("profile {name}: duration_seconds must be 900 to 43200 seconds"))
                    })?,
            ),
            None => None,
        };
        let params = AssumeRoleParams {
            role_arn: role_arn.to_owned(),
            session_name,
            external_id: get("external_id").map(str::to_owned),
            duration_seconds,
        };
        let source = match (get("source_profile"), get("credential_source")) {
            (Some(_), Some(_)) => {
                return Err(setting_error(format!(
                    "profile {name}: source_profile and credential_source are mutually exclusive"
                )));
            }
            (Some(source), None) if source == name => {
                // A profile may be its own source: its static keys assume its role.
                static_keys(p, name)?.ok_or_else(|| {
                    setting_error(format!(
                        "profile {name} is its own source_profile but has no aws_access_key_id and \
                         aws_secret_access_key"
                    ))
                })?
            }
            (Some(source), None) => {
                if visited.iter().any(|v| v == source) {
                    visited.push(source.to_owned());
                    return Err(setting_error(format!("source_profile loop: {}", visited.join(" -> "))));
                }
                if visited.len() >= MAX_CHAIN {
                    return Err(setting_error(format!(
                        "profile {name}: more than {MAX_CHAIN} source_profiles in a chain"
                    )));
                }
                if !profiles.contains_key(source) {
                    return Err(setting_error(format!(
                        "the source_profile {source} of profile {name} does not exist"
                    )));
                }
                visited.push(source.to_owned());
                plan_for(profiles, source, top, visited).map_err(|e| {
                    if e.kind() == ErrorKind::NoCredentials {
                        setting_error(format!(
                            "the source_profile {source} of profile {name} has no credentials"
                        ))
                    } else {
                        e
                    }
                })?
            }
            (None, Some(cs)) => Plan::Source(match cs {
                "Environment" => CredentialSource::Environment,
                "Ec2InstanceMetadata" => CredentialSource::Ec2InstanceMetadata,
                "EcsContainer" => CredentialSource::EcsContainer,
                _ => {
                    return Err(setting_error(format!(
                        "profile {name}: credential_source must be Environment, Ec2InstanceMetadata or \
                         EcsContainer"
                    )));
                }
            }),
            (None, None) => {
                return Err(setting_error(format!(
                    "profile {name}: role_arn needs source_profile, credential_source or \
                     web_identity_token_file"
                )));
            }
        };
        return Ok(Plan::AssumeRole {
            params,
            sts,
            source: Box::new(source),
        });
    }
    if ["sso_start_url", "sso_session", "sso_account_id", "sso_role_name"]
        .iter()
        .any(|k| get(k).is_some())
    {
        return Err(setting_error(format!(
            "profile {name} uses AWS IAM Identity Center (SSO), which is not supported; set \
             credential_process = aws configure export-credentials --profile {name} --format process \
             in another profile instead"
        )));
    }
    if let Some(plan) = static_keys(p, name)? {
        return Ok(plan);
    }
    if let Some(command) = get("credential_process") {
        return Ok(Plan::Process {
            command: command.to_owned(),
        });
    }
    Err(not_configured(format!("profile {name} has no credentials")))
}

/// The profile's static keys, if it has both (one without the other is an error).
fn static_keys(p: &Profile, name: &str) -> Result<Option<Plan>> {
    let get = |k: &str| p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(key), Some(secret)) => {
            let mut c = Credentials::new(key, secret);
            if let Some(token) = get("aws_session_token").or_else(|| get("aws_security_token")) {
                c = c.with_session_token(token);
            }
            Ok(Some(Plan::Static(c)))
        }
        (None, None) => Ok(None),
        (Some(_), None) => Err(setting_error(format!(
            "profile {name} has aws_access_key_id but no aws_secret_access_key"
        ))),
        (None, Some(_)) => Err(setting_error(format!(
            "profile {name} has aws_secret_access_key but no aws_access_key_id"
        ))),
    }
}

/// STS's rule for session names: 2 to 64 of letters, digits and `+=,.@_-`.
fn check_session_name(s: &str, profile: &str) -> Result<()> {
    if (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b)) {
        Ok(())
    } else {
        Err(setting_error(format!(
            "profile {profile}: role_session_name must be 2 to 64 letters, digits or +=,.@_-"
        )))
    }
}

/// Credentials of a named profile of the shared files.
#[derive(Clone)]
pub struct ProfileProvider {
    env: Arc<dyn GlobalSource>,
    http: HttpClient,
    profile: String,
    explicit: bool,
    home: Option<PathBuf>,
    sts_endpoint: Option<String>,
    sts_timeout: Duration,
    process_timeout: Duration,
    #[cfg(feature = "credentials-container")]
    container: ContainerProvider,
    #[cfg(feature = "credentials-imds")]
    imds: ImdsProvider,
}

impl fmt::Debug for ProfileProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileProvider")
            .field("profile", &self.profile)
            .field("home", &self.home)
            .field("sts_endpoint", &self.sts_endpoint)
            .finish_non_exhaustive()
    }
}

impl ProfileProvider {
    /// The profile `AWS_PROFILE` names, else `default`.
    pub fn new(env: Arc<dyn GlobalSource>, http: HttpClient) -> Self {
        let chosen = var(&*env, "AWS_PROFILE").map(|p| p.trim().to_owned());
        let explicit = chosen.as_deref().is_some_and(|p| p != "default");
        let mut provider = Self::named(env, http, chosen.unwrap_or_else(|| "default".into()));
        provider.explicit = explicit;
        provider
    }

    /// The profile `name` (the `session_profile` setting); its absence is an error.
    pub fn named(env: Arc<dyn GlobalSource>, http: HttpClient, name: impl Into<String>) -> Self {
        ProfileProvider {
            #[cfg(feature = "credentials-container")]
            container: ContainerProvider::new(env.clone(), http.clone()),
            #[cfg(feature = "credentials-imds")]
            imds: ImdsProvider::new(env.clone(), http.clone()),
            env,
            http,
            profile: name.into(),
            explicit: true,
            home: None,
            sts_endpoint: None,
            sts_timeout: STS_TIMEOUT,
            process_timeout: PROCESS_TIMEOUT,
        }
    }

    /// The home directory holding `.aws/` (default: `HOME` of the environment).
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// Calls STS at this URL instead of the regional endpoint (also `AWS_ENDPOINT_URL_STS`).
    pub fn with_sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.sts_endpoint = Some(url.into());
        self
    }

    /// Longest wait for STS (default 5 s).
    pub fn with_sts_timeout(mut self, timeout: Duration) -> Self {
        self.sts_timeout = timeout;
        self
    }

    /// Longest run of a `credential_process` (default 60 s).
    pub fn with_process_timeout(mut self, timeout: Duration) -> Self {
        self.process_timeout = timeout;
        self
    }

    /// The providers of `credential_source = EcsContainer` and `Ec2InstanceMetadata`.
    #[cfg(all(feature = "credentials-container", feature = "credentials-imds"))]
    pub fn with_credential_sources(self, container: ContainerProvider, imds: ImdsProvider) -> Self {
        self.with_container(container).with_imds(imds)
    }

    /// The provider of `credential_source = EcsContainer`.
    #[cfg(feature = "credentials-container")]
    pub fn with_container(mut self, container: ContainerProvider) -> Self {
        self.container = container;
        self
    }

    /// The provider of `credential_source = Ec2InstanceMetadata`.
    #[cfg(feature = "credentials-imds")]
    pub fn with_imds(mut self, imds: ImdsProvider) -> Self {
        self.imds = imds;
        self
    }

    /// The profile this provider reads.
    pub fn profile_name(&self) -> &str {
        &self.profile
    }

    /// The profiles of both files, read off the runtime by the crate's one reader of
    /// them (`config::read_shared_file`).
    async fn profiles(&self) -> Result<Profiles> {
        let env = self.env.clone();
        let home = self.home.clone().or_else(|| home_dir(&*env));
        tokio::task::spawn_blocking(move || {
            let sections = |file| {
                read_shared_file(&*env, file, home.clone()).map(|found| found.map(|(_, s)| s).unwrap_or_default())
            };
            Ok::<_, Error>(ini::profiles(
                &sections(SharedFile::Config)?,
                &sections(SharedFile::Credentials)?,
            ))
        })
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "reading the shared config files failed").with_source(e))?
    }

    async fn load(&self) -> Result<Credentials> {
        let profiles = self.profiles().await?;
        let plan = plan(&profiles, &self.profile, self.explicit)?;
        self.exec(&plan).await
    }

    fn exec<'a>(&'a self, plan: &'a Plan) -> BoxFuture<'a, Result<Credentials>> {
        Box::pin(async move {
            match plan {
                Plan::Static(c) => Ok(c.clone()),
                Plan::Process { command } => process::run(command, self.process_timeout).await,
                Plan::WebIdentity {
                    role_arn,
                    token_file,
                    session_name,
                    sts,
                } => {
                    let home = self.home.clone().or_else(|| home_dir(&*self.env));
                    let path = expand_home(token_file, home.as_deref()).ok_or_else(|| {
                        setting_error("web_identity_token_file starts with `~` but the home directory is unknown")
                    })?;
                    let endpoint = self.endpoint(sts)?;
                    assume_role_with_web_identity(
                        &self.http,
                        &endpoint,
                        role_arn,
                        session_name,
                        &path,
                        self.sts_timeout,
                    )
                    .await
                }
                Plan::AssumeRole { params, sts, source } => {
                    let source = self.exec(source).await?;
                    let endpoint = self.endpoint(sts)?;
                    let request = sts::assume_role_request(&endpoint, params, &source, SystemTime::now())?;
                    sts::call(&self.http, request, "AssumeRole", self.sts_timeout).await
                }
                Plan::Source(CredentialSource::Environment) => env::from_env(&*self.env),
                #[cfg(feature = "credentials-container")]
                Plan::Source(CredentialSource::EcsContainer) => self.container.provide().await,
                #[cfg(feature = "credentials-imds")]
                Plan::Source(CredentialSource::Ec2InstanceMetadata) => self.imds.provide().await,
                #[cfg(not(all(feature = "credentials-container", feature = "credentials-imds")))]
                Plan::Source(source) => Err(setting_error(format!(
                    "credential_source = {source:?} needs the crate's `credentials-{}` feature, which this build leaves out",
                    if *source == CredentialSource::EcsContainer {
                        "container"
                    } else {
                        "imds"
                    }
                ))),
            }
        })
    }

    fn endpoint(&self, sts: &StsSettings) -> Result<sts::StsEndpoint> {
        let env = &*self.env;
        let region = sts
            .region
            .clone()
            .or_else(|| var(env, "AWS_REGION"))
            .or_else(|| var(env, "AWS_DEFAULT_REGION"));
        let mode = sts.mode.clone().or_else(|| var(env, "AWS_STS_REGIONAL_ENDPOINTS"));
        let override_url = self.sts_endpoint.clone().or_else(|| var(env, "AWS_ENDPOINT_URL_STS"));
        sts::endpoint(
            override_url.as_deref(),
            region.as_deref().map(str::trim),
            mode.as_deref(),
        )
    }
}

impl ProvideCredentials for ProfileProvider {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.load())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(config: &str, credentials: &str) -> Profiles {
        ini::profiles(&ini::parse(config).unwrap(), &ini::parse(credentials).unwrap())
    }

    fn setting_err(r: Result<Plan>) -> String {
        match r {
            Err(e) if e.kind() == ErrorKind::InvalidSetting => e.to_string(),
            other => panic!("expected an invalid setting, got {other:?}"),
        }
    }

    #[test]
    fn static_keys_with_token() {
        let p = profiles(
            "[profile dev]\nregion = eu-west-1\n",
            "[dev]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\naws_session_token = TOK\n",
        );
        let Plan::Static(c) = plan(&p, "dev", true).unwrap() else {
            panic!()
        };
        assert_eq!(c.access_key(), "AKID");
        assert_eq!(c.session_token().unwrap().expose(), "TOK");
    }

    #[test]
    fn missing_profiles() {
        let p = profiles("[default]\nregion = x\n", "");
        let e = plan(&p, "nope", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoCredentials);
        assert_eq!(
            e.to_string(),
            "no credentials: The config profile (nope) could not be found"
        );
        let source = std::error::Error::source(&e).unwrap();
        assert_eq!(source.downcast_ref::<ProfileNotFound>().unwrap().profile(), "nope");
        // The implicit default profile may be absent: nothing here.
        let e = plan(&Profiles::new(), "default", false).unwrap_err();
        assert!(e.is_no_credentials() && std::error::Error::source(&e).is_none());
        // A profile without credentials.
        let e = plan(&p, "default", false).unwrap_err();
        assert!(e.is_no_credentials(), "{e}");
    }

    #[test]
    fn assume_role_with_source_profile() {
        let p = profiles(
            "[profile base]\nregion = us-west-2\n\
             [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n\
             role_session_name = me@example.com\nexternal_id = ext\nduration_seconds = 900\nregion = eu-west-1\n",
            "[base]\naws_access_key_id = BASEKEY\naws_secret_access_key = BASESECRET\n",
        );
        let Plan::AssumeRole { params, sts, source } = plan(&p, "admin", true).unwrap() else {
            panic!()
        };
        assert_eq!(params.role_arn, "arn:aws:iam::123456789012:role/admin");
        assert_eq!(params.session_name, "me@example.com");
        assert_eq!(params.external_id.as_deref(), Some("ext"));
        assert_eq!(params.duration_seconds, Some(900));
        assert_eq!(sts.region.as_deref(), Some("eu-west-1"));
        assert!(matches!(*source, Plan::Static(ref c) if c.access_key() == "BASEKEY"));
    }

    #[test]
    fn chained_roles_self_source_and_loops() {
        let p = profiles(
            "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\nregion = ap-south-1\n\
             [profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = b\n\
             aws_access_key_id = BKEY\naws_secret_access_key = BSECRET\n\
             [profile x]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = y\n\
             [profile y]\nrole_arn = arn:aws:iam::1:role/y\nsource_profile = x\n",
            "",
        );
        let Plan::AssumeRole { source, sts, .. } = plan(&p, "a", true).unwrap() else {
            panic!()
        };
        let Plan::AssumeRole {
            params,
            source: inner,
            sts: inner_sts,
        } = *source
        else {
            panic!()
        };
        assert_eq!(params.role_arn, "arn:aws:iam::1:role/b");
        // The chain's STS region is the top profile's unless the source says otherwise.
        assert_eq!(
            (sts.region.as_deref(), inner_sts.region.as_deref()),
            (Some("ap-south-1"), Some("ap-south-1"))
        );
        assert!(matches!(*inner, Plan::Static(ref c) if c.access_key() == "BKEY"));
        assert!(setting_err(plan(&p, "x", true)).contains("source_profile loop: x -> y -> x"));
    }

    #[test]
    fn other_ways_and_refusals() {
        let p = profiles(
            "[profile proc]\ncredential_process = /bin/creds --profile x\n\
             [profile web]\nrole_arn = arn:aws:iam::1:role/w\nweb_identity_token_file = ~/token\n\
             [profile ecs]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = EcsContainer\n\
             [profile mfa]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = proc\nmfa_serial = arn:mfa\n\
             [profile sso]\nsso_session = corp\nsso_account_id = 1\n\
             [profile lonely]\nrole_arn = arn:aws:iam::1:role/l\n\
             [profile missing-src]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = ghost\n\
             [profile half]\naws_access_key_id = K\n\
             [profile badsrc]\nrole_arn = arn:aws:iam::1:role/l\ncredential_source = Somewhere\n\
             [profile longdur]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = proc\nduration_seconds = 99\n",
            "",
        );
        assert_eq!(
            plan(&p, "proc", true).unwrap(),
            Plan::Process {
                command: "/bin/creds --profile x".into()
            }
        );
        assert!(
            matches!(plan(&p, "web", true).unwrap(), Plan::WebIdentity { ref token_file, .. } if token_file == "~/token")
        );
        assert!(matches!(
            plan(&p, "ecs", true).unwrap(),
            Plan::AssumeRole { ref source, .. } if **source == Plan::Source(CredentialSource::EcsContainer)
        ));
        assert!(setting_err(plan(&p, "mfa", true)).contains("mfa_serial"));
        assert!(setting_err(plan(&p, "sso", true)).contains("export-credentials --profile sso"));
        assert!(setting_err(plan(&p, "lonely", true)).contains("needs source_profile"));
        assert!(
            setting_err(plan(&p, "missing-src", true))
                .contains("source_profile ghost of profile missing-src does not exist")
        );
        assert!(setting_err(plan(&p, "half", true)).contains("no aws_secret_access_key"));
        assert!(setting_err(plan(&p, "badsrc", true)).contains("credential_source must be"));
        assert!(setting_err(plan(&p, "longdur", true)).contains("duration_seconds"));
    }
}
