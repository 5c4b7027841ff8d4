//! The shared config file (`~/.aws/config`, or `AWS_CONFIG_FILE`): what botocore, and so the
//! original, reads there for an S3 client once the storage's settings and the environment
//! have had their say, and where the shared files are.
//!
//! From the profile (`session_profile`, else `AWS_PROFILE`, else `default`):
//!
//! - `region`, `ca_bundle`, `max_attempts`, `retry_mode`;
//! - the endpoint: the `s3` entry of the `[services name]` section the profile's `services`
//!   names, else the profile's `endpoint_url`; neither when `ignore_configured_endpoint_urls`
//!   is true (`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`, when set, decides instead);
//! - the nested `s3 =` section: `addressing_style`, `use_accelerate_endpoint`,
//!   `use_dualstack_endpoint`, `payload_signing_enabled`.
//!
//! A missing file or profile gives nothing; a file that cannot be parsed is an
//! [`ErrorKind::InvalidSetting`] naming the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ini::{self, Sections};
use super::{AddressingStyle, GlobalSource, SettingKey};
use crate::error::{Error, ErrorKind, Result};

/// Largest config file read; they are a few KiB.
const MAX_FILE: u64 = 1024 * 1024;

/// A variable of the global source; set-but-blank counts as unset.
pub(crate) fn var(env: &dyn GlobalSource, name: &str) -> Option<String> {
    env.get(name).filter(|v| !v.trim().is_empty())
}

/// The user's home directory, as the environment gives it (`HOME`, else Windows'
/// `USERPROFILE` or `HOMEDRIVE` + `HOMEPATH`).
pub(crate) fn home_dir(env: &dyn GlobalSource) -> Option<PathBuf> {
    if let Some(home) = var(env, "HOME").or_else(|| var(env, "USERPROFILE")) {
        return Some(PathBuf::from(home));
    }
    match (var(env, "HOMEDRIVE"), var(env, "HOMEPATH")) {
        (Some(drive), Some(path)) => Some(PathBuf::from(format!("{drive}{path}"))),
        _ => None,
    }
}

/// `~` and `~/rest` (also `~\rest`) relative to `home`; other paths unchanged. `None` when the
/// path needs a home directory that is unknown.
pub(crate) fn expand_home(path: &str, home: Option<&Path>) -> Option<PathBuf> {
    if path == "~" {
        return home.map(Path::to_path_buf);
    }
    match path.strip_prefix("~/").or_else(|| path.strip_prefix("~\\")) {
        Some(rest) => home.map(|h| h.join(rest)),
        None => Some(PathBuf::from(path)),
    }
}

/// The S3 keys of a profile's nested `s3 =` section, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct S3Section {
    pub(crate) addressing_style: Option<AddressingStyle>,
    pub(crate) use_accelerate_endpoint: Option<bool>,
    pub(crate) use_dualstack_endpoint: Option<bool>,
    pub(crate) payload_signing_enabled: Option<bool>,
}

/// What one profile of the shared config file says about S3.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProfileConfig {
    /// "profile `name` of /path", for error messages.
    pub(crate) origin: String,
    /// The profile's own keys.
    keys: BTreeMap<String, String>,
    /// The `s3` entry of the profile's `[services name]` section.
    service_keys: BTreeMap<String, String>,
    /// The nested `s3 =` section.
    pub(crate) s3: S3Section,
}

impl ProfileConfig {
    /// Reads `profile` from the config file the global source points at. Nothing when there
    /// is no file, no home directory to find it in, or no such profile.
    pub(crate) fn load(env: &dyn GlobalSource, profile: &str) -> Result<ProfileConfig> {
        match read_shared_file(env, SharedFile::Config, home_dir(env))? {
            Some((path, sections)) => ProfileConfig::from_sections(&sections, profile, &path),
            None => Ok(ProfileConfig::default()),
        }
    }

