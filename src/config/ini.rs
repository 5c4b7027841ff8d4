//! The INI dialect of `~/.aws/config` and `~/.aws/credentials`, as Python's `configparser`
//! (which botocore uses) reads it, and the profiles the two files define together.
//!
//! - `[section]` headers (white space inside the brackets is trimmed; text after the closing
//!   bracket, such as a comment, is ignored);
//! - `key = value` or `key: value`, split at the first `=` or `:`; keys are case-insensitive,
//!   keys and values are trimmed; an empty value is kept as empty (callers treat it as unset);
//! - whole-line comments start with `#` or `;` (after optional white space); there are no
//!   inline comments in values (`credential_process = a ; b` keeps its `; b`);
//! - a line indented deeper than the setting before it continues that setting's value (the
//!   nested `s3 =` sub-sections of the config file), so nested keys never pass for top-level
//!   ones; equally indented lines are settings of their own;
//! - a repeated section merges into the first, a repeated key keeps the last value.
//!
//! A line that is none of these is an error naming the file and line number, never the line
//! itself (it may hold a secret).

use std::collections::BTreeMap;

/// The sections of one file: name → (lower-case key → value).
pub(crate) type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// Why a file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IniError {
    /// 1-based line number.
    pub line: usize,
    pub message: &'static str,
}

/// Parses one file.
pub(crate) fn parse(text: &str) -> Result<Sections, IniError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    let mut last_key: Option<String> = None;
    // Indentation of the line that started the current key: deeper lines continue it.
    let mut key_indent = 0;
    for (index, raw) in text.split('\n').enumerate() {
        let err = |message| IniError {
            line: index + 1,
            message,
        };
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent > key_indent
            && let (Some(section), Some(key)) = (&current, &last_key)
        {
            let value = sections
                .get_mut(section)
                .and_then(|s| s.get_mut(key))
                .expect("the last key exists");
            value.push('\n');
            value.push_str(trimmed);
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let close = rest.rfind(']').ok_or_else(|| err("a section header without `]`"))?;
            let name = rest[..close].trim();
            if name.is_empty() {
                return Err(err("an empty section name"));
            }
            sections.entry(name.to_owned()).or_default();
            current = Some(name.to_owned());
            last_key = None;
            key_indent = indent;
            continue;
        }
        let Some(section) = &current else {
            return Err(err("a setting before any [section] header"));
        };
        let split = line
            .find(['=', ':'])
            .ok_or_else(|| err("a line that is not `key = value`"))?;
        let key = line[..split].trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(err("a setting without a name"));
        }
        let value = line[split + 1..].trim().to_owned();
        sections
            .get_mut(section)
            .expect("the current section exists")
            .insert(key.clone(), value);
        last_key = Some(key);
        key_indent = indent;
    }
    Ok(sections)
}

/// Profiles: name → settings (lower-case keys, non-empty values).
pub(crate) type Profiles = BTreeMap<String, BTreeMap<String, String>>;

