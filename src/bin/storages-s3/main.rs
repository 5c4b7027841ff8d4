//! `storages-s3`: collectstatic, ls, cp, rm, url and uploads on the bucket that the usual settings
//! name (`AWS_STORAGE_BUCKET_NAME`, credentials, `AWS_S3_ENDPOINT_URL`, ...), overridable
//! by flags.
//!
//! Exit codes: 0 success, 1 the operation failed, 2 bad usage, 3 bad or missing settings,
//! 4 not found, 130 interrupted (nothing partial is left: uploads in progress are aborted).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand};
use storages_s3::collect::{self, CollectOptions, Event, Source};
use storages_s3::manifest::ManifestOptions;
use storages_s3::s3::{Client, DownloadOptions};
use storages_s3::{Content, S3ManifestStaticStorage, S3StaticStorage, S3Storage, UrlOptions};
use storages_s3::{Error, ErrorKind};
use tokio::io::AsyncWriteExt;

/// Django's S3 storage from the command line.
#[derive(Parser, Debug)]
#[command(name = "storages-s3", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    settings: SettingFlags,
    #[command(subcommand)]
    command: Command,
}

/// Settings; each flag overrides the environment variable of the same setting.
#[derive(Args, Debug)]
struct SettingFlags {
    /// The bucket (AWS_STORAGE_BUCKET_NAME).
    #[arg(long, global = true)]
    bucket: Option<String>,
    /// Key prefix of every name (AWS_LOCATION).
    #[arg(long, global = true)]
    location: Option<String>,
    /// S3-compatible endpoint, such as http://127.0.0.1:9000 (AWS_S3_ENDPOINT_URL).
    #[arg(long, global = true)]
    endpoint_url: Option<String>,
    /// Region (AWS_S3_REGION_NAME).
    #[arg(long, global = true)]
    region: Option<String>,
    /// Named profile of the shared AWS files (AWS_S3_SESSION_PROFILE).
    #[arg(long, global = true)]
    profile: Option<String>,
    /// Any other option of the storage, as name=value (repeatable): -o gzip=true.
    #[arg(short = 'o', long = "option", value_name = "NAME=VALUE", global = true)]
    options: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Upload folders of static files (Django's collectstatic), skipping files already up
    /// to date.
    Collectstatic {
        /// Folders to upload, as DIR or PREFIX=DIR (Django's STATICFILES_DIRS); a name found
        /// in two folders is taken from the first.
        #[arg(required = true, value_name = "[PREFIX=]DIR")]
        sources: Vec<Source>,
        /// Leave out files and folders matching this shell pattern (repeatable).
        #[arg(short = 'i', long = "ignore", value_name = "PATTERN")]
        ignore: Vec<String>,
        /// Don't leave out CVS, .* and *~ (Django's default patterns).
        #[arg(long)]
        no_default_ignore: bool,
        /// Say what would be uploaded; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Delete every object under the location first.
        #[arg(long)]
        clear: bool,
        /// Files uploaded at once.
        #[arg(long, default_value_t = 10)]
        jobs: usize,
        /// No progress bar, even on a terminal.
        #[arg(long)]
        no_progress: bool,
        /// Also store hashed copies and staticfiles.json (Django's ManifestStaticFilesStorage).
        #[arg(long)]
        manifest: bool,
        /// With --manifest: upload the files only, no hashed copies and no manifest.
        #[arg(long)]
        no_post_process: bool,
        /// With --manifest: rewrite JavaScript module imports and exports too (Django's
        /// support_js_module_import_aggregation).
        #[arg(long)]
        js_modules: bool,
        /// 0: errors only; 1: the summary; 2: every file; 3: as 2, with sizes and times.
        #[arg(short = 'v', long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=3))]
        verbosity: u8,
        /// Accepted as Django's is; this command never asks.
        #[arg(long = "noinput", visible_alias = "no-input")]
        noinput: bool,
    },
    /// List names under a prefix (directories end with `/`).
    Ls {
        /// A folder of the storage; its root when omitted.
        #[arg(default_value = "")]
        prefix: String,
        /// Every name below, not only the folder's own.
        #[arg(short, long)]
        recursive: bool,
    },
    /// Copy a local file to the storage or back; storage names are written `s3:NAME`.
    Cp {
        /// Source: a local path or s3:NAME.
        source: String,
        /// Destination: s3:NAME or a local path.
        destination: String,
    },
    /// Delete names from the storage (missing names are not an error).
    Rm {
        /// Names to delete.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// List unfinished multipart uploads (they hold storage until completed or aborted),
    /// and abort them with --abort, as a lifecycle rule would.
    Uploads {
        /// Only the uploads of keys starting with this prefix (keys, not storage names:
        /// the location is not added).
        #[arg(default_value = "")]
        prefix: String,
        /// Only uploads started longer ago than this: 90s, 30m, 12h, 7d.
        #[arg(long, value_name = "DURATION", value_parser = parse_age)]
        older_than: Option<Duration>,
        /// Abort them.
        #[arg(long)]
        abort: bool,
    },
    /// Print the URL of a name (presigned unless the settings say otherwise).
    Url {
        /// The name.
        name: String,
        /// Lifetime in seconds (default: AWS_QUERYSTRING_EXPIRE, 3600).
        #[arg(long)]
        expire: Option<u64>,
        /// The method the URL allows.
        #[arg(long, default_value = "GET")]
        method: String,
        /// Signing time as Unix seconds, for reproducible links.
        #[arg(long)]
        at: Option<u64>,
    },
}

/// An error worth one line and an exit code.
struct Failure {
    code: u8,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let (code, hint) = match e.kind() {
            ErrorKind::InvalidSetting | ErrorKind::InvalidBucketName => (
                3,
                "check the settings (environment variables, --bucket and -o NAME=VALUE)",
            ),
            ErrorKind::NoCredentials => (
                3,
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile with --profile",
            ),
            ErrorKind::AccessDenied => (1, "check the credentials and the bucket's permissions"),
            ErrorKind::NotFound => (4, "check the name or the path"),
            ErrorKind::InvalidName | ErrorKind::InvalidKey => (1, "names are relative and stay inside the location"),
            ErrorKind::InvalidArgument => (2, "check the command's arguments"),
            ErrorKind::Timeout | ErrorKind::Transport => (1, "check the endpoint and the network"),
            _ => (1, ""),
        };
        let message = if hint.is_empty() {
            e.to_string()
        } else {
            format!("{e} ({hint})")
        };
        Failure { code, message }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: message.into(),
    }
}

/// The clients of the storages this run made, so that an interrupted run can wait for the
/// aborts of the uploads it cut short.
static CLIENTS: Mutex<Vec<Client>> = Mutex::new(Vec::new());

/// How long an interrupted run waits for its aborts before it leaves anyway.
const ABORT_WAIT: Duration = Duration::from_secs(30);

fn remember(storage: &S3Storage) {
    CLIENTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(storage.client().clone());
}

/// The media storage (`static_files`: the static one, whose URLs are plain by default).
fn storage(flags: &SettingFlags, static_files: bool) -> Result<S3Storage, Failure> {
    let storage = if static_files {
        S3StaticStorage::from_builder(builder(flags)?)?.into_inner()
    } else {
        builder(flags)?.build()?
    };
    remember(&storage);
    Ok(storage)
}

fn builder(flags: &SettingFlags) -> Result<storages_s3::S3StorageBuilder, Failure> {
    let mut b = S3Storage::builder();
    for (name, value) in [
        ("bucket_name", &flags.bucket),
        ("location", &flags.location),
        ("endpoint_url", &flags.endpoint_url),
        ("region_name", &flags.region),
        ("session_profile", &flags.profile),
    ] {
        if let Some(v) = value {
            b = b.option(name, v.clone());
        }
    }
    for o in &flags.options {
        let (name, value) = o
            .split_once('=')
            .ok_or_else(|| usage(format!("-o {o}: expected NAME=VALUE")))?;
        b = b.option(name.trim(), value);
    }
    Ok(b)
}

/// `90s`, `30m`, `12h`, `7d` (or plain seconds).
fn parse_age(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (number, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => raw.split_at(i),
        None => (raw, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{raw:?}: expected a number and a unit (s, m, h or d)"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{raw:?}: the unit is one of s, m, h, d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(unit)))
}

/// Lists (and with `abort`, aborts) unfinished multipart uploads under `prefix`.
async fn uploads(flags: &SettingFlags, prefix: &str, older_than: Option<Duration>, abort: bool) -> Result<(), Failure> {
    let storage = storage(flags, false)?;
    let client = storage.client();
    let cutoff = older_than.map(|age| SystemTime::now().checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH));
    let mut pages = client.list_multipart_uploads((!prefix.is_empty()).then_some(prefix));
    let (mut listed, mut aborted, mut failed) = (0usize, 0usize, 0usize);
    while let Some(page) = pages.next_page().await {
        for upload in page?.uploads {
            // Without a start time an upload's age is unknown: only an age-less listing
            // takes it.
            if let Some(cutoff) = cutoff
                && upload.initiated.is_none_or(|t| t > cutoff)
            {
                continue;
            }
            listed += 1;
            let started = upload
                .initiated
                .map_or_else(|| "unknown".to_owned(), httpdate::fmt_http_date);
            if !abort {
                println!("{}\t{}\t{started}", upload.key, upload.upload_id);
                continue;
            }
            match client.abort_multipart_upload(&upload.key, &upload.upload_id).await {
                Ok(()) => {
                    aborted += 1;
                    println!("aborted {}\t{}\t{started}", upload.key, upload.upload_id);
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e}");
                }
            }
        }
    }
    if abort {
        eprintln!("{aborted} of {listed} upload(s) aborted");
    } else {
        eprintln!("{listed} unfinished upload(s)");
    }
    if failed > 0 {
        return Err(Failure {
            code: 1,
            message: format!("{failed} upload(s) could not be aborted"),
        });
    }
    Ok(())
}

/// `s3:NAME` to `Some(NAME)`, local paths to `None`.
fn storage_name(arg: &str) -> Option<&str> {
    arg.strip_prefix("s3:")
}

/// What `collectstatic` was asked to do, beyond the collection's own options.
struct CollectstaticRun {
    sources: Vec<Source>,
    options: CollectOptions,
    show_progress: bool,
    manifest: Option<ManifestOptions>,
    post_process: bool,
    verbosity: u8,
}

/// Django's summary: `3 static files copied, 9 unmodified, 4 post-processed.`
fn summary(copied: usize, unmodified: usize, post_processed: usize) -> String {
    let mut line = format!("{copied} static file{} copied", if copied == 1 { "" } else { "s" });
    if unmodified > 0 {
        line.push_str(&format!(", {unmodified} unmodified"));
    }
    if post_processed > 0 {
        line.push_str(&format!(", {post_processed} post-processed"));
    }
    line.push('.');
    line
}

async fn collectstatic(flags: &SettingFlags, run: CollectstaticRun) -> Result<(), Failure> {
    let manifest = match run.manifest {
        Some(options) => Some(S3ManifestStaticStorage::with_options(builder(flags)?, options).await?),
        None => None,
    };
    let storage = match &manifest {
        Some(m) => {
            remember(m.storage());
            m.storage().clone()
        }
        None => storage(flags, true)?,
    };
    let verbosity = run.verbosity;
    let bar = (run.show_progress && verbosity == 1).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {msg}").expect("valid template"),
        );
        bar
    });
    let shown = bar.clone();
    let dry_run = run.options.dry_run;
    // Django's messages, at Django's verbosity levels.
    let progress = Arc::new(move |e: &Event| {
        if let Some(bar) = &shown {
            match e {
                Event::Found(n) => bar.set_length(*n as u64),
                Event::Uploaded { name, .. } | Event::Skipped { name } => {
                    bar.inc(1);
                    bar.set_message(name.clone());
                }
                _ => {}
            }
        }
        let (level, line) = match e {
            Event::Duplicate { name, .. } => (
                1,
                format!(
                    "Found another file with the destination path '{name}'. It will be ignored since only \
                     the first encountered file is collected. If this is not what you want, make sure every \
                     static file has a unique path."
                ),
            ),
            Event::Deleted { key } if dry_run => (1, format!("Pretending to delete '{key}'")),
            Event::Deleted { key } => (1, format!("Deleting '{key}'")),
            Event::Uploaded { source, .. } if dry_run => (1, format!("Pretending to copy '{}'", source.display())),
            Event::Uploaded { source, .. } => (2, format!("Copying '{}'", source.display())),
            Event::Skipped { name } => (2, format!("Skipping '{name}' (not modified)")),
            _ => return,
        };
        if verbosity >= level {
            match &shown {
                Some(bar) => bar.println(line),
                None => println!("{line}"),
            }
        }
    });
    let report = collect::collect(&storage, &run.sources, &run.options, progress).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let post_processed = match &manifest {
        Some(m) if run.post_process && !dry_run => {
            Some(m.post_process_sources(&run.sources, &run.options.ignore).await?)
        }
        _ => None,
    };
    if let Some(pp) = &post_processed
        && verbosity >= 2
    {
        for (original, hashed) in &pp.hashed_names {
            println!("Post-processed '{original}' as '{hashed}'");
        }
    }
    if verbosity >= 1 {
        let processed = post_processed.as_ref().map_or(0, |pp| pp.post_processed);
        println!("\n{}", summary(report.uploaded, report.skipped, processed));
    }
    if verbosity >= 2 {
        let mut details = format!(
            "{} bytes uploaded, {} deleted, {} duplicates left out",
            report.bytes, report.deleted, report.duplicates
        );
        if let Some(pp) = &post_processed {
            details.push_str(&format!(
                "; {} hashed copies uploaded, manifest {}",
                pp.uploaded,
                if pp.manifest_written { "written" } else { "unchanged" }
            ));
        }
        if verbosity >= 3 {
            details.push_str(&format!("; {:.2} seconds", report.elapsed.as_secs_f64()));
        }
        println!("{details}");
    }
    Ok(())
}

