//! Django's `ManifestStaticFilesStorage` post-processing: hashed names, CSS/JS reference
//! rewriting, the `staticfiles.json` manifest and lookups in it.
//!
//! Input: byte 0 is flags (bit 0: `css/app.css`; bit 1: `js/app.js`; bit 2: `img/logo.png`;
//! bit 3: `fonts/f.woff2`; bit 4: JS module imports rewritten; bit 5: intermediate files kept;
//! bit 6: the storage already holds `img/old.png`; bit 7: source maps `css/app.css.map` and
//! `js/app.js.map`, and a module `js/util.js`), then the CSS text, a NUL, the JS text, a NUL, and bytes mapped onto a
//! small alphabet (ASCII, a quote, non-ASCII, an astral character) for one more file's name.
//!
//! - `post_process_with` never panics, and gives the same answer twice;
//! - it fails only as documented: `NotFound` (a missing reference, Django's message), `Io` (a
//!   CSS or JS file that is not UTF-8, and only then), `Unsupported` (passes exceeded);
//! - on success every collected file is in the manifest's paths and in `processed` once, under
//!   its final hashed name: the original's directory, `stem.<12 hex>.ext`, the hex being
//!   `file_hash` of the stored copy, which is `hashed_name(original, copy)`; assets are stored
//!   unchanged; without intermediate files exactly the hashed copies are stored, nothing is
//!   deleted;
//! - `manifest_json` is ASCII JSON (serde_json agrees on paths, version and hash) that
//!   `parse_manifest` reads back to the same paths, version `1.1` and `manifest_hash`;
//!   `stored_name` finds every original (also with `?v=1#x` and the `?#iefix` trick) and
//!   refuses a missing one when strict; `lookup_name` keeps these plain names.
#![no_main]

use std::collections::{HashMap, HashSet};

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use storages_s3::ErrorKind;
use storages_s3::manifest::{
    MANIFEST_NAME, ManifestOptions, file_hash, hashed_name, is_adjustable, lookup_name, manifest_hash, manifest_json,
    parse_manifest, post_process_with, stored_name,
};

const NAME_CHARS: &[char] = &[
    'a',
    'b',
    'c',
    'x',
    '0',
    '1',
    '.',
    '.',
    '-',
    '_',
    '/',
    '/',
    ' ',
    '"',
    '\'',
    'é',
    '中',
    '\u{1F642}',
];
const STORAGE: &str = "<storages.s3.S3ManifestStaticStorage object>";

/// A name built from `bytes`, kept when it is a plain relative file name (no empty, `.` or
/// `..` segment, no space at either end).
fn extra_name(bytes: &[u8]) -> Option<String> {
    let name: String = bytes
        .iter()
        .map(|b| NAME_CHARS[usize::from(*b) % NAME_CHARS.len()])
        .collect();
    let plain =
        !name.is_empty() && name.trim() == name && name.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
    plain.then_some(name)
}

/// `posixpath.splitext` of a file name (the last dot, not counting leading dots).
fn splitext(filename: &str) -> (&str, &str) {
    match filename.rfind('.') {
        Some(dot) if !filename[..dot].bytes().all(|b| b == b'.') => filename.split_at(dot),
        _ => (filename, ""),
    }
}

