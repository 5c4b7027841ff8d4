//! `storage::manifest` against collectstatic runs recorded from the original (Django 5.2.19's
//! `ManifestStaticFilesStorage` and django-storages-s3 0.1.4's `S3ManifestStaticStorage`):
//! `tests/goldens/static/`, a copy of `shared/django-goldens/{trees,manifest}`.
//!
//! Every run is replayed from its input tree: the hashed copies (names and SHA-256), the
//! rewritten texts, the manifest (as a set of paths, its hash, and byte for byte when the files
//! are given in Django's walk order), the number of post-processed files, and Django's error
//! when the run failed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest as _, Sha256};
use storages_s3::ErrorKind;
use storages_s3::manifest::{self, ManifestOptions, PostProcessed};

/// Collected files: name and content.
type Files = Vec<(String, Vec<u8>)>;

fn goldens() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/goldens/static")
}

/// Every file under `trees/<tree>`, named relative to it with `/`, sorted by name.
fn read_tree(tree: &str) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_str().unwrap());
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push((name, fs::read(entry.path()).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&goldens().join("trees").join(tree), "", &mut out);
    out.sort();
    out
}

fn sha256(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

/// The recorded run `manifest/<run>.json`.
fn load(run: &str) -> Value {
    let path = goldens().join("manifest").join(format!("{run}.json"));
    serde_json::from_slice(&fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// The collected files of a run: its trees in order, the first file of a name winning.
fn collected(run: &Value) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for tree in run["tree"].as_array().unwrap() {
        for (name, content) in read_tree(tree.as_str().unwrap()) {
            if !files.iter().any(|(n, _)| *n == name) {
                files.push((name, content));
            }
        }
    }
    assert_eq!(
        run["ignore_patterns"],
        serde_json::json!([]),
        "ignore patterns are not replayed"
    );
    files
}

fn options(run: &Value) -> ManifestOptions {
    let mut options = ManifestOptions::default();
    options.support_js_module_import_aggregation = run["run"].as_str().unwrap().ends_with("_jsmodules");
    // Django's `%r` of the storage, with the address as the recording masked it.
    options.storage_name = format!("<{} object at 0xADDR>", run["backend"].as_str().unwrap());
    options
}

/// The recorded manifest's paths, in its order.
fn recorded_paths(run: &Value) -> Vec<(String, String)> {
    let raw = run["staticfiles_json_raw"].as_str().unwrap();
    let parsed = manifest::parse_manifest(raw.as_bytes(), "staticfiles.json").unwrap();
    parsed.paths().to_vec()
}

/// The files in three orders: by name, reversed, and (for runs that wrote a manifest) in
/// Django's walk order, which the manifest's `paths` keep.
fn orders(run: &Value, files: &[(String, Vec<u8>)]) -> Vec<(&'static str, Files)> {
    let mut orders = vec![
        ("sorted", files.to_vec()),
        ("reversed", files.iter().rev().cloned().collect()),
    ];
    if run["staticfiles_json_raw"].is_string() {
        let mut walk: Vec<(String, Vec<u8>)> = recorded_paths(run)
            .iter()
            .map(|(original, _)| files.iter().find(|(n, _)| n == original).unwrap().clone())
            .collect();
        let rest: Vec<_> = files
            .iter()
            .filter(|(n, _)| !walk.iter().any(|(w, _)| w == n))
            .cloned()
            .collect();
        walk.extend(rest);
        orders.push(("walk", walk));
    }
    orders
}

fn check_ok(run: &Value, files: &[(String, Vec<u8>)], order: &str, out: &PostProcessed) -> Result<(), String> {
    let originals: BTreeMap<&str, &[u8]> = files.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();

    // Stored objects: originals, the manifest, and exactly our hashed copies.
    let stored: BTreeMap<&str, &[u8]> = out.stored.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
    if stored.len() != out.stored.len() {
        return Err(format!(
            "a name is stored twice: {:?}",
            out.stored.iter().map(|(n, _)| n).collect::<Vec<_>>()
        ));
    }
    let mut expected_copies = BTreeMap::new();
    for file in run["files"].as_array().unwrap() {
        let key = file["key"].as_str().unwrap();
        let sha = file["sha256"].as_str().unwrap();
        let size = file["size"].as_u64().unwrap();
        if key == "staticfiles.json" {
            let raw = run["staticfiles_json_raw"].as_str().unwrap();
            if sha256(raw.as_bytes()) != sha || raw.len() as u64 != size {
                return Err("recorded staticfiles.json does not match its raw bytes".into());
            }
        } else if let Some(content) = originals.get(key) {
            if sha256(content) != sha {
                return Err(format!("original {key} differs from the tree"));
            }
        } else {
            expected_copies.insert(key, (sha.to_owned(), size));
        }
    }
    let got_copies: BTreeMap<&str, (String, u64)> =
        stored.iter().map(|(n, c)| (*n, (sha256(c), c.len() as u64))).collect();
    if got_copies != expected_copies {
        let missing: Vec<_> = expected_copies
            .iter()
            .filter(|(k, v)| got_copies.get(*k) != Some(v))
            .collect();
        let extra: Vec<_> = got_copies
            .iter()
            .filter(|(k, v)| expected_copies.get(*k) != Some(v))
            .collect();
        return Err(format!(
            "stored copies differ ({order}): expected {missing:?}, got {extra:?}"
        ));
    }

    // Rewritten texts (recorded for the S3 runs).
    if let Some(texts) = run.get("texts").and_then(Value::as_object) {
        for (key, text) in texts {
            let content = stored
                .get(key.as_str())
                .or(originals.get(key.as_str()))
                .ok_or(format!("no {key}"))?;
            if *content != text.as_str().unwrap().as_bytes() {
                return Err(format!(
                    "text of {key} ({order}):\n{}\nexpected:\n{}",
                    String::from_utf8_lossy(content),
                    text.as_str().unwrap()
                ));
            }
        }
    }

    // The manifest: same paths, same hash; sorted by name in ours.
    let recorded = recorded_paths(run);
    let ours: BTreeSet<&(String, String)> = out.hashed_files.iter().collect();
    if ours != recorded.iter().collect::<BTreeSet<_>>() || ours.len() != out.hashed_files.len() {
        return Err(format!(
            "manifest paths ({order}): {:?}, expected {recorded:?}",
            out.hashed_files
        ));
    }
    let mut sorted = out.hashed_files.clone();
    sorted.sort();
    let json = manifest::manifest_json(&sorted);
    let reread = manifest::parse_manifest(json.as_bytes(), "staticfiles.json").map_err(|e| e.to_string())?;
    let golden = manifest::parse_manifest(run["staticfiles_json_raw"].as_str().unwrap().as_bytes(), "x").unwrap();
    if reread.hash() != golden.hash() || reread.version() != "1.1" || reread.paths() != sorted {
        return Err(format!("manifest ({order}): {json}"));
    }
    if order == "walk" {
        // Given Django's walk order, the processing order and the bytes are Django's too.
        if out.hashed_files != recorded {
            return Err(format!("manifest order: {:?}, expected {recorded:?}", out.hashed_files));
        }
        if json_raw(&out.hashed_files) != run["staticfiles_json_raw"].as_str().unwrap() {
            return Err(format!("manifest bytes: {}", json_raw(&out.hashed_files)));
        }
    }

    // collectstatic's summary: "N post-processed."; every file is yielded once.
    let summary = run["result"]["ok"][0].as_str().unwrap();
    let count: usize = summary
        .rsplit(", ")
        .next()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    if out.processed.iter().filter(|(_, _, processed)| *processed).count() != count {
        return Err(format!(
            "post-processed count ({order}): {:?}, summary {summary:?}",
            out.processed
        ));
    }
    let yielded: BTreeSet<&str> = out.processed.iter().map(|(n, _, _)| n.as_str()).collect();
    if yielded != originals.keys().copied().collect() || out.processed.len() != originals.len() {
        return Err(format!("yielded ({order}): {:?}", out.processed));
    }
    for (name, hashed, _) in &out.processed {
        if out.hashed_files.iter().find(|(n, _)| n == name).map(|(_, h)| h) != Some(hashed) {
            return Err(format!("yielded {name} as {hashed}, not its final name"));
        }
    }
    if !out.deleted.is_empty() {
        return Err(format!("nothing existed, yet deleted {:?}", out.deleted));
    }
    Ok(())
}

fn json_raw(paths: &[(String, String)]) -> String {
    manifest::manifest_json(paths)
}

fn check_run(name: &str) {
    let run = load(name);
    assert_eq!(run["run"].as_str().unwrap(), name.split('.').next().unwrap());
    let files = collected(&run);
    let options = options(&run);

    // The recorded manifest bytes: ours for the same pairs in the same order, and the copy.
    if let Some(raw) = run["staticfiles_json_raw"].as_str() {
        assert_eq!(
            manifest::manifest_json(&recorded_paths(&run)),
            raw,
            "{name}: manifest encoding"
        );
        let copy = fs::read_to_string(goldens().join("manifest").join(format!("{name}.staticfiles.json"))).unwrap();
        assert_eq!(copy, raw, "{name}: staticfiles.json copy");
        let parsed = manifest::parse_manifest(raw.as_bytes(), "staticfiles.json").unwrap();
        assert_eq!(
            (parsed.version(), parsed.hash()),
            ("1.1", manifest::manifest_hash(parsed.paths()).as_str())
        );
    }

    for (order, files) in orders(&run, &files) {
        let result = manifest::post_process(&files, &options);
        match (&run["result"]["ok"], result) {
            (Value::Array(_), Ok(out)) => {
                if let Err(e) = check_ok(&run, &files, order, &out) {
                    panic!("{name}: {e}");
                }
            }
            (Value::Array(_), Err(e)) => panic!("{name} ({order}): expected success, got {e}"),
            (_, Ok(out)) => panic!("{name} ({order}): expected {}, got {out:?}", run["result"]),
            (_, Err(e)) => {
                assert_eq!(run["result"]["error"], "ValueError", "{name}");
                assert!(
                    run["staticfiles_json_raw"].is_null(),
                    "{name}: a failed run writes no manifest"
                );
                assert_eq!(e.kind(), ErrorKind::NotFound, "{name} ({order}): {e}");
                let message = e.to_string();
                let message = message.strip_prefix("not found: ").unwrap_or(&message);
                assert_eq!(message, run["result"]["message"].as_str().unwrap(), "{name} ({order})");
            }
        }
    }
}

/// The runs replayed below: every `manifest/<run>.<mode>.json` of the goldens.
const RUNS: &[&str] = &[
    "edge.local",
    "edge.s3",
    "edge_bare_jsmodules.local",
    "edge_bare_jsmodules.s3",
    "edge_jsmodules.local",
    "edge_jsmodules.s3",
    "edge_missing.local",
    "edge_missing.s3",
    "edge_quirks.local",
    "edge_quirks.s3",
    "edge_url_spaces.local",
    "edge_url_spaces.s3",
];

#[test]
fn every_recorded_run_is_replayed() {
    let mut found: Vec<String> = fs::read_dir(goldens().join("manifest"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json") && !n.ends_with(".staticfiles.json"))
        .map(|n| n.trim_end_matches(".json").to_owned())
        .collect();
    found.sort();
    assert_eq!(found, RUNS);
}

macro_rules! runs {
    ($($test:ident => $run:literal,)*) => {$(
        #[test]
        fn $test() {
            check_run($run);
        }
    )*};
}

runs! {
    edge_local => "edge.local",
    edge_s3 => "edge.s3",
    edge_bare_jsmodules_local => "edge_bare_jsmodules.local",
    edge_bare_jsmodules_s3 => "edge_bare_jsmodules.s3",
    edge_jsmodules_local => "edge_jsmodules.local",
    edge_jsmodules_s3 => "edge_jsmodules.s3",
    edge_missing_local => "edge_missing.local",
    edge_missing_s3 => "edge_missing.s3",
    edge_quirks_local => "edge_quirks.local",
    edge_quirks_s3 => "edge_quirks.s3",
    edge_url_spaces_local => "edge_url_spaces.local",
    edge_url_spaces_s3 => "edge_url_spaces.s3",
}

/// The recorded files, rewritten once more with a storage that already holds the run's
/// output: non-adjustable copies are not stored again (`processed` false, as in Django's
/// second collectstatic), adjustable ones are stored again under the same names.
#[test]
fn second_run_over_the_same_storage() {
    let run = load("edge.s3");
    let files = collected(&run);
    let options = options(&run);
    let first = manifest::post_process(&files, &options).unwrap();
    let mut storage: std::collections::HashMap<String, Vec<u8>> = first.stored.iter().cloned().collect();
    storage.extend(files.iter().cloned());
    let second = manifest::post_process_with(&files, &options, &mut storage).unwrap();
    assert_eq!(second.hashed_files, first.hashed_files);
    for (name, hashed, processed) in &second.processed {
        assert_eq!(*processed, manifest::is_adjustable(name), "{name} -> {hashed}");
    }
    let again: BTreeSet<&String> = second.stored.iter().map(|(n, _)| n).collect();
    let adjustable: BTreeSet<&String> = first
        .hashed_files
        .iter()
        .filter(|(n, _)| manifest::is_adjustable(n))
        .map(|(_, h)| h)
        .collect();
    assert_eq!(again, adjustable);
    assert!(second.deleted.is_empty(), "{:?}", second.deleted);
}