/// The profiles of the config file (`[default]`, `[profile name]`) and the credentials file
/// (`[name]`); where both set a key of a profile, the credentials file wins. Other config
/// sections (`[sso-session x]`, `[services x]`, a bare `[name]`) are not profiles.
pub(crate) fn profiles(config: &Sections, credentials: &Sections) -> Profiles {
    let mut out = Profiles::new();
    let mut merge = |name: &str, settings: &BTreeMap<String, String>| {
        let entry = out.entry(name.to_owned()).or_default();
        for (k, v) in settings {
            if !v.is_empty() {
                entry.insert(k.clone(), v.clone());
            } else {
                entry.remove(k);
            }
        }
    };
    // `[profile default]` is read after `[default]`: botocore prefers it.
    if let Some(s) = config.get("default") {
        merge("default", s);
    }
    for (section, settings) in config {
        let mut words = section.split_whitespace();
        if let (Some("profile"), Some(name), None) = (words.next(), words.next(), words.next()) {
            merge(name, settings);
        }
    }
    for (section, settings) in credentials {
        merge(section, settings);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(s: &'a Sections, section: &str, key: &str) -> Option<&'a str> {
        s.get(section)?.get(key).map(String::as_str)
    }

    #[test]
    fn comments_spacing_and_case() {
        let text = "\u{feff}# a comment\n\
            ; another\n\
            [default]\n\
            aws_access_key_id=AKID\n\
            AWS_Secret_Access_Key   =   SECRET  \r\n\
            \n\
              # indented comment\n\
            [ profile   dev ]   # trailing comment\n\
            region: eu-west-1\n\
            credential_process = sh -c 'a ; b' # not a comment\n\
            empty =\n";
        let s = parse(text).unwrap();
        assert_eq!(get(&s, "default", "aws_access_key_id"), Some("AKID"));
        assert_eq!(get(&s, "default", "aws_secret_access_key"), Some("SECRET"));
        assert_eq!(get(&s, "profile   dev", "region"), Some("eu-west-1"));
        assert_eq!(
            get(&s, "profile   dev", "credential_process"),
            Some("sh -c 'a ; b' # not a comment")
        );
        assert_eq!(get(&s, "profile   dev", "empty"), Some(""));
        let p = profiles(&s, &Sections::new());
        assert_eq!(p["dev"].get("region").map(String::as_str), Some("eu-west-1"));
        assert!(!p["dev"].contains_key("empty"));
    }

    #[test]
    fn nested_sections_are_continuations() {
        let text = "[default]\ns3 =\n  role_arn = nested\n  max_concurrent_requests = 20\nregion = us-west-2\n";
        let s = parse(text).unwrap();
        assert_eq!(
            get(&s, "default", "s3"),
            Some("\nrole_arn = nested\nmax_concurrent_requests = 20")
        );
        assert_eq!(get(&s, "default", "role_arn"), None);
        assert_eq!(get(&s, "default", "region"), Some("us-west-2"));
    }

    #[test]
    fn indentation_is_relative_to_the_setting() {
        // As configparser: deeper lines continue, equal ones are settings.
        let s = parse("[a]\n  x = 1\n  y = 2\n    z = 3\n[b]\nx = 1\n\ty = 2\n").unwrap();
        assert_eq!(get(&s, "a", "x"), Some("1"));
        assert_eq!(get(&s, "a", "y"), Some("2\nz = 3"));
        assert_eq!(get(&s, "b", "x"), Some("1\ny = 2"));
        assert_eq!(get(&s, "b", "y"), None);
    }

    #[test]
    fn repeated_sections_merge_and_later_keys_win() {
        let s = parse("[a]\nx = 1\ny = 1\n[b]\nx = 2\n[a]\nx = 3\n").unwrap();
        assert_eq!(get(&s, "a", "x"), Some("3"));
        assert_eq!(get(&s, "a", "y"), Some("1"));
        assert_eq!(get(&s, "b", "x"), Some("2"));
    }

    #[test]
    fn errors_name_the_line_only() {
        let e = parse("[default]\naws_secret_access_key SECRETVALUE\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(!format!("{e:?}").contains("SECRETVALUE"));
        assert_eq!(parse("x = 1\n").unwrap_err().line, 1);
        assert_eq!(parse("[]\n").unwrap_err().line, 1);
        assert_eq!(parse("[open\n").unwrap_err().line, 1);
        assert_eq!(parse("[a]\n= 1\n").unwrap_err().line, 2);
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn profiles_of_both_files() {
        let config = parse(
            "[default]\nregion = us-east-1\n[profile dev]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n\
             [sso-session s]\nsso_region = x\n[bare]\nregion = nope\n[profile default]\noutput = json\n",
        )
        .unwrap();
        let creds = parse("[dev]\naws_access_key_id = FROMCREDS\naws_secret_access_key = S\n[other]\nx = 1\n").unwrap();
        let p = profiles(&config, &creds);
        assert_eq!(p.keys().collect::<Vec<_>>(), ["default", "dev", "other"]);
        assert_eq!(p["dev"]["aws_access_key_id"], "FROMCREDS");
        assert_eq!(p["dev"]["region"], "eu-west-1");
        assert_eq!(p["default"]["region"], "us-east-1");
        assert_eq!(p["default"]["output"], "json");
    }
}
