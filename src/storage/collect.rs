//! `collectstatic`: uploads a local tree of static files to a storage, in parallel,
//! skipping every file whose object already holds the same bytes (SPEC §5.4, without the
//! original's re-upload of unchanged files: django-storages #1255, #1561).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::error::{Error, ErrorKind, Result};
use crate::py;
use crate::s3::ops::list_objects::ListObjectsInput;
use crate::storage::{Content, S3Storage};

/// Django's default `ignore_patterns` of `collectstatic`.
pub const DEFAULT_IGNORE: [&str; 3] = ["CVS", ".*", "*~"];

/// A folder of static files, and the prefix its files take in the storage: Django's
/// `STATICFILES_DIRS` entries, `"path"` or `("prefix", "path")`.
///
/// ```
/// use storages_s3::collect::Source;
///
/// let plain: Source = "static".parse().unwrap();
/// assert_eq!((plain.prefix.as_deref(), plain.dir.to_str()), (None, Some("static")));
/// let vendored: Source = "vendor=node_modules/dist".parse().unwrap();
/// assert_eq!(vendored.prefix.as_deref(), Some("vendor"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Folder in the storage the files go under (`vendor/...`), none for the root.
    pub prefix: Option<String>,
    /// The local folder.
    pub dir: PathBuf,
}

impl Source {
    /// A folder whose files keep their names.
    pub fn new(dir: impl Into<PathBuf>) -> Source {
        Source {
            prefix: None,
            dir: dir.into(),
        }
    }

    /// A folder whose files go under `prefix`.
    pub fn with_prefix(prefix: impl Into<String>, dir: impl Into<PathBuf>) -> Source {
        let prefix: String = prefix.into();
        let prefix = prefix.trim_matches('/').to_owned();
        Source {
            prefix: (!prefix.is_empty()).then_some(prefix),
            dir: dir.into(),
        }
    }
}

impl From<&Path> for Source {
    fn from(dir: &Path) -> Source {
        Source::new(dir)
    }
}

impl From<PathBuf> for Source {
    fn from(dir: PathBuf) -> Source {
        Source::new(dir)
    }
}

impl std::str::FromStr for Source {
    type Err = std::convert::Infallible;

    /// `[PREFIX=]DIR`; a folder whose own name holds `=` and exists is taken whole.
    fn from_str(s: &str) -> std::result::Result<Source, Self::Err> {
        match s.split_once('=') {
            Some((prefix, dir)) if !Path::new(s).is_dir() => Ok(Source::with_prefix(prefix, dir)),
            _ => Ok(Source::new(s)),
        }
    }
}

/// Options of one collection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CollectOptions {
    /// Say what would be done, change nothing.
    pub dry_run: bool,
    /// Delete every object under the location first.
    pub clear: bool,
    /// Files uploaded at once.
    pub jobs: usize,
    /// Names left out, as Django's `ignore_patterns` (shell patterns: `*`, `?`, `[seq]`,
    /// `[!seq]`): a file is left out when its name or its path in its folder matches, a
    /// folder (and all it holds) when its name matches. Django's defaults
    /// ([`DEFAULT_IGNORE`]) unless replaced.
    pub ignore: Vec<String>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            dry_run: false,
            clear: false,
            jobs: 10,
            ignore: DEFAULT_IGNORE.iter().map(|p| (*p).to_owned()).collect(),
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The folders were read: this many files to consider.
    Found(usize),
    /// A file whose name an earlier folder already gave: left out, as Django's finders
    /// keep the first file found for each name.
    Duplicate {
        /// Its name in the storage.
        name: String,
        /// The file left out.
        source: PathBuf,
    },
    /// A file was uploaded (or would be, in a dry run).
    Uploaded {
        /// Its name in the storage.
        name: String,
        /// The local file.
        source: PathBuf,
        /// Bytes read from disk.
        bytes: u64,
    },
    /// A file was skipped: its object already holds the same bytes.
    Skipped {
        /// Its name in the storage.
        name: String,
    },
    /// An object was deleted by `clear`.
    Deleted {
        /// Its key.
        key: String,
    },
}

/// What a collection did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CollectReport {
    /// Files uploaded (or to upload, in a dry run).
    pub uploaded: usize,
    /// Files whose object was already up to date.
    pub skipped: usize,
    /// Objects deleted by `clear`.
    pub deleted: usize,
    /// Files left out because an earlier folder gave the same name.
    pub duplicates: usize,
    /// Bytes of the uploaded files, as read from disk.
    pub bytes: u64,
    /// Time taken.
    pub elapsed: Duration,
}

/// The files of the folders, found as Django's finders find them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// Every file as (storage name, local path), in folder order, then by name.
    pub files: Vec<(String, PathBuf)>,
    /// Files left out because an earlier folder already gave their name.
    pub duplicates: Vec<(String, PathBuf)>,
}

