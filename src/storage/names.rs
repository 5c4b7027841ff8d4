//! Django's name rules: how a storage name becomes an S3 key, and how `save()` picks a name.
//!
//! Every function here is pure (no I/O) and reproduces what `django-storages-s3` 0.1.4 and
//! Django 5.2 do, quirks included, so that a name maps to the same key in both:
//!
//! - [`clean_name`]: POSIX normalisation, then `\` → `/`, keeping a trailing slash.
//! - [`safe_join`], [`normalize`] and [`key_for`]: joining a name to the storage's `location`,
//!   refusing any name that escapes it.
//! - [`get_valid_name`], [`validate_file_name`], [`generate_filename`]: Django's file name
//!   checks.
//! - [`get_available_overwrite_name`] and [`get_available_name`]: the name `save()` stores
//!   under, with `file_overwrite` true and false.
//!
//! Lengths (`max_length`) are counted in Unicode code points, as Python's `len` does, and
//! truncation cuts whole code points. Errors are [`ErrorKind::InvalidName`] carrying Django's
//! exact message (its `SuspiciousOperation` and `SuspiciousFileOperation`).
//!
//! [`ErrorKind::InvalidName`]: crate::ErrorKind::InvalidName

use std::future::Future;

use crate::py::{
    all_suffixes, basename, drop_last_chars, has_parent_part, is_word as py_is_word, isspace as py_isspace, join,
    len as py_len, normpath, split, splitext,
};
use crate::{Error, ErrorKind, Result};

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidName, message)
}

fn could_not_derive(name: &str) -> Error {
    invalid(format!("Could not derive file name from '{name}'"))
}

fn traversal(name: &str) -> Error {
    invalid(format!("Detected path traversal attempt in '{name}'"))
}

// ---------------------------------------------------------------------------------------
// Public API.

/// Normalises a storage name (`storages.utils.clean_name`).
///
/// POSIX normalisation first (`//` collapsed, `.` dropped, `x/..` resolved, leading `..`
/// kept, one or exactly two leading slashes kept), **then** every `\` becomes `/`, so
/// backslashes are not separators while resolving `..`. A trailing slash survives, and
/// `.` becomes the empty name.
///
/// ```
/// use storages_s3::names::clean_name;
///
/// assert_eq!(clean_name("path/to/../somewhere"), "path/somewhere");
/// assert_eq!(clean_name("path\\to\\somewhere/"), "path/to/somewhere/");
/// assert_eq!(clean_name("a\\..\\b"), "a/../b");
/// assert_eq!(clean_name("."), "");
/// ```
pub fn clean_name(name: &str) -> String {
    let mut clean = normpath(name).replace('\\', "/");
    if name.ends_with('/') && !clean.ends_with('/') {
        clean.push('/');
    }
    if clean == "." {
        clean.clear();
    }
    clean
}

/// Joins `paths` to `base` and normalises the result, refusing any result outside `base`
/// (`storages.utils.safe_join`). The result has no leading slash; with an empty base, leading
/// `/` and `..` are absorbed.
///
/// The error (Python's `ValueError`) is [`ErrorKind::InvalidName`] with the message
/// `the joined path is located outside of the base path component`.
///
/// [`ErrorKind::InvalidName`]: crate::ErrorKind::InvalidName
///
/// ```
/// use storages_s3::names::safe_join;
///
/// assert_eq!(safe_join("media", &["a/../b"]).unwrap(), "media/b");
/// assert_eq!(safe_join("media/", &["a/b/"]).unwrap(), "media/a/b/");
/// assert_eq!(safe_join("", &["/etc/passwd"]).unwrap(), "etc/passwd");
/// assert!(safe_join("media", &["../x"]).unwrap_err().is_invalid_name());
/// ```
pub fn safe_join(base: &str, paths: &[&str]) -> Result<String> {
    let base_path = base.trim_end_matches('/');
    let mut final_path = format!("{base_path}/");
    for path in paths {
        let mut joined = normpath(&join(&final_path, path));
        // normpath strips the trailing slash: put it back.
        if path.ends_with('/') || final_path.strip_suffix('/') == Some(joined.as_str()) {
            joined.push('/');
        }
        final_path = joined;
    }
    if final_path == base_path {
        final_path.push('/');
    }
    if !final_path.starts_with(base_path) || final_path.as_bytes().get(base_path.len()) != Some(&b'/') {
        return Err(invalid(
            "the joined path is located outside of the base path component".to_owned(),
        ));
    }
    Ok(final_path.trim_start_matches('/').to_owned())
}

