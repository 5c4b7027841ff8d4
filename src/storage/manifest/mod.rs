//! Hashed static file names and the `staticfiles.json` manifest: Django's `HashedFilesMixin` and
//! `ManifestFilesMixin` (SPEC §5.2, §5.3), as pure functions without any I/O.
//!
//! [`post_process`] turns the collected files into the objects to store: a copy of every file
//! under its hashed name (`css/app.css` → `css/app.917104749980.css`), CSS and JS rewritten so
//! that their references point at hashed names, repeated until the hashes stop changing.
//! [`manifest_json`] writes the manifest exactly as Django does, [`parse_manifest`] reads it
//! back and [`stored_name`] looks names up in it, as the manifest storage's `url()` does.
//!
//! The algorithm follows Django 5.2's `django/contrib/staticfiles/storage.py`, including its
//! URL handling (`urlsplit`, `unquote`, `posixpath.normpath` as Python has them), so that the
//! hashed names, the rewritten texts and the manifest bytes are the ones Django produces.
//!
//! The algorithm is here; Django's patterns and their substitution in `patterns`; the manifest
//! file (written and read as Python's `json` does) in `file`.

mod file;
mod patterns;

pub use file::{Manifest, manifest_hash, manifest_json, parse_manifest};

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use md5::{Digest as _, Md5};
use regex::Captures;

use crate::error::{Error, ErrorKind, Result};
use crate::py;
use patterns::{Template, patterns_for, substitute, utf8_error_message};

/// The manifest's name in the storage (Django's `manifest_name`).
pub const MANIFEST_NAME: &str = "staticfiles.json";

/// The manifest format written (Django's `manifest_version`).
pub const MANIFEST_VERSION: &str = "1.1";

/// The hash Django puts in hashed names: the first 12 hex digits of the content's MD5.
pub fn file_hash(content: &[u8]) -> String {
    hex::encode(&Md5::digest(content)[..6])
}

/// The hashed name of `name` for `content` (Django's `hashed_name`): `dir/name.<hash>.ext`,
/// where `ext` is only the last suffix (`app.css.map` → `app.css.6dbd5863e342.map`) and a
/// name without one gets the hash at the end (`noext` → `noext.9dd4e461268c`).
///
/// As in Django, `name` is percent-decoded first, its query and fragment are kept
/// (`img/a.png?v=1#x` → `img/a.<hash>.png?v=1#x`), and a `?#` with an empty query keeps its
/// `?` (the `@font-face` trick `f.eot?#iefix`).
pub fn hashed_name(name: &str, content: &[u8]) -> String {
    hashed_name_with_hash(name, &file_hash(content))
}

fn hashed_name_with_hash(name: &str, hash: &str) -> String {
    let mut parsed = py::urlsplit(&py::unquote(name));
    let clean_name = py::strip(&parsed.path);
    let (path, filename) = py::split(clean_name);
    let (root, ext) = py::splitext(filename);
    let mut hashed = py::join(path, &format!("{root}.{hash}{ext}"));
    if name.contains("?#") && parsed.query.is_empty() {
        hashed.push('?');
    }
    parsed.path = hashed;
    py::urlunsplit(&parsed)
}

/// The name Django looks up for `name` in the manifest and reads from the storage when it has
/// to hash a file itself: without query and fragment, percent-decoded, trimmed of whitespace.
pub fn lookup_name(name: &str) -> String {
    let (clean, _) = py::urldefrag(name);
    py::strip(&py::urlsplit(&py::unquote(&clean)).path).to_owned()
}

/// Options of the manifest storage (class attributes in Django).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestOptions {
    /// `STATIC_URL`, as Django sees it (with its script prefix, e.g. `/static/`): absolute
    /// references under it are rewritten, other absolute ones are left alone.
    pub static_url: String,
    /// Passes over the adjustable files after the first one (Django: 5).
    pub max_post_process_passes: usize,
    /// Also rewrite JavaScript module imports and exports (Django's
    /// `support_js_module_import_aggregation`, off by default).
    pub support_js_module_import_aggregation: bool,
    /// Also store each adjustable file under the hash of its unprocessed content (off for the
    /// manifest storage).
    pub keep_intermediate_files: bool,
    /// A name missing from the manifest is an error in `url()` (Django's `manifest_strict`).
    pub manifest_strict: bool,
    /// How the storage names itself in "could not be found with ..." messages (Django prints
    /// the storage's `repr()`, e.g. `<storages.s3.S3ManifestStaticStorage object at 0x...>`).
    pub storage_name: String,
}

impl Default for ManifestOptions {
    fn default() -> Self {
        ManifestOptions {
            static_url: "/static/".into(),
            max_post_process_passes: 5,
            support_js_module_import_aggregation: false,
            keep_intermediate_files: false,
            manifest_strict: true,
            storage_name: "<storages.s3.S3ManifestStaticStorage object>".into(),
        }
    }
}

/// Whether `name` is a file whose references are rewritten (`*.css`, `*.js`; `fnmatch`,
/// case-sensitive).
pub fn is_adjustable(name: &str) -> bool {
    name.ends_with(".css") || name.ends_with(".js")
}

/// The files already in the target storage, besides the collected ones: post-processing asks
/// for them when a CSS or JS file refers to a file that was not collected in this run, and
/// checks whether a hashed copy already exists.
///
/// Names are passed as Django passes them to `exists()` and `open()`; an implementation may
/// normalise them as the storage does, or fail (e.g. with [`ErrorKind::InvalidName`] for a
/// name escaping the storage's location).
pub trait StoredFiles {
    /// Whether the storage holds `name`.
    fn exists(&mut self, name: &str) -> Result<bool>;
    /// The content of `name`, `None` when the storage does not hold it.
    fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>>;
}

/// An empty storage: only the collected files exist.
#[derive(Debug, Clone, Copy, Default)]
pub struct NothingStored;

impl StoredFiles for NothingStored {
    fn exists(&mut self, _name: &str) -> Result<bool> {
        Ok(false)
    }

