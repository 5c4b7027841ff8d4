//! The blocking API (feature `blocking`) against a real server: every method of the
//! blocking storages and files, called from plain test threads with no runtime, while the
//! server runs on a runtime of the test's own.

#![cfg(feature = "blocking")]

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, SystemTime};

use crate::common::{Bed, Style};
use bytes::Bytes;
use storages_s3::blocking::{FileSystemStorage, S3StaticStorage, S3Storage, Storage};
use storages_s3::config::ObjectParameters;
use storages_s3::s3::{Client, ObjectHead};
use storages_s3::{Content, UrlOptions};
use storages_s3::{Error, ErrorKind};

const MIB: usize = 1024 * 1024;

/// The server, on a runtime that lives as long as the test. The blocking API runs on its
/// own runtime; the test's runtime serves the server and the checks made with an async
/// client of the test's own (so that no connection of the storage's belongs to it).
struct Env {
    bed: Bed,
    rt: tokio::runtime::Runtime,
}

fn env() -> Env {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bed = rt.block_on(Bed::new());
    Env { bed, rt }
}

impl Env {
    /// A blocking storage on a new bucket, and an async client of the test on that bucket.
    fn storage(&self, tag: &str, style: Style, extra: &[(&str, &str)]) -> (S3Storage, Client) {
        let client = self.rt.block_on(self.bed.client(tag, style));
        let mut o = self.bed.options(client.bucket(), style);
        for (k, v) in extra {
            o.insert((*k).to_owned(), (*v).to_owned());
        }
        let storage = S3Storage::from_builder(S3Storage::builder().options(o).no_globals()).unwrap();
        (storage, client)
    }

    fn head(&self, client: &Client, key: &str) -> ObjectHead {
        self.rt
            .block_on(client.head_object(key, &ObjectParameters::new()))
            .unwrap()
    }

    fn raw(&self, client: &Client, key: &str) -> Bytes {
        self.rt.block_on(async {
            client
                .get_object(key, None)
                .await
                .unwrap()
                .body
                .collect(64 * MIB)
                .await
                .unwrap()
        })
    }

    /// Multipart uploads in progress on the client's bucket.
    fn uploads(&self, client: &Client) -> usize {
        self.rt
            .block_on(client.list_multipart_uploads(None).collect_all())
            .unwrap()
            .len()
    }