async fn ls(flags: &SettingFlags, prefix: &str, recursive: bool) -> Result<(), Failure> {
    let storage = storage(flags, false)?;
    if !recursive {
        let (dirs, files) = storage.listdir(prefix).await?;
        for d in dirs {
            println!("{d}/");
        }
        for f in files {
            println!("{f}");
        }
        return Ok(());
    }
    let mut key = storage.key(prefix)?;
    if !key.is_empty() && !key.ends_with('/') {
        key.push('/');
    }
    let input = storages_s3::s3::ListObjectsInput {
        prefix: (!key.is_empty()).then(|| key.clone()),
        ..Default::default()
    };
    let mut pages = storage.client().list_objects(input);
    while let Some(page) = pages.next_page().await {
        for o in page?.objects {
            println!("{:>12}  {}", o.size, o.key.strip_prefix(&key).unwrap_or(&o.key));
        }
    }
    Ok(())
}

async fn cp(flags: &SettingFlags, source: &str, destination: &str) -> Result<(), Failure> {
    let storage = storage(flags, false)?;
    match (storage_name(source), storage_name(destination)) {
        (None, Some(name)) => {
            let path = Path::new(source);
            if !path.is_file() {
                return Err(Failure {
                    code: 4,
                    message: format!("{source} is not a file (check the path)"),
                });
            }
            let stored = storage.store(name, Content::from_path(path)).await?;
            println!("{source} -> s3:{stored}");
        }
        (Some(name), None) => {
            let target = Path::new(destination);
            let key = storage.key(name)?;
            let params = storage.object_parameters(&key);
            let head = storage.client().head_object(&key, &params.read_parameters()).await?;
            let gzip = head
                .content_encoding
                .as_deref()
                .is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip"));
            if gzip {
                // Stored gzip-encoded: read through the storage, which inflates it.
                copy_inflated(&storage, name, target).await?;
            } else {
                // In pieces at once, verified, renamed into place only once complete.
                let options = DownloadOptions {
                    params,
                    ..DownloadOptions::default()
                };
                storage.client().download_to_path(&key, target, options).await?;
            }
            println!("s3:{name} -> {destination}");
        }
        _ => return Err(usage("cp needs one storage name (s3:NAME) and one local path")),
    }
    Ok(())
}