    fn read(&mut self, _name: &str) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

impl StoredFiles for HashMap<String, Vec<u8>> {
    fn exists(&mut self, name: &str) -> Result<bool> {
        Ok(self.contains_key(name))
    }

    fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.get(name).cloned())
    }
}

/// What post-processing decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostProcessed {
    /// The objects to store, in the order Django last saved them: the hashed copies (and the
    /// intermediate ones when `keep_intermediate_files`). Copies saved and then replaced by a
    /// later pass are left out. The originals and the manifest are not included.
    pub stored: Vec<(String, Vec<u8>)>,
    /// Objects that existed before (see [`StoredFiles`]) and that Django deletes: stale hashed
    /// copies of adjustable files.
    pub deleted: Vec<String>,
    /// Original name → final hashed name, in processing order (deepest paths first): the
    /// manifest's `paths`.
    pub hashed_files: Vec<(String, String)>,
    /// What Django yields to `collectstatic`, in its order: `(name, hashed name, processed)`;
    /// `processed` is false for a file whose hashed copy already existed and was not rewritten.
    pub processed: Vec<(String, String, bool)>,
}

/// Post-processes the collected files (`name` → content, in the order they were found; a name
/// given twice counts once, the first time) against a storage holding only them.
///
/// Errors, with Django's messages: a reference to a missing file ([`ErrorKind::NotFound`],
/// `The file 'img/x.png' could not be found with <storage>.`), a CSS or JS file that is not
/// UTF-8 ([`ErrorKind::Io`], Python's `UnicodeDecodeError` text), hashes that do not settle
/// within `max_post_process_passes` ([`ErrorKind::Unsupported`],
/// `Max post-process passes exceeded.`).
pub fn post_process(files: &[(String, Vec<u8>)], options: &ManifestOptions) -> Result<PostProcessed> {
    post_process_with(files, options, &mut NothingStored)
}

/// [`post_process`] against a storage that may hold other files (`stored`), as when
/// collecting into a storage that already has a previous collection.
pub fn post_process_with(
    files: &[(String, Vec<u8>)],
    options: &ManifestOptions,
    stored: &mut dyn StoredFiles,
) -> Result<PostProcessed> {
    let mut seen = HashSet::new();
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .filter(|(name, _)| seen.insert(name.as_str()))
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let adjustable: Vec<bool> = files.iter().map(|(name, _)| is_adjustable(name)).collect();
    // Deepest paths first; Python's sort is stable, with `reverse=True` too.
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| Reverse(files[i].0.split('/').count()));

    let mut run = Run::new(options, &files, stored);
    let mut processed = Vec::new();
    // Adjustable files are yielded last, with their final hashed names.
    let mut adjusted: Vec<(String, String, bool)> = Vec::new();
    let mut adjusted_index: HashMap<&str, usize> = HashMap::new();
    for &i in &order {
        let (name, content) = files[i];
        let step = run.process(name, content, adjustable[i], true)?;
        if adjustable[i] {
            adjusted_index.insert(name, adjusted.len());
            adjusted.push((name.to_owned(), step.hashed, step.processed));
        } else {
            processed.push((name.to_owned(), step.hashed, step.processed));
        }
    }

    let mut unresolved = Vec::new();
    for _ in 0..options.max_post_process_passes {
        unresolved.clear();
        for &i in order.iter().filter(|&&i| adjustable[i]) {
            let (name, content) = files[i];
            let step = run.process(name, content, true, false)?;
            if step.substitutions {
                unresolved.push(name);
            }
            adjusted[adjusted_index[name]] = (name.to_owned(), step.hashed, step.processed);
        }
        if unresolved.is_empty() {
            break;
        }
    }
    if !unresolved.is_empty() {
        return Err(Error::new(ErrorKind::Unsupported, "Max post-process passes exceeded."));
    }

    processed.extend(adjusted);
    let (stored, deleted) = run.view.finish();
    Ok(PostProcessed {
        stored,
        deleted,
        hashed_files: run.hashed_files,
        processed,
    })
}

/// One file's turn in a pass.
#[derive(Debug)]
struct Step {
    hashed: String,
    processed: bool,
    /// The hashed name changed in this pass (another pass is needed).
    substitutions: bool,
}

/// A failure while rewriting one reference: Django catches `ValueError`s around each pattern.
enum Failure {
    /// Django's `ValueError` (a referenced file that does not exist).
    Value(Error),
    /// Anything else (the storage failed): always fatal.
    Other(Error),
}