    /// Waits for the background abort of dropped uploads; true once none is left.
    fn no_upload_left(&self, client: &Client) -> bool {
        for _ in 0..250 {
            if self.uploads(client) == 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

/// Runs a plain (runtime-free) test body once per addressing style.
macro_rules! plain_both_styles {
    ($($name:ident),* $(,)?) => {
        mod path_style {
            $( #[test] fn $name() { super::$name(super::Style::Path) } )*
        }
        mod virtual_style {
            $( #[test] fn $name() { super::$name(super::Style::Virtual) } )*
        }
    };
}

fn save_and_the_basic_methods(style: Style) {
    let env = env();
    let (s, c) = env.storage("bbasic", style, &[("location", "media")]);
    assert_eq!(s.settings().location(), "media");
    assert_eq!(s.key("x/y.txt").unwrap(), "media/x/y.txt");
    assert!(s.key("../up.txt").unwrap_err().is_invalid_name());
    let name = s.save("x/y.txt", "hello", None).unwrap();
    assert_eq!(name, "x/y.txt", "save returns the name relative to the location");
    assert_eq!(&env.raw(&c, "media/x/y.txt")[..], b"hello");
    assert_eq!(
        env.head(&c, "media/x/y.txt").content_type.as_deref(),
        Some("text/plain")
    );
    s.save("i.jpg", Content::from("x").with_content_type("text/plain"), None)
        .unwrap();
    assert_eq!(
        env.head(&c, "media/i.jpg").content_type.as_deref(),
        Some("text/plain"),
        "a declared type wins"
    );
    assert_eq!(
        s.save("", Content::from("data").with_name("from-content.txt"), None)
            .unwrap(),
        "from-content.txt"
    );
    assert!(s.exists("x/y.txt").unwrap());
    assert!(!s.exists("x/nope.txt").unwrap());
    assert_eq!(s.size("x/y.txt").unwrap(), 5);
    let modified = s.modified_time("x/y.txt").unwrap();
    let age = SystemTime::now().duration_since(modified).unwrap_or_default();
    assert!(age < Duration::from_secs(120), "modified {age:?} ago");
    assert_eq!(s.accessed_time("x/y.txt").unwrap_err().kind(), ErrorKind::Unsupported);
    assert_eq!(s.created_time("x/y.txt").unwrap_err().kind(), ErrorKind::Unsupported);
    let e = s.size("x/nope.txt").unwrap_err();
    assert!(
        e.is_not_found() && e.to_string().contains("File does not exist: media/x/nope.txt"),
        "{e}"
    );
    assert!(s.modified_time("x/nope.txt").unwrap_err().is_not_found());
    // store: exactly this name, overwriting.
    assert_eq!(s.store("x//y.txt", "replaced").unwrap(), "x/y.txt");
    assert_eq!(&env.raw(&c, "media/x/y.txt")[..], b"replaced");
    s.delete("x/y.txt").unwrap();
    assert!(!s.exists("x/y.txt").unwrap());
    s.delete("x/y.txt").unwrap();
    assert!(s.delete("../x").unwrap_err().is_invalid_name());
}

fn file_overwrite_false_finds_another_name(style: Style) {
    let env = env();
    let (s, c) = env.storage("bnooverwrite", style, &[("file_overwrite", "false")]);
    assert_eq!(s.get_available_name("dup.txt", None).unwrap(), "dup.txt");
    assert_eq!(s.save("dup.txt", "first", None).unwrap(), "dup.txt");
    let available = s.get_available_name("dup.txt", None).unwrap();
    assert!(
        available.starts_with("dup_") && available.ends_with(".txt"),
        "{available}"
    );
    let second = s.save("dup.txt", "second", None).unwrap();
    assert!(
        second.starts_with("dup_") && second.ends_with(".txt") && second.len() == "dup_XXXXXXX.txt".len(),
        "{second}"
    );
    assert_eq!(&env.raw(&c, "dup.txt")[..], b"first");
    assert_eq!(&env.raw(&c, &second)[..], b"second");
    assert!(s.save("dup.txt", "x", Some(12)).unwrap_err().is_invalid_name());
    // store ignores file_overwrite.
    assert_eq!(s.store("dup.txt", "third").unwrap(), "dup.txt");
    assert_eq!(&env.raw(&c, "dup.txt")[..], b"third");
    // file_overwrite on (the default): the name itself.
    let (over, _) = env.storage("boverwrite", style, &[]);
    over.save("dup.txt", "first", None).unwrap();
    assert_eq!(over.get_available_name("dup.txt", None).unwrap(), "dup.txt");
    assert_eq!(over.save("dup.txt", "second", None).unwrap(), "dup.txt");
}

fn reading_streams_and_seeks(style: Style) {
    let env = env();
    let (s, _) = env.storage("bread", style, &[]);
    let data: Vec<u8> = (0..3 * MIB).map(|i| (i % 253) as u8).collect();
    s.save("data.bin", data.clone(), None).unwrap();
    let mut f = s.open("data.bin", "rb").unwrap();
    assert_eq!(f.size(), Some(data.len() as u64));
    assert_eq!(
        (f.name(), f.key(), f.mode()),
        ("data.bin", "data.bin", storages_s3::OpenMode::Read)
    );
    assert_eq!(f.head().unwrap().content_length, Some(data.len() as u64));
    assert!(!f.is_gzip());
    let mut buf = vec![0u8; 10];
    f.read_exact(&mut buf).unwrap();
    assert_eq!(buf, data[..10]);
    assert_eq!(f.seek(SeekFrom::Start(2 * MIB as u64)).unwrap(), 2 * MIB as u64);
    f.read_exact(&mut buf).unwrap();
    assert_eq!(buf, data[2 * MIB..2 * MIB + 10]);
    assert_eq!(f.seek(SeekFrom::Current(-20)).unwrap(), 2 * MIB as u64 - 10);
    f.read_exact(&mut buf).unwrap();
    assert_eq!(buf, data[2 * MIB - 10..2 * MIB]);
    f.seek(SeekFrom::End(-5)).unwrap();
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, data[data.len() - 5..]);
    f.seek(SeekFrom::Current(-10)).unwrap();
    let mut rest = Vec::new();
    f.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, data[data.len() - 10..]);
    assert!(
        f.seek(SeekFrom::Current(-(data.len() as i64) - 1)).is_err(),
        "before the start"
    );
    f.rewind().unwrap();
    let mut all = Vec::new();
    f.read_to_end(&mut all).unwrap();
    assert!(all == data);
    let e = f.write_all(b"x").unwrap_err();
    assert_eq!(
        Error::from(e).kind(),
        ErrorKind::Unsupported,
        "a file opened for reading cannot be written"
    );
    f.close().unwrap();
    assert!(f.is_closed());
    // The local copy: the rest of the object, from a file read part way.
    let mut f = s.open("data.bin", "rb").unwrap();
    f.seek(SeekFrom::Start(MIB as u64)).unwrap();
    let mut copy = f.local_copy().unwrap();
    let mut back = Vec::new();
    copy.read_to_end(&mut back).unwrap();
    assert!(back[..] == data[MIB..]);
    let e = s.open("missing.bin", "rb").unwrap_err();
    assert!(
        e.is_not_found() && e.to_string().contains("File does not exist: missing.bin"),
        "{e}"
    );
    assert!(
        s.open("data.bin", "rw")
            .unwrap_err()
            .to_string()
            .contains("Can't combine 'r' and 'w' in mode.")
    );
}

fn writing_uploads_in_parts_on_close(style: Style) {
    let env = env();
    let (s, c) = env.storage("bwrite", style, &[]);
    let mut f = s.open("out/big.bin", "wb").unwrap();
    assert_eq!(f.mode(), storages_s3::OpenMode::Write);
    let piece: Vec<u8> = (0..100_003).map(|i| (i % 199) as u8).collect();
    let mut expected = Vec::new();
    for i in 0..120 {
        if i % 2 == 0 {
            f.write_all(&piece).unwrap();
        } else {
            // Plain `write`s, which may take part of the piece.
            let mut rest = &piece[..];
            while !rest.is_empty() {
                let n = f.write(rest).unwrap();
                assert!(n > 0);
                rest = &rest[n..];
            }
        }
        expected.extend_from_slice(&piece);
    }
    f.flush().unwrap();
    let mut buf = [0u8; 1];
    let e = f.read(&mut buf).unwrap_err();
    assert_eq!(
        Error::from(e).kind(),
        ErrorKind::Unsupported,
        "a file opened for writing cannot be read"
    );
    assert!(f.seek(SeekFrom::Start(0)).is_err(), "nor seek");
    assert!(!s.exists("out/big.bin").unwrap(), "nothing is stored before close");
    assert_eq!(f.size(), None);
    f.close().unwrap();
    assert_eq!(f.size(), Some(expected.len() as u64));
    let h = env.head(&c, "out/big.bin");
    assert_eq!(h.content_length, Some(expected.len() as u64));
    assert!(expected.len() > 5 * MIB);
    assert!(
        h.etag.unwrap().contains('-'),
        "more than file_buffer_size: a multipart upload"
    );
    assert_eq!(h.content_type.as_deref(), Some("application/octet-stream"));
    assert!(env.raw(&c, "out/big.bin")[..] == expected[..]);
    // Small writes end as one PutObject; writing nothing stores an empty object.
    let mut f = s.open("out/small.txt", "w").unwrap();
    write!(f, "é {}", 1).unwrap();
    f.close().unwrap();
    assert_eq!(&env.raw(&c, "out/small.txt")[..], "é 1".as_bytes());
    assert!(!env.head(&c, "out/small.txt").etag.unwrap().contains('-'));
    assert_eq!(
        env.head(&c, "out/small.txt").content_type.as_deref(),
        Some("text/plain")
    );
    let mut f = s.open("out/empty.txt", "w").unwrap();
    f.close().unwrap();
    assert_eq!(s.size("out/empty.txt").unwrap(), 0);
    assert_eq!(env.uploads(&c), 0);
}

fn a_dropped_write_leaves_nothing(style: Style) {
    let env = env();
    let (s, c) = env.storage("bdropwrite", style, &[]);
    let mut f = s.open("half.bin", "wb").unwrap();
    f.write_all(&vec![7u8; 12 * MIB]).unwrap();
    assert!(env.uploads(&c) > 0, "the file is being uploaded in parts");
    drop(f);
    assert!(env.no_upload_left(&c), "a multipart upload was left behind");
    assert!(!s.exists("half.bin").unwrap());
    // Dropped inside another runtime's context: the abort still runs on the blocking API's.
    let mut f = s.open("half2.bin", "wb").unwrap();
    f.write_all(&vec![7u8; 12 * MIB]).unwrap();
    assert!(env.uploads(&c) > 0);
    env.rt.block_on(async move { drop(f) });
    assert!(env.no_upload_left(&c), "a multipart upload was left behind");
    assert!(!s.exists("half2.bin").unwrap());
    // Opened through the trait (a file over the async trait object): the same.
    let mut f = (&s as &dyn Storage).open("half3.bin", "wb").unwrap();
    f.write_all(&vec![7u8; 12 * MIB]).unwrap();
    assert!(env.uploads(&c) > 0);
    drop(f);
    assert!(env.no_upload_left(&c), "a multipart upload was left behind");
    assert!(!s.exists("half3.bin").unwrap());
    // A small unclosed write: nothing stored either.
    let mut f = s.open("small.txt", "w").unwrap();
    f.write_all(b"never stored").unwrap();
    drop(f);
    assert!(!s.exists("small.txt").unwrap());
}

fn listdir_relative_to_the_path(style: Style) {
    let env = env();
    let (s, _) = env.storage("blistdir", style, &[("location", "media")]);
    for name in ["ld/f1", "ld/f2", "ld/sub/f3", "ld/sub2/x", "top.txt"] {
        s.save(name, "x", None).unwrap();
    }
    let expected = (
        vec!["sub".to_owned(), "sub2".to_owned()],
        vec!["f1".to_owned(), "f2".to_owned()],
    );
    assert_eq!(s.listdir("ld").unwrap(), expected);
    assert_eq!(s.listdir("ld/").unwrap(), expected);
    assert_eq!(s.listdir("nope").unwrap(), (vec![], vec![]));
    assert_eq!(
        s.listdir("").unwrap(),
        (vec!["ld".to_owned()], vec!["top.txt".to_owned()])
    );
    assert!(s.listdir("../other").unwrap_err().is_invalid_name());
}

fn urls(style: Style) {
    let env = env();
    let (s, c) = env.storage("burls", style, &[("location", "media")]);
    s.save("dir/file name+é.txt", "url content", None).unwrap();
    let url = s.url("dir/file name+é.txt").unwrap();
    assert!(url.contains("/media/dir/file%20name%2B%C3%A9.txt?"), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    // The presigned URL works.
    let http = storages_s3::http::HttpClient::new(&storages_s3::http::HttpConfig::from_settings(s.settings())).unwrap();
    let uri: http::Uri = url.parse().unwrap();
    let req = http::Request::get(uri.clone())
        .header("host", uri.authority().unwrap().as_str())
        .body(storages_s3::http::Body::empty())
        .unwrap();
    let body = env.rt.block_on(async {
        let resp = http.send(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.into_body().collect(100).await.unwrap()
    });
    assert_eq!(&body[..], b"url content");
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let fixed = UrlOptions::new().at(at).expire(Duration::from_secs(60));
    let signed = s.url_with("dir/a.txt", &fixed).unwrap();
    assert_eq!(signed, s.url_with("dir/a.txt", &fixed).unwrap());
    assert!(signed.contains("X-Amz-Date=20231114T221320Z"), "{signed}");
    assert!(signed.contains("X-Amz-Expires=60"), "{signed}");
    let disposition = UrlOptions::new().parameter("ResponseContentDisposition", "attachment");
    assert!(
        s.url_with("dir/a.txt", &disposition)
            .unwrap()
            .contains("response-content-disposition=attachment")
    );
    assert!(s.url("../escape.txt").unwrap_err().is_invalid_name());
    // Unsigned and custom-domain URLs.
    let (plain, _) = env.storage("bplainurl", style, &[("querystring_auth", "false")]);
    let url = plain.url("a b.txt").unwrap();
    assert!(url.ends_with("a%20b.txt") && !url.contains('?'), "{url}");
    let (cdn, _) = env.storage(
        "bcdnurl",
        style,
        &[("custom_domain", "cdn.example.com"), ("location", "media")],
    );
    assert_eq!(
        cdn.url("dir/x y.txt").unwrap(),
        "https://cdn.example.com/media/dir/x%20y.txt"
    );
    drop(c);
}

plain_both_styles!(
    save_and_the_basic_methods,
    file_overwrite_false_finds_another_name,
    reading_streams_and_seeks,
    writing_uploads_in_parts_on_close,
    a_dropped_write_leaves_nothing,
    listdir_relative_to_the_path,
    urls,
);

#[test]
fn names_follow_django() {
    let env = env();
    let (s, _) = env.storage("bnames", Style::Path, &[("location", "media")]);
    assert_eq!(
        s.get_valid_name("john's portrait in 2004.jpg").unwrap(),
        "johns_portrait_in_2004.jpg"
    );
    assert_eq!(
        s.generate_filename("dir/john's file.txt").unwrap(),
        "dir/johns_file.txt"
    );
    assert_eq!(s.get_available_name("a/b.txt", None).unwrap(), "a/b.txt");
    assert!(s.get_available_name("../b.txt", None).unwrap_err().is_invalid_name());
    assert_eq!(s.key("a//b.txt").unwrap(), "media/a/b.txt");
    assert_eq!(s.key("").unwrap(), "media/");
    for name in ["", "..", "../up.txt", "/abs.txt", "dir/", "nul\0byte.txt"] {
        let e = s.save(name, "x", None).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::InvalidName | ErrorKind::InvalidKey),
            "{name:?}: {e}"
        );
    }
}

#[test]
fn storages_are_made_from_settings_and_async_storages() {
    let env = env();
    let (_, c) = env.storage("bmake", Style::Path, &[]);
    let settings = env.bed.settings(c.bucket(), Style::Path, &[]);
    let s = S3Storage::new(settings).unwrap();
    s.save("a.txt", "from settings", None).unwrap();
    let async_storage = storages_s3::S3Storage::builder()
        .options(env.bed.options(c.bucket(), Style::Path))
        .no_globals()
        .build()
        .unwrap();
    let s = S3Storage::from(async_storage);
    assert_eq!(s.size("a.txt").unwrap(), 13);
    assert!(s.settings().querystring_auth());
    assert_eq!(s.as_async().client().bucket(), c.bucket());
    assert!(s.expected_etag("a.txt", b"from settings").unwrap().starts_with('"'));
    assert_eq!(s.write_parameters("a.txt", None).get("ContentType"), Some("text/plain"));
    assert!(s.object_parameters("a.txt").get("ContentType").is_none());
    let back: storages_s3::S3Storage = s.clone().into();
    assert_eq!(back.client().bucket(), c.bucket());
    // Static storages: unsigned URLs by default.
    let statics = S3StaticStorage::from_builder(
        S3Storage::builder()
            .options(env.bed.options(c.bucket(), Style::Path))
            .option("location", "static")
            .no_globals(),
    )
    .unwrap();
    assert!(!statics.storage().settings().querystring_auth());
    assert_eq!(
        statics.save("css/app.css", Content::from("body{}"), None).unwrap(),
        "css/app.css"
    );
    let url = statics.url("css/app.css").unwrap();
    assert!(url.ends_with("/static/css/app.css") && !url.contains('?'), "{url}");
    assert_eq!(&env.raw(&c, "static/css/app.css")[..], b"body{}");
    let as_trait: &dyn Storage = &statics;
    assert!(as_trait.exists("css/app.css").unwrap());
    assert_eq!(statics.into_inner().settings().location(), "static");
}

#[test]
fn content_from_a_sync_reader() {
    let env = env();
    let (s, c) = env.storage("bsyncreader", Style::Path, &[]);
    // Larger than the multipart threshold: read in pieces while the parts go out.
    let data: Vec<u8> = (0..9 * MIB).map(|i| (i % 251) as u8).collect();
    let name = s
        .save(
            "big.bin",
            Content::from_sync_reader(std::io::Cursor::new(data.clone())),
            None,
        )
        .unwrap();
    assert!(env.raw(&c, &name)[..] == data[..]);
    assert!(env.head(&c, &name).etag.unwrap().contains('-'));
    // A file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.txt");
    std::fs::write(&path, "from a file").unwrap();
    let file = std::fs::File::open(&path).unwrap();
    s.save("local.txt", Content::from_sync_reader(file), None).unwrap();
    assert_eq!(&env.raw(&c, "local.txt")[..], b"from a file");
    // Empty.
    s.save("empty.txt", Content::from_sync_reader(std::io::empty()), None)
        .unwrap();
    assert_eq!(s.size("empty.txt").unwrap(), 0);
    // A failing reader fails the save and stores nothing.
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(1);
            self.0 -= n;
            Ok(n)
        }
    }
    let e = s
        .save("failed.bin", Content::from_sync_reader(Failing(10 * MIB)), None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(!s.exists("failed.bin").unwrap());
    assert!(env.no_upload_left(&c));
    // A reader that panics fails the save rather than truncating the object.
    struct Panicking(bool);
    impl Read for Panicking {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                panic!("reader panicked (expected by the test)");
            }
            buf[0] = b'x';
            Ok(1)
        }
    }
    let e = s
        .save("panicked.txt", Content::from_sync_reader(Panicking(false)), None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(!s.exists("panicked.txt").unwrap());
    // The same content works with the async storages.
    let async_storage = s.as_async().clone();
    env.rt.block_on(async {
        let content = Content::from_sync_reader(std::io::Cursor::new(b"async too".to_vec()));
        async_storage.save("async.txt", content, None).await.unwrap();
    });
    assert_eq!(&env.raw(&c, "async.txt")[..], b"async too");
}

#[test]
fn the_file_system_storage() {
    let dir = tempfile::tempdir().unwrap();
    let s = FileSystemStorage::new(dir.path().join("media")).with_base_url("https://example.com/media");
    assert_eq!(s.root(), dir.path().join("media"));
    assert_eq!(s.relative("a//b.txt").unwrap(), "a/b.txt");
    assert_eq!(s.path("a/b.txt").unwrap(), dir.path().join("media/a/b.txt"));
    assert!(s.relative("../x").unwrap_err().is_invalid_name());
    assert_eq!(s.save("docs/a b.txt", "hello", None).unwrap(), "docs/a b.txt");
    assert_eq!(std::fs::read(s.root().join("docs/a b.txt")).unwrap(), b"hello");
    assert!(s.exists("docs/a b.txt").unwrap());
    assert!(s.exists("docs").unwrap(), "directories exist on a file system");
    assert_eq!(s.size("docs/a b.txt").unwrap(), 5);
    assert!(s.modified_time("docs/a b.txt").is_ok());
    assert!(s.accessed_time("docs/a b.txt").is_ok());
    match s.created_time("docs/a b.txt") {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported),
    }
    assert_eq!(
        s.url("docs/a b.txt").unwrap(),
        "https://example.com/media/docs/a%20b.txt"
    );
    s.save("docs/sub/c.txt", "c", None).unwrap();
    assert_eq!(
        s.listdir("docs").unwrap(),
        (vec!["sub".to_owned()], vec!["a b.txt".to_owned()])
    );
    // Never overwritten by default; with_overwrite(true) does.
    let second = s.save("docs/a b.txt", "second", None).unwrap();
    assert_ne!(second, "docs/a b.txt");
    assert_ne!(s.get_available_name("docs/a b.txt", None).unwrap(), "docs/a b.txt");
    let over = s.clone().with_overwrite(true);
    assert_eq!(over.get_available_name("docs/a b.txt", None).unwrap(), "docs/a b.txt");
    assert_eq!(s.get_valid_name("john's file.txt").unwrap(), "johns_file.txt");
    assert_eq!(s.generate_filename("d/john's file.txt").unwrap(), "d/johns_file.txt");
    // Files: Read + Seek, Write + close.
    let mut f = s.open("docs/a b.txt", "rb").unwrap();
    assert_eq!((f.name(), f.size()), ("docs/a b.txt", Some(5)));
    f.seek(SeekFrom::Start(1)).unwrap();
    let mut rest = String::new();
    f.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "ello");
    f.seek(SeekFrom::End(-2)).unwrap();
    rest.clear();
    f.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "lo");
    f.close().unwrap();
    let mut w = s.open("docs/w.txt", "w").unwrap();
    w.write_all(b"written").unwrap();
    assert!(!s.exists("docs/w.txt").unwrap(), "stored on close");
    w.close().unwrap();
    assert_eq!((w.size(), s.size("docs/w.txt").unwrap()), (Some(7), 7));
    let mut w = s.open("docs/dropped.txt", "w").unwrap();
    w.write_all(b"never stored").unwrap();
    drop(w);
    assert!(!s.exists("docs/dropped.txt").unwrap());
    assert_eq!(s.listdir("docs").unwrap().1.len(), 3, "no temporary file is left");
    s.delete("docs/a b.txt").unwrap();
    s.delete("docs/a b.txt").unwrap();
    assert!(!s.exists("docs/a b.txt").unwrap());
    assert!(s.size("docs/a b.txt").unwrap_err().is_not_found());
    assert_eq!(
        FileSystemStorage::new(dir.path()).url("x").unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    let from_async = FileSystemStorage::from(storages_s3::FileSystemStorage::new(dir.path().join("media")));
    assert!(from_async.exists("docs/w.txt").unwrap());
    assert_eq!(from_async.as_async().root(), s.root());
    assert_eq!(from_async.into_async().root(), s.root());
}

