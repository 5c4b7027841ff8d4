//! Credentials from environment variables: `AWS_S3_ACCESS_KEY_ID` or `AWS_ACCESS_KEY_ID`,
//! `AWS_S3_SECRET_ACCESS_KEY` or `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` or the legacy
//! `AWS_SECURITY_TOKEN`, and `AWS_CREDENTIAL_EXPIRATION` (RFC 3339) for temporary ones.

use std::fmt;
use std::sync::Arc;

use super::util::{parse_timestamp, var};
use super::{BoxFuture, Credentials, ProvideCredentials};
use crate::config::GlobalSource;
use crate::error::{Error, ErrorKind, Result};

const ACCESS_KEY: [&str; 2] = ["AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"];
const SECRET_KEY: [&str; 2] = ["AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"];
const SESSION_TOKEN: [&str; 2] = ["AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"];

/// Reads credentials from the environment each time it is asked. Empty variables are unset;
/// a key without its secret (or the reverse) is an [`ErrorKind::InvalidSetting`] error.
#[derive(Clone)]
pub struct EnvironmentProvider {
    env: Arc<dyn GlobalSource>,
}

impl fmt::Debug for EnvironmentProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvironmentProvider").finish_non_exhaustive()
    }
}

impl EnvironmentProvider {
    /// A provider reading `env` (the process environment is [`crate::config::Env`]).
    pub fn new(env: Arc<dyn GlobalSource>) -> Self {
        EnvironmentProvider { env }
    }

    /// The credentials the environment holds now.
    pub fn load(&self) -> Result<Credentials> {
        from_env(&*self.env)
    }
}

fn first(env: &dyn GlobalSource, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| var(env, n))
}

/// Credentials from the variables of `env`.
pub(crate) fn from_env(env: &dyn GlobalSource) -> Result<Credentials> {
    let key = first(env, &ACCESS_KEY);
    let secret = first(env, &SECRET_KEY);
    let (key, secret) = match (key, secret) {
        (Some(k), Some(s)) => (k, s),
        (None, None) => {
            return Err(Error::new(
                ErrorKind::NoCredentials,
                "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
            ));
        }
        (Some(_), None) => {
            return Err(Error::new(
                ErrorKind::InvalidSetting,
                "environment: an access key id is set but AWS_SECRET_ACCESS_KEY is not",
            ));
        }
        (None, Some(_)) => {
            return Err(Error::new(
                ErrorKind::InvalidSetting,
                "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not",
            ));
        }
    };
    let mut creds = Credentials::new(key.trim(), secret.trim());
    if let Some(token) = first(env, &SESSION_TOKEN) {
        creds = creds.with_session_token(token.trim());
    }
    if let Some(expiration) = var(env, "AWS_CREDENTIAL_EXPIRATION") {
        let expiry = parse_timestamp(&expiration).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidSetting,
                "environment: AWS_CREDENTIAL_EXPIRATION is not an RFC 3339 time stamp",
            )
        })?;
        creds = creds.with_expiry(expiry);
    }
    Ok(creds)
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        let result = self.load();
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> HashMap<String, String> {
        vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn standard_names() {
        let c = from_env(&env(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("AWS_SESSION_TOKEN", "TOKEN"),
        ]))
        .unwrap();
        assert_eq!(c.access_key(), "AKID");
        assert_eq!(c.secret_key().expose(), "SECRET");
        assert_eq!(c.session_token().unwrap().expose(), "TOKEN");
        assert_eq!(c.expiry(), None);
    }

    #[test]
    fn s3_names_come_first_and_legacy_token_is_read() {
        let c = from_env(&env(&[
            ("AWS_ACCESS_KEY_ID", "GENERIC"),
            ("AWS_S3_ACCESS_KEY_ID", "S3KEY"),
            ("AWS_SECRET_ACCESS_KEY", "GENERICSECRET"),
            ("AWS_S3_SECRET_ACCESS_KEY", "S3SECRET"),
            ("AWS_SECURITY_TOKEN", "LEGACY"),
            ("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z"),
        ]))
        .unwrap();
        assert_eq!(c.access_key(), "S3KEY");
        assert_eq!(c.secret_key().expose(), "S3SECRET");
        assert_eq!(c.session_token().unwrap().expose(), "LEGACY");
        assert!(c.expiry().is_some());
    }

    #[test]
    fn empty_values_are_unset() {
        let c = from_env(&env(&[
            ("AWS_S3_ACCESS_KEY_ID", ""),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("AWS_SESSION_TOKEN", ""),
        ]))
        .unwrap();
        assert_eq!(c.access_key(), "AKID");
        assert!(c.session_token().is_none());
        let e = from_env(&env(&[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoCredentials);
    }

    #[test]
    fn partial_credentials_are_refused() {
        let e = from_env(&env(&[("AWS_ACCESS_KEY_ID", "AKID")])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSetting);
        let e = from_env(&env(&[("AWS_SECRET_ACCESS_KEY", "SECRETVALUE")])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSetting);
        assert!(!format!("{e} {e:?}").contains("SECRETVALUE"));
        let e = from_env(&env(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "S"),
            ("AWS_CREDENTIAL_EXPIRATION", "soon"),
        ]))
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSetting);
    }
}