/// Joins a name to the storage's `location` (Django's `_normalize_name`): [`safe_join`],
/// with a name escaping the location refused as `Attempted access to '<name>' denied.`
///
/// The name is used as given; storage operations clean it first (see [`key_for`]).
///
/// ```
/// use storages_s3::names::normalize;
///
/// assert_eq!(normalize("media", "x.txt").unwrap(), "media/x.txt");
/// let err = normalize("media", "../x").unwrap_err();
/// assert_eq!(err.to_string(), "invalid name: Attempted access to '../x' denied.");
/// ```
pub fn normalize(location: &str, name: &str) -> Result<String> {
    safe_join(location, &[name]).map_err(|_| invalid(format!("Attempted access to '{name}' denied.")))
}

/// The S3 key of a storage name: `normalize(location, clean_name(name))`, what every storage
/// operation (`open`, `exists`, `delete`, `size`, `url`, `listdir`, ...) uses.
///
/// The key may be empty (the name `""`, `/` or `..` with an empty location) or end with `/`
/// (a "directory" name); callers that send a request for one object must check for that.
///
/// ```
/// use storages_s3::names::key_for;
///
/// assert_eq!(key_for("", "/x.txt").unwrap(), "x.txt");
/// assert_eq!(key_for("media", "sub/../x.txt").unwrap(), "media/x.txt");
/// assert_eq!(key_for("media", "").unwrap(), "media/");
/// assert!(key_for("media", "a/../../x").is_err());
/// ```
pub fn key_for(location: &str, name: &str) -> Result<String> {
    normalize(location, &clean_name(name))
}

/// A file name safe to store (Django's `get_valid_filename`): surrounding whitespace
/// stripped, spaces turned into `_`, and every character that is not a Unicode letter or
/// digit, `_`, `-` or `.` removed (so `/` goes too: this is for the final component).
///
/// A result of `""`, `.` or `..` is refused: `Could not derive file name from '<name>'`.
///
/// ```
/// use storages_s3::names::get_valid_name;
///
/// assert_eq!(get_valid_name("john's portrait in 2004.jpg").unwrap(), "johns_portrait_in_2004.jpg");
/// assert_eq!(get_valid_name("日本語.txt").unwrap(), "日本語.txt");
/// assert!(get_valid_name("$$").is_err());
/// ```
pub fn get_valid_name(name: &str) -> Result<String> {
    let valid: String = name
        .trim_matches(py_isspace)
        .chars()
        .map(|c| if c == ' ' { '_' } else { c })
        .filter(|&c| c == '-' || c == '.' || py_is_word(c))
        .collect();
    if matches!(valid.as_str(), "" | "." | "..") {
        return Err(could_not_derive(name));
    }
    Ok(valid)
}

/// Django's `validate_file_name`.
///
/// The final component (after the last `/`; `\` is not a separator here) must not be `""`,
/// `.` or `..` (`Could not derive file name from '<name>'`). With `allow_relative_path`, the
/// name (with `\` read as `/`) must be relative and free of `..` components (`Detected path
/// traversal attempt in '<name>'`); without it, it must not contain `/` at all (`File name
/// '<name>' includes path elements`).
///
/// ```
/// use storages_s3::names::validate_file_name;
///
/// assert!(validate_file_name("dir/a.txt", true).is_ok());
/// assert!(validate_file_name("a\\..\\b", true).is_err());
/// assert!(validate_file_name("dir/a.txt", false).is_err());
/// ```
pub fn validate_file_name(name: &str, allow_relative_path: bool) -> Result<()> {
    if matches!(basename(name), "" | "." | "..") {
        return Err(could_not_derive(name));
    }
    if allow_relative_path {
        let path = name.replace('\\', "/");
        if path.starts_with('/') || has_parent_part(&path) {
            return Err(traversal(name));
        }
    } else if name.contains('/') {
        return Err(invalid(format!("File name '{name}' includes path elements")));
    }
    Ok(())
}