/// `hashed` is `original` with a 12-hex-digit hash before the extension; returns the hash.
fn check_shape<'a>(original: &str, hashed: &'a str) -> &'a str {
    let (dir, file) = original.rsplit_once('/').map_or(("", original), |(d, f)| (d, f));
    let (hdir, hfile) = hashed.rsplit_once('/').map_or(("", hashed), |(d, f)| (d, f));
    assert_eq!(dir, hdir, "{original:?} hashed into another directory: {hashed:?}");
    let (stem, ext) = splitext(file);
    let hash = hfile
        .strip_prefix(stem)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.strip_suffix(ext))
        .unwrap_or_else(|| panic!("{original:?} -> {hashed:?}"));
    assert!(
        hash.len() == 12 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{original:?} -> {hashed:?}"
    );
    hash
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |&b| b == 0);
    let css = parts.next().unwrap_or_default();
    let js = parts.next().unwrap_or_default();
    let extra = parts.next().and_then(extra_name);

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    if flags & 1 != 0 {
        files.push(("css/app.css".into(), css.to_vec()));
    }
    if flags & 2 != 0 {
        files.push(("js/app.js".into(), js.to_vec()));
    }
    if flags & 4 != 0 {
        files.push(("img/logo.png".into(), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()));
    }
    if flags & 8 != 0 {
        files.push(("fonts/f.woff2".into(), b"wOF2\0\x01\0\0".to_vec()));
    }
    if flags & 128 != 0 {
        files.push((
            "css/app.css.map".into(),
            br#"{"version":3,"sources":["app.scss"]}"#.to_vec(),
        ));
        files.push((
            "js/app.js.map".into(),
            br#"{"version":3,"sources":["app.ts"]}"#.to_vec(),
        ));
        files.push(("js/util.js".into(), b"export const x = 1;\n".to_vec()));
    }
    if let Some(name) = extra
        && !files.iter().any(|(n, _)| *n == name)
    {
        files.push((name, b"extra".to_vec()));
    }
    let mut options = ManifestOptions::default();
    options.support_js_module_import_aggregation = flags & 16 != 0;
    options.keep_intermediate_files = flags & 32 != 0;
    let mut stored: HashMap<String, Vec<u8>> = HashMap::new();
    if flags & 64 != 0 {
        stored.insert("img/old.png".into(), b"GIF89a".to_vec());
    }

    let result = post_process_with(&files, &options, &mut stored.clone());
    let again = post_process_with(&files, &options, &mut stored.clone());
    let r = match (result, again) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "post-processing is not deterministic");
            a
        }
        (Err(a), Err(b)) => {
            assert_eq!((a.kind(), a.to_string()), (b.kind(), b.to_string()));
            let text_ok = files
                .iter()
                .all(|(n, c)| !is_adjustable(n) || std::str::from_utf8(c).is_ok());
            let message = a.to_string();
            match a.kind() {
                ErrorKind::NotFound => {
                    assert!(
                        message.contains("The file '")
                            && message.contains(&format!("could not be found with {STORAGE}.")),
                        "{message}"
                    )
                }
                ErrorKind::Io => assert!(!text_ok && message.contains("'utf-8' codec can't decode"), "{message}"),
                ErrorKind::Unsupported => assert!(message.contains("Max post-process passes exceeded."), "{message}"),
                other => panic!("unexpected error kind {other:?}: {a:?}"),
            }
            return;
        }
        (a, b) => panic!("post-processing is not deterministic: {a:?} / {b:?}"),
    };

    // Every file once, under its final hashed name.
    let hashed: HashMap<&str, &str> = r.hashed_files.iter().map(|(o, h)| (o.as_str(), h.as_str())).collect();
    assert_eq!(hashed.len(), r.hashed_files.len(), "{:?}", r.hashed_files);
    assert_eq!(hashed.len(), files.len(), "{:?}", r.hashed_files);
    assert_eq!(r.processed.len(), files.len());
    let stored_copies: HashMap<&str, &[u8]> = r.stored.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
    for (name, content) in &files {
        assert_eq!(is_adjustable(name), name.ends_with(".css") || name.ends_with(".js"));
        assert_eq!(lookup_name(name), *name);
        let h = hashed
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name:?} missing from {:?}", r.hashed_files));
        let hash = check_shape(name, h);
        let copy = stored_copies.get(h).unwrap_or_else(|| panic!("{h:?} not stored"));
        assert_eq!(file_hash(copy), hash, "{h:?}");
        assert_eq!(hashed_name(name, copy), *h);
        if !is_adjustable(name) {
            assert_eq!(copy, content, "{name:?} stored changed");
        }
        let yielded: Vec<_> = r.processed.iter().filter(|(n, _, _)| n == name).collect();
        assert_eq!(yielded.len(), 1, "{:?}", r.processed);
        assert_eq!(yielded[0].1, *h);
    }
    if !options.keep_intermediate_files {
        let names: HashSet<&str> = r.stored.iter().map(|(n, _)| n.as_str()).collect();
        let finals: HashSet<&str> = hashed.values().copied().collect();
        assert_eq!(names, finals);
        assert_eq!(r.stored.len(), files.len());
        assert!(r.deleted.is_empty(), "{:?}", r.deleted);
    }

    // The manifest.
    let json = manifest_json(&r.hashed_files);
    assert!(json.is_ascii(), "{json}");
    let doc: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let paths = doc["paths"].as_object().expect("paths");
    assert_eq!(paths.len(), r.hashed_files.len());
    for (o, h) in &r.hashed_files {
        assert_eq!(paths.get(o).and_then(Value::as_str), Some(h.as_str()), "{json}");
    }
    assert_eq!(doc["version"], "1.1");
    let hash = manifest_hash(&r.hashed_files);
    assert_eq!(doc["hash"].as_str(), Some(hash.as_str()));
    let manifest = parse_manifest(json.as_bytes(), MANIFEST_NAME).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(manifest.paths(), r.hashed_files.as_slice());
    assert_eq!(manifest.version(), "1.1");
    assert_eq!(manifest.hash(), hash);

    for (o, h) in &r.hashed_files {
        assert_eq!(
            stored_name(&manifest, o, true).expect("found").as_deref(),
            Some(h.as_str())
        );
        assert_eq!(
            stored_name(&manifest, &format!("{o}?v=1#x"), true).expect("found"),
            Some(format!("{h}?v=1#x"))
        );
        assert_eq!(
            stored_name(&manifest, &format!("{o}?#iefix"), false).expect("found"),
            Some(format!("{h}?#iefix"))
        );
    }
    let missing = "missing/nope.png";
    if !hashed.contains_key(missing) {
        let e = stored_name(&manifest, missing, true).expect_err("strict");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(stored_name(&manifest, missing, false).expect("not strict"), None);
    }
});
