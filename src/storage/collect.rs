//! `collectstatic`: uploads a local tree of static files to a storage, in parallel,
//! skipping every file whose object already holds the same bytes (SPEC §5.4, without the
//! original's re-upload of unchanged files: django-storages #1255, #1561).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::error::{Error, ErrorKind, Result};
use crate::s3::ops::list_objects::ListObjectsInput;
use crate::storage::{Content, S3Storage};

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
    /// File and directory names left out (shell patterns: `*`, `?`), Django's defaults.
    pub ignore: Vec<String>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            dry_run: false,
            clear: false,
            jobs: 10,
            ignore: vec!["CVS".into(), ".*".into(), "*~".into()],
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The tree was read: this many files to consider.
    Found(usize),
    /// A file was uploaded (or would be, in a dry run).
    Uploaded {
        /// Its name in the storage.
        name: String,
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
    /// Bytes of the uploaded files, as read from disk.
    pub bytes: u64,
    /// Time taken.
    pub elapsed: Duration,
}

/// Shell-style match of one name against a pattern (`*` and `?`), as Python's `fnmatch` on
/// POSIX (case-sensitive).
fn matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    go(&p, &n)
}

/// Every file under `root`, as storage names (`css/app.css`), sorted; ignored names (and
/// everything under ignored directories) left out.
pub fn find_files(root: &Path, ignore: &[String]) -> Result<Vec<(String, PathBuf)>> {
    let meta = std::fs::metadata(root)
        .map_err(|e| Error::new(ErrorKind::NotFound, format!("{} does not exist", root.display())).with_source(e))?;
    if !meta.is_dir() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("{} is not a directory", root.display()),
        ));
    }
    let mut out = Vec::new();
    let mut stack = vec![(root.to_owned(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
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
            if ignore.iter().any(|p| matches(p, &name)) {
                continue;
            }
            let path = entry.path();
            let relative = format!("{prefix}{name}");
            if std::fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false) {
                stack.push((path, format!("{relative}/")));
            } else {
                out.push((relative, path));
            }
        }
    }
    out.sort();
    Ok(out)
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

/// Uploads the files under `root` to `storage`, `jobs` at a time, skipping those whose
/// object already has the same content (same ETag as this storage would give it: gzip and
/// multipart included). `progress` sees every event as it happens.
pub async fn collect(
    storage: &S3Storage,
    root: &Path,
    options: &CollectOptions,
    progress: Arc<dyn Fn(&Event) + Send + Sync>,
) -> Result<CollectReport> {
    let started = Instant::now();
    let files = find_files(root, &options.ignore)?;
    progress(&Event::Found(files.len()));
    let mut report = CollectReport::default();
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
                progress(&Event::Uploaded { name, bytes: len });
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

    #[test]
    fn shell_patterns() {
        assert!(matches(".*", ".git"));
        assert!(matches("*~", "notes.txt~"));
        assert!(matches("CVS", "CVS"));
        assert!(!matches("CVS", "cvs"));
        assert!(matches("*.c?s", "site.css"));
        assert!(!matches(".*", "a.txt"));
    }

    #[test]
    fn files_are_found_sorted_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        for path in [
            "css/app.css",
            "css/.hidden",
            "js/app.js",
            "js/app.js~",
            "CVS/Entries",
            "a.txt",
            ".git/config",
        ] {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let names: Vec<String> = find_files(dir.path(), &CollectOptions::default().ignore)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["a.txt", "css/app.css", "js/app.js"]);
        assert_eq!(
            find_files(&dir.path().join("missing"), &[]).unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }
}