/// The name `save()` stores under with `file_overwrite = True` (the default): the cleaned
/// name, validated, and shortened to `max_length` code points if needed.
///
/// Refuses `..` in the directory part and an underivable file part (kept from
/// CVE-2024-39330's fix even though nothing is renamed). A name longer than `max_length`
/// loses characters from the end of its root (the file part before its last extension); if
/// none would be left: `Storage tried to truncate away entire filename "<name>". ...`.
///
/// ```
/// use storages_s3::names::get_available_overwrite_name;
///
/// assert_eq!(get_available_overwrite_name("a/./b.txt", None).unwrap(), "a/b.txt");
/// assert_eq!(get_available_overwrite_name("parent/child.txt", Some(15)).unwrap(), "parent/chil.txt");
/// assert!(get_available_overwrite_name("parent/child.txt", Some(11)).is_err());
/// ```
pub fn get_available_overwrite_name(name: &str, max_length: Option<usize>) -> Result<String> {
    overwrite_name(clean_name(name), max_length)
}

/// `storages.utils.get_available_overwrite_name` proper, on a name as given.
fn overwrite_name(name: String, max_length: Option<usize>) -> Result<String> {
    let (dir_name, file_name) = split(&name);
    if has_parent_part(dir_name) {
        return Err(traversal(dir_name));
    }
    validate_file_name(file_name, true)?;
    let len = py_len(&name);
    let max_length = match max_length {
        Some(max) if len > max => max,
        _ => return Ok(name),
    };
    let (file_root, file_ext) = splitext(file_name);
    let file_root = drop_last_chars(file_root, len - max_length);
    if file_root.is_empty() {
        return Err(invalid(format!(
            "Storage tried to truncate away entire filename \"{name}\". Please make sure that the corresponding \
             file field allows sufficient \"max_length\"."
        )));
    }
    let truncated = join(dir_name, &format!("{file_root}{file_ext}"));
    validate_file_name(&truncated, true)?;
    Ok(truncated)
}

/// The name `save()` stores under with `file_overwrite = False` (Django's base algorithm):
/// the cleaned name if it is free, else `dir/root_XXXXXXX.ext` with 7 random letters and
/// digits before all the extensions (`arch.tar.gz` → `arch_a6XYmPX.tar.gz`).
///
/// `exists` is asked about each candidate name (not key: map it with [`key_for`]), the
/// original first; its error is returned as is. A candidate is also rejected while it is
/// longer than `max_length` code points, and the root is then shortened to fit; if nothing
/// of it is left: `Storage can not find an available filename for "<name>". ...`. As in
/// Django, `max_length = Some(0)` does not reject the original name for its length.
///
/// Checking then writing is racy; writers should also send `If-None-Match: *`.
///
/// ```
/// use storages_s3::names::get_available_name;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> storages_s3::Result<()> {
/// let taken = ["dir/arch.tar.gz"];
/// let name = get_available_name("dir/arch.tar.gz", None, |n| async move { Ok(taken.contains(&n.as_str())) })
///     .await?;
/// assert!(name.starts_with("dir/arch_") && name.ends_with(".tar.gz"));
/// assert_eq!(name.chars().count(), "dir/arch_XXXXXXX.tar.gz".len());
/// # Ok(()) }
/// ```
pub async fn get_available_name<F, Fut>(name: &str, max_length: Option<usize>, mut exists: F) -> Result<String>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let mut name = clean_name(name);
    let (dir_name, file_name) = split(&name);
    if has_parent_part(dir_name) {
        return Err(traversal(dir_name));
    }
    validate_file_name(file_name, false)?;
    let file_ext = all_suffixes(file_name);
    let (dir_name, file_ext) = (dir_name.to_owned(), file_ext.to_owned());
    let mut file_root = file_name[..file_name.len() - file_ext.len()].to_owned();
    // Python's truthiness: `max_length and len(name) > max_length`.
    let too_long = |name: &str| max_length.is_some_and(|max| max > 0 && py_len(name) > max);
    while exists(name.clone()).await? || too_long(&name) {
        name = alternative_name(&dir_name, &file_root, &file_ext);
        let Some(max_length) = max_length else { continue };
        let len = py_len(&name);
        if len > max_length {
            file_root = drop_last_chars(&file_root, len - max_length).to_owned();
            if file_root.is_empty() {
                return Err(invalid(format!(
                    "Storage can not find an available filename for \"{name}\". Please make sure that the \
                     corresponding file field allows sufficient \"max_length\"."
                )));
            }
            name = alternative_name(&dir_name, &file_root, &file_ext);
        }
    }
    Ok(name)
}