fn ignored(ignore: &[String], name: &str) -> bool {
    ignore.iter().any(|p| py::fnmatchcase(name, p))
}

/// The files under `sources`, as storage names (`css/app.css`, `vendor/x.js` for a prefixed
/// folder): ignored names left out as Django leaves them out, and of two files with one
/// name, the first folder's kept. Reads the disk: async callers run it on a blocking thread
/// (as [`collect`] does).
pub(crate) fn find_files(sources: &[Source], ignore: &[String]) -> Result<Found> {
    let mut found = Found::default();
    let mut seen = std::collections::HashSet::new();
    for source in sources {
        let root = &source.dir;
        let meta = std::fs::metadata(root).map_err(|e| {
            Error::new(ErrorKind::NotFound, format!("{} does not exist", root.display())).with_source(e)
        })?;
        if !meta.is_dir() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("{} is not a directory", root.display()),
            ));
        }
        let mut files = Vec::new();
        let mut stack = vec![(root.to_owned(), String::new())];
        while let Some((dir, relative_dir)) = stack.pop() {
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot list {}", dir.display())).with_source(e))?;
            for entry in entries {
                let entry = entry
                    .map_err(|e| Error::new(ErrorKind::Io, format!("cannot list {}", dir.display())).with_source(e))?;
                let name = entry.file_name().into_string().map_err(|raw| {
                    Error::new(
                        ErrorKind::InvalidName,
                        format!("a file name in {} is not UTF-8: {raw:?}", dir.display()),
                    )
                })?;
                // Django matches a folder by its name, a file by its name and by its path.
                if ignored(ignore, &name) {
                    continue;
                }
                let path = entry.path();
                let relative = format!("{relative_dir}{name}");
                if std::fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false) {
                    stack.push((path, format!("{relative}/")));
                } else if relative_dir.is_empty() || !ignored(ignore, &relative) {
                    files.push((relative, path));
                }
            }
        }
        files.sort();
        for (relative, path) in files {
            let name = match &source.prefix {
                Some(prefix) => format!("{prefix}/{relative}"),
                None => relative,
            };
            if seen.insert(name.clone()) {
                found.files.push((name, path));
            } else {
                found.duplicates.push((name, path));
            }
        }
    }
    Ok(found)
}

/// [`find_files`] on a blocking thread.
pub(crate) async fn find_files_blocking(sources: &[Source], ignore: &[String]) -> Result<Found> {
    let (sources, ignore) = (sources.to_vec(), ignore.to_vec());
    tokio::task::spawn_blocking(move || find_files(&sources, &ignore))
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "the folder walk failed").with_source(e))?
}

/// The ETag of every object under the storage's location, by key.
pub(crate) async fn stored_etags(storage: &S3Storage) -> Result<HashMap<String, Option<String>>> {
    let prefix = storage.key("")?;
    let input = ListObjectsInput {
        prefix: (!prefix.is_empty()).then_some(prefix),
        ..Default::default()
    };
    let (objects, _) = storage.client().list_objects(input).collect_all().await?;
    Ok(objects.into_iter().map(|o| (o.key, o.etag)).collect())
}

/// Whether the object at `key` already holds what `expected` (an ETag) says, from the
/// listing in `existing`; an object listed without an ETag (some servers) is asked itself,
/// only when it matters.
pub(crate) async fn is_stored(
    storage: &S3Storage,
    existing: &HashMap<String, Option<String>>,
    key: &str,
    expected: &str,
) -> Result<bool> {
    let etag = match existing.get(key) {
        None => return Ok(false),
        Some(Some(etag)) => etag.clone(),
        Some(None) => match storage.client().head_object(key, &Default::default()).await {
            Ok(head) => head.etag.unwrap_or_default(),
            Err(e) if e.is_not_found() => return Ok(false),
            Err(e) => return Err(e),
        },
    };
    Ok(etag == expected)
}

