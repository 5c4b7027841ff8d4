//! `S3Storage`: Django's storage API over the S3 client.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use http::Method;

use crate::config::{Endpoint, GlobalSource, ObjectParameters, Settings, SettingsBuilder, StorageKind};
use crate::credentials::ProvideCredentials;
use crate::error::{Error, ErrorKind, Result};
use crate::s3::Client;
use crate::s3::addressing::{Addressing, check_key};
use crate::s3::client::{ClientOptions, Presign};
use crate::s3::multipart::{Upload, UploadOptions};
use crate::s3::ops::list_objects::ListObjectsInput;
use crate::storage::content::Content;
use crate::storage::file::{OpenMode, S3File, Spill};
use crate::storage::url::{UrlOptions, plain_url, query_name};
use crate::storage::{content_type, gzip, names};

/// The per-call hook the original calls `get_object_parameters(name)`: the upload (and
/// read) parameters of one object, given its full key.
pub type ObjectParametersHook = Arc<dyn Fn(&str) -> ObjectParameters + Send + Sync>;

/// How many times `save` looks for another name when a conditional write finds its name
/// taken by a concurrent writer.
const NAME_ATTEMPTS: usize = 10;

struct Inner {
    settings: Settings,
    kind: StorageKind,
    client: Client,
    hook: Option<ObjectParametersHook>,
}

/// Django's `S3Storage`: save, open, delete, exists, listdir, size, url and modified time
/// on an S3 bucket, with the original's settings and name rules.
///
/// ```no_run
/// # async fn demo() -> storages_s3::Result<()> {
/// use storages_s3::{Content, S3Storage};
///
/// // AWS_STORAGE_BUCKET_NAME, AWS_LOCATION, credentials, ... from the environment.
/// let storage = S3Storage::from_env()?;
/// let name = storage.save("avatars/ana.png", Content::from_path("/tmp/ana.png"), None).await?;
/// let (dirs, files) = storage.listdir("avatars").await?;
/// let url = storage.url(&name).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct S3Storage {
    inner: Arc<Inner>,
}

impl fmt::Debug for S3Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Storage")
            .field("kind", &self.inner.kind)
            .field("bucket", &self.inner.settings.bucket())
            .field("location", &self.inner.settings.location)
            .finish_non_exhaustive()
    }
}

/// Builds an [`S3Storage`]: settings (options over global settings over defaults), the
/// parameters hook, and a credentials provider.
pub struct S3StorageBuilder {
    settings: SettingsBuilder,
    hook: Option<ObjectParametersHook>,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    kind: StorageKind,
}

impl fmt::Debug for S3StorageBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3StorageBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl S3StorageBuilder {
    /// An option by name (`"bucket_name"`); unknown names fail at `build()`.
    pub fn option(mut self, name: &str, value: impl Into<String>) -> Self {
        self.settings = self.settings.option(name, value);
        self
    }

    /// Many options by name.
    pub fn options<K: AsRef<str>, V: Into<String>>(mut self, options: impl IntoIterator<Item = (K, V)>) -> Self {
        self.settings = self.settings.options(options);
        self
    }

    /// Where global settings come from (default: the environment).
    pub fn global_source(mut self, source: impl GlobalSource + 'static) -> Self {
        self.settings = self.settings.global_source(source);
        self
    }

    /// No global settings: options over defaults only.
    pub fn no_globals(mut self) -> Self {
        self.settings = self.settings.no_globals();
        self
    }

    /// The storage kind (media by default; static storages differ in defaults).
    pub(crate) fn kind(mut self, kind: StorageKind) -> Self {
        self.kind = kind;
        self.settings = self.settings.kind(kind);
        self
    }

