//! `S3ManifestStaticStorage`: a static storage with Django's hashed names and
//! `staticfiles.json`, readable by a Django site and the reverse.

use std::sync::{Arc, RwLock};

use tokio::io::AsyncReadExt;

use crate::config::StorageKind;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::collect::{Source, find_files_blocking, is_stored, stored_etags};
use crate::storage::manifest::{self, MANIFEST_NAME, Manifest, ManifestOptions};
use crate::storage::{Content, S3Storage, S3StorageBuilder, UrlOptions};

/// What [`S3ManifestStaticStorage::post_process`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostProcessReport {
    /// Files given a hashed name (Django's "N post-processed").
    pub post_processed: usize,
    /// Hashed copies uploaded.
    pub uploaded: usize,
    /// Hashed copies already stored with the same content.
    pub skipped: usize,
    /// Whether `staticfiles.json` was written (it is not when unchanged).
    pub manifest_written: bool,
    /// Every original name with its hashed name, sorted (Django's "Post-processed 'a' as 'b'").
    pub hashed_names: Vec<(String, String)>,
}

/// Django's `S3ManifestStaticStorage`: an [`S3StaticStorage`](crate::S3StaticStorage)
/// whose `url()` gives hashed names (`css/app.917104749980.css`) from the manifest
/// `staticfiles.json`, read once when the storage is made (as Django reads it at
/// construction), and written by [`post_process`](Self::post_process) with one overwriting
/// PUT (the original deleted it first, leaving a moment without a manifest).
///
/// ```no_run
/// # async fn demo() -> storages_s3::Result<()> {
/// use storages_s3::{S3ManifestStaticStorage, S3Storage};
///
/// let statics = S3ManifestStaticStorage::from_builder(S3Storage::builder().option("location", "static")).await?;
/// statics.post_process_sources(&["./static".parse().unwrap()], &[]).await?; // after the originals
/// let css = statics.url("css/app.css").await?;            // .../static/css/app.917104749980.css
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct S3ManifestStaticStorage {
    storage: S3Storage,
    options: ManifestOptions,
    manifest: Arc<RwLock<Arc<Manifest>>>,
    debug: bool,
}

impl std::fmt::Debug for S3ManifestStaticStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3ManifestStaticStorage")
            .field("storage", &self.storage)
            .field("entries", &self.manifest().len())
            .finish_non_exhaustive()
    }
}

impl S3ManifestStaticStorage {
    /// A manifest storage from a builder's options, with Django's defaults (`/static/`,
    /// strict, 5 passes); reads the manifest.
    pub async fn from_builder(builder: S3StorageBuilder) -> Result<Self> {
        Self::with_options(builder, ManifestOptions::default()).await
    }

    /// A manifest storage with other manifest options; reads the manifest.
    pub async fn with_options(builder: S3StorageBuilder, options: ManifestOptions) -> Result<Self> {
        let storage = builder.kind(StorageKind::ManifestStatic).build()?;
        let manifest = load_manifest(&storage).await?;
        Ok(S3ManifestStaticStorage {
            storage,
            options,
            manifest: Arc::new(RwLock::new(Arc::new(manifest))),
            debug: false,
        })
    }

    /// Django's `DEBUG = True`: `url()` gives unhashed names.
    pub fn with_debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// The storage underneath, for everything else it does (`save`, `open`, `client`, ...;
    /// the [`Storage`](crate::Storage) trait gives the Django methods directly, `url`
    /// through the manifest).
    pub fn storage(&self) -> &S3Storage {
        &self.storage
    }

    /// The settings.
    pub fn settings(&self) -> &crate::Settings {
        self.storage.settings()
    }

    /// The manifest as last read or written (shared, not copied).
    pub fn manifest(&self) -> Arc<Manifest> {
        self.manifest.read().expect("manifest lock").clone()
    }

    /// Reads the manifest again (a deploy wrote a new one).
    pub async fn reload(&self) -> Result<()> {
        let m = load_manifest(&self.storage).await?;
        *self.manifest.write().expect("manifest lock") = Arc::new(m);
        Ok(())
    }

    /// The URL of `name` through the manifest: its hashed name, with the query and fragment
    /// of `name` kept (`fonts/f.eot?#iefix`), correctly encoded (the original percent-decoded
    /// the whole URL). Names ending with `/` are not hashed. A name missing from the manifest
    /// is an error when `manifest_strict`, else the stored file is hashed now.
    pub async fn url(&self, name: &str) -> Result<String> {
        self.url_with(name, &UrlOptions::default()).await
    }

