//! How a setting's value is read from a string: the [`SettingValue`] trait, its plain
//! types (strings, secrets, booleans, integers, durations, lists, paths), and the JSON
//! helpers that structured values (`proxies`, `client_config`, ...) are read with. Below
//! both the value types (`values`) and the network ones (`network`), which use it.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use super::Secret;

/// A type a setting can hold: how to parse it and how the settings table describes it.
pub trait SettingValue: Sized {
    /// Short description of the accepted form, for the settings table and error messages.
    const KIND: &'static str;
    /// Whether values of this type are secrets (never echoed in errors or `Debug`).
    const SECRET: bool = false;
    /// Parses a value given as a string; the error says what is wrong with it.
    fn parse_setting(raw: &str) -> Result<Self, String>;
}

impl SettingValue for String {
    const KIND: &'static str = "string";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        Ok(raw.to_owned())
    }
}

impl SettingValue for Secret {
    const KIND: &'static str = "string (secret)";
    const SECRET: bool = true;
    fn parse_setting(raw: &str) -> Result<Self, String> {
        Ok(Secret::new(raw))
    }
}

/// An empty string means "not set".
impl<T: SettingValue> SettingValue for Option<T> {
    const KIND: &'static str = T::KIND;
    const SECRET: bool = T::SECRET;
    fn parse_setting(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            T::parse_setting(raw).map(Some)
        }
    }
}

/// Booleans as Django settings and environment variables spell them.
pub(crate) fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "t" | "y" => Ok(true),
        "0" | "false" | "no" | "off" | "f" | "n" | "none" => Ok(false),
        _ => Err("expected a boolean (true/false, 1/0, yes/no, on/off)".into()),
    }
}

impl SettingValue for bool {
    const KIND: &'static str = "boolean";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        parse_bool(raw)
    }
}

macro_rules! integer_setting {
    ($($t:ty),*) => {$(
        impl SettingValue for $t {
            const KIND: &'static str = "integer";
            fn parse_setting(raw: &str) -> Result<Self, String> {
                let raw = raw.trim().replace('_', "");
                raw.parse::<$t>().map_err(|_| format!("expected a non-negative integer up to {}", <$t>::MAX))
            }
        }
    )*};
}
integer_setting!(u32, u64, usize);

/// A duration in seconds, fractions allowed (`2.5`).
impl SettingValue for Duration {
    const KIND: &'static str = "seconds";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        let secs: f64 = raw
            .trim()
            .parse()
            .map_err(|_| "expected a number of seconds".to_string())?;
        Duration::try_from_secs_f64(secs).map_err(|_| "expected a non-negative number of seconds".into())
    }
}

/// A list of strings: a JSON array, or comma-separated.
impl SettingValue for Vec<String> {
    const KIND: &'static str = "list of strings (JSON array or comma-separated)";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        if t.starts_with('[') {
            let v: Vec<String> = serde_json::from_str(t).map_err(|e| format!("invalid JSON array of strings: {e}"))?;
            return Ok(v);
        }
        Ok(t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

impl SettingValue for PathBuf {
    const KIND: &'static str = "path";
    fn parse_setting(raw: &str) -> Result<Self, String> {
        Ok(PathBuf::from(raw))
    }
}

pub(crate) fn json_object(raw: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(raw.trim()) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err("expected a JSON object".into()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

pub(crate) fn json_string(key: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("`{key}` must be a string")),
    }
}

pub(crate) fn json_u64(key: &str, v: &Value) -> Result<u64, String> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| format!("`{key}` must be a non-negative integer")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("`{key}` must be a non-negative integer")),
        _ => Err(format!("`{key}` must be a non-negative integer")),
    }
}

pub(crate) fn json_secs(key: &str, v: &Value) -> Result<Duration, String> {
    let secs = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    secs.and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("`{key}` must be a non-negative number of seconds"))
}

pub(crate) fn json_bool(key: &str, v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => parse_bool(s).map_err(|e| format!("`{key}`: {e}")),
        _ => Err(format!("`{key}` must be a boolean")),
    }
}