/// A candidate name for [`get_available_name`]: `dir_name/file_root_XXXXXXX file_ext`, with 7
/// random characters from `[a-zA-Z0-9]` (Django's `get_alternative_name` joined to the
/// directory as `os.path.join` does).
///
/// ```
/// use storages_s3::names::alternative_name;
///
/// let name = alternative_name("dir", "arch", ".tar.gz");
/// assert!(name.starts_with("dir/arch_") && name.ends_with(".tar.gz") && name.len() == 23);
/// ```
pub fn alternative_name(dir_name: &str, file_root: &str, file_ext: &str) -> String {
    let random: String = (0..7).map(|_| fastrand::alphanumeric()).collect();
    join(dir_name, &format!("{file_root}_{random}{file_ext}"))
}

/// The name a Django `FileField` derives from an upload's name (Django's
/// `Storage.generate_filename`; `save()` does not call it): `\` read as `/`, `..` refused in
/// the directory part, [`get_valid_name`] applied to the file part, and the whole normalised.
///
/// ```
/// use storages_s3::names::generate_filename;
///
/// assert_eq!(generate_filename("a\\b\\c d.txt").unwrap(), "a/b/c_d.txt");
/// assert_eq!(generate_filename("dir/john's file.txt").unwrap(), "dir/johns_file.txt");
/// assert!(generate_filename("dir/../x.txt").is_err());
/// ```
pub fn generate_filename(filename: &str) -> Result<String> {
    let filename = filename.replace('\\', "/");
    let (dir_name, file_name) = split(&filename);
    if has_parent_part(dir_name) {
        return Err(traversal(dir_name));
    }
    Ok(normpath(&join(dir_name, &get_valid_name(file_name)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::future::ready;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Runs a future whose `exists` callbacks are all ready at once.
    fn block_on<T>(fut: impl Future<Output = T>) -> T {
        let mut fut = pin!(fut);
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("future was not ready"),
        }
    }

    /// The message of an `InvalidName` error.
    fn msg<T: std::fmt::Debug>(r: Result<T>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{e:?}");
        e.to_string().strip_prefix("invalid name: ").unwrap().to_owned()
    }

    const DERIVE: &str = "Could not derive file name from";
    const TRUNCATE_AWAY: &str = "Storage tried to truncate away entire filename";
    const NOT_AVAILABLE: &str = "Storage can not find an available filename for";

    /// `get_available_name` where the names in `taken` exist; returns the result and the
    /// names probed.
    fn available(name: &str, max_length: Option<usize>, taken: &[&str]) -> (Result<String>, Vec<String>) {
        let mut probed = Vec::new();
        let r = block_on(get_available_name(name, max_length, |n| {
            let hit = taken.contains(&n.as_str());
            probed.push(n);
            ready(Ok(hit))
        }));
        (r, probed)
    }

    /// `name` is `prefix` + 7 characters of `[a-zA-Z0-9]` + `suffix`.
    fn assert_shape(name: &str, prefix: &str, suffix: &str) {
        let middle = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .unwrap_or_else(|| panic!("{name:?} is not {prefix:?}XXXXXXX{suffix:?}"));
        assert_eq!(middle.len(), 7, "{name:?}");
        assert!(middle.bytes().all(|b| b.is_ascii_alphanumeric()), "{name:?}");
    }

    // ----- §3.1 clean_name -----------------------------------------------------------

    #[test]
    fn clean_name_spec_table() {
        for (input, output) in [
            ("path/to/somewhere", "path/to/somewhere"),
            ("path/to/../somewhere", "path/somewhere"),
            ("path/to/somewhere/", "path/to/somewhere/"),
            ("path\\to\\somewhere", "path/to/somewhere"),
            ("", ""),
            (".", ""),
            ("./a", "a"),
            ("a//b", "a/b"),
            ("/abs/x.txt", "/abs/x.txt"),
            ("//double/x", "//double/x"),
            ("a/./b/", "a/b/"),
            ("../x", "../x"),
            ("a/../../x", "../x"),
            ("..", ".."),
            ("a/b/..", "a"),
            ("a/b/../", "a/"),
            ("/", "/"),
            ("a\\..\\b", "a/../b"),
            ("a/b\\c/", "a/b/c/"),
            ("x/.", "x"),
            (" sp ace .txt", " sp ace .txt"),
            ("a/b/c/../../d.txt", "a/d.txt"),
        ] {
            assert_eq!(clean_name(input), output, "clean_name({input:?})");
        }
    }

    #[test]
    fn clean_name_quirks() {
        // Three or more leading slashes become one; the trailing slash comes back even on ".".
        assert_eq!(clean_name("///a/b"), "/a/b");
        assert_eq!(clean_name("./"), "./");
        assert_eq!(clean_name("a/../"), "./");
        assert_eq!(clean_name("dir\\"), "dir/");
        assert_eq!(clean_name("nul\0byte.txt"), "nul\0byte.txt");
    }

    // ----- §3.2 safe_join / normalize / key_for --------------------------------------

    #[test]
    fn safe_join_spec_table() {
        let ok = |base: &str, paths: &[&str], expected: &str| {
            assert_eq!(
                safe_join(base, paths).unwrap(),
                expected,
                "safe_join({base:?}, {paths:?})"
            );
        };
        ok("", &["a.txt"], "a.txt");
        ok("", &[""], "");
        ok("", &["."], "");
        ok("", &[], "");
        ok("media", &["a.txt"], "media/a.txt");
        ok("media/", &["a/b/"], "media/a/b/");
        ok("media", &[""], "media/");
        ok("media", &["."], "media/");
        ok("media", &[], "media/");
        ok("", &["/etc/passwd"], "etc/passwd");
        ok("", &["../x"], "x");
        ok("media", &["a/../b"], "media/b");
        ok("media", &["a/../../media/b"], "media/b");
        ok("media/sub", &["../sub/x"], "media/sub/x");
        ok("", &["a//b"], "a/b");
        ok("media", &["a/./b/."], "media/a/b");
        ok("a/b/", &["c"], "a/b/c");
        ok(
            "",
            &["path/./somewhere/../other", "..", ".", "to/./somewhere"],
            "path/to/somewhere",
        );
        ok(
            "base_url",
            &["2017-05-19T14:45:37.123456"],
            "base_url/2017-05-19T14:45:37.123456",
        );
        for (base, path) in [
            ("media", ".."),
            ("media", "../x"),
            ("media", "/etc/passwd"),
            ("media", "a/../../mediaX/b"),
        ] {
            assert_eq!(
                msg(safe_join(base, &[path])),
                "the joined path is located outside of the base path component",
                "safe_join({base:?}, {path:?})"
            );
        }
    }

    #[test]
    fn key_for_spec_table() {
        for (location, name, key) in [
            ("", "x.txt", "x.txt"),
            ("", "/x.txt", "x.txt"),
            ("", "../x.txt", "x.txt"),
            ("", "sub/../x.txt", "x.txt"),
            ("", "./x", "x"),
            ("", "", ""),
            ("", "/", ""),
            ("", "..", ""),
            ("", "sub/", "sub/"),
            ("media", "x.txt", "media/x.txt"),
            ("media/", "x.txt", "media/x.txt"),
            ("media", "sub/../x.txt", "media/x.txt"),
            ("media", "", "media/"),
            ("media", "sub/", "media/sub/"),
            ("a/b", "sub/x.txt", "a/b/sub/x.txt"),
        ] {
            assert_eq!(key_for(location, name).unwrap(), key, "key_for({location:?}, {name:?})");
        }
        for (name, cleaned) in [
            ("/x.txt", "/x.txt"),
            ("/", "/"),
            ("..", ".."),
            ("../x.txt", "../x.txt"),
            ("a/../../x", "../x"),
        ] {
            assert_eq!(
                msg(key_for("media", name)),
                format!("Attempted access to '{cleaned}' denied."),
                "key_for(\"media\", {name:?})"
            );
        }
    }

    #[test]
    fn normalize_quotes_the_name_as_given() {
        assert_eq!(msg(normalize("media", "../x")), "Attempted access to '../x' denied.");
        assert_eq!(
            msg(normalize("media/", "a/../../b.txt")),
            "Attempted access to 'a/../../b.txt' denied."
        );
        // Backslashes are no separators here.
        assert_eq!(normalize("media/", "..\\a.txt").unwrap(), "media/..\\a.txt");
    }

    // ----- §3.3 get_valid_name -------------------------------------------------------

    #[test]
    fn get_valid_name_spec_table() {
        for (input, output) in [
            ("john's portrait in 2004.jpg", "johns_portrait_in_2004.jpg"),
            (" a b .txt", "a_b_.txt"),
            ("ãlöhâ.jpg", "ãlöhâ.jpg"),
            ("日本語.txt", "日本語.txt"),
            ("a/b.txt", "ab.txt"),
            ("x$y%z.png", "xyz.png"),
            ("héllo wörld!.PDF", "héllo_wörld.PDF"),
            ("a+b=c.txt", "abc.txt"),
            ("emoji😀.png", "emoji.png"),
            ("tab\tname.txt", "tabname.txt"),
            ("\u{a0}nbsp.txt", "nbsp.txt"),
            ("a-b_c.d", "a-b_c.d"),
            ("file.tar.gz", "file.tar.gz"),
            ("name.", "name."),
            ("...", "..."),
        ] {
            assert_eq!(get_valid_name(input).unwrap(), output, "get_valid_name({input:?})");
        }
        for input in ["..", "$$", "  "] {
            assert_eq!(msg(get_valid_name(input)), format!("{DERIVE} '{input}'"));
        }
    }

    #[test]
    fn get_valid_name_unicode_details() {
        // NFD é: the combining acute (Mn) is not a word character.
        assert_eq!(get_valid_name("e\u{301}-nfd.txt").unwrap(), "e-nfd.txt");
        assert_eq!(get_valid_name("‿undertie.txt").unwrap(), "undertie.txt");
        assert_eq!(get_valid_name("x²½Ⅻ.txt").unwrap(), "x²½Ⅻ.txt");
        assert_eq!(get_valid_name("zero\u{200b}width.txt").unwrap(), "zerowidth.txt");
        assert_eq!(get_valid_name("\u{3000}\u{1f}a b\u{85}").unwrap(), "a_b");
        assert_eq!(get_valid_name("nul\0byte.txt").unwrap(), "nulbyte.txt");
    }

    // ----- §3.4 validate_file_name ---------------------------------------------------

    #[test]
    fn validate_file_name_spec_examples() {
        for name in ["a.txt", "dir/a.txt", "..a", "a..b/c", "C:\\x\\y.txt"] {
            assert!(validate_file_name(name, true).is_ok(), "{name:?}");
        }
        for name in ["/abs/a.txt", "../a.txt", "a/../b.txt", "a\\..\\b"] {
            assert_eq!(
                msg(validate_file_name(name, true)),
                format!("Detected path traversal attempt in '{name}'")
            );
        }
        for name in ["", ".", "..", "dir/", "dir/.", "dir/.."] {
            assert_eq!(msg(validate_file_name(name, true)), format!("{DERIVE} '{name}'"));
        }
        assert!(validate_file_name("a.txt", false).is_ok());
        assert!(validate_file_name("a\\b.txt", false).is_ok());
        assert_eq!(
            msg(validate_file_name("dir/a.txt", false)),
            "File name 'dir/a.txt' includes path elements"
        );
    }

    /// Django's `save()` name pipeline with `file_overwrite = True`.
    fn save_name(name: &str) -> Result<String> {
        validate_file_name(name, true)?;
        let name = get_available_overwrite_name(name, None)?;
        validate_file_name(&name, true)?;
        Ok(name)
    }

    #[test]
    fn save_validates_the_raw_name() {
        for name in ["dir/sub/../x.txt", "/abs.txt", "../up.txt", "a/../../b.txt", "dir/", ""] {
            assert!(save_name(name).unwrap_err().is_invalid_name(), "{name:?}");
        }
        assert_eq!(save_name("dir//y.txt").unwrap(), "dir/y.txt");
        assert_eq!(save_name("./z.txt").unwrap(), "z.txt");
        assert_eq!(save_name("a\\b.txt").unwrap(), "a/b.txt");
    }

    // ----- §3.5 get_available_name ---------------------------------------------------

    #[test]
    fn available_overwrite_spec_examples() {
        let ok = |name: &str, max: Option<usize>, expected: &str| {
            assert_eq!(
                get_available_overwrite_name(name, max).unwrap(),
                expected,
                "({name:?}, {max:?})"
            );
        };
        ok("superlong/file/with/path.txt", None, "superlong/file/with/path.txt");
        ok("parent/child.txt", Some(16), "parent/child.txt");
        ok("parent/child.txt", Some(15), "parent/chil.txt");
        ok("parent/child.txt", Some(12), "parent/c.txt");
        ok("a.tar.gz", Some(5), "a..gz");
        ok("noext", Some(3), "noe");
        ok("a/./b.txt", None, "a/b.txt");
        for max in [11, 10] {
            assert_eq!(
                msg(get_available_overwrite_name("parent/child.txt", Some(max))),
                format!(
                    "{TRUNCATE_AWAY} \"parent/child.txt\". Please make sure that the corresponding file field \
                     allows sufficient \"max_length\"."
                )
            );
        }
        // The SPEC's row is about `storages.utils.get_available_overwrite_name` itself; the
        // storage cleans the name first, so there `a/../b.txt` is `b.txt` (names.json).
        assert_eq!(
            msg(overwrite_name("a/../b.txt".to_owned(), Some(50))),
            "Detected path traversal attempt in 'a/..'"
        );
        assert_eq!(get_available_overwrite_name("a/../b.txt", Some(50)).unwrap(), "b.txt");
        assert_eq!(msg(get_available_overwrite_name("dir/", None)), format!("{DERIVE} ''"));
    }

    #[test]
    fn available_overwrite_details() {
        // Cleaning first: `a/../b.txt` is `b.txt`; `a\..\b.txt` keeps its `..` (CVE-2024-39330).
        assert_eq!(get_available_overwrite_name("a/../b.txt", Some(50)).unwrap(), "b.txt");
        assert_eq!(
            msg(get_available_overwrite_name("a\\..\\b.txt", None)),
            "Detected path traversal attempt in 'a/..'"
        );
        assert_eq!(
            msg(get_available_overwrite_name("../a.txt", None)),
            "Detected path traversal attempt in '..'"
        );
        assert_eq!(get_available_overwrite_name("/a.txt", None).unwrap(), "/a.txt");
        // Truncation counts code points, and the result is validated again.
        assert_eq!(get_available_overwrite_name("ééééé.txt", Some(7)).unwrap(), "ééé.txt");
        assert_eq!(
            msg(get_available_overwrite_name("/abcdef.txt", Some(8))),
            "Detected path traversal attempt in '/abc.txt'"
        );
        assert_eq!(
            msg(get_available_overwrite_name("x/....", Some(4))),
            format!("{DERIVE} 'x/..'")
        );
        assert_eq!(
            get_available_overwrite_name("a.txt", Some(0)).unwrap_err().kind(),
            ErrorKind::InvalidName
        );
    }

    #[test]
    fn available_nooverwrite_spec_examples() {
        let (name, probed) = available("dup.txt", None, &["dup.txt"]);
        let name = name.unwrap();
        assert_shape(&name, "dup_", ".txt");
        assert_eq!(probed, ["dup.txt".to_owned(), name]);

        let (name, _) = available("dir/arch.tar.gz", None, &["dir/arch.tar.gz"]);
        assert_shape(&name.unwrap(), "dir/arch_", ".tar.gz");

        // 15 characters needed, `dup` cannot shrink to fit 12.
        let (r, probed) = available("dup.txt", Some(12), &["dup.txt"]);
        let m = msg(r);
        assert!(m.starts_with(&format!("{NOT_AVAILABLE} \"dup_")), "{m}");
        assert!(
            m.ends_with(".txt\". Please make sure that the corresponding file field allows sufficient \"max_length\".")
        );
        assert_eq!(probed, ["dup.txt"]);

        // Free, but too long.
        let (r, probed) = available("new.txt", Some(3), &[]);
        assert!(msg(r).starts_with(&format!("{NOT_AVAILABLE} \"new_")));
        assert_eq!(probed, ["new.txt"]);

        // Derived: truncated to fit exactly.
        let (name, probed) = available("d/longname.txt", Some(20), &["d/longname.txt"]);
        let name = name.unwrap();
        assert_shape(&name, "d/longna_", ".txt");
        assert_eq!(name.len(), 20);
        assert_eq!(probed, ["d/longname.txt".to_owned(), name]);
    }

    #[test]
    fn available_nooverwrite_details() {
        // Free names come back cleaned, after one probe.
        let (name, probed) = available("a//b.txt", None, &[]);
        assert_eq!(name.unwrap(), "a/b.txt");
        assert_eq!(probed, ["a/b.txt"]);
        // Invalid names are refused before any probe.
        for (name, message) in [
            ("dir/", format!("{DERIVE} ''")),
            ("..", format!("{DERIVE} '..'")),
            ("../a.txt", "Detected path traversal attempt in '..'".to_owned()),
            ("a\\..\\b.txt", "Detected path traversal attempt in 'a/..'".to_owned()),
        ] {
            let (r, probed) = available(name, None, &[]);
            assert_eq!(msg(r), message);
            assert!(probed.is_empty());
        }
        // Extensions: every suffix stays, a trailing dot or leading dots start none.
        for (name, prefix, suffix) in [
            ("/a.txt", "/a_", ".txt"),
            ("//a.txt", "//a_", ".txt"),
            ("trailing.dot.", "trailing.dot._", ""),
            (".hidden", ".hidden_", ""),
            ("a..b", "a_", "..b"),
            (".x.tar.gz", ".x_", ".tar.gz"),
            ("trail.txt  ", "trail_", ".txt  "),
        ] {
            let (r, _) = available(name, None, &[clean_name(name).as_str()]);
            assert_shape(&r.unwrap(), prefix, suffix);
        }
        // `max_length = Some(0)` is falsy in Python: a free name passes.
        assert_eq!(available("free.txt", Some(0), &[]).0.unwrap(), "free.txt");
        // The callback's error is returned as is.
        let r = block_on(get_available_name("x.txt", None, |_| {
            ready(Err(Error::new(ErrorKind::AccessDenied, "no HEAD")))
        }));
        assert_eq!(r.unwrap_err().kind(), ErrorKind::AccessDenied);
        // Several taken candidates: probing goes on.
        let mut calls = 0;
        let r = block_on(get_available_name("x.txt", Some(13), |_| {
            calls += 1;
            ready(Ok(calls < 4))
        }));
        assert_shape(&r.unwrap(), "x_", ".txt");
        assert_eq!(calls, 4);
    }

    #[test]
    fn alternative_names_are_random() {
        assert_shape(&alternative_name("", "a", ".b"), "a_", ".b");
        assert_shape(&alternative_name("/", "a", ""), "/a_", "");
        assert_ne!(alternative_name("", "a", ""), alternative_name("", "a", ""));
    }

    // ----- §3.6 generate_filename ----------------------------------------------------

    #[test]
    fn generate_filename_spec_examples() {
        for (input, output) in [
            ("dir/john's file.txt", "dir/johns_file.txt"),
            ("a\\b\\c d.txt", "a/b/c_d.txt"),
            ("/abs/x y.txt", "/abs/x_y.txt"),
            ("./a.txt", "a.txt"),
            ("a//b.txt", "a/b.txt"),
            ("dir/ .txt", "dir/.txt"),
        ] {
            assert_eq!(
                generate_filename(input).unwrap(),
                output,
                "generate_filename({input:?})"
            );
        }
        assert_eq!(
            msg(generate_filename("../x.txt")),
            "Detected path traversal attempt in '..'"
        );
        assert_eq!(
            msg(generate_filename("dir/../x.txt")),
            "Detected path traversal attempt in 'dir/..'"
        );
        assert_eq!(msg(generate_filename("dir/sub/")), format!("{DERIVE} ''"));
        assert_eq!(msg(generate_filename("dir/..")), format!("{DERIVE} '..'"));
    }

    // ----- property test -------------------------------------------------------------

    #[test]
    fn keys_never_escape_the_location() {
        const PIECES: [&str; 9] = ["/", "\\", ".", "..", " ", "é", "\0", "%2e", "a"];
        let mut rng = fastrand::Rng::with_seed(0x5eed_5eed);
        let mut checked = 0;
        for _ in 0..4000 {
            let len = rng.usize(0..10);
            let name: String = (0..len).map(|_| PIECES[rng.usize(..PIECES.len())]).collect();
            for location in ["", "media", "media/sub"] {
                if let Ok(key) = key_for(location, &name) {
                    checked += 1;
                    if !location.is_empty() {
                        assert!(
                            key.starts_with(&format!("{location}/")),
                            "{location:?} {name:?} -> {key:?}"
                        );
                    }
                    assert!(
                        key.split('/').all(|part| part != ".."),
                        "{location:?} {name:?} -> {key:?}"
                    );
                }
                let _ = normalize(location, &name);
            }
            // Nothing panics, whatever the name.
            let _ = clean_name(&name);
            let _ = get_valid_name(&name);
            let _ = generate_filename(&name);
            for allow in [true, false] {
                let _ = validate_file_name(&name, allow);
            }
            for max in [None, Some(0), Some(1), Some(5), Some(12)] {
                if let Ok(n) = get_available_overwrite_name(&name, max) {
                    assert!(max.is_none_or(|m| py_len(&n) <= m), "{name:?} {max:?} -> {n:?}");
                    let (dir_name, file_name) = split(&n);
                    assert!(!has_parent_part(dir_name), "{name:?} {max:?} -> {n:?}");
                    assert!(!matches!(file_name, "" | "." | ".."), "{name:?} {max:?} -> {n:?}");
                }
                let mut first = true;
                let r = block_on(get_available_name(&name, max, |_| {
                    ready(Ok(std::mem::take(&mut first)))
                }));
                if let Ok(n) = r {
                    assert!(
                        max.is_none_or(|m| m == 0 || py_len(&n) <= m),
                        "{name:?} {max:?} -> {n:?}"
                    );
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }
}