    /// The URL of `name` through the manifest, as [`url`](Self::url), with options
    /// (lifetime, parameters, method, signing time) for the hashed name's URL.
    pub async fn url_with(&self, name: &str, options: &UrlOptions) -> Result<String> {
        if self.debug || name.ends_with('/') {
            return self.storage.url_with(name, options).await;
        }
        let found = manifest::stored_name(&self.manifest(), name, self.options.manifest_strict)?;
        let hashed = match found {
            Some(h) => h,
            None => {
                let path = manifest::lookup_name(name);
                let mut file = self.storage.open(&path, "rb").await.map_err(|e| {
                    if e.is_not_found() {
                        Error::new(
                            ErrorKind::NotFound,
                            format!(
                                "The file '{path}' could not be found with {}.",
                                self.options.storage_name
                            ),
                        )
                    } else {
                        e
                    }
                })?;
                let mut content = Vec::new();
                file.read_to_end(&mut content).await?;
                let hashed = manifest::hashed_name(&path, &content);
                let suffix = &name[name.find(['?', '#']).unwrap_or(name.len())..];
                format!("{hashed}{suffix}")
            }
        };
        let split = hashed.find(['?', '#']).unwrap_or(hashed.len());
        let (path, suffix) = hashed.split_at(split);
        let url = self.storage.url_with(path, options).await?;
        Ok(attach(url, suffix))
    }

    /// Hashes the collected `files` (name → content), rewrites the references of CSS and JS
    /// files, uploads the hashed copies that are not already stored with the same content,
    /// and writes `staticfiles.json` when it changed. The originals are uploaded by the caller
    /// ([`collect`](crate::collect::collect)).
    pub async fn post_process(&self, files: &[(String, Vec<u8>)]) -> Result<PostProcessReport> {
        let done = manifest::post_process(files, &self.options)?;
        let existing = stored_etags(&self.storage).await?;
        let mut report = PostProcessReport {
            post_processed: done.processed.len(),
            ..Default::default()
        };
        for (name, content) in &done.stored {
            let key = self.storage.key(name)?;
            let expected = self.storage.expected_etag(name, content)?;
            if is_stored(&self.storage, &existing, &key, &expected).await? {
                report.skipped += 1;
                continue;
            }
            self.storage.store(name, Content::from(content.clone())).await?;
            report.uploaded += 1;
        }
        let mut paths = done.hashed_files.clone();
        paths.sort();
        let json = manifest::manifest_json(&paths);
        let key = self.storage.key(MANIFEST_NAME)?;
        let expected = self.storage.expected_etag(MANIFEST_NAME, json.as_bytes())?;
        let unchanged = is_stored(&self.storage, &existing, &key, &expected).await?;
        if !unchanged {
            self.storage.store(MANIFEST_NAME, Content::from(json)).await?;
            report.manifest_written = true;
        }
        report.hashed_names = paths.clone();
        *self.manifest.write().expect("manifest lock") = Arc::new(Manifest::from_paths(paths));
        Ok(report)
    }

    /// [`post_process`](Self::post_process) of every file the folders give, found as
    /// [`collect`](crate::collect::collect) finds them (`ignore`: Django's ignore
    /// patterns; of two files with one name, the first folder's).
    pub async fn post_process_sources(&self, sources: &[Source], ignore: &[String]) -> Result<PostProcessReport> {
        let mut files = Vec::new();
        for (name, path) in find_files_blocking(sources, ignore).await?.files {
            let content = tokio::fs::read(&path)
                .await
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read {}", path.display())).with_source(e))?;
            files.push((name, content));
        }
        self.post_process(&files).await
    }
}

/// Re-attaches `?query` and `#fragment` to a URL that may already have a query.
fn attach(mut url: String, suffix: &str) -> String {
    let (query, fragment) = match suffix.find('#') {
        Some(i) => (&suffix[..i], Some(&suffix[i..])),
        None => (suffix, None),
    };
    if let Some(q) = query.strip_prefix('?') {
        if !q.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(q);
        } else if !url.contains('?') {
            // The `@font-face` `?#iefix` trick keeps its lone `?`.
            url.push('?');
        }
    }
    if let Some(f) = fragment {
        url.push_str(f);
    }
    url
}

async fn load_manifest(storage: &S3Storage) -> Result<Manifest> {
    let mut file = match storage.open(MANIFEST_NAME, "rb").await {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(Manifest::default()),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).await?;
    manifest::parse_manifest(&bytes, MANIFEST_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_fragments_are_reattached() {
        assert_eq!(
            attach("https://cdn/f.eot".into(), "?#iefix"),
            "https://cdn/f.eot?#iefix"
        );
        assert_eq!(attach("https://cdn/a.png".into(), "#x"), "https://cdn/a.png#x");
        assert_eq!(attach("https://cdn/a.png".into(), "?v=1"), "https://cdn/a.png?v=1");
        assert_eq!(
            attach("https://b/a.png?X-Amz-Signature=s".into(), "?v=1#f"),
            "https://b/a.png?X-Amz-Signature=s&v=1#f"
        );
        assert_eq!(
            attach("https://b/f.eot?X-Amz-Signature=s".into(), "?#iefix"),
            "https://b/f.eot?X-Amz-Signature=s#iefix"
        );
        assert_eq!(attach("https://cdn/a.png".into(), ""), "https://cdn/a.png");
    }
}
