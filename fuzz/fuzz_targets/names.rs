//! Django's name rules: no name, however built, escapes the storage's location.
//!
//! Input: byte 0 picks a location, the rest is a name (UTF-8, lossy), and also serves as a
//! `max_length` seed.
//!
//! - `key_for(location, name)`, what every storage operation uses, is either an error or a
//!   key under the location (`location/...`, or anything relative for the empty location)
//!   with no `..` segment and no leading `/`;
//! - `S3Storage::key` and `FileSystemStorage::relative` agree with that and never panic;
//! - `get_valid_name` keeps only word characters, `-`, `.` and `_`, and never `.`/`..`;
//! - `get_available_overwrite_name` gives a name that fits `max_length` (in characters),
//!   and whose key, when `save`'s second validation accepts it, is inside the location;
//!   `generate_filename` never yields a `..` directory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storages_s3::names::{
    clean_name, generate_filename, get_available_overwrite_name, get_valid_name, key_for, validate_file_name,
};

const LOCATIONS: &[&str] = &["", "media", "media/", "a/b", "static/v1"];

fn assert_inside(location: &str, key: &str, name: &str) {
    let base = location.trim_end_matches('/');
    if !base.is_empty() {
        assert!(
            key == format!("{base}/") || key.starts_with(&format!("{base}/")),
            "{name:?} escaped {location:?}: {key:?}"
        );
    }
    assert!(!key.starts_with('/'), "{name:?} gave an absolute key {key:?}");
    assert!(!key.split('/').any(|seg| seg == ".."), "{name:?} gave {key:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let location = LOCATIONS[pick as usize % LOCATIONS.len()];
    let name = String::from_utf8_lossy(rest);
    if let Ok(key) = key_for(location, &name) {
        assert_inside(location, &key, &name);
    }
    let _ = clean_name(&name);

    let local = storages_s3::FileSystemStorage::new("/srv/media");
    if let Ok(rel) = local.relative(&name) {
        assert!(
            !rel.starts_with('/') && !rel.split('/').any(|s| s == ".."),
            "{name:?} -> {rel:?}"
        );
    }

    if let Ok(valid) = get_valid_name(&name) {
        assert!(valid != "." && valid != ".." && !valid.is_empty());
        assert!(!valid.contains(['/', ' ', '\\', '\0']), "{name:?} -> {valid:?}");
    }

    let max_length = (pick as usize / LOCATIONS.len()).checked_sub(1);
    if let Ok(available) = get_available_overwrite_name(&name, max_length) {
        if let Some(max) = max_length {
            assert!(available.chars().count() <= max, "{name:?} max {max} -> {available:?}");
        }
        // Cleaning can make a valid name absolute (`.//\/r` becomes `//r`), as in Django:
        // `save` validates again after this step and refuses it; and its key stays inside.
        if validate_file_name(&available, true).is_ok() {
            let key = key_for("media", &available).unwrap_or_else(|e| panic!("{available:?}: {e}"));
            assert_inside("media", &key, &available);
        }
    }

    if let Ok(generated) = generate_filename(&name) {
        let dir = generated.rsplit_once('/').map_or("", |(d, _)| d);
        assert!(!dir.split('/').any(|s| s == ".."), "{name:?} -> {generated:?}");
    }
});