/// Uploads the files of `sources` to `storage`, `jobs` at a time, skipping those whose
/// object already has the same content (same ETag as this storage would give it: gzip and
/// multipart included). `progress` sees every event as it happens.
pub async fn collect(
    storage: &S3Storage,
    sources: &[Source],
    options: &CollectOptions,
    progress: Arc<dyn Fn(&Event) + Send + Sync>,
) -> Result<CollectReport> {
    let started = Instant::now();
    let found = find_files_blocking(sources, &options.ignore).await?;
    for (name, source) in &found.duplicates {
        progress(&Event::Duplicate {
            name: name.clone(),
            source: source.clone(),
        });
    }
    let files = found.files;
    progress(&Event::Found(files.len()));
    let mut report = CollectReport {
        duplicates: found.duplicates.len(),
        ..CollectReport::default()
    };
    let mut existing = stored_etags(storage).await?;
    if options.clear {
        let keys: Vec<&str> = existing.keys().map(String::as_str).collect();
        if !options.dry_run && !keys.is_empty() {
            let result = storage.client().delete_objects(&keys).await?;
            if let Some(failed) = result.errors.first() {
                return Err(Error::new(
                    ErrorKind::Service,
                    format!("could not delete {} ({}: {})", failed.key, failed.code, failed.message),
                ));
            }
        }
        for key in &keys {
            progress(&Event::Deleted { key: (*key).to_owned() });
        }
        report.deleted = keys.len();
        existing.clear();
    }
    let existing = Arc::new(existing);
    let mut tasks = JoinSet::new();
    let mut pending = files.into_iter();
    let jobs = options.jobs.max(1);
    loop {
        while tasks.len() < jobs {
            let Some((name, path)) = pending.next() else { break };
            let (storage, existing, progress, dry_run) =
                (storage.clone(), existing.clone(), progress.clone(), options.dry_run);
            tasks.spawn(async move {
                let bytes = tokio::fs::read(&path)
                    .await
                    .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read {}", path.display())).with_source(e))?;
                let key = storage.key(&name)?;
                let expected = storage.expected_etag(&name, &bytes)?;
                if is_stored(&storage, &existing, &key, &expected).await? {
                    progress(&Event::Skipped { name });
                    return Ok::<_, Error>(None);
                }
                let len = bytes.len() as u64;
                if !dry_run {
                    storage.store(&name, Content::from(bytes)).await?;
                }
                progress(&Event::Uploaded {
                    name,
                    source: path,
                    bytes: len,
                });
                Ok(Some(len))
            });
        }
        let Some(done) = tasks.join_next().await else { break };
        match done.map_err(|e| Error::new(ErrorKind::Io, "an upload task failed").with_source(e))? {
            Ok(Some(bytes)) => {
                report.uploaded += 1;
                report.bytes += bytes;
            }
            Ok(None) => report.skipped += 1,
            Err(e) => return Err(e),
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(paths: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for path in paths {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, path.as_bytes()).unwrap();
        }
        dir
    }

    fn names(found: &[(String, PathBuf)]) -> Vec<&str> {
        found.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn files_are_found_sorted_and_filtered_as_django() {
        let dir = tree(&[
            "css/app.css",
            "css/.hidden",
            "js/app.js",
            "js/app.js~",
            "CVS/Entries",
            "a.txt",
            ".git/config",
            "js/vendor/big.js",
        ]);
        let found = find_files(&[dir.path().into()], &CollectOptions::default().ignore).unwrap();
        assert_eq!(
            names(&found.files),
            ["a.txt", "css/app.css", "js/app.js", "js/vendor/big.js"]
        );
        // A file's path in its folder matches too; a folder only by its name.
        let mut ignore = CollectOptions::default().ignore;
        ignore.push("js/vendor/*".into());
        let found = find_files(&[dir.path().into()], &ignore).unwrap();
        assert_eq!(names(&found.files), ["a.txt", "css/app.css", "js/app.js"]);
        let found = find_files(&[dir.path().into()], &["vendor".into(), "*.css".into()]).unwrap();
        assert_eq!(
            names(&found.files),
            [
                ".git/config",
                "CVS/Entries",
                "a.txt",
                "css/.hidden",
                "js/app.js",
                "js/app.js~"
            ]
        );
        let missing = find_files(&[dir.path().join("missing").into()], &[]).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn several_folders_with_prefixes_and_the_first_file_wins() {
        let first = tree(&["css/app.css", "robots.txt"]);
        let second = tree(&["css/app.css", "css/extra.css"]);
        let vendor = tree(&["jquery.js"]);
        let sources = [
            Source::new(first.path()),
            Source::new(second.path()),
            Source::with_prefix("/vendor/", vendor.path()),
        ];
        let found = find_files(&sources, &[]).unwrap();
        assert_eq!(
            names(&found.files),
            ["css/app.css", "robots.txt", "css/extra.css", "vendor/jquery.js"]
        );
        assert_eq!(found.files[0].1, first.path().join("css/app.css"));
        assert_eq!(names(&found.duplicates), ["css/app.css"]);
        assert_eq!(found.duplicates[0].1, second.path().join("css/app.css"));
    }

    #[test]
    fn sources_parse_with_an_optional_prefix() {
        let s: Source = "static".parse().unwrap();
        assert_eq!(s, Source::new("static"));
        let s: Source = "admin=site/admin/static".parse().unwrap();
        assert_eq!(s, Source::with_prefix("admin", "site/admin/static"));
        // An existing folder named with `=` is a folder.
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("a=b");
        std::fs::create_dir(&odd).unwrap();
        let s: Source = odd.to_str().unwrap().parse().unwrap();
        assert_eq!(s, Source::new(&odd));
    }
}