    /// The original's `get_object_parameters(name)` hook: computes the parameters of each
    /// object from its key (instead of `object_parameters` as they are).
    pub fn object_parameters_hook(mut self, hook: impl Fn(&str) -> ObjectParameters + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Credentials from this provider rather than from the settings.
    pub fn credentials(mut self, provider: Arc<dyn ProvideCredentials>) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Resolves and validates the settings and makes the storage. No request is sent.
    pub fn build(self) -> Result<S3Storage> {
        let settings = self.settings.build()?;
        let client = match self.credentials {
            Some(provider) => Client::with_options(ClientOptions::from_settings(&settings), provider)?,
            None => Client::new(&settings)?,
        };
        Ok(S3Storage {
            inner: Arc::new(Inner {
                settings,
                kind: self.kind,
                client,
                hook: self.hook,
            }),
        })
    }
}

/// Django's `S3StaticStorage`: an [`S3Storage`] whose `querystring_auth` defaults to off,
/// so that `url()` gives stable, unsigned URLs for static files. As in the original, the
/// global `AWS_QUERYSTRING_AUTH` does not turn it back on; only an explicit option does.
///
/// ```no_run
/// use storages_s3::{S3StaticStorage, S3Storage};
/// # async fn demo() -> storages_s3::Result<()> {
/// let statics = S3StaticStorage::from_builder(S3Storage::builder().option("location", "static"))?;
/// assert!(!statics.settings().querystring_auth());
/// let css = statics.url("css/app.css").await?; // https://<bucket>.s3.amazonaws.com/static/css/app.css
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct S3StaticStorage(S3Storage);

impl S3StaticStorage {
    /// A static storage configured by the environment.
    pub fn from_env() -> Result<S3StaticStorage> {
        Self::from_builder(S3Storage::builder())
    }

    /// A static storage from a builder's options.
    pub fn from_builder(builder: S3StorageBuilder) -> Result<S3StaticStorage> {
        builder.kind(StorageKind::Static).build().map(S3StaticStorage)
    }

    /// The storage underneath, for everything else it does (`save`, `open`, `client`, ...;
    /// the [`Storage`](crate::Storage) trait gives the Django methods directly).
    pub fn storage(&self) -> &S3Storage {
        &self.0
    }

    /// The storage underneath.
    pub fn into_inner(self) -> S3Storage {
        self.0
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        self.0.settings()
    }

    /// The URL of `name`: unsigned unless `querystring_auth` was set.
    pub async fn url(&self, name: &str) -> Result<String> {
        self.0.url(name).await
    }

    /// The URL of `name` with options (lifetime, parameters, method, signing time).
    pub async fn url_with(&self, name: &str, options: &UrlOptions) -> Result<String> {
        self.0.url_with(name, options).await
    }
}

/// `dirs/file` names relative to `prefix` (`ld/sub/` under `ld/` is `sub`).
fn relative<'a>(full: &'a str, prefix: &str) -> &'a str {
    full.strip_prefix(prefix).unwrap_or(full)
}

impl S3Storage {
    /// A builder reading global settings from the environment.
    pub fn builder() -> S3StorageBuilder {
        S3StorageBuilder {
            settings: Settings::builder(),
            hook: None,
            credentials: None,
            kind: StorageKind::Media,
        }
    }

    /// A storage configured by the environment alone (`AWS_STORAGE_BUCKET_NAME`, ...).
    pub fn from_env() -> Result<S3Storage> {
        Self::builder().build()
    }

