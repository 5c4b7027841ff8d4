//! Django's name rules against the outputs recorded from the original
//! (django-storages-s3 0.1.4 on Django 5.2.19): `tests/goldens/names.json`, a copy of
//! `shared/django-goldens/names.json`.

use std::future::{Future, ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde_json::Value;
use storages_s3::{ErrorKind, Result, names};

const GOLDENS: &str = include_str!("../goldens/names.json");

/// Runs a future whose `exists` callbacks are all ready at once.
fn block_on<T>(fut: impl Future<Output = T>) -> T {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("future was not ready"),
    }
}

/// Compares a result with a recorded `{"ok": value}` or `{"error": class, "message": text}`.
fn compare(expected: &Value, actual: &Result<String>) -> std::result::Result<(), String> {
    match (expected.get("ok"), actual) {
        (Some(want), Ok(got)) if want.as_str() == Some(got.as_str()) => Ok(()),
        (Some(want), _) => Err(format!("expected Ok({want}), got {actual:?}")),
        (None, Ok(got)) => Err(format!("expected error {expected}, got Ok({got:?})")),
        (None, Err(err)) => {
            let class = expected["error"].as_str().unwrap_or_default();
            if !matches!(class, "SuspiciousOperation" | "SuspiciousFileOperation") {
                return Err(format!("unexpected recorded error class {class}"));
            }
            if err.kind() != ErrorKind::InvalidName {
                return Err(format!("expected {class}, got {err:?}"));
            }
            let message = err.to_string();
            let message = message.strip_prefix("invalid name: ").unwrap_or(&message);
            if Some(message) != expected["message"].as_str() {
                return Err(format!("expected message {}, got {message:?}", expected["message"]));
            }
            Ok(())
        }
    }
}

/// Reads Python's `re.escape` output back as literal text.
fn unescape(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().expect("dangling escape")
        } else {
            c
        });
    }
    out
}

/// Whether `name` matches a recorded `<escaped prefix>_[A-Za-z0-9]{7}<escaped suffix>`.
fn matches_shape(regex: &str, name: &str) -> bool {
    let Some((prefix, suffix)) = regex.split_once("_[A-Za-z0-9]{7}") else {
        return false;
    };
    let (prefix, suffix) = (unescape(prefix) + "_", unescape(suffix));
    name.strip_prefix(prefix.as_str())
        .and_then(|rest| rest.strip_suffix(suffix.as_str()))
        .is_some_and(|random| random.len() == 7 && random.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `get_available_name` with `file_overwrite = False`, probing through the storage's
/// `exists`, which maps a name to its key (and fails like it on a name escaping the
/// location). `taken` says whether the n-th probe finds an object.
fn available(location: &str, name: &str, taken: impl Fn(usize) -> bool) -> (Result<String>, Vec<String>) {
    let mut probed = Vec::new();
    let result = block_on(names::get_available_name(name, None, |candidate| {
        let answer = names::key_for(location, &candidate).map(|key| {
            probed.push(key);
            taken(probed.len())
        });
        ready(answer)
    }));
    (result, probed)
}

fn check_case(case: &Value) -> Vec<String> {
    let mut failures = Vec::new();
    let location = case["location"].as_str().unwrap();
    let Some(name) = case.get("name").and_then(Value::as_str) else {
        // A constructor case: the location is accepted and usable.
        if case["constructor"]["ok"] != Value::Bool(true) || names::normalize(location, "").is_err() {
            failures.push(format!("constructor with location {location:?}"));
        }
        return failures;
    };
    let check = |field: &str, actual: &Result<String>| {
        compare(&case[field], actual)
            .err()
            .map(|why| format!("{field}({location:?}, {name:?}): {why}"))
    };
    assert!(case["location_forced_after_ctor"] == Value::Bool(false));
    let results = [
        ("clean_name", Ok(names::clean_name(name))),
        ("normalize_raw", names::normalize(location, name)),
        ("normalize", names::key_for(location, name)),
        ("get_valid_name", names::get_valid_name(name)),
        ("generate_filename", names::generate_filename(name)),
        ("available_overwrite", names::get_available_overwrite_name(name, None)),
        (
            "available_overwrite_max20",
            names::get_available_overwrite_name(name, Some(20)),
        ),
    ];
    for (field, result) in &results {
        failures.extend(check(field, result));
    }

    // Nothing exists: the result and every key probed.
    let recorded = &case["available_nooverwrite_free"];
    let (result, probed) = available(location, name, |_| false);
    failures.extend(check("available_nooverwrite_free", &result));
    let want: Vec<&str> = recorded["probed_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    if probed != want {
        failures.push(format!(
            "available_nooverwrite_free({location:?}, {name:?}): probed {probed:?}, recorded {want:?}"
        ));
    }

    // The first candidate exists: a random name of the recorded shape.
    let recorded = &case["available_nooverwrite_taken"];
    let (result, probed) = available(location, name, |n| n == 1);
    match recorded.get("ok_shape") {
        None => failures.extend(check("available_nooverwrite_taken", &result)),
        Some(shape) => {
            let what = format!("available_nooverwrite_taken({location:?}, {name:?})");
            match &result {
                Ok(got) => {
                    if Some(got.chars().count() as u64) != shape["length"].as_u64() {
                        failures.push(format!("{what}: length of {got:?} is not {}", shape["length"]));
                    }
                    if !matches_shape(shape["regex"].as_str().unwrap(), got) || shape["matches"] != Value::Bool(true) {
                        failures.push(format!("{what}: {got:?} does not match {}", shape["regex"]));
                    }
                }
                Err(e) => failures.push(format!("{what}: {e:?}")),
            }
            if Some(probed.len() as u64) != shape["probed_keys_count"].as_u64()
                || probed.first().map(String::as_str) != shape["first_probed_key"].as_str()
            {
                failures.push(format!("{what}: probed {probed:?}, recorded {shape}"));
            }
        }
    }
    failures
}

#[test]
fn every_recorded_case_matches() {
    let goldens: Value = serde_json::from_str(GOLDENS).unwrap();
    let cases = goldens["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 160);
    let mut failures = Vec::new();
    let mut passed = 0;
    for case in cases {
        let case_failures = check_case(case);
        if case_failures.is_empty() {
            passed += 1;
        }
        failures.extend(case_failures);
    }
    println!("{passed}/{} golden cases pass", cases.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(passed, 160);
}

#[test]
fn shape_matching_reads_python_escapes() {
    assert!(matches_shape(r"a/\.\.\._[A-Za-z0-9]{7}", "a/..._abcDEF1"));
    assert!(matches_shape(
        "tab\\\tname_[A-Za-z0-9]{7}\\.txt",
        "tab\tname_0000000.txt"
    ));
    assert!(!matches_shape(r"a_[A-Za-z0-9]{7}\.txt", "a_000000.txt"));
    assert!(!matches_shape(r"a_[A-Za-z0-9]{7}\.txt", "a_00000-0.txt"));
    assert!(!matches_shape(r"a_[A-Za-z0-9]{7}\.txt", "b_0000000.txt"));
}