    fn from_sections(sections: &Sections, profile: &str, path: &Path) -> Result<ProfileConfig> {
        let origin = format!("profile `{profile}` of {}", path.display());
        let profiles = ini::profiles(sections, &Sections::new());
        let Some(keys) = profiles.get(profile).cloned() else {
            return Ok(ProfileConfig {
                origin,
                ..ProfileConfig::default()
            });
        };
        let service_keys = keys
            .get("services")
            .and_then(|name| sections.get(&format!("services {}", name.trim())))
            .and_then(|services| services.get("s3"))
            .map(|nested| nested_keys(nested))
            .unwrap_or_default();
        let nested = keys.get("s3").map(|s| nested_keys(s)).unwrap_or_default();
        let flag = |key: &str| nested.get(key).map(|v| v.eq_ignore_ascii_case("true"));
        let addressing_style = match nested.get("addressing_style") {
            Some(raw) => Some(raw.parse().map_err(|why| {
                Error::invalid_setting(
                    "addressing_style",
                    format!("invalid value {raw:?} (from s3.addressing_style of {origin}): {why}"),
                )
            })?),
            None => None,
        };
        let s3 = S3Section {
            addressing_style,
            use_accelerate_endpoint: flag("use_accelerate_endpoint"),
            use_dualstack_endpoint: flag("use_dualstack_endpoint"),
            payload_signing_enabled: flag("payload_signing_enabled"),
        };
        Ok(ProfileConfig {
            origin,
            keys,
            service_keys,
            s3,
        })
    }

    /// Whether the profile turns configured endpoints off (`ignore_configured_endpoint_urls`).
    pub(crate) fn ignores_configured_endpoints(&self) -> bool {
        self.keys
            .get("ignore_configured_endpoint_urls")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The settings the profile gives values for, each with the key it was read from: the
    /// fallbacks after the environment. The endpoint only when `endpoints` is true.
    pub(crate) fn values(&self, endpoints: bool) -> Vec<(SettingKey, &str, &'static str)> {
        let mut out = Vec::new();
        let mut from_profile = |key: SettingKey, name: &'static str| {
            if let Some(v) = self.keys.get(name) {
                out.push((key, v.as_str(), name));
            }
        };
        from_profile(SettingKey::RegionName, "region");
        from_profile(SettingKey::Verify, "ca_bundle");
        from_profile(SettingKey::MaxAttempts, "max_attempts");
        from_profile(SettingKey::RetryMode, "retry_mode");
        if endpoints {
            // The service's own endpoint before the profile's, as botocore orders them.
            if let Some(v) = self.service_keys.get("endpoint_url") {
                out.push((SettingKey::EndpointUrl, v.as_str(), "services s3.endpoint_url"));
            } else if let Some(v) = self.keys.get("endpoint_url") {
                out.push((SettingKey::EndpointUrl, v.as_str(), "endpoint_url"));
            }
        }
        out
    }
}

/// `AWS_CONFIG_FILE` (`~` expanded), else `~/.aws/config`; `None` without a home directory.
/// One of the two shared files every AWS tool reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SharedFile {
    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    Config,
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    #[cfg_attr(not(feature = "credentials-profile"), allow(dead_code))]
    Credentials,
}

/// Reads and parses a shared file: the one reader of the crate (settings and the profile
/// credentials provider alike), with one size cap and one syntax. `None` when there is no
/// such file, or no home directory to find it in. Blocking: async callers run it on the
/// blocking pool.
pub(crate) fn read_shared_file(
    env: &dyn GlobalSource,
    file: SharedFile,
    home: Option<PathBuf>,
) -> Result<Option<(PathBuf, Sections)>> {
    let (variable, name) = match file {
        SharedFile::Config => ("AWS_CONFIG_FILE", "config"),
        SharedFile::Credentials => ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
    };
    let path = match var(env, variable) {
        Some(p) => expand_home(p.trim(), home.as_deref())
            .ok_or_else(|| invalid(format!("{variable} starts with `~` but the home directory is unknown")))?,
        None => match home {
            Some(h) => h.join(".aws").join(name),
            None => return Ok(None),
        },
    };
    let Some(text) = read(&path)? else {
        return Ok(None);
    };
    let sections = ini::parse(&text).map_err(|e| {
        invalid(format!(
            "shared config file {}, line {}: {}",
            path.display(),
            e.line,
            e.message
        ))
    })?;
    Ok(Some((path, sections)))
}