    /// A storage with these settings.
    pub fn new(settings: Settings) -> Result<S3Storage> {
        let client = Client::new(&settings)?;
        Ok(S3Storage {
            inner: Arc::new(Inner {
                settings,
                kind: StorageKind::Media,
                client,
                hook: None,
            }),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The S3 client underneath.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The object key of a name: cleaned, joined to `location`, and checked. A name that
    /// escapes the location, or contains a NUL byte, is [`ErrorKind::InvalidName`]; a key
    /// longer than S3 allows is [`ErrorKind::InvalidKey`]. No request is sent.
    pub fn key(&self, name: &str) -> Result<String> {
        if name.contains('\0') {
            return Err(Error::new(
                ErrorKind::InvalidName,
                format!("{name:?} contains a NUL byte"),
            ));
        }
        let key = names::key_for(&self.inner.settings.location, name)?;
        if key.len() > crate::s3::addressing::MAX_KEY_LEN {
            check_key(&key)?;
        }
        Ok(key)
    }

    /// The key of a name that must designate an object (not the location itself).
    fn object_key(&self, name: &str) -> Result<String> {
        let key = self.key(name)?;
        check_key(&key).map_err(|_| Error::new(ErrorKind::InvalidName, format!("{name:?} names no object")))?;
        Ok(key)
    }

    /// The name of a key relative to the location (what `save` returns and files carry).
    fn relative_name(&self, key: &str) -> String {
        let location = self.inner.settings.location.trim_end_matches('/');
        let rest = if location.is_empty() {
            key
        } else {
            key.strip_prefix(location).unwrap_or(key)
        };
        rest.trim_start_matches('/').to_owned()
    }

    /// The parameters of one object: the hook's, else `object_parameters`.
    pub fn object_parameters(&self, key: &str) -> ObjectParameters {
        match &self.inner.hook {
            Some(hook) => hook(key),
            None => self.inner.settings.object_parameters.clone(),
        }
    }

    /// The parameters sent on reads (HEAD/GET): the download-safe subset (SSE-C, version,
    /// checksum mode, requester pays, expected owner).
    fn read_parameters(&self, key: &str) -> ObjectParameters {
        self.object_parameters(key).read_parameters()
    }

    /// Upload parameters of `key` (SPEC §4.0): the object's parameters, a content type
    /// (declared, else guessed from the key) unless they give one, and `default_acl`
    /// unless they give an ACL.
    pub fn write_parameters(&self, key: &str, declared_type: Option<&str>) -> ObjectParameters {
        let mut p = self.object_parameters(key);
        if !p.contains("ContentType") {
            let ct = declared_type
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| content_type::guess(key));
            p.set("ContentType", ct).expect("known parameter");
            if let Some(encoding) = content_type::implied_encoding(key) {
                p.set("ContentEncoding", encoding).expect("known parameter");
            }
        }
        if !p.contains("ACL")
            && let Some(acl) = self.inner.settings.default_acl.as_deref().filter(|a| !a.is_empty())
        {
            p.set("ACL", acl).expect("known parameter");
        }
        p
    }

    /// Whether uploads with these parameters are gzipped (`gzip` on, the type listed in
    /// `gzip_content_types`, and no `ContentEncoding` already).
    fn gzips(&self, params: &ObjectParameters) -> bool {
        let s = &self.inner.settings;
        s.gzip
            && !params.contains("ContentEncoding")
            && params
                .get("ContentType")
                .is_some_and(|t| s.gzip_content_types.iter().any(|g| g == t))
    }

    fn spill(&self) -> Spill {
        Spill {
            max_memory_size: self.inner.settings.max_memory_size,
            temp_dir: self.inner.settings.file_upload_temp_dir.clone(),
        }
    }

    /// Saves content under `name` (or the content's own name when `name` is empty) and
    /// returns the name actually used, relative to the location (Django's `Storage.save`).
    ///
    /// With `file_overwrite = false` a free name is found first (random suffix), and the
    /// upload is conditional (`If-None-Match: *`) where the service supports it: if another
    /// writer takes the name meanwhile, another name is found and the content sent again
    /// (content that cannot be read twice, a reader or a stream, fails with
    /// [`ErrorKind::PreconditionFailed`] instead). Without conditional writes
    /// (`conditional_writes = false`), the name is checked just before the upload, as the
    /// original does, and a concurrent writer can still win the race.
    pub async fn save(&self, name: &str, content: impl Into<Content>, max_length: Option<usize>) -> Result<String> {
        let mut content = content.into();
        let name = crate::storage::name_to_save(name, &content)?;
        let mut name = self.get_available_name(&name, max_length).await?;
        names::validate_file_name(&name, true)?;
        let overwrite = self.inner.settings.file_overwrite;
        let conditional = !overwrite && self.inner.settings.conditional_writes();
        for _ in 0..NAME_ATTEMPTS {
            match self.save_as(&name, &mut content, conditional).await {
                Err(e) if conditional && e.is_precondition_failed() => {
                    if !content.is_replayable() {
                        return Err(e.with_note(
                            "the name was taken by another writer during the upload, and the content \
                             (a reader or stream) cannot be sent again",
                        ));
                    }
                    name = self.get_available_name(&name, max_length).await?;
                }
                other => return other,
            }
        }
        Err(Error::new(
            ErrorKind::PreconditionFailed,
            format!("no free name found for {name:?} after {NAME_ATTEMPTS} attempts"),
        ))
    }

    /// Stores content under exactly `name`, overwriting what is there (Django's `_save`,
    /// as `collectstatic` and the manifest use it: no free-name search); returns the
    /// cleaned name.
    pub async fn store(&self, name: &str, content: impl Into<Content>) -> Result<String> {
        names::validate_file_name(name, true)?;
        self.save_as(name, &mut content.into(), false).await
    }

    /// The ETag S3 gives an object this storage stores from `bytes` under `name`: the MD5
    /// of what is sent (gzipped when the storage gzips that type), or for a multipart
    /// upload the MD5 of the parts' MD5s with the part count. Tools compare it with the
    /// stored ETag to skip unchanged files. Objects encrypted with SSE-KMS or SSE-C have
    /// other ETags: they never match, so they are always sent again.
    pub fn expected_etag(&self, name: &str, bytes: &[u8]) -> Result<String> {
        use md5::Digest as _;
        let key = self.object_key(&names::clean_name(name))?;
        let params = self.write_parameters(&key, None);
        let zipped;
        let sent: &[u8] = if self.gzips(&params) {
            zipped = gzip::compress(bytes);
            &zipped
        } else {
            bytes
        };
        let transfer = self.inner.client.options().transfer;
        if (sent.len() as u64) < transfer.multipart_threshold || sent.is_empty() {
            return Ok(format!("\"{}\"", hex::encode(md5::Md5::digest(sent))));
        }
        let part = crate::s3::multipart::part_size_for(Some(sent.len() as u64), transfer.multipart_chunksize) as usize;
        let mut digests = Vec::new();
        for chunk in sent.chunks(part) {
            digests.extend_from_slice(&md5::Md5::digest(chunk));
        }
        Ok(format!(
            "\"{}-{}\"",
            hex::encode(md5::Md5::digest(&digests)),
            sent.len().div_ceil(part)
        ))
    }

    /// Django's `_save`: uploads `content` to the key of `name` and returns the cleaned name.
    async fn save_as(&self, name: &str, content: &mut Content, if_none_match: bool) -> Result<String> {
        let cleaned = names::clean_name(name);
        let key = self.object_key(&cleaned)?;
        let params = self.write_parameters(&key, content.content_type());
        let zip = self.gzips(&params);
        let mut params = params;
        if zip {
            params.set("ContentEncoding", "gzip").expect("known parameter");
        }
        // Opened first: a file's size is known once it is open (see `Content::from_path`).
        let mut reader = content.open().await?;
        let options = UploadOptions {
            params,
            if_none_match,
            size_hint: if zip { None } else { content.len() },
            ..Default::default()
        };
        let mut upload = Upload::new(&self.inner.client, &key, options)?;
        let sent = async {
            let mut compressor = zip.then(gzip::Compressor::new);
            while let Some(chunk) = reader.next().await? {
                match &mut compressor {
                    Some(c) => upload.write(&c.push(&chunk)).await?,
                    None => upload.write(&chunk).await?,
                }
            }
            if let Some(c) = compressor {
                upload.write(&c.finish()).await?;
            }
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = sent {
            let _ = upload.abort().await;
            return Err(e
                .with_operation("save")
                .with_object(self.inner.client.bucket(), Some(&key)));
        }
        upload.finish().await?;
        Ok(cleaned)
    }

    /// Opens `name` for reading (`"r"`, `"rb"`) or writing (`"w"`, `"wb"`). Reading
    /// checks that the object exists (HEAD) and streams it; writing stores nothing until
    /// [`S3File::close`], and always overwrites (Django's `open` does not apply
    /// `file_overwrite`).
    pub async fn open(&self, name: &str, mode: &str) -> Result<S3File> {
        let mode = OpenMode::parse(mode)?;
        let key = self.object_key(name)?;
        let relative = self.relative_name(&key);
        match mode {
            OpenMode::Read => {
                let params = self.read_parameters(&key);
                let head = self.head(&key, &params).await?;
                Ok(S3File::reader(
                    self.inner.client.clone(),
                    relative,
                    key,
                    head,
                    params,
                    self.spill(),
                ))
            }
            OpenMode::Write => {
                let buffer = self.inner.settings.file_buffer_size;
                let options = UploadOptions {
                    params: self.write_parameters(&key, None),
                    part_size: Some(buffer),
                    threshold: Some(buffer),
                    ..Default::default()
                };
                let upload = Upload::new(&self.inner.client, &key, options)?;
                Ok(S3File::writer(relative, key, upload))
            }
        }
    }

    /// HEAD, with the original's "File does not exist" for a missing key and advice for a
    /// 403 (S3 answers 403 rather than 404 to credentials without `s3:ListBucket`).
    async fn head(&self, key: &str, params: &ObjectParameters) -> Result<crate::s3::ObjectHead> {
        self.inner
            .client
            .head_object(key, params)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => {
                    Error::new(ErrorKind::NotFound, format!("File does not exist: {key}")).with_operation("HeadObject")
                }
                ErrorKind::AccessDenied => e.with_note(
                    "S3 answers 403 for a missing key when the credentials lack s3:ListBucket; \
                 the object may not exist",
                ),
                _ => e,
            })
    }

    /// Deletes `name`; deleting a missing name succeeds.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let key = self.object_key(name)?;
        self.inner.client.delete_object(&key).await
    }