/// The state of one `post_process` run.
struct Run<'a> {
    options: &'a ManifestOptions,
    view: View<'a>,
    hashed_files: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl<'a> Run<'a> {
    fn new(options: &'a ManifestOptions, files: &[(&'a str, &'a [u8])], stored: &'a mut dyn StoredFiles) -> Self {
        Run {
            options,
            view: View::new(files.iter().copied().collect(), stored),
            hashed_files: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn cached(&self, key: &str) -> Option<&str> {
        self.index.get(key).map(|&i| self.hashed_files[i].1.as_str())
    }

    /// Django's `_post_process` for one file.
    fn process(&mut self, name: &str, original: &[u8], adjustable: bool, first_pass: bool) -> Result<Step> {
        let key = clean_name(name);
        let mut hashed = match self.cached(&key) {
            Some(hashed) => hashed.to_owned(),
            None => hashed_name(name, original),
        };
        let hashed_exists = self.view.exists(&hashed)?;
        let mut processed = false;
        let mut substitutions = true;

        if adjustable {
            let old_hashed = hashed.clone();
            let mut content = match std::str::from_utf8(original) {
                Ok(text) => text.to_owned(),
                Err(e) => return Err(Error::new(ErrorKind::Io, utf8_error_message(original, &e))),
            };
            for pattern in patterns_for(name, self.options) {
                match substitute(&pattern.regex, &content, |caps| {
                    self.convert(name, caps, pattern.template)
                }) {
                    Ok(text) => content = text,
                    // Django yields the error, which aborts collectstatic in the first pass;
                    // in later passes the file's next yield overwrites it: the pattern is
                    // skipped.
                    Err(Failure::Value(_)) if !first_pass => {}
                    Err(Failure::Value(e) | Failure::Other(e)) => return Err(e),
                }
            }
            if hashed_exists {
                self.view.delete(&hashed);
            }
            let content = content.into_bytes();
            if self.options.keep_intermediate_files {
                self.view.save(&hashed, content.clone());
            }
            hashed = hashed_name(name, &content);
            if self.view.exists(&hashed)? {
                self.view.delete(&hashed);
            }
            self.view.save(&hashed, content);
            hashed = clean_name(&hashed);
            if old_hashed == hashed {
                substitutions = false;
            }
            processed = true;
        }

        if !processed && !hashed_exists {
            processed = true;
            self.view.save(&hashed, original.to_vec());
            hashed = clean_name(&hashed);
        }

        match self.index.get(&key) {
            Some(&i) => self.hashed_files[i].1.clone_from(&hashed),
            None => {
                self.index.insert(key.clone(), self.hashed_files.len());
                self.hashed_files.push((key, hashed.clone()));
            }
        }
        Ok(Step {
            hashed,
            processed,
            substitutions,
        })
    }

    /// Django's `url_converter`: the replacement for one match in file `name`.
    fn convert(&mut self, name: &str, caps: &Captures<'_>, template: Template) -> Result<String, Failure> {
        let matched = caps.name("matched").map_or("", |m| m.as_str());
        let url = caps.name("url").map_or("", |m| m.as_str());

        // Absolute, protocol-relative and data: URLs (Python's `re.match(r"^[a-z]+:", url)`).
        let scheme_len = url.bytes().take_while(u8::is_ascii_lowercase).count();
        if (scheme_len > 0 && url.as_bytes().get(scheme_len) == Some(&b':')) || url.starts_with("//") {
            return Ok(matched.to_owned());
        }
        let static_url = self.options.static_url.as_str();
        if url.starts_with('/') && !url.starts_with(static_url) {
            return Ok(matched.to_owned());
        }
        let (url_path, fragment) = py::urldefrag(url);
        if url_path.is_empty() {
            return Ok(matched.to_owned());
        }
        let target_name = match url_path.strip_prefix('/') {
            Some(_) => url_path.strip_prefix(static_url).unwrap_or(&url_path).to_owned(),
            None => py::join(py::dirname(name), &url_path),
        };

        let hashed_url = self.hashed_url(&py::unquote(&target_name))?;
        let last = hashed_url.rsplit('/').next().unwrap_or_default();
        let mut transformed = match url_path.rfind('/') {
            Some(i) => format!("{}/{last}", &url_path[..i]),
            None => last.to_owned(),
        };
        if !fragment.is_empty() {
            transformed.push_str(if url.contains("?#") { "?#" } else { "#" });
            transformed.push_str(&fragment);
        }
        Ok(template.fill(caps, &py::unquote(&transformed)))
    }

    /// Django's `_url(self._stored_name, name, force=True, hashed_files=...)`, reduced to what
    /// the converter keeps of it: the URL's tail after the storage's `url()` (which
    /// percent-encodes the name) and the final `unquote()`.
    fn hashed_url(&mut self, name: &str) -> Result<String, Failure> {
        let (clean, fragment) = py::urldefrag(name);
        let mut url = if py::urlsplit(&clean).path.ends_with('/') {
            name.to_owned()
        } else {
            self.stored_name(&clean)?
        };
        if name.contains("?#") {
            url.push('?');
        }
        if !fragment.is_empty() {
            url.push('#');
            url.push_str(&py::unquote(&fragment));
        }
        Ok(url)
    }

    /// Django's `_stored_name`: the hashed name from this run, else from the stored file.
    fn stored_name(&mut self, name: &str) -> Result<String, Failure> {
        let name = py::normpath(name);
        if let Some(hashed) = self.cached(&clean_name(&name)) {
            return Ok(hashed.to_owned());
        }
        // `hashed_name(name)` without content: reads the file from the storage.
        let filename = py::strip(&py::urlsplit(&py::unquote(&name)).path).to_owned();
        let hash = match self.view.file_hash(&filename) {
            Ok(Some(hash)) => hash,
            Ok(None) => {
                let message = format!(
                    "The file '{filename}' could not be found with {}.",
                    self.options.storage_name
                );
                return Err(Failure::Value(Error::new(ErrorKind::NotFound, message)));
            }
            Err(e) => return Err(Failure::Other(e)),
        };
        Ok(clean_name(&hashed_name_with_hash(&name, &hash)))
    }
}

/// Django's `HashedFilesMixin.clean_name`.
fn clean_name(name: &str) -> String {
    name.replace('\\', "/")
}

/// The target storage as post-processing sees it: the collected originals, what this run saved
/// and deleted, and whatever else the storage held.
struct View<'a> {
    files: HashMap<&'a str, &'a [u8]>,
    /// Names this run saved (index into `saves`) or deleted (`None`).
    overlay: HashMap<String, Option<usize>>,
    saves: Vec<Option<(String, Vec<u8>)>>,
    /// Names that existed before the run and were deleted, in order.
    deleted: Vec<String>,
    stored: &'a mut dyn StoredFiles,
}

impl<'a> View<'a> {
    fn new(files: HashMap<&'a str, &'a [u8]>, stored: &'a mut dyn StoredFiles) -> Self {
        View {
            files,
            overlay: HashMap::new(),
            saves: Vec::new(),
            deleted: Vec::new(),
            stored,
        }
    }

    fn exists(&mut self, name: &str) -> Result<bool> {
        match self.overlay.get(name) {
            Some(saved) => Ok(saved.is_some()),
            None if self.files.contains_key(name) => Ok(true),
            None => self.stored.exists(name),
        }
    }

    /// The [`file_hash`] of a stored file, `None` when there is no such file.
    fn file_hash(&mut self, name: &str) -> Result<Option<String>> {
        match self.overlay.get(name) {
            Some(Some(i)) => Ok(self.saves[*i].as_ref().map(|(_, content)| file_hash(content))),
            Some(None) => Ok(None),
            None => match self.files.get(name) {
                Some(content) => Ok(Some(file_hash(content))),
                None => Ok(self.stored.read(name)?.map(|content| file_hash(&content))),
            },
        }
    }

    fn save(&mut self, name: &str, content: Vec<u8>) {
        if let Some(Some(i)) = self.overlay.get(name) {
            self.saves[*i] = None;
        }
        self.overlay.insert(name.to_owned(), Some(self.saves.len()));
        self.saves.push(Some((name.to_owned(), content)));
    }

    /// Deletes a name known to exist.
    fn delete(&mut self, name: &str) {
        match self.overlay.insert(name.to_owned(), None) {
            Some(Some(i)) => self.saves[i] = None,
            Some(None) => {}
            None => self.deleted.push(name.to_owned()),
        }
    }

    fn finish(self) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
        let overlay = self.overlay;
        let deleted = self
            .deleted
            .into_iter()
            .filter(|name| overlay.get(name) == Some(&None))
            .collect();
        (self.saves.into_iter().flatten().collect(), deleted)
    }
}