/// The file's text; `None` when it does not exist.
fn read(path: &Path) -> Result<Option<String>> {
    use std::io::Read as _;
    let cannot =
        |e: std::io::Error| invalid(format!("shared config file {} cannot be read", path.display())).with_source(e);
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(invalid(format!(
            "shared config file {} is larger than {MAX_FILE} bytes",
            path.display()
        )));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| invalid(format!("shared config file {} is not UTF-8", path.display())))
}

/// The `key = value` lines of a nested section (the continuation lines of `s3 =`).
fn nested_keys(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let (k, v) = line.split_once('=')?;
            let k = k.trim().to_ascii_lowercase();
            (!k.is_empty()).then(|| (k, v.trim().to_owned()))
        })
        .collect()
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidSetting, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str, name: &str) -> ProfileConfig {
        ProfileConfig::from_sections(&ini::parse(text).unwrap(), name, Path::new("/c")).unwrap()
    }

    const FILE: &str = "\
[default]
region = eu-west-3
s3 =
    addressing_style = path
    use_dualstack_endpoint = TRUE
[profile svc]
services = local
endpoint_url = http://global:1
max_attempts = 7
[services local]
s3 =
  endpoint_url = http://s3-only:2
sts =
  endpoint_url = http://sts:3
[profile global]
endpoint_url = http://global:1
retry_mode = adaptive
ignore_configured_endpoint_urls = true
ca_bundle = /etc/ca.pem
";

    fn values(p: &ProfileConfig, endpoints: bool) -> Vec<(SettingKey, String)> {
        p.values(endpoints)
            .into_iter()
            .map(|(k, v, _)| (k, v.to_owned()))
            .collect()
    }

    #[test]
    fn profile_keys_and_the_nested_s3_section() {
        let p = profile(FILE, "default");
        assert_eq!(values(&p, true), [(SettingKey::RegionName, "eu-west-3".into())]);
        assert_eq!(
            p.s3,
            S3Section {
                addressing_style: Some(AddressingStyle::Path),
                use_dualstack_endpoint: Some(true),
                ..S3Section::default()
            }
        );
        assert!(!p.ignores_configured_endpoints());
    }

    #[test]
    fn the_services_section_wins_over_the_profile_endpoint() {
        let p = profile(FILE, "svc");
        assert_eq!(
            values(&p, true),
            [
                (SettingKey::MaxAttempts, "7".into()),
                (SettingKey::EndpointUrl, "http://s3-only:2".into())
            ]
        );
        assert_eq!(values(&p, false), [(SettingKey::MaxAttempts, "7".into())]);
        let p = profile(FILE, "global");
        assert!(p.ignores_configured_endpoints());
        assert_eq!(
            values(&p, true),
            [
                (SettingKey::Verify, "/etc/ca.pem".into()),
                (SettingKey::RetryMode, "adaptive".into()),
                (SettingKey::EndpointUrl, "http://global:1".into())
            ]
        );
    }

    #[test]
    fn a_missing_profile_gives_nothing_and_a_bad_style_is_named() {
        let p = profile(FILE, "nope");
        assert!(values(&p, true).is_empty());
        assert_eq!(p.s3, S3Section::default());
        let err = ProfileConfig::from_sections(
            &ini::parse("[default]\ns3 =\n  addressing_style = sideways\n").unwrap(),
            "default",
            Path::new("/c"),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("s3.addressing_style of profile `default` of /c"),
            "{err}"
        );
    }
}