#[test]
fn storages_work_behind_the_trait() {
    let env = env();
    let (s3, _) = env.storage("btrait", Style::Path, &[]);
    let dir = tempfile::tempdir().unwrap();
    let local = FileSystemStorage::new(dir.path()).with_base_url("/media/");
    for storage in [&s3 as &dyn Storage, &local as &dyn Storage] {
        let name = storage.save("t/a.txt", Content::from("trait"), None).unwrap();
        assert!(storage.exists(&name).unwrap());
        assert_eq!(storage.size(&name).unwrap(), 5);
        assert!(storage.modified_time(&name).is_ok());
        let _ = storage.accessed_time(&name);
        let _ = storage.created_time(&name);
        let mut f = storage.open(&name, "rb").unwrap();
        assert_eq!((f.name(), f.size()), ("t/a.txt", Some(5)));
        f.seek(SeekFrom::Start(2)).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        assert_eq!(text, "ait");
        f.close().unwrap();
        let (_, files) = storage.listdir("t").unwrap();
        assert_eq!(files, ["a.txt"]);
        let mut w = storage.open("t/b.txt", "w").unwrap();
        w.write_all(b"written").unwrap();
        w.close().unwrap();
        assert_eq!(storage.size("t/b.txt").unwrap(), 7);
        assert!(!storage.url(&name).unwrap().is_empty());
        assert_eq!(storage.get_available_name("t/c.txt", None).unwrap(), "t/c.txt");
        storage.delete(&name).unwrap();
        assert!(!storage.exists(&name).unwrap());
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

#[test]
fn inside_a_runtime_the_blocking_api_refuses_instead_of_panicking() {
    let env = env();
    let (s, _) = env.storage("bruntime", Style::Path, &[]);
    s.save("a.txt", "abc", None).unwrap();
    let mut reader = s.open("a.txt", "rb").unwrap();
    let mut writer = s.open("w.txt", "w").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local = FileSystemStorage::new(dir.path());
    let refused = |e: Error| {
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains("use the async API"), "{e}");
    };
    env.rt.block_on(async {
        refused(s.exists("a.txt").unwrap_err());
        refused(s.save("b.txt", "x", None).unwrap_err());
        refused(s.open("a.txt", "rb").unwrap_err());
        refused(s.url("a.txt").unwrap_err());
        refused(local.save("b.txt", "x", None).unwrap_err());
        refused((&s as &dyn Storage).size("a.txt").unwrap_err());
        let mut buf = [0u8; 3];
        refused(Error::from(reader.read(&mut buf).unwrap_err()));
        refused(Error::from(reader.seek(SeekFrom::Start(1)).unwrap_err()));
        refused(Error::from(writer.write_all(b"x").unwrap_err()));
        refused(writer.close().unwrap_err());
        // What never blocks works anywhere.
        assert_eq!(s.key("a.txt").unwrap(), "a.txt");
        assert_eq!(s.get_valid_name("a b.txt").unwrap(), "a_b.txt");
        // And in a spawn_blocking closure, which sees the runtime as current too.
        let s2 = s.clone();
        let e = tokio::task::spawn_blocking(move || s2.exists("a.txt")).await.unwrap();
        refused(e.unwrap_err());
        // There, the async API through the handle does it.
        let s3 = s.clone();
        let found = tokio::task::spawn_blocking(move || {
            tokio::runtime::Handle::current().block_on(s3.as_async().exists("a.txt"))
        })
        .await
        .unwrap();
        assert!(found.unwrap());
    });
    // Outside, the same storage and files work.
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    assert_eq!(text, "abc");
    writer.write_all(b"after").unwrap();
    writer.close().unwrap();
    assert_eq!(s.size("w.txt").unwrap(), 5);
}

#[test]
fn threads_share_the_blocking_runtime() {
    let env = env();
    let (s, _) = env.storage("bthreads", Style::Path, &[]);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    s.save(&format!("many/t{t}-{i}.txt"), format!("{t}{i}"), None).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (_, files) = s.listdir("many").unwrap();
    assert_eq!(files.len(), 40);
}
