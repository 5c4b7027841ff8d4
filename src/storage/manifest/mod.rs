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
//! file (written and read as Python's `json` does) in `file`; the tests of all three, against
//! Django's answers, in `tests`.

mod file;
mod patterns;
#[cfg(test)]
mod tests;

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
