//! `S3Storage` against a real server: every method, and every setting that changes what is
//! stored, in path and virtual-hosted style.

use std::time::{Duration, SystemTime};

use crate::common::proxy::Fault;
use crate::common::{Bed, Capability, Style};
use bytes::Bytes;
use storages_s3::ErrorKind;
use storages_s3::config::ObjectParameters;
use storages_s3::{Content, S3Storage, Storage, UrlOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

const MIB: usize = 1024 * 1024;

async fn head(storage: &S3Storage, key: &str) -> storages_s3::s3::ObjectHead {
    storage
        .client()
        .head_object(key, &ObjectParameters::new())
        .await
        .unwrap()
}

async fn raw(storage: &S3Storage, key: &str) -> Bytes {
    storage
        .client()
        .get_object(key, None)
        .await
        .unwrap()
        .body
        .collect(64 * MIB)
        .await
        .unwrap()
}

async fn save_and_the_basic_methods(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("basic", style, &[("location", "media")]).await;
    let name = s.save("x/y.txt", "hello", None).await.unwrap();
    assert_eq!(name, "x/y.txt", "save returns the name relative to the location");
    assert_eq!(&raw(&s, "media/x/y.txt").await[..], b"hello");
    assert!(s.exists("x/y.txt").await.unwrap());
    assert!(!s.exists("x/nope.txt").await.unwrap());
    assert_eq!(s.size("x/y.txt").await.unwrap(), 5);
    let modified = s.modified_time("x/y.txt").await.unwrap();
    let age = SystemTime::now().duration_since(modified).unwrap_or_default();
    assert!(age < Duration::from_secs(120), "modified {age:?} ago");
    assert_eq!(
        s.accessed_time("x/y.txt").await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        s.created_time("x/y.txt").await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let e = s.size("x/nope.txt").await.unwrap_err();
    assert!(
        e.is_not_found() && e.to_string().contains("File does not exist: media/x/nope.txt"),
        "{e}"
    );
    assert!(s.modified_time("x/nope.txt").await.unwrap_err().is_not_found());
    s.delete("x/y.txt").await.unwrap();
    assert!(!s.exists("x/y.txt").await.unwrap());
    s.delete("x/y.txt").await.unwrap();
    // Cleaned names: `dir//y.txt` is `dir/y.txt`, `./z.txt` is `z.txt`, `a\b.txt` is `a/b.txt`.
    assert_eq!(s.save("dir//y.txt", "1", None).await.unwrap(), "dir/y.txt");
    assert_eq!(s.save("./z.txt", "2", None).await.unwrap(), "z.txt");
    assert_eq!(s.save("a\\b.txt", "3", None).await.unwrap(), "a/b.txt");
    assert_eq!(&raw(&s, "media/a/b.txt").await[..], b"3");
}

async fn the_content_name_is_used_when_no_name_is_given(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("contentname", style, &[]).await;
    let name = s
        .save("", Content::from("data").with_name("from-content.txt"), None)
        .await
        .unwrap();
    assert_eq!(name, "from-content.txt");
    let e = s.save("", Content::from("data"), None).await.unwrap_err();
    assert!(e.is_invalid_name(), "{e}");
}

/// A file's size is the file's when it is saved, not when the `Content` was made: a file
/// that grew past the multipart threshold meanwhile is stored whole.
async fn a_file_is_measured_when_saved(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("measured", style, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growing.bin");
    std::fs::write(&path, b"small").unwrap();
    let content = Content::from_path(&path);
    let big: Vec<u8> = (0..9 * MIB).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &big).unwrap();
    let name = s.save("grown.bin", content, None).await.unwrap();
    assert_eq!(s.size(&name).await.unwrap(), big.len() as u64);
    assert_eq!(&raw(&s, &name).await[..], &big[..]);
}

async fn content_types_and_encodings(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("types", style, &[]).await;
    s.save("a.txt", "t", None).await.unwrap();
    assert_eq!(head(&s, "a.txt").await.content_type.as_deref(), Some("text/plain"));
    s.save("i.jpg", Content::from("x").with_content_type("text/plain"), None)
        .await
        .unwrap();
    assert_eq!(
        head(&s, "i.jpg").await.content_type.as_deref(),
        Some("text/plain"),
        "a declared type wins"
    );
    s.save("noext", "x", None).await.unwrap();
    assert_eq!(
        head(&s, "noext").await.content_type.as_deref(),
        Some("application/octet-stream")
    );
    // Archives keep their type and get no Content-Encoding: clients must not unpack them.
    s.save("c.tar.gz", Bytes::from_static(&[0x1f, 0x8b, 8, 0]), None)
        .await
        .unwrap();
    let h = head(&s, "c.tar.gz").await;
    assert_eq!(
        (h.content_type.as_deref(), h.content_encoding.as_deref()),
        (Some("application/gzip"), None)
    );
}

async fn object_parameters_and_default_acl(style: Style) {
    let bed = Bed::new().await;
    let options = [
        (
            "object_parameters",
            r#"{"CacheControl": "max-age=86400", "ContentDisposition": "attachment", "Metadata": {"owner": "ana"}}"#,
        ),
        ("default_acl", "public-read"),
    ];
    let s = bed.storage("params", style, &options).await;
    s.save("p.css", "body{}", None).await.unwrap();
    let h = head(&s, "p.css").await;
    assert_eq!(h.cache_control.as_deref(), Some("max-age=86400"));
    assert_eq!(h.content_disposition.as_deref(), Some("attachment"));
    assert_eq!(h.metadata.get("owner").map(String::as_str), Some("ana"));
    assert_eq!(h.content_type.as_deref(), Some("text/css"));
}

#[tokio::test]
async fn acl_headers_follow_the_original_rules() {
    let bed = Bed::new().await;
    // default_acl applies when object_parameters has no ACL...
    let (proxy, s) = bed.storage_behind_proxy("acl", &[("default_acl", "public-read")]).await;
    s.save("a.txt", "x", None).await.unwrap();
    let put = proxy
        .requests()
        .into_iter()
        .rfind(|h| h.starts_with("PUT "))
        .unwrap()
        .to_ascii_lowercase();
    assert!(put.contains("x-amz-acl: public-read"), "{put}");
    // ... and not when it has one.
    let (proxy, s) = bed
        .storage_behind_proxy(
            "acl2",
            &[
                ("default_acl", "public-read"),
                ("object_parameters", r#"{"ACL": "private"}"#),
            ],
        )
        .await;
    s.save("a.txt", "x", None).await.unwrap();
    let put = proxy
        .requests()
        .into_iter()
        .rfind(|h| h.starts_with("PUT "))
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        put.contains("x-amz-acl: private") && !put.contains("public-read"),
        "{put}"
    );
    // No default_acl: no ACL header at all (the bucket's default).
    let (proxy, s) = bed.storage_behind_proxy("acl3", &[]).await;
    s.save("a.txt", "x", None).await.unwrap();
    let put = proxy
        .requests()
        .into_iter()
        .rfind(|h| h.starts_with("PUT "))
        .unwrap()
        .to_ascii_lowercase();
    assert!(!put.contains("x-amz-acl"), "{put}");
}

#[tokio::test]
async fn the_parameters_hook_sees_the_key() {
    let bed = Bed::new().await;
    let bucket = crate::common::unique_bucket("hook");
    let o = bed.options(&bucket, Style::Path);
    let s = S3Storage::builder()
        .options(o)
        .option("location", "media")
        .no_globals()
        .object_parameters_hook(|key| {
            let mut p = ObjectParameters::new();
            p.metadata_mut().insert("key".into(), key.to_owned());
            if key.ends_with(".html") {
                p.set("CacheControl", "no-cache").unwrap();
            }
            p
        })
        .build()
        .unwrap();
    s.client().create_bucket().await.unwrap();
    s.save("page.html", "<p>", None).await.unwrap();
    let h = head(&s, "media/page.html").await;
    assert_eq!(h.cache_control.as_deref(), Some("no-cache"));
    assert_eq!(h.metadata.get("key").map(String::as_str), Some("media/page.html"));
}

async fn file_overwrite_true_replaces(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("overwrite", style, &[]).await;
    assert_eq!(s.save("dup.txt", "first", None).await.unwrap(), "dup.txt");
    assert_eq!(s.save("dup.txt", "second", None).await.unwrap(), "dup.txt");
    assert_eq!(&raw(&s, "dup.txt").await[..], b"second");
    // Overwrite names are still checked, and fitted to max_length.
    assert_eq!(
        s.save("parent/child.txt", "x", Some(15)).await.unwrap(),
        "parent/chil.txt"
    );
    assert!(
        s.save("parent/child.txt", "x", Some(10))
            .await
            .unwrap_err()
            .is_invalid_name()
    );
}

async fn file_overwrite_false_finds_another_name(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("nooverwrite", style, &[("file_overwrite", "false")]).await;
    assert_eq!(s.save("dup.txt", "first", None).await.unwrap(), "dup.txt");
    let second = s.save("dup.txt", "second", None).await.unwrap();
    assert_ne!(second, "dup.txt");
    assert!(
        second.starts_with("dup_") && second.ends_with(".txt") && second.len() == "dup_XXXXXXX.txt".len(),
        "{second}"
    );
    assert_eq!(&raw(&s, "dup.txt").await[..], b"first");
    assert_eq!(&raw(&s, &second).await[..], b"second");
    let third = s.save("dir/arch.tar.gz", "a", None).await.unwrap();
    let fourth = s.save("dir/arch.tar.gz", "b", None).await.unwrap();
    assert_eq!(third, "dir/arch.tar.gz");
    assert!(
        fourth.starts_with("dir/arch_") && fourth.ends_with(".tar.gz"),
        "{fourth}"
    );
    let e = s.save("dup.txt", "x", Some(12)).await.unwrap_err();
    assert!(e.is_invalid_name(), "{e}");
}

#[tokio::test]
async fn two_writers_of_one_name_both_succeed_under_different_names() {
    let bed = Bed::new().await;
    if bed.skip_unless(Capability::ConditionalWrites, "two writers of one name") {
        return;
    }
    let (proxy, s) = bed.storage_behind_proxy("race", &[("file_overwrite", "false")]).await;
    // Both writers find the name free; the first writer's upload is held back until the
    // second has stored its object, so that the first upload finds the name taken.
    let bucket = s.client().bucket().to_owned();
    proxy.push_for(
        &format!("PUT /{bucket}/report.csv"),
        Fault::DelayRequest(Duration::from_millis(600)),
    );
    let (a, b) = (s.clone(), s.clone());
    let first = tokio::spawn(async move { a.save("report.csv", "from A", None).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = tokio::spawn(async move { b.save("report.csv", "from B", None).await });
    let (first, second) = (first.await.unwrap().unwrap(), second.await.unwrap().unwrap());
    assert_ne!(first, second, "both writers got {first}");
    let mut contents = vec![raw(&s, &first).await, raw(&s, &second).await];
    contents.sort();
    assert_eq!(
        contents,
        [Bytes::from_static(b"from A"), Bytes::from_static(b"from B")],
        "an object was lost"
    );
    let puts = proxy
        .request_lines()
        .into_iter()
        .filter(|l| l.starts_with("PUT "))
        .count();
    assert!(
        puts >= 3,
        "the first writer must have retried under another name ({puts} PUTs)"
    );
    let object_puts = format!("PUT /{bucket}/report");
    assert!(
        proxy
            .requests()
            .iter()
            .filter(|h| h.starts_with(&object_puts))
            .all(|h| h.to_ascii_lowercase().contains("if-none-match: *"))
    );
}

#[tokio::test]
async fn a_taken_name_cannot_be_retried_for_a_stream() {
    let bed = Bed::new().await;
    if bed.skip_unless(Capability::ConditionalWrites, "a name taken during a stream's upload") {
        return;
    }
    let (proxy, s) = bed
        .storage_behind_proxy("racestream", &[("file_overwrite", "false")])
        .await;
    let bucket = s.client().bucket().to_owned();
    proxy.push_for(
        &format!("PUT /{bucket}/log.txt"),
        Fault::DelayRequest(Duration::from_millis(500)),
    );
    let a = s.clone();
    let first = tokio::spawn(async move {
        let stream = crate::common::stream_of(vec![Ok::<_, std::io::Error>(Bytes::from_static(b"streamed"))]);
        a.save("log.txt", Content::from_stream(stream), None).await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.save("log.txt", "winner", None).await.unwrap();
    let e = first.await.unwrap().unwrap_err();
    assert!(e.is_precondition_failed(), "{e}");
    assert!(e.to_string().contains("cannot be sent again"), "{e}");
    assert_eq!(&raw(&s, "log.txt").await[..], b"winner");
}

async fn gzip_on_compresses_listed_types(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("gzip", style, &[("gzip", "true")]).await;
    let css = "body { color: red; }\n".repeat(200);
    s.save("site.css", css.clone(), None).await.unwrap();
    let h = head(&s, "site.css").await;
    assert_eq!(h.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(h.content_type.as_deref(), Some("text/css"));
    assert!(h.content_length.unwrap() < css.len() as u64 / 4);
    let stored = raw(&s, "site.css").await;
    let mut inflated = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&stored[..]), &mut inflated).unwrap();
    assert_eq!(inflated, css);
    // Deterministic: the same bytes every time (mtime 0), the crate's own gzip's.
    s.save("again.css", css.clone(), None).await.unwrap();
    assert_eq!(raw(&s, "again.css").await, stored, "deterministic gzip");
    #[cfg(feature = "fuzzing")]
    assert_eq!(stored, storages_s3::fuzzing::gzip::compress(css.as_bytes()));
    let mut f = s.open("site.css", "r").await.unwrap();
    assert!(f.is_gzip());
    let mut read = String::new();
    f.read_to_string(&mut read).await.unwrap();
    assert_eq!(read, css, "reads are decompressed");
    // Types not listed are stored as they are.
    s.save("notes.txt", css.clone(), None).await.unwrap();
    assert_eq!(head(&s, "notes.txt").await.content_encoding, None);
    // A ContentEncoding parameter turns gzip off.
    let off = bed
        .storage(
            "gzipoff",
            style,
            &[
                ("gzip", "true"),
                ("object_parameters", r#"{"ContentEncoding": "identity"}"#),
            ],
        )
        .await;
    off.save("site.css", css.clone(), None).await.unwrap();
    assert_eq!(&raw(&off, "site.css").await[..], css.as_bytes());
    // gzip off (the default): stored as is.
    let plain = bed.storage("gzipdefault", style, &[]).await;
    plain.save("site.css", css.clone(), None).await.unwrap();
    assert_eq!(head(&plain, "site.css").await.content_encoding, None);
}

async fn reading_streams_and_seeks(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("read", style, &[]).await;
    let data: Vec<u8> = (0..3 * MIB).map(|i| (i % 253) as u8).collect();
    s.save("data.bin", data.clone(), None).await.unwrap();
    let mut f = s.open("data.bin", "rb").await.unwrap();
    assert_eq!(f.size(), Some(data.len() as u64));
    assert_eq!(f.name(), "data.bin");
    let mut buf = vec![0u8; 10];
    f.read_exact(&mut buf).await.unwrap();
    assert_eq!(buf, data[..10]);
    f.seek(std::io::SeekFrom::Start(2 * MIB as u64)).await.unwrap();
    f.read_exact(&mut buf).await.unwrap();
    assert_eq!(buf, data[2 * MIB..2 * MIB + 10]);
    f.seek(std::io::SeekFrom::End(-5)).await.unwrap();
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).await.unwrap();
    assert_eq!(tail, data[data.len() - 5..]);
    f.seek(std::io::SeekFrom::Current(-10)).await.unwrap();
    let mut rest = Vec::new();
    f.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, data[data.len() - 10..]);
    assert!(
        f.write_all(b"x").await.is_err(),
        "a file opened for reading cannot be written"
    );
    f.close().await.unwrap();
    let e = s.open("missing.bin", "rb").await.unwrap_err();
    assert!(
        e.is_not_found() && e.to_string().contains("File does not exist: missing.bin"),
        "{e}"
    );
    assert!(
        s.open("data.bin", "rw")
            .await
            .unwrap_err()
            .to_string()
            .contains("Can't combine 'r' and 'w' in mode.")
    );
}

async fn writing_uploads_in_parts_on_close(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("write", style, &[]).await;
    let mut f = s.open("out/big.bin", "wb").await.unwrap();
    let piece: Vec<u8> = (0..100_003).map(|i| (i % 199) as u8).collect();
    let mut expected = Vec::new();
    for _ in 0..120 {
        f.write_all(&piece).await.unwrap();
        expected.extend_from_slice(&piece);
    }
    let mut buf = [0u8; 1];
    assert!(
        f.read(&mut buf).await.is_err(),
        "a file opened for writing cannot be read"
    );
    assert!(
        !s.exists("out/big.bin").await.unwrap(),
        "nothing is stored before close"
    );
    f.close().await.unwrap();
    assert_eq!(f.size(), Some(expected.len() as u64));
    let h = head(&s, "out/big.bin").await;
    assert_eq!(h.content_length, Some(expected.len() as u64));
    assert!(
        h.etag.unwrap().contains('-'),
        "more than file_buffer_size: a multipart upload"
    );
    assert_eq!(h.content_type.as_deref(), Some("application/octet-stream"));
    assert!(raw(&s, "out/big.bin").await[..] == expected[..]);
    // Small writes end as one PutObject; writing nothing stores an empty object.
    let mut f = s.open("out/small.txt", "w").await.unwrap();
    f.write_all("é".as_bytes()).await.unwrap();
    f.shutdown().await.unwrap();
    assert_eq!(&raw(&s, "out/small.txt").await[..], "é".as_bytes());
    assert_eq!(
        head(&s, "out/small.txt").await.content_type.as_deref(),
        Some("text/plain")
    );
    let mut f = s.open("out/empty.txt", "w").await.unwrap();
    f.close().await.unwrap();
    assert_eq!(s.size("out/empty.txt").await.unwrap(), 0);
}

async fn a_dropped_write_leaves_nothing(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("dropwrite", style, &[]).await;
    let mut f = s.open("half.bin", "wb").await.unwrap();
    f.write_all(&vec![7u8; 12 * MIB]).await.unwrap();
    drop(f);
    let mut uploads = vec![()];
    for _ in 0..100 {
        uploads = s
            .client()
            .list_multipart_uploads(None)
            .collect_all()
            .await
            .unwrap()
            .iter()
            .map(|_| ())
            .collect();
        if uploads.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(uploads.is_empty(), "a multipart upload was left behind");
    assert!(!s.exists("half.bin").await.unwrap());
}

async fn max_memory_size_spills_local_copies(style: Style) {
    let bed = Bed::new().await;
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().display().to_string();
    let s = bed
        .storage(
            "spill",
            style,
            &[("max_memory_size", "1000"), ("file_upload_temp_dir", &dir_path)],
        )
        .await;
    s.save("small.txt", vec![1u8; 500], None).await.unwrap();
    s.save("large.bin", vec![2u8; 5000], None).await.unwrap();
    let copy = s.open("small.txt", "rb").await.unwrap().local_copy().await.unwrap();
    assert!(!copy.is_rolled(), "under max_memory_size the copy stays in memory");
    let mut f = s.open("large.bin", "rb").await.unwrap();
    let mut copy = f.local_copy().await.unwrap();
    assert!(copy.is_rolled(), "over max_memory_size the copy spills to disk");
    let mut back = Vec::new();
    std::io::Read::read_to_end(&mut copy, &mut back).unwrap();
    assert_eq!(back, vec![2u8; 5000]);
    // 0 (the default): never spills.
    let mem = bed.storage("nospill", style, &[]).await;
    mem.save("large.bin", vec![2u8; 5000], None).await.unwrap();
    assert!(
        !mem.open("large.bin", "rb")
            .await
            .unwrap()
            .local_copy()
            .await
            .unwrap()
            .is_rolled()
    );
}

async fn exists_is_about_objects_not_directories(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("exists", style, &[]).await;
    s.save("gz/a.txt", "x", None).await.unwrap();
    assert!(s.exists("gz/a.txt").await.unwrap());
    if !bed.has(Capability::PrefixHeads) {
        // s3s-fs keeps keys as files, and answers a HEAD of a "directory" with a 500.
        eprintln!(
            "{} lacks PrefixHeads: exists(\"gz\") is checked on the other servers",
            bed.kind
        );
    } else {
        assert!(!s.exists("gz").await.unwrap());
        assert!(!s.exists("gz/").await.unwrap());
    }
    assert!(!s.exists("").await.unwrap(), "the empty name names no object");
}

async fn listdir_relative_to_the_path(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("listdir", style, &[("location", "media")]).await;
    for name in ["ld/f1", "ld/f2", "ld/sub/f3", "ld/sub2/x", "top.txt"] {
        s.save(name, "x", None).await.unwrap();
    }
    let expected = (
        vec!["sub".to_owned(), "sub2".to_owned()],
        vec!["f1".to_owned(), "f2".to_owned()],
    );
    assert_eq!(s.listdir("ld").await.unwrap(), expected);
    assert_eq!(s.listdir("ld/").await.unwrap(), expected);
    assert_eq!(s.listdir("nope").await.unwrap(), (vec![], vec![]));
    let (dirs, files) = s.listdir("").await.unwrap();
    assert_eq!((dirs, files), (vec!["ld".to_owned()], vec!["top.txt".to_owned()]));
    assert!(s.listdir("../other").await.unwrap_err().is_invalid_name());
}

#[tokio::test]
async fn listdir_follows_pages_past_1000_keys() {
    let bed = Bed::new().await;
    let s = bed.storage("listdirpages", Style::Path, &[]).await;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8 {
        let s = s.clone();
        tasks.spawn(async move {
            for i in (t..1003).step_by(8) {
                s.save(&format!("many/f{i:04}"), "x", None).await.unwrap();
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let (dirs, files) = s.listdir("many").await.unwrap();
    assert!(dirs.is_empty());
    assert_eq!(files.len(), 1003);
    assert_eq!(files[1002], "f1002");
}

async fn urls(style: Style) {
    let bed = Bed::new().await;
    let s = bed.storage("urls", style, &[("location", "media")]).await;
    s.save("dir/file name+é.txt", "url content", None).await.unwrap();
    let url = s.url("dir/file name+é.txt").await.unwrap();
    assert!(url.contains("/media/dir/file%20name%2B%C3%A9.txt?"), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let fetched =
        storages_s3::http::HttpClient::new(&storages_s3::http::HttpConfig::from_settings(s.settings())).unwrap();
    let uri: http::Uri = url.parse().unwrap();
    let req = http::Request::get(uri.clone())
        .header("host", uri.authority().unwrap().as_str())
        .body(storages_s3::http::Body::empty())
        .unwrap();
    let resp = fetched.send(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(&resp.into_body().collect(100).await.unwrap()[..], b"url content");
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let fixed = UrlOptions::new().at(at).expire(Duration::from_secs(60));
    assert_eq!(
        s.url_with("dir/a.txt", &fixed).await.unwrap(),
        s.url_with("dir/a.txt", &fixed).await.unwrap()
    );
    assert!(
        s.url_with("dir/a.txt", &fixed)
            .await
            .unwrap()
            .contains("X-Amz-Date=20231114T221320Z")
    );
    let e = s.url("../escape.txt").await.unwrap_err();
    assert!(e.is_invalid_name());
}

#[tokio::test]
async fn plain_and_custom_domain_urls() {
    let bed = Bed::new().await;
    let s = bed
        .storage("plainurl", Style::Path, &[("querystring_auth", "false")])
        .await;
    let url = s.url("a b.txt").await.unwrap();
    assert!(
        url.ends_with(&format!("/{}/a%20b.txt", s.client().bucket())) && !url.contains('?'),
        "{url}"
    );
    let cdn = bed
        .storage(
            "cdnurl",
            Style::Path,
            &[("custom_domain", "cdn.example.com"), ("location", "media")],
        )
        .await;
    assert_eq!(
        cdn.url("dir/x y.txt").await.unwrap(),
        "https://cdn.example.com/media/dir/x%20y.txt"
    );
    assert_eq!(cdn.url("").await.unwrap(), "https://cdn.example.com/media/");
}

async fn bad_names_fail_before_any_request() {
    let bed = Bed::new().await;
    let (proxy, s) = bed.storage_behind_proxy("badnames", &[("location", "media")]).await;
    let before = proxy.requests().len();
    let long = format!("{}.txt", "n".repeat(1100));
    for name in [
        "",
        "..",
        "../up.txt",
        "/abs.txt",
        "a/../../b.txt",
        "dir/",
        "nul\0byte.txt",
        long.as_str(),
    ] {
        let e = s.save(name, "x", None).await.unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::InvalidName | ErrorKind::InvalidKey),
            "{name:?}: {e}"
        );
    }
    for name in ["../x", "/etc/passwd", "nul\0", long.as_str()] {
        assert!(s.exists(name).await.is_err(), "{name:?}");
        assert!(s.open(name, "rb").await.is_err(), "{name:?}");
        assert!(s.open(name, "wb").await.is_err(), "{name:?}");
        assert!(s.delete(name).await.is_err(), "{name:?}");
        assert!(s.size(name).await.is_err(), "{name:?}");
        assert!(s.url(name).await.is_err(), "{name:?}");
    }
    assert_eq!(proxy.requests().len(), before, "no request for a bad name");
}

#[tokio::test]
async fn bad_names_are_refused() {
    bad_names_fail_before_any_request().await;
}

#[tokio::test]
async fn a_403_is_never_does_not_exist() {
    let bed = Bed::new().await;
    let (proxy, s) = bed.storage_behind_proxy("forbidden", &[]).await;
    proxy.push([Fault::reply(403, "", &[])]);
    let e = s.exists("private.txt").await.unwrap_err();
    assert!(e.is_access_denied(), "{e}");
    assert!(e.to_string().contains("s3:ListBucket"), "{e}");
}

#[tokio::test]
async fn storages_work_behind_the_trait() {
    let bed = Bed::new().await;
    let s3 = bed.storage("trait", Style::Path, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let local = storages_s3::FileSystemStorage::new(dir.path()).with_base_url("/media/");
    for storage in [&s3 as &dyn Storage, &local as &dyn Storage] {
        let name = storage.save("t/a.txt", Content::from("trait"), None).await.unwrap();
        assert!(storage.exists(&name).await.unwrap());
        assert_eq!(storage.size(&name).await.unwrap(), 5);
        let mut f = storage.open(&name, "rb").await.unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "trait");
        let (_, files) = storage.listdir("t").await.unwrap();
        assert_eq!(files, ["a.txt"]);
        let mut w = storage.open("t/b.txt", "w").await.unwrap();
        w.write_all(b"written").await.unwrap();
        w.close().await.unwrap();
        assert_eq!(storage.size("t/b.txt").await.unwrap(), 7);
        assert!(!storage.url(&name).await.unwrap().is_empty());
        storage.delete(&name).await.unwrap();
        assert!(!storage.exists(&name).await.unwrap());
        assert_eq!(
            storage.get_valid_name("john's portrait in 2004.jpg").unwrap(),
            "johns_portrait_in_2004.jpg"
        );
        assert_eq!(
            storage.generate_filename("dir/john's file.txt").unwrap(),
            "dir/johns_file.txt"
        );
    }
}

both_styles!(
    save_and_the_basic_methods,
    the_content_name_is_used_when_no_name_is_given,
    a_file_is_measured_when_saved,
    content_types_and_encodings,
    object_parameters_and_default_acl,
    file_overwrite_true_replaces,
    file_overwrite_false_finds_another_name,
    gzip_on_compresses_listed_types,
    reading_streams_and_seeks,
    writing_uploads_in_parts_on_close,
    a_dropped_write_leaves_nothing,
    max_memory_size_spills_local_copies,
    exists_is_about_objects_not_directories,
    listdir_relative_to_the_path,
    urls,
);
