//! The `storages-s3` command, run as a process against a real server.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::proxy::{Fault, FaultProxy};
use crate::common::{Bed, unique_bucket};

const BIN: &str = env!("CARGO_BIN_EXE_storages-s3");

/// The command with only the settings given here (no ambient AWS configuration).
fn command(bed: &Bed, endpoint: &str, bucket: &str, home: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_STORAGE_BUCKET_NAME", bucket)
        .env("AWS_S3_ENDPOINT_URL", endpoint)
        .env("AWS_S3_ADDRESSING_STYLE", "path")
        .env("AWS_S3_REGION_NAME", &bed.region)
        .env("AWS_ACCESS_KEY_ID", &bed.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &bed.secret_key);
    c
}

async fn run(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().expect("run storages-s3"))
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct Setup {
    bed: Bed,
    bucket: String,
    endpoint: String,
    home: tempfile::TempDir,
}

impl Setup {
    async fn new(tag: &str) -> Setup {
        let bed = Bed::new().await;
        let storage = bed.storage(tag, crate::common::Style::Path, &[]).await;
        let bucket = storage.client().bucket().to_owned();
        let endpoint = format!("http://{}:{}", bed.endpoint_host, bed.port);
        Setup {
            bed,
            bucket,
            endpoint,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn cmd(&self) -> Command {
        command(&self.bed, &self.endpoint, &self.bucket, self.home.path())
    }
}

fn tree(root: &Path, n: usize) {
    for i in 0..n {
        let path = root.join(format!("d{}/file{i}.{}", i % 3, ["css", "js", "txt"][i % 3]));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("/* file {i} */\n").repeat(20)).unwrap();
    }
    std::fs::write(root.join(".hidden"), "ignored").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collectstatic_uploads_then_skips_unchanged_files() {
    let s = Setup::new("clicollect").await;
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), 30);
    for gzip in ["false", "true"] {
        let mut first = s.cmd();
        first
            .args([
                "--location",
                &format!("gzip-{gzip}"),
                "-o",
                &format!("gzip={gzip}"),
                "collectstatic",
            ])
            .arg(dir.path());
        let out = run(first).await;
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("30 static files copied."), "{}", text(&out));
        let mut second = s.cmd();
        second
            .args([
                "--location",
                &format!("gzip-{gzip}"),
                "-o",
                &format!("gzip={gzip}"),
                "collectstatic",
            ])
            .arg(dir.path());
        let out = run(second).await;
        assert!(
            text(&out).contains("0 static files copied, 30 unmodified."),
            "gzip={gzip}: {}",
            text(&out)
        );
    }
    // One changed file is uploaded again, alone.
    std::fs::write(dir.path().join("d0/file0.css"), "changed").unwrap();
    let mut third = s.cmd();
    third
        .args(["--location", "gzip-false", "collectstatic"])
        .arg(dir.path());
    let out = run(third).await;
    assert!(
        text(&out).contains("1 static file copied, 29 unmodified."),
        "{}",
        text(&out)
    );
    // ls shows what is there; the hidden file was not uploaded.
    let mut ls = s.cmd();
    ls.args(["--location", "gzip-false", "ls", "-r"]);
    let out = run(ls).await;
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(listed.lines().count(), 30, "{listed}");
    assert!(!listed.contains(".hidden"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collectstatic_with_the_manifest() {
    let s = Setup::new("climanifest").await;
    let tree = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/goldens/static/trees/edge"));
    let mut first = s.cmd();
    first
        .args(["--location", "static", "collectstatic", "--manifest", "-v", "2"])
        .arg(tree);
    let out = run(first).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("25 static files copied, 25 post-processed."),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("25 hashed copies uploaded, manifest written"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("Post-processed 'css/base.css' as 'css/base."),
        "{}",
        text(&out)
    );
    let mut second = s.cmd();
    second
        .args(["--location", "static", "collectstatic", "--manifest", "-v", "2"])
        .arg(tree);
    let out = run(second).await;
    assert!(
        text(&out).contains("0 static files copied, 25 unmodified, 25 post-processed."),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("0 hashed copies uploaded, manifest unchanged"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_and_clear() {
    let s = Setup::new("cliclear").await;
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), 5);
    let mut dry = s.cmd();
    dry.args(["collectstatic", "--dry-run", "--no-progress"])
        .arg(dir.path());
    let out = run(dry).await;
    let copy = format!("Pretending to copy '{}'", dir.path().join("d0/file0.css").display());
    assert!(text(&out).contains(&copy), "{}", text(&out));
    let mut ls = s.cmd();
    ls.args(["ls", "-r"]);
    assert!(run(ls).await.stdout.is_empty(), "a dry run uploads nothing");
    let mut cp = s.cmd();
    cp.args(["cp"])
        .arg(dir.path().join("d1/file1.js"))
        .arg("s3:stale/old.js");
    assert!(run(cp).await.status.success());
    let mut clear = s.cmd();
    clear.args(["collectstatic", "--clear"]).arg(dir.path());
    let out = run(clear).await;
    assert!(text(&out).contains("Deleting 'stale/old.js'"), "{}", text(&out));
    assert!(text(&out).contains("5 static files copied."), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collectstatic_takes_djangos_options() {
    let s = Setup::new("clioptions").await;
    let app = tempfile::tempdir().unwrap();
    let theme = tempfile::tempdir().unwrap();
    let vendor = tempfile::tempdir().unwrap();
    for (root, files) in [
        (
            app.path(),
            &["css/site.css", "js/app.js", "js/app.min.js", "notes.txt~", ".env"][..],
        ),
        (theme.path(), &["css/site.css", "css/theme.css", "CVS/Root"][..]),
        (vendor.path(), &["lib.js", "lib.js.map"][..]),
    ] {
        for f in files {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, format!("/* {} */", p.display())).unwrap();
        }
    }
    let ls = || {
        let mut ls = s.cmd();
        ls.args(["ls", "-r"]);
        ls
    };
    // Several folders, one with a prefix; -i twice; the first folder's site.css wins.
    let mut c = s.cmd();
    c.args([
        "collectstatic",
        "-v",
        "2",
        "-i",
        "*.min.js",
        "--ignore",
        "*.map",
        "--noinput",
    ])
    .arg(app.path())
    .arg(theme.path())
    .arg(format!("vendor={}", vendor.path().display()));
    let out = run(c).await;
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("Found another file with the destination path 'css/site.css'"),
        "{said}"
    );
    assert!(
        said.contains(&format!("Copying '{}'", app.path().join("js/app.js").display())),
        "{said}"
    );
    assert!(said.contains("4 static files copied."), "{said}");
    let listed = String::from_utf8_lossy(&run(ls()).await.stdout).to_string();
    let mut names: Vec<&str> = listed.lines().map(|l| l.split_whitespace().last().unwrap()).collect();
    names.sort();
    assert_eq!(
        names,
        ["css/site.css", "css/theme.css", "js/app.js", "vendor/lib.js"],
        "{listed}"
    );
    let local = tempfile::tempdir().unwrap();
    let copy = local.path().join("site.css");
    let mut cp = s.cmd();
    cp.args(["cp", "s3:css/site.css"]).arg(&copy);
    assert!(run(cp).await.status.success());
    let content = std::fs::read_to_string(&copy).unwrap();
    assert!(
        content.contains(&app.path().display().to_string()),
        "the first folder's: {content}"
    );
    // Without Django's default patterns, CVS folders, dot files and backups go up too;
    // -v 0 prints nothing.
    let mut c = s.cmd();
    c.args(["collectstatic", "-v", "0", "--no-default-ignore"])
        .arg(app.path())
        .arg(theme.path());
    let out = run(c).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    let listed = String::from_utf8_lossy(&run(ls()).await.stdout).to_string();
    for name in [".env", "notes.txt~", "CVS/Root", "js/app.min.js"] {
        assert!(listed.contains(name), "{name}: {listed}");
    }
    // --no-post-process: the files, without hashed copies or a manifest.
    let mut c = s.cmd();
    c.args(["--location", "pp", "collectstatic", "--manifest", "--no-post-process"])
        .arg(theme.path());
    let out = run(c).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 static files copied."), "{}", text(&out));
    let mut ls = s.cmd();
    ls.args(["--location", "pp", "ls", "-r"]);
    let listed = String::from_utf8_lossy(&run(ls).await.stdout).to_string();
    assert_eq!(listed.lines().count(), 2, "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collectstatic_rewrites_js_module_imports_when_asked() {
    let s = Setup::new("clijsmodules").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("js")).unwrap();
    std::fs::write(dir.path().join("js/main.js"), "import { x } from \"./dep.js\";\nx();\n").unwrap();
    std::fs::write(dir.path().join("js/dep.js"), "export const x = () => 1;\n").unwrap();
    for (location, flag, rewritten) in [("plain", None, false), ("modules", Some("--js-modules"), true)] {
        let mut c = s.cmd();
        c.args(["--location", location, "collectstatic", "--manifest", "-v", "2"]);
        c.args(flag);
        c.arg(dir.path());
        let out = run(c).await;
        assert!(out.status.success(), "{}", text(&out));
        let said = text(&out);
        let hashed = said
            .lines()
            .find_map(|l| l.strip_prefix("Post-processed 'js/main.js' as '"))
            .and_then(|rest| rest.strip_suffix('\''))
            .unwrap_or_else(|| panic!("{said}"))
            .to_owned();
        let local = tempfile::tempdir().unwrap();
        let copy = local.path().join("main.js");
        let mut cp = s.cmd();
        cp.args(["--location", location, "cp", &format!("s3:{hashed}")])
            .arg(&copy);
        assert!(run(cp).await.status.success());
        let js = std::fs::read_to_string(&copy).unwrap();
        assert_eq!(!js.contains("\"./dep.js\""), rewritten, "{location}: {js}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_ls_url_rm() {
    let s = Setup::new("clicp").await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("report.csv");
    std::fs::write(&local, "a,b\n1,2\n").unwrap();
    let mut up = s.cmd();
    up.args(["cp"]).arg(&local).arg("s3:reports/report 1.csv");
    let out = run(up).await;
    assert!(out.status.success(), "{}", text(&out));
    let mut ls = s.cmd();
    ls.args(["ls", "reports"]);
    assert_eq!(String::from_utf8_lossy(&run(ls).await.stdout), "report 1.csv\n");
    let back = dir.path().join("back.csv");
    let mut down = s.cmd();
    down.args(["cp", "s3:reports/report 1.csv"]).arg(&back);
    let out = run(down).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "a,b\n1,2\n");
    let mut url = s.cmd();
    url.args(["url", "reports/report 1.csv", "--expire", "60", "--at", "1704164645"]);
    let out = run(url).await;
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        printed.contains("/reports/report%201.csv?X-Amz-Algorithm=") && printed.contains("X-Amz-Expires=60"),
        "{printed}"
    );
    assert!(printed.contains("X-Amz-Date=20240102T030405Z"), "{printed}");
    let mut rm = s.cmd();
    rm.args(["rm", "reports/report 1.csv", "never/was.txt"]);
    assert!(run(rm).await.status.success());
    let mut ls = s.cmd();
    ls.args(["ls", "-r"]);
    assert!(run(ls).await.stdout.is_empty());
    let mut missing = s.cmd();
    missing.args(["cp", "s3:nope.txt"]).arg(dir.path().join("nope.txt"));
    let out = run(missing).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(!dir.path().join("nope.txt").exists(), "no partial local file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_have_exit_codes_and_one_line() {
    let s = Setup::new("clifail").await;
    let mut no_bucket = s.cmd();
    no_bucket.env_remove("AWS_STORAGE_BUCKET_NAME").args(["ls"]);
    let out = run(no_bucket).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("AWS_STORAGE_BUCKET_NAME"), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    let mut missing_dir = s.cmd();
    missing_dir.args(["collectstatic", "/nonexistent/static"]);
    let out = run(missing_dir).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("does not exist"));
    let mut bad_usage = s.cmd();
    bad_usage.args(["frobnicate"]);
    assert_eq!(run(bad_usage).await.status.code(), Some(2));
    let mut help = s.cmd();
    help.args(["collectstatic", "--help"]);
    let out = run(help).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).contains("--dry-run"));
    if s.bed.skip_unless_signatures_checked("wrong credentials") {
        return;
    }
    let mut wrong = s.cmd();
    wrong.env("AWS_SECRET_ACCESS_KEY", "not-the-secret").args(["ls"]);
    let out = run(wrong).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (_, code) = s.bed.kind.refusal(crate::common::Refusal::WrongSignature);
    assert!(text(&out).contains(code), "{}", text(&out));
    assert!(!text(&out).contains("not-the-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_collectstatic_leaves_no_partial_object() {
    let bed = Bed::new().await;
    let proxy = FaultProxy::start(bed.addr).await;
    let bucket = unique_bucket("cliint");
    let endpoint = format!("http://{}", proxy.addr);
    let storage = {
        let mut o = bed.options(&bucket, crate::common::Style::Path);
        o.insert("endpoint_url".into(), endpoint.clone());
        storages_s3::S3Storage::builder()
            .options(o)
            .no_globals()
            .build()
            .unwrap()
    };
    storage.client().create_bucket().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.bin"), vec![7u8; 24 << 20]).unwrap();
    // Parts are held back, so that the upload is in progress when the signal comes.
    for _ in 0..4 {
        proxy.push_for(
            &format!("PUT /{bucket}/big.bin?partNumber="),
            Fault::DelayRequest(Duration::from_secs(3)),
        );
    }
    // The abort is slow to arrive: the command must wait for it before it exits (a
    // request still held when the command has gone never reaches the server).
    proxy.push_for(
        &format!("DELETE /{bucket}/big.bin?uploadId="),
        Fault::HoldRequest(Duration::from_secs(3)),
    );
    let home = tempfile::tempdir().unwrap();
    let mut c = command(&bed, &endpoint, &bucket, home.path());
    c.args(["collectstatic", "--no-progress"]).arg(dir.path());
    let child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut started = false;
    for _ in 0..200 {
        if proxy.request_lines().iter().any(|l| l.contains("?uploads")) {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        started,
        "the multipart upload never started: {:?}",
        proxy.request_lines()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(
        text(&out).contains("uploads in progress were aborted"),
        "{}",
        text(&out)
    );
    let mut uploads = Vec::new();
    for _ in 0..100 {
        uploads = storage
            .client()
            .list_multipart_uploads(None)
            .collect_all()
            .await
            .unwrap();
        if uploads.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(uploads.is_empty(), "left behind: {uploads:?}");
    assert!(!storage.exists("big.bin").await.unwrap(), "no partial object");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_lists_and_aborts_unfinished_multipart_uploads() {
    let s = Setup::new("cliuploads").await;
    let settings = s.bed.settings(&s.bucket, crate::common::Style::Path, &[]);
    let client = storages_s3::s3::Client::new(&settings).unwrap();
    let params = storages_s3::config::ObjectParameters::new();
    let a = client.create_multipart_upload("old/a.bin", &params).await.unwrap();
    let b = client.create_multipart_upload("new/b.bin", &params).await.unwrap();
    let o = run({
        let mut c = s.cmd();
        c.arg("uploads");
        c
    })
    .await;
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(&a) && out.contains(&b), "{out}");
    // None is a day old (where the server reports when uploads started: moto's date is
    // fixed in 2010).
    let o = run({
        let mut c = s.cmd();
        c.args(["uploads", "--older-than", "1d"]);
        c
    })
    .await;
    assert!(o.status.success(), "{}", text(&o));
    if !s
        .bed
        .skip_unless(crate::common::Capability::UploadStartTimes, "uploads --older-than")
    {
        assert!(!String::from_utf8_lossy(&o.stdout).contains(".bin"), "{}", text(&o));
    }
    let o = run({
        let mut c = s.cmd();
        c.args(["uploads", "--older-than", "soon"]);
        c
    })
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // Abort those under a prefix.
    let o = run({
        let mut c = s.cmd();
        c.args(["uploads", "old/", "--abort"]);
        c
    })
    .await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("1 of 1 upload(s) aborted"), "{}", text(&o));
    // The bucket is the test's own: every upload listed is one of these.
    let open = client.list_multipart_uploads(None).collect_all().await.unwrap();
    assert_eq!(
        open.iter().map(|u| u.upload_id.as_str()).collect::<Vec<_>>(),
        [b.as_str()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cp_down_takes_large_objects_in_pieces_and_inflates_gzip_ones() {
    let s = Setup::new("clicpbig").await;
    let dir = tempfile::tempdir().unwrap();
    // 20 MiB: downloaded in pieces of 5 MiB, four at once.
    let big: Vec<u8> = (0..20 * 1024 * 1024 + 7).map(|i| (i % 251) as u8).collect();
    let local = dir.path().join("big.bin");
    std::fs::write(&local, &big).unwrap();
    let pieces = r#"{"multipart_threshold": 5242880, "multipart_chunksize": 5242880, "max_concurrency": 4}"#;
    let mut up = s.cmd();
    up.args(["-o", &format!("transfer_config={pieces}"), "cp"])
        .arg(&local)
        .arg("s3:big.bin");
    assert!(run(up).await.status.success());
    let back = dir.path().join("back.bin");
    let mut down = s.cmd();
    down.args(["-o", &format!("transfer_config={pieces}"), "cp", "s3:big.bin"])
        .arg(&back);
    let out = run(down).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(std::fs::read(&back).unwrap() == big);
    // Stored gzip-encoded (the storage's gzip setting), copied back as written.
    let css = "body { color: red; }\n".repeat(500);
    let local = dir.path().join("site.css");
    std::fs::write(&local, &css).unwrap();
    let mut up = s.cmd();
    up.args(["-o", "gzip=true", "cp"]).arg(&local).arg("s3:site.css");
    assert!(run(up).await.status.success());
    let back = dir.path().join("site-back.css");
    let mut down = s.cmd();
    down.args(["cp", "s3:site.css"]).arg(&back);
    let out = run(down).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), css);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["back.bin", "big.bin", "site-back.css", "site.css"],
        "no temporary left"
    );
}