    /// Whether an object is stored under `name`. "Directories" are not objects: with keys
    /// `gz/a` only, `exists("gz")` and `exists("gz/")` are false. A 403 is an error, never
    /// "does not exist". The empty name names no object: false, with no request.
    pub async fn exists(&self, name: &str) -> Result<bool> {
        let key = self.key(name)?;
        if key.is_empty() {
            return Ok(false);
        }
        match self.head(&key, &self.read_parameters(&key)).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The directories and files directly under `path`, relative to it, across all pages;
    /// a missing path lists as empty.
    pub async fn listdir(&self, path: &str) -> Result<(Vec<String>, Vec<String>)> {
        let mut prefix = self.key(path)?;
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        let input = ListObjectsInput {
            prefix: (!prefix.is_empty()).then(|| prefix.clone()),
            delimiter: Some("/".into()),
            ..Default::default()
        };
        let (objects, prefixes) = self.inner.client.list_objects(input).collect_all().await?;
        let dirs = prefixes
            .iter()
            .map(|p| relative(p, &prefix).trim_end_matches('/').to_owned())
            .filter(|d| !d.is_empty())
            .collect();
        let files = objects
            .iter()
            .filter(|o| o.key != prefix)
            .map(|o| relative(&o.key, &prefix).to_owned())
            .collect();
        Ok((dirs, files))
    }

    /// The stored size of `name` in bytes.
    pub async fn size(&self, name: &str) -> Result<u64> {
        let key = self.object_key(name)?;
        self.head(&key, &self.read_parameters(&key))
            .await?
            .content_length
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    "the server did not state the object's size (its reply has no Content-Length)",
                )
                .with_operation("HeadObject")
                .with_object(self.inner.client.bucket(), Some(&key))
            })
    }

    /// When `name` was last modified (`Last-Modified`, UTC).
    pub async fn modified_time(&self, name: &str) -> Result<SystemTime> {
        let key = self.object_key(name)?;
        self.head(&key, &self.read_parameters(&key))
            .await?
            .last_modified
            .ok_or_else(|| Error::new(ErrorKind::InvalidResponse, "the reply has no Last-Modified"))
    }

    /// Not kept by S3: [`ErrorKind::Unsupported`], as the original's `NotImplementedError`.
    pub async fn accessed_time(&self, _name: &str) -> Result<SystemTime> {
        Err(Error::new(ErrorKind::Unsupported, "S3 does not record access times"))
    }

    /// Not kept by S3: [`ErrorKind::Unsupported`], as the original's `NotImplementedError`.
    pub async fn created_time(&self, _name: &str) -> Result<SystemTime> {
        Err(Error::new(ErrorKind::Unsupported, "S3 does not record creation times"))
    }

    /// The URL of `name` (SPEC §4.8), first match wins:
    ///
    /// 1. `public_domain`: presigned against `<url_protocol>//<public_domain>` in path style
    ///    when `querystring_auth`, else `<url_protocol>//<public_domain>/<bucket>/<key>`: for an
    ///    internal `endpoint_url` with a public name in front of it;
    /// 2. `custom_domain`: `<url_protocol>//<custom_domain>/<key>`, never signed, as in the
    ///    original (a private bucket behind a CDN needs the CDN's own signing, or
    ///    `public_domain` for presigned links on another host);
    /// 3. otherwise presigned (SigV4, or SigV2 with `signature_version = "s3"`) when
    ///    `querystring_auth`, else the plain URL of the object.
    ///
    /// No request is sent (static credentials; others may need one lookup).
    pub async fn url(&self, name: &str) -> Result<String> {
        self.url_with(name, &UrlOptions::default()).await
    }

    /// The URL of `name` with options: lifetime, extra parameters, method, signing time.
    pub async fn url_with(&self, name: &str, options: &UrlOptions) -> Result<String> {
        let s = &self.inner.settings;
        let key = self.key(name)?;
        let expire = options
            .expire
            .unwrap_or(std::time::Duration::from_secs(s.querystring_expire));
        let method = options.http_method.clone().unwrap_or(Method::GET);
        let mapped = || -> Result<Vec<(&'static str, &str)>> {
            options
                .parameters
                .iter()
                .map(|(k, v)| {
                    query_name(k).map(|q| (q, v.as_str())).ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidSetting,
                            format!("unknown URL parameter {k:?} for GetObject"),
                        )
                    })
                })
                .collect()
        };
        if let Some(public) = s.public_domain.as_deref() {
            if !s.querystring_auth {
                return Ok(plain_url(
                    &s.url_protocol,
                    public,
                    Some(s.bucket()),
                    &key,
                    &options.parameters,
                ));
            }
            let endpoint: Endpoint = format!("{}//{public}", s.url_protocol)
                .parse()
                .map_err(|why| Error::invalid_setting("public_domain", format!("is not a usable host: {why}")))?;
            // Path style unless virtual style is asked for: then the bucket is a label
            // of the public domain (`my-bucket.files.example.com`), as in the original.
            let addressing = Addressing::custom(endpoint, self.inner.client.options().addressing_style);
            let query = mapped()?;
            let presign = Presign {
                method,
                expires: expire,
                query: &query,
                at: options.at,
                addressing: Some(&addressing),
            };
            return self.inner.client.presign_with(&presign, &key).await;
        }
        if let Some(domain) = s.custom_domain.as_deref() {
            return Ok(plain_url(&s.url_protocol, domain, None, &key, &options.parameters));
        }
        let query = mapped()?;
        if s.querystring_auth {
            let presign = Presign {
                method,
                expires: expire,
                query: &query,
                at: options.at,
                addressing: None,
            };
            return self.inner.client.presign_with(&presign, &key).await;
        }
        check_key(&key)?;
        let target = self.inner.client.target(Some(&key));
        let unsigned: Vec<(&str, Option<&str>)> = query.iter().map(|(k, v)| (*k, Some(*v))).collect();
        Ok(target.url(&crate::s3::addressing::encode_query(&unsigned)))
    }

    /// A signed browser-upload form ([`crate::s3::PostPolicy`]) for `name_or_prefix`, under
    /// the storage's location:
    ///
    /// - a name (`"docs/report.pdf"`) allows exactly its key (`<location>/docs/report.pdf`),
    ///   and the form's `Content-Type` is the one `save` would send (guessed from the name);
    /// - a name ending in `${filename}` (`"avatars/${filename}"`) allows any key under the
    ///   prefix (`starts-with <location>/avatars/`), and S3 puts the file under the name the
    ///   user's browser gives it; there is no `Content-Type` unless the object parameters give
    ///   one (add [`content_type_starts_with`](crate::s3::PostPolicy::content_type_starts_with)
    ///   and an input of the page's own to let the browser declare it).
    ///
    /// The key condition of `policy` is replaced; its other conditions stand, and the
    /// storage's upload parameters fill the fields it leaves free: `default_acl` (`acl`),
    /// `CacheControl`, `ContentDisposition`, `Metadata`, ... (see
    /// [`with_parameters`](crate::s3::PostPolicy::with_parameters); SSE-C is refused). Without
    /// an expiration, the form lives `querystring_expire` seconds. Names are checked as
    /// everywhere, and an exact name as `save` checks it (it must name a file): one escaping
    /// the location, or naming no file, is [`ErrorKind::InvalidName`], with no request.
    ///
    /// ```no_run
    /// # async fn handler(storage: storages_s3::S3Storage) -> storages_s3::Result<()> {
    /// use storages_s3::s3::PostPolicy;
    ///
    /// let policy = PostPolicy::new().content_length_range(1, 5 << 20).content_type_starts_with("image/");
    /// let post = storage.presigned_post("avatars/${filename}", &policy).await?;
    /// // <form action="{post.url}" method="post" enctype="multipart/form-data">, a hidden
    /// // input per post.fields, <input name="Content-Type">, then <input type="file" name="file">.
    /// # Ok(()) }
    /// ```
    pub async fn presigned_post(
        &self,
        name_or_prefix: &str,
        policy: &crate::s3::PostPolicy,
    ) -> Result<crate::s3::PresignedPost> {
        let (policy, params) = match name_or_prefix.strip_suffix(crate::s3::post::FILENAME_VARIABLE) {
            Some(prefix) => {
                let key = self.key(prefix)?;
                let mut params = self.object_parameters(&key);
                if !params.contains("ACL")
                    && let Some(acl) = self.inner.settings.default_acl.as_deref().filter(|a| !a.is_empty())
                {
                    params.set("ACL", acl).expect("known parameter");
                }
                (policy.clone().key_starts_with(key), params)
            }
            None => {
                names::validate_file_name(name_or_prefix, true)?;
                let key = self.object_key(name_or_prefix)?;
                let params = self.write_parameters(&key, None);
                (policy.clone().key(key), params)
            }
        };
        let mut policy = policy.with_parameters(&params)?;
        if policy.expiration().is_none() {
            policy = policy.expires_in(std::time::Duration::from_secs(self.inner.settings.querystring_expire));
        }
        self.inner.client.presigned_post(&policy).await
    }

    /// Django's `get_valid_name`.
    pub fn get_valid_name(&self, name: &str) -> Result<String> {
        names::get_valid_name(name)
    }

    /// Django's `generate_filename`.
    pub fn generate_filename(&self, filename: &str) -> Result<String> {
        names::generate_filename(filename)
    }

    /// A name `save` may use: the cleaned name itself with `file_overwrite = true` (checked
    /// for traversal and fitted to `max_length`), else a name no object has yet.
    pub async fn get_available_name(&self, name: &str, max_length: Option<usize>) -> Result<String> {
        if self.inner.settings.file_overwrite {
            return names::get_available_overwrite_name(name, max_length);
        }
        names::get_available_name(
            name,
            max_length,
            |candidate| async move { self.exists(&candidate).await },
        )
        .await
    }
}