/// Copies a gzip-encoded object, inflated, to `target`: written beside it and renamed into
/// place once every byte is in and verified, never half a file nor a corrupted one; a copy
/// whose bytes do not match the stored checksum is made once more.
async fn copy_inflated(storage: &S3Storage, name: &str, target: &Path) -> Result<(), Failure> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tries = 2;
    let temp = loop {
        tries -= 1;
        let temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Failure {
            code: 1,
            message: format!("cannot write in {}: {e}", dir.display()),
        })?;
        let mut out = tokio::fs::File::from_std(temp.reopen().map_err(|e| Failure {
            code: 1,
            message: format!("cannot write: {e}"),
        })?);
        let mut file = storage.open(name, "rb").await?;
        match tokio::io::copy(&mut file, &mut out).await.map_err(Error::from) {
            Err(e) if e.is_checksum_mismatch() && tries > 0 => continue,
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        out.flush().await.map_err(Error::from)?;
        out.sync_all().await.map_err(Error::from)?;
        break temp;
    };
    temp.persist(target).map_err(|e| Failure {
        code: 1,
        message: format!("cannot write {}: {}", target.display(), e.error),
    })?;
    Ok(())
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let flags = &cli.settings;
    match cli.command {
        Command::Collectstatic {
            sources,
            ignore,
            no_default_ignore,
            dry_run,
            clear,
            jobs,
            no_progress,
            manifest,
            no_post_process,
            js_modules,
            verbosity,
            noinput: _,
        } => {
            let mut options = CollectOptions::default();
            (options.dry_run, options.clear, options.jobs) = (dry_run, clear, jobs);
            if no_default_ignore {
                options.ignore.clear();
            }
            options.ignore.extend(ignore);
            let manifest = manifest.then(|| {
                let mut m = ManifestOptions::default();
                m.support_js_module_import_aggregation = js_modules;
                m
            });
            let run = CollectstaticRun {
                sources,
                options,
                show_progress: !no_progress && std::io::stderr().is_terminal(),
                manifest,
                post_process: !no_post_process,
                verbosity,
            };
            collectstatic(flags, run).await
        }
        Command::Ls { prefix, recursive } => ls(flags, &prefix, recursive).await,
        Command::Cp { source, destination } => cp(flags, &source, &destination).await,
        Command::Rm { names } => {
            let storage = storage(flags, false)?;
            for name in names {
                storage.delete(&name).await?;
            }
            Ok(())
        }
        Command::Uploads {
            prefix,
            older_than,
            abort,
        } => uploads(flags, &prefix, older_than, abort).await,
        Command::Url {
            name,
            expire,
            method,
            at,
        } => {
            let storage = storage(flags, false)?;
            let method: http::Method = method
                .to_ascii_uppercase()
                .parse()
                .map_err(|_| usage(format!("--method {method}: not an HTTP method")))?;
            let mut options = UrlOptions::new().http_method(method);
            if let Some(secs) = expire {
                options = options.expire(Duration::from_secs(secs));
            }
            if let Some(secs) = at {
                options = options.at(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
            }
            println!("{}", storage.url_with(&name, &options).await?);
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            r = run(cli) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let mut code = match outcome {
        Some(Ok(())) => 0,
        Some(Err(f)) => {
            eprintln!("error: {}", f.message);
            f.code
        }
        None => {
            // Dropping the work cancelled it: the uploads it cut short abort in the
            // background. Wait for those aborts (a second Ctrl-C leaves at once).
            let clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let settled = runtime.block_on(async {
                let all = async {
                    for client in &clients {
                        client.uploads_settled().await;
                    }
                };
                tokio::select! {
                    r = tokio::time::timeout(ABORT_WAIT, all) => r.is_ok(),
                    _ = tokio::signal::ctrl_c() => false,
                }
            });
            if settled {
                eprintln!("interrupted: uploads in progress were aborted");
            } else {
                let open: usize = clients.iter().map(Client::open_uploads).sum();
                eprintln!(
                    "interrupted: {open} unfinished multipart upload(s) could not be aborted; \
                     a lifecycle rule (AbortIncompleteMultipartUpload) removes them"
                );
            }
            130
        }
    };
    // Uploads the run gave up on and could not abort, even on the budget aborts have of
    // their own: said, never dropped.
    let unaborted: Vec<_> = CLIENTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .flat_map(Client::unaborted_uploads)
        .collect();
    for upload in &unaborted {
        eprintln!(
            "warning: multipart upload {} of {} could not be aborted ({}); \
             `storages-s3 uploads --abort` removes it later",
            upload.upload_id.as_deref().unwrap_or("(id unknown)"),
            upload.key,
            upload.error
        );
    }
    if !unaborted.is_empty() && code == 0 {
        code = 1;
    }
    drop(runtime);
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_with_their_units() {
        assert_eq!(parse_age("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_age("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_age("45"), Ok(Duration::from_secs(45)));
        for bad in ["", "d", "7w", "-1d", "1.5h"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
