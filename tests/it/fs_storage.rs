//! `FileSystemStorage`: the same API and name rules on a local folder.

use std::time::Duration;

use storages_s3::ErrorKind;
use storages_s3::{Content, FileSystemStorage};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

fn storage() -> (tempfile::TempDir, FileSystemStorage) {
    let dir = tempfile::tempdir().unwrap();
    let s = FileSystemStorage::new(dir.path().join("media")).with_base_url("https://example.com/media");
    (dir, s)
}

#[tokio::test]
async fn save_read_list_delete() {
    let (_dir, s) = storage();
    assert_eq!(s.save("docs/a b.txt", "hello", None).await.unwrap(), "docs/a b.txt");
    assert_eq!(std::fs::read(s.root().join("docs/a b.txt")).unwrap(), b"hello");
    assert!(s.exists("docs/a b.txt").await.unwrap());
    assert!(s.exists("docs").await.unwrap(), "directories exist on a file system");
    assert_eq!(s.size("docs/a b.txt").await.unwrap(), 5);
    assert!(s.modified_time("docs/a b.txt").await.is_ok());
    assert!(s.accessed_time("docs/a b.txt").await.is_ok());
    assert_eq!(
        s.url("docs/a b.txt").await.unwrap(),
        "https://example.com/media/docs/a%20b.txt"
    );
    s.save("docs/sub/c.txt", "c", None).await.unwrap();
    assert_eq!(
        s.listdir("docs").await.unwrap(),
        (vec!["sub".to_owned()], vec!["a b.txt".to_owned()])
    );
    let mut f = s.open("docs/a b.txt", "rb").await.unwrap();
    f.seek(std::io::SeekFrom::Start(1)).await.unwrap();
    let mut rest = String::new();
    f.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "ello");
    s.delete("docs/a b.txt").await.unwrap();
    s.delete("docs/a b.txt").await.unwrap();
    assert!(!s.exists("docs/a b.txt").await.unwrap());
    assert!(s.size("docs/a b.txt").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn existing_names_are_never_overwritten_by_default() {
    let (_dir, s) = storage();
    assert_eq!(s.save("dup.txt", "first", None).await.unwrap(), "dup.txt");
    let second = s.save("dup.txt", "second", None).await.unwrap();
    assert!(
        second.starts_with("dup_") && second.len() == "dup_XXXXXXX.txt".len(),
        "{second}"
    );
    assert_eq!(std::fs::read(s.root().join("dup.txt")).unwrap(), b"first");
    let over = s.clone().with_overwrite(true);
    assert_eq!(over.save("dup.txt", "third", None).await.unwrap(), "dup.txt");
    assert_eq!(std::fs::read(s.root().join("dup.txt")).unwrap(), b"third");
}

#[tokio::test]
async fn concurrent_writers_of_one_name_keep_both_files() {
    let (_dir, s) = storage();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.spawn(async move { s.save("same.txt", format!("writer {i}"), None).await.unwrap() });
    }
    let mut names = Vec::new();
    while let Some(name) = tasks.join_next().await {
        names.push(name.unwrap());
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8, "{names:?}");
    let mut contents: Vec<String> = names
        .iter()
        .map(|n| std::fs::read_to_string(s.root().join(n)).unwrap())
        .collect();
    contents.sort();
    assert_eq!(contents, (0..8).map(|i| format!("writer {i}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn writes_appear_on_close_and_dropped_writes_leave_nothing() {
    let (_dir, s) = storage();
    let mut f = s.open("w/out.txt", "w").await.unwrap();
    f.write_all(b"partial").await.unwrap();
    assert!(!s.exists("w/out.txt").await.unwrap());
    f.close().await.unwrap();
    assert_eq!(s.size("w/out.txt").await.unwrap(), 7);
    let mut g = s.open("w/dropped.txt", "w").await.unwrap();
    g.write_all(b"never").await.unwrap();
    drop(g);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!s.exists("w/dropped.txt").await.unwrap());
    let (_, files) = s.listdir("w").await.unwrap();
    assert_eq!(files, ["out.txt"], "no temporary file is left or listed");
    let leftovers: Vec<_> = std::fs::read_dir(s.root().join("w")).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
}

#[tokio::test]
async fn bad_names_are_typed_errors_and_write_nothing() {
    let (dir, s) = storage();
    let long = "n".repeat(5000);
    for name in [
        "",
        "..",
        "../up.txt",
        "/abs.txt",
        "a/../../b.txt",
        "dir/",
        "nul\0byte.txt",
    ] {
        let e = s.save(name, "x", None).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidName, "{name:?}: {e}");
    }
    let e = s.save(&long, "x", None).await.unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Io | ErrorKind::InvalidName), "{e}");
    assert!(s.open("../x", "rb").await.unwrap_err().is_invalid_name());
    assert!(s.delete("/etc/passwd").await.unwrap_err().is_invalid_name());
    assert!(s.open("x", "rw").await.is_err());
    // Nothing was written anywhere.
    assert!(!s.root().exists() || std::fs::read_dir(s.root()).unwrap().next().is_none());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        usize::from(s.root().exists())
    );
}

#[cfg(unix)]
#[tokio::test]
async fn non_utf8_paths_are_typed_errors() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(std::ffi::OsStr::from_bytes(b"ro\xffot"));
    let s = FileSystemStorage::new(&root);
    let e = s.save("a.txt", "x", None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidName, "{e}");
    assert!(!root.exists(), "nothing written under a non-UTF-8 root");
    let ok = FileSystemStorage::new(dir.path().join("ok"));
    ok.save("d/a.txt", "x", None).await.unwrap();
    std::fs::write(
        ok.root().join("d").join(std::ffi::OsStr::from_bytes(b"bad\xfe.txt")),
        b"x",
    )
    .unwrap();
    let e = ok.listdir("d").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidName, "{e}");
}

#[tokio::test]
async fn content_from_a_file_and_a_reader() {
    let (dir, s) = storage();
    let src = dir.path().join("upload.bin");
    std::fs::write(&src, vec![9u8; 300_000]).unwrap();
    let name = s.save("", Content::from_path(&src), None).await.unwrap();
    assert_eq!(name, "upload.bin");
    assert_eq!(s.size(&name).await.unwrap(), 300_000);
    let name = s
        .save("r.txt", Content::from_reader(&b"from a reader"[..]), None)
        .await
        .unwrap();
    assert_eq!(std::fs::read(s.root().join(name)).unwrap(), b"from a reader");
}