/// Django's `stored_name(name)` as the manifest storage's `url()` uses it: the hashed name of
/// `name` from the manifest, followed by `name`'s query (percent-decoded, as Django's lookup
/// leaves it), a `?` for the `?#` trick and its `#fragment`: `fonts/f.eot?#iefix` →
/// `fonts/f.4aaf23261cd3.eot?#iefix`. The part before the query is the manifest's value, a
/// storage name; the caller builds the URL from it and appends the rest.
///
/// Names whose path ends with `/` are returned unchanged. A name missing from the manifest is
/// an [`ErrorKind::NotFound`] error (`Missing staticfiles manifest entry for '<name>'`) when
/// `strict`; otherwise the answer is `None` and the caller hashes the stored file, as Django
/// does: `hashed_name(name, content of lookup_name(name))`.
pub fn stored_name(manifest: &Manifest, name: &str, strict: bool) -> Result<Option<String>> {
    let (clean, fragment) = py::urldefrag(name);
    if py::urlsplit(&clean).path.ends_with('/') {
        return Ok(Some(name.to_owned()));
    }
    let mut parsed = py::urlsplit(&py::unquote(&clean));
    let key = py::strip(&parsed.path);
    let Some(hashed) = manifest.get(key) else {
        if strict {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("Missing staticfiles manifest entry for '{key}'"),
            ));
        }
        return Ok(None);
    };
    let mut path = hashed.to_owned();
    if clean.contains("?#") && parsed.query.is_empty() {
        path.push('?');
    }
    parsed.path = path;
    let mut out = py::urlunsplit(&parsed);
    if name.contains("?#") {
        out.push('?');
    }
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(&fragment);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        list.iter()
            .map(|(name, content)| (name.to_string(), content.as_bytes().to_vec()))
            .collect()
    }

    fn stored<'a>(out: &'a PostProcessed, name: &str) -> &'a str {
        let (_, content) = out
            .stored
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} not stored"));
        std::str::from_utf8(content).unwrap()
    }

    fn message(e: &Error) -> String {
        let text = e.to_string();
        text.split_once(": ").map_or(text.clone(), |(_, m)| m.to_owned())
    }

    /// Rewrites `text` of file `name` once, with `known` as this run's hashed names and `files`
    /// as the storage.
    fn rewrite(name: &str, text: &str, known: &[(&str, &str)], files: &[(&str, &[u8])]) -> String {
        let options = ManifestOptions::default();
        let mut nothing = NothingStored;
        let mut run = Run::new(&options, files, &mut nothing);
        for (original, hashed) in known {
            run.index.insert(original.to_string(), run.hashed_files.len());
            run.hashed_files.push((original.to_string(), hashed.to_string()));
        }
        let mut content = text.to_owned();
        for pattern in patterns_for(name, &options) {
            match substitute(&pattern.regex, &content, |caps| {
                run.convert(name, caps, pattern.template)
            }) {
                Ok(text) => content = text,
                Err(Failure::Value(e) | Failure::Other(e)) => panic!("{e}"),
            }
        }
        content
    }

    #[test]
    fn hashed_names() {
        assert_eq!(file_hash(b"x"), "9dd4e461268c");
        assert_eq!(hashed_name("noext", b"x"), "noext.9dd4e461268c");
        assert_eq!(
            hashed_name("app.css.map", br#"{"version":3}"#),
            "app.css.6dbd5863e342.map"
        );
        assert_eq!(hashed_name("a b+c.css", b"x"), "a b+c.9dd4e461268c.css");
        assert_eq!(hashed_name("css/app.css", b"x"), "css/app.9dd4e461268c.css");
        // Query and fragment kept; `?#` keeps its `?`.
        assert_eq!(
            hashed_name("fonts/f.eot?#iefix", b"x"),
            "fonts/f.9dd4e461268c.eot?#iefix"
        );
        assert_eq!(
            hashed_name("img/logo.png?v=1#frag", b"x"),
            "img/logo.9dd4e461268c.png?v=1#frag"
        );
        assert_eq!(
            hashed_name("img/logo.png?v=1?#x", b"x"),
            "img/logo.9dd4e461268c.png?v=1?#x"
        );
        // Percent-decoded, trimmed, leading dots are not an extension, `//` before the name
        // collapses (Python's `os.path.split`).
        assert_eq!(hashed_name("a%20b%C3%BC.css", b"x"), "a bü.9dd4e461268c.css");
        assert_eq!(hashed_name(" img/x.png\u{3000}", b"x"), "img/x.9dd4e461268c.png");
        assert_eq!(hashed_name(".htaccess", b"x"), ".htaccess.9dd4e461268c");
        assert_eq!(hashed_name("dir/..x", b"x"), "dir/..x.9dd4e461268c");
        assert_eq!(hashed_name("dir/.x.y", b"x"), "dir/.x.9dd4e461268c.y");
        assert_eq!(hashed_name("a.", b"x"), "a.9dd4e461268c.");
        assert_eq!(hashed_name("a//b.css", b"x"), "a/b.9dd4e461268c.css");
        assert_eq!(hashed_name("a?b.png", b"x"), "a.9dd4e461268c?b.png");
        assert_eq!(lookup_name("a%20b.css?v=1#x"), "a b.css");
    }

    #[test]
    fn verified_rewrites_from_the_spec() {
        let known = [
            ("css/base.css", "css/base.702ae7cbf5f9.css"),
            ("img/logo.png", "img/logo.0b75926ab9a9.png"),
            ("fonts/f.eot", "fonts/f.4aaf23261cd3.eot"),
            ("css/app.css.map", "css/app.css.6dbd5863e342.map"),
            ("js/app.js.map", "js/app.js.6dbd5863e342.map"),
        ];
        // A reference with a query is not looked up in the run's names: Django hashes the
        // stored file (here with content `x`).
        let storage: &[(&str, &[u8])] = &[("img/logo.png", b"x"), ("css/app.css.map", br#"{"version":3}"#)];
        let css = |text: &str| rewrite("css/app.css", text, &known, storage);
        assert_eq!(
            css(r#"@import "base.css";"#),
            r#"@import url("base.702ae7cbf5f9.css");"#
        );
        assert_eq!(
            css(r#"url("../img/logo.png")"#),
            r#"url("../img/logo.0b75926ab9a9.png")"#
        );
        assert_eq!(
            css("url(../img/logo.png#frag)"),
            r#"url("../img/logo.0b75926ab9a9.png#frag")"#
        );
        assert_eq!(
            css("url('/static/img/logo.png?v=1')"),
            r#"url("/static/img/logo.9dd4e461268c.png?v=1")"#
        );
        assert_eq!(
            css(r#"url("../fonts/f.eot?#iefix")"#),
            r#"url("../fonts/f.4aaf23261cd3.eot?#iefix")"#
        );
        for unchanged in [
            "url(data:image/png;base64,iVBORw0KGgo=)",
            "url(http://example.com/x.png)",
            "url(//cdn.example.com/x.png)",
            "url(/other/x.png)",
            "url()",
            r##"url("#svgid")"##,
            "/*# SourceMappingURL=app.css.map */",
        ] {
            assert_eq!(css(unchanged), unchanged);
        }
        assert_eq!(
            css("/*# sourceMappingURL=app.css.map */"),
            "/*# sourceMappingURL=app.css.6dbd5863e342.map */"
        );
        // The greedy URL keeps the spaces before `*/`: not a name of the run, so Django hashes
        // the stored file (its trimmed name).
        assert_eq!(
            css("/*#\tsourceMappingURL=app.css.map  */"),
            "/*# sourceMappingURL=app.css.6dbd5863e342.map */"
        );
        let js = |text: &str| rewrite("js/app.js", text, &known, &[]);
        assert_eq!(
            js("//# sourceMappingURL=app.js.map"),
            "//# sourceMappingURL=app.js.6dbd5863e342.map"
        );
        for unchanged in [
            "//# SOURCEMAPPINGURL=app.js.map",
            "//#  sourceMappingURL=app.js.map",
            " //# sourceMappingURL=x",
        ] {
            assert_eq!(js(unchanged), unchanged);
        }
        // Python's `\s` and case-insensitivity: U+001C is a space, `İ` and `ı` are an `i`.
        assert_eq!(
            css("url(\u{1c}../img/logo.png)"),
            r#"url("../img/logo.0b75926ab9a9.png")"#
        );
        assert_eq!(
            css(r#"@İMPORT "base.css";"#),
            r#"@import url("base.702ae7cbf5f9.css");"#
        );
        assert_eq!(
            css(r#"@ımport 'base.css';"#),
            r#"@import url("base.702ae7cbf5f9.css");"#
        );
        assert_eq!(css("URL(../img/logo.png)"), r#"url("../img/logo.0b75926ab9a9.png")"#);
        // Percent-encoded references are written decoded.
        let known = [("img/with space.png", "img/with space.9dd4e461268c.png")];
        assert_eq!(
            rewrite("css/a.css", "url(../img/with%20space.png)", &known, &[]),
            r#"url("../img/with space.9dd4e461268c.png")"#
        );
    }

    /// Outputs of Django 5.2 for the same trees.
    #[test]
    fn post_process_css_as_django() {
        let css = "@import \"base.css\";\n@import 'sub/x.css';\n@İmport \"base.css\";\n\
            body { background: url(\"../img/logo.png\"); }\n\
            .a { background: url(../img/logo.png#frag); }\n\
            .b { background: url('/static/img/logo.png?v=1'); }\n\
            .c { src: url(\"../fonts/f.eot?#iefix\") format(\"embedded-opentype\"); }\n\
            .d { background: url(data:image/png;base64,AAAA); }\n\
            .e { background: url(http://example.com/x.png); }\n\
            .f { background: url(//cdn.example.com/x.png); }\n\
            .g { background: url(/other/x.png); }\n\
            .h { background: url(); }\n\
            .i { filter: url(\"#svgid\"); }\n\
            .j { background: url(\u{1c}../img/logo.png); }\n\
            .k { background: URL( ../img/with%20space.png ); }\n\
            /*# sourceMappingURL=app.css.map */\n\
            /*# SourceMappingURL=app.css.map */\n";
        let input = files(&[
            ("css/app.css", css),
            ("css/base.css", "body{}"),
            ("css/sub/x.css", "x{}"),
            ("img/logo.png", "x"),
            ("fonts/f.eot", "x"),
            ("css/app.css.map", r#"{"version":3}"#),
            ("img/with space.png", "x"),
        ]);
        let out = post_process(&input, &ManifestOptions::default()).unwrap();
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        };
        assert_eq!(
            out.hashed_files,
            pairs(&[
                ("css/sub/x.css", "css/sub/x.9d14cebbf9b9.css"),
                ("css/app.css", "css/app.06ff2afd249c.css"),
                ("css/base.css", "css/base.aa676972bbd2.css"),
                ("img/logo.png", "img/logo.9dd4e461268c.png"),
                ("fonts/f.eot", "fonts/f.9dd4e461268c.eot"),
                ("css/app.css.map", "css/app.css.6dbd5863e342.map"),
                ("img/with space.png", "img/with space.9dd4e461268c.png"),
            ])
        );
        let yielded: Vec<&str> = out
            .processed
            .iter()
            .map(|(name, _, processed)| (assert!(processed), name).1.as_str())
            .collect();
        assert_eq!(
            yielded,
            [
                "img/logo.png",
                "fonts/f.eot",
                "css/app.css.map",
                "img/with space.png",
                "css/sub/x.css",
                "css/app.css",
                "css/base.css"
            ]
        );
        assert_eq!(
            stored(&out, "css/app.06ff2afd249c.css"),
            "@import url(\"base.aa676972bbd2.css\");\n@import url(\"sub/x.9d14cebbf9b9.css\");\n\
            @import url(\"base.aa676972bbd2.css\");\n\
            body { background: url(\"../img/logo.9dd4e461268c.png\"); }\n\
            .a { background: url(\"../img/logo.9dd4e461268c.png#frag\"); }\n\
            .b { background: url(\"/static/img/logo.9dd4e461268c.png?v=1\"); }\n\
            .c { src: url(\"../fonts/f.9dd4e461268c.eot?#iefix\") format(\"embedded-opentype\"); }\n\
            .d { background: url(data:image/png;base64,AAAA); }\n\
            .e { background: url(http://example.com/x.png); }\n\
            .f { background: url(//cdn.example.com/x.png); }\n\
            .g { background: url(/other/x.png); }\n\
            .h { background: url(); }\n\
            .i { filter: url(\"#svgid\"); }\n\
            .j { background: url(\"../img/logo.9dd4e461268c.png\"); }\n\
            .k { background: url(\"../img/with space.9dd4e461268c.png\"); }\n\
            /*# sourceMappingURL=app.css.6dbd5863e342.map */\n\
            /*# SourceMappingURL=app.css.map */\n"
        );
        // Every hashed copy, once; no intermediate copies.
        let mut names: Vec<&str> = out.stored.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let mut expected: Vec<&str> = out.hashed_files.iter().map(|(_, h)| h.as_str()).collect();
        expected.sort_unstable();
        assert_eq!(names, expected);
        assert!(out.deleted.is_empty());
    }

    /// Django 5.2 with `support_js_module_import_aggregation`, including its quirks: an
    /// `import` match runs over the next statement (the `export` is hashed twice, the file
    /// `dep3.<hash>.js` existing by then) and the bare import loses its space.
    #[test]
    fn post_process_js_modules_as_django() {
        let module = "import { dep } from \"./dep.js\";\nimport dep2 from './lib/dep2.js';\n\
            import * as all from \"../js/lib/all.js\";\nimport*as two from\"./dep.js\";\nimport \"./side.js\";\n\
            export { dep3 } from \"./lib/dep3.js\";\nexport * from \"./lib/all.js\";\n\
            import { ext } from \"https://cdn.example.com/ext.js\";\nimport { bare } from \"bare-module\";\n\
            const lazy = import(\"./lazy.js\");\nexport default dep;\n//# sourceMappingURL=module.js.map\n";
        let input = files(&[
            ("js/module.js", module),
            ("js/dep.js", "d"),
            ("js/lib/dep2.js", "2"),
            ("js/lib/all.js", "all"),
            ("js/side.js", "s"),
            ("js/lib/dep3.js", "3"),
            ("js/lazy.js", "l"),
            ("js/module.js.map", r#"{"version":3}"#),
        ]);
        let options = ManifestOptions {
            support_js_module_import_aggregation: true,
            ..Default::default()
        };
        let out = post_process(&input, &options).unwrap();
        assert_eq!(
            stored(&out, "js/module.cacca328355b.js"),
            "import { dep } from \"./dep.8277e0910d75.js\";\nimport dep2 from \"./lib/dep2.c81e728d9d4c.js\";\n\
            import * as all from \"../js/lib/all.a181a603769c.js\";\nimport*as two from \"./dep.8277e0910d75.js\";\n\
            import\"./side.03c7c0ace395.js\";\nexport { dep3 } from \"./lib/dep3.eccbc87e4b5c.eccbc87e4b5c.js\";\n\
            export * from \"./lib/all.a181a603769c.js\";\nimport { ext } from \"https://cdn.example.com/ext.js\";\n\
            import { bare } from \"bare-module\";\nconst lazy = import(\"./lazy.2db95e8e1a92.js\");\n\
            export default dep;\n//# sourceMappingURL=module.js.6dbd5863e342.map\n"
        );
        // Off by default: only the source map is rewritten.
        let out = post_process(&input, &ManifestOptions::default()).unwrap();
        let expected = module.replace("module.js.map", "module.js.6dbd5863e342.map");
        assert_eq!(stored(&out, "js/module.d2d72960e54a.js"), expected);
        assert_eq!(out.processed.len(), 8);
    }

    #[test]
    fn passes_until_hashes_settle() {
        // `a.css` comes first and sees the original `b.css`; a second pass fixes it.
        let input = files(&[("a.css", "@import 'b.css';"), ("b.css", "url(x.png)"), ("x.png", "x")]);
        let out = post_process(&input, &ManifestOptions::default()).unwrap();
        let b = out.hashed_files.iter().find(|(n, _)| n == "b.css").unwrap().1.clone();
        let a = &out.hashed_files.iter().find(|(n, _)| n == "a.css").unwrap().1;
        assert_eq!(stored(&out, &b), r#"url("x.9dd4e461268c.png")"#);
        assert_eq!(stored(&out, a), format!(r#"@import url("{b}");"#));
        assert_eq!(
            out.stored.len(),
            3,
            "superseded copies are not stored: {:?}",
            out.stored
        );
        // With no further pass, the first pass's output stays.
        let options = ManifestOptions {
            max_post_process_passes: 0,
            ..Default::default()
        };
        let out = post_process(&input, &options).unwrap();
        let stale = format!(r#"@import url("b.{}.css");"#, file_hash(b"url(x.png)"));
        assert_eq!(stored(&out, &out.hashed_files[0].1), stale);
    }

    /// Django 5.2: a reference with a query is not a name of the run, so it gets the hash of
    /// the stored original, not of the rewritten file.
    #[test]
    fn references_with_a_query_hash_the_stored_original() {
        let input = files(&[
            (
                "css/app.css",
                "/*#\tsourceMappingURL=app.css.map  */\n@import 'x.css?v=1';",
            ),
            ("css/app.css.map", r#"{"version":3}"#),
            ("css/x.css", "url(../img/a.png)"),
            ("img/a.png", "x"),
        ]);
        let out = post_process(&input, &ManifestOptions::default()).unwrap();
        assert_eq!(
            out.hashed_files[2],
            ("css/x.css".to_owned(), "css/x.a2e6dd56ed33.css".to_owned())
        );
        assert_eq!(
            stored(&out, "css/app.b22762c8ed41.css"),
            "/*# sourceMappingURL=app.css.6dbd5863e342.map */\n@import url(\"x.5daedfbfd64f.css?v=1\");"
        );
    }

    #[test]
    fn max_passes_exceeded() {
        let input = files(&[("a.css", "@import 'b.css';"), ("b.css", "@import 'a.css';")]);
        let err = post_process(&input, &ManifestOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert_eq!(message(&err), "Max post-process passes exceeded.");
        let input = files(&[("self.css", "url(self.css)")]);
        assert_eq!(
            message(&post_process(&input, &ManifestOptions::default()).unwrap_err()),
            "Max post-process passes exceeded."
        );
    }

    #[test]
    fn missing_files() {
        let options = ManifestOptions {
            storage_name: "<storages.s3.S3ManifestStaticStorage object at 0xADDR>".into(),
            ..Default::default()
        };
        let input = files(&[("css/missing.css", ".bad { background: url(../img/nope.png); }")]);
        let err = post_process(&input, &options).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(
            message(&err),
            "The file 'img/nope.png' could not be found with <storages.s3.S3ManifestStaticStorage object at 0xADDR>."
        );
        // `url(  "x"  )`: the quotes are part of the URL.
        let input = files(&[
            ("css/spaces.css", r#".h { background: url(  "../img/bg.png"  ); }"#),
            ("img/bg.png", "x"),
        ]);
        let err = post_process(&input, &options).unwrap_err();
        assert_eq!(
            message(&err),
            r#"The file 'css/"../img/bg.png"' could not be found with <storages.s3.S3ManifestStaticStorage object at 0xADDR>."#
        );
        // Files outside the run come from the storage.
        let mut storage = HashMap::from([("img/nope.png".to_owned(), b"x".to_vec())]);
        let input = files(&[("css/missing.css", "url(../img/nope.png)")]);
        let out = post_process_with(&input, &options, &mut storage).unwrap();
        assert_eq!(
            stored(&out, &out.hashed_files[0].1),
            r#"url("../img/nope.9dd4e461268c.png")"#
        );
    }

    #[test]
    fn non_utf8_files_fail_as_in_python() {
        let input = vec![("css/bad.css".to_owned(), b"a{}\xff".to_vec())];
        let err = post_process(&input, &ManifestOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(
            message(&err),
            "'utf-8' codec can't decode byte 0xff in position 3: invalid start byte"
        );
        // Non-adjustable files may hold anything.
        let input = vec![("img/bin.png".to_owned(), b"\xff".to_vec())];
        assert!(post_process(&input, &ManifestOptions::default()).is_ok());
        let cases: &[(&[u8], &str)] = &[
            (b"ab\xe2\x82", "bytes in position 2-3: unexpected end of data"),
            (b"a\xe2\x82b", "bytes in position 1-2: invalid continuation byte"),
            (b"\xc0\x80", "byte 0xc0 in position 0: invalid start byte"),
            (b"\xed\xa0\x80", "byte 0xed in position 0: invalid continuation byte"),
            (b"\xf0\x9f", "bytes in position 0-1: unexpected end of data"),
            (b"\xe2", "byte 0xe2 in position 0: unexpected end of data"),
            (
                b"\xf0\x80\x80\x80",
                "byte 0xf0 in position 0: invalid continuation byte",
            ),
            (
                b"ok\xf4\x90\x80\x80",
                "byte 0xf4 in position 2: invalid continuation byte",
            ),
        ];
        for (bytes, expected) in cases {
            let e = std::str::from_utf8(bytes).unwrap_err();
            assert_eq!(
                utf8_error_message(bytes, &e),
                format!("'utf-8' codec can't decode {expected}")
            );
        }
    }

    #[test]
    fn existing_copies_and_intermediate_files() {
        let input = files(&[("a.css", "url(x.png)"), ("x.png", "x")]);
        let first = post_process(&input, &ManifestOptions::default()).unwrap();
        // Already stored: the image is not copied again (and not "processed"), the CSS is.
        let mut storage: HashMap<String, Vec<u8>> = first.stored.iter().cloned().collect();
        let again = post_process_with(&input, &ManifestOptions::default(), &mut storage).unwrap();
        assert_eq!(again.hashed_files, first.hashed_files);
        let flags: Vec<(&str, bool)> = again.processed.iter().map(|(n, _, p)| (n.as_str(), *p)).collect();
        assert_eq!(flags, [("x.png", false), ("a.css", true)]);
        assert_eq!(again.stored.len(), 1);
        // A stale copy under the unprocessed content's hash is deleted.
        let intermediate = hashed_name("a.css", b"url(x.png)");
        let mut storage = HashMap::from([(intermediate.clone(), b"old".to_vec())]);
        let out = post_process_with(&input, &ManifestOptions::default(), &mut storage).unwrap();
        assert_eq!(out.deleted, std::slice::from_ref(&intermediate));
        // `keep_intermediate_files` keeps it, with the processed content.
        let options = ManifestOptions {
            keep_intermediate_files: true,
            ..Default::default()
        };
        let out = post_process(&input, &options).unwrap();
        assert_eq!(stored(&out, &intermediate), r#"url("x.9dd4e461268c.png")"#);
        assert_eq!(out.stored.len(), 3);
    }

    #[test]
    fn manifest_json_as_django() {
        let paths = vec![
            ("img/logo.png".to_owned(), "img/logo.0b75926ab9a9.png".to_owned()),
            ("css/app.css".to_owned(), "css/app.917104749980.css".to_owned()),
        ];
        // SPEC §5.3's example, whose recorded hash (08e41ea73d0b) belongs to a longer map:
        // Python gives 842d75c6aad1 for these two pairs.
        assert_eq!(
            manifest_json(&paths),
            r#"{"paths": {"img/logo.png": "img/logo.0b75926ab9a9.png", "css/app.css": "css/app.917104749980.css"}, "version": "1.1", "hash": "842d75c6aad1"}"#
        );
        assert_eq!(
            manifest_json(&[]),
            r#"{"paths": {}, "version": "1.1", "hash": "d75171398898"}"#
        );
        // ensure_ascii: \uXXXX (lower-case hex), surrogate pairs, DEL and controls escaped.
        let paths = vec![
            ("img/ünï.png".to_owned(), "img/ünï.7b774effe4a3.png".to_owned()),
            ("e/😀 \"q\"\\\u{7f}\u{1}\t.css".to_owned(), "x".to_owned()),
        ];
        assert_eq!(
            manifest_json(&paths),
            r#"{"paths": {"img/\u00fcn\u00ef.png": "img/\u00fcn\u00ef.7b774effe4a3.png", "e/\ud83d\ude00 \"q\"\\\u007f\u0001\t.css": "x"}, "version": "1.1", "hash": "7c8c54d907d1"}"#
        );
        let manifest = parse_manifest(manifest_json(&paths).as_bytes(), MANIFEST_NAME).unwrap();
        assert_eq!(manifest.paths(), paths);
        assert_eq!(manifest, Manifest::from_paths(paths));
    }

    #[test]
    fn manifest_reading() {
        let spec = br#"{"paths": {"img/logo.png": "img/logo.0b75926ab9a9.png", "css/app.css": "css/app.917104749980.css"}, "version": "1.1", "hash": "08e41ea73d0b"}"#;
        let manifest = parse_manifest(spec, MANIFEST_NAME).unwrap();
        assert_eq!(
            (manifest.version(), manifest.hash(), manifest.len()),
            ("1.1", "08e41ea73d0b", 2)
        );
        assert_eq!(manifest.get("css/app.css"), Some("css/app.917104749980.css"));
        let old = parse_manifest(br#"{"version": "1.0", "paths": {"a.css": "a.1.css"}}"#, MANIFEST_NAME).unwrap();
        assert_eq!(
            (old.version(), old.hash(), old.get("a.css")),
            ("1.0", "", Some("a.1.css"))
        );
        let bare = parse_manifest(b" {\"version\": \"1.1\"}\n", MANIFEST_NAME).unwrap();
        assert!(bare.is_empty());
        // Python's JSON: NaN, escapes, a repeated key keeps its place and its last value.
        let odd = br#"{"x": NaN, "paths": {"a": "1", "\u00e9\ud83d\ude00\/": "2", "a": "3"}, "version": "1.1", "y": [-Infinity, 1.5e3, true, null]}"#;
        let odd = parse_manifest(odd, MANIFEST_NAME).unwrap();
        assert_eq!(
            odd.paths(),
            [("a".to_owned(), "3".to_owned()), ("é😀/".to_owned(), "2".to_owned())]
        );
        for bad in [
            &b"not json"[..],
            b"",
            b"[]",
            br#"{"paths": {}}"#,
            br#"{"version": "2.0"}"#,
            br#"{"version": 1.1}"#,
            br#"{"version": "1.1", "paths": []}"#,
            br#"{"version": "1.1", "paths": {"a": 1}}"#,
            br#"{"version": "1.1",}"#,
            br#"{"version": "1.1"} x"#,
            "\u{feff}{\"version\": \"1.1\"}".as_bytes(),
            b"{\"version\": \"1.1\", \"paths\": {\"a\tb\": \"c\"}}",
            b"{\"version\": \"1.1\", \"hash\": \"\xff\"}",
        ] {
            let err = parse_manifest(bad, MANIFEST_NAME).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidResponse);
            assert_eq!(message(&err), "Couldn't load manifest 'staticfiles.json' (version 1.1)");
        }
    }

    #[test]
    fn stored_names() {
        let manifest = Manifest::from_paths(vec![
            ("css/app.css".into(), "css/app.917104749980.css".into()),
            ("fonts/f.eot".into(), "fonts/f.4aaf23261cd3.eot".into()),
            ("img/logo.png".into(), "img/logo.0b75926ab9a9.png".into()),
            ("a b.css".into(), "a b.9dd4e461268c.css".into()),
        ]);
        let get = |name: &str| stored_name(&manifest, name, true).unwrap().unwrap();
        assert_eq!(get("css/app.css"), "css/app.917104749980.css");
        assert_eq!(get("fonts/f.eot?#iefix"), "fonts/f.4aaf23261cd3.eot?#iefix");
        assert_eq!(get("img/logo.png#x"), "img/logo.0b75926ab9a9.png#x");
        assert_eq!(get("img/logo.png?v=1"), "img/logo.0b75926ab9a9.png?v=1");
        assert_eq!(get("a%20b.css"), "a b.9dd4e461268c.css");
        assert_eq!(get("css/"), "css/");
        let err = stored_name(&manifest, "css/nope.css?v=1", true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(message(&err), "Missing staticfiles manifest entry for 'css/nope.css'");
        assert_eq!(stored_name(&manifest, "css/nope.css", false).unwrap(), None);
    }
}
