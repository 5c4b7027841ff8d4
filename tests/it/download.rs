//! Downloads in parallel pieces (as s3transfer does for the original's reads): the object's
//! bytes exactly, through faults (a piece broken midway resumes on its own), pinned to one
//! version (a changed object is an error), every byte checked against the stored checksum,
//! and a file under its name only once complete and verified.

use std::path::Path;

use storages_s3::ErrorKind;
use storages_s3::config::{ChecksumAlgorithm, ObjectParameters};
use storages_s3::s3::{Client, DownloadOptions, Upload, UploadOptions, Verification};

use crate::common::hostile::{Hostile, Reply, Request};
use crate::common::proxy::{Fault, FaultProxy};
use crate::common::{Bed, Capability, Style, unique_bucket};

const MIB: usize = 1024 * 1024;
const ETAG: &str = "\"0123456789abcdef0123456789abcdef\"";

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed))
        .collect()
}

fn pieces(part: usize, at_once: usize) -> DownloadOptions {
    DownloadOptions {
        part_size: Some(part as u64),
        threshold: Some(part as u64),
        max_concurrency: Some(at_once),
        ..DownloadOptions::default()
    }
}

/// The bed's options for a new bucket, every request going through `proxy`.
fn proxied(bed: &Bed, proxy: &FaultProxy, tag: &str) -> std::collections::HashMap<String, String> {
    let mut o = bed.options(&unique_bucket(tag), Style::Path);
    o.insert("endpoint_url".into(), format!("http://{}", proxy.addr));
    o
}

/// Files in `dir` (a download leaves nothing but its target).
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn a_large_object_comes_in_pieces_byte_for_byte(style: Style) {
    let bed = Bed::new().await;
    // With a whole-object checksum where the server stores one (moto 5.2.5 stores a wrong
    // one for multipart uploads, which the download rightly refuses).
    let checksums = if bed.has(Capability::FullObjectChecksums) {
        "when_supported"
    } else {
        "when_required"
    };
    let client = bed
        .client_with("dlpieces", style, &[("request_checksum_calculation", checksums)])
        .await;
    let object = data(20 * MIB + 12_345, 3);
    // Stored in parts with a whole-object checksum, then read back in other pieces.
    let options = UploadOptions {
        part_size: Some(5 * MIB as u64),
        threshold: Some(5 * MIB as u64),
        ..UploadOptions::default()
    };
    let mut upload = Upload::new(&client, "big.bin", options).unwrap();
    upload.write(&object).await.unwrap();
    upload.finish().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("big.bin");
    let got = client
        .download_to_path("big.bin", &target, pieces(3 * MIB, 4))
        .await
        .unwrap();
    assert_eq!((got.size, got.parts), (object.len() as u64, 7));
    assert!(std::fs::read(&target).unwrap() == object);
    assert_eq!(files_in(dir.path()), ["big.bin"]);
    if bed.has(Capability::FullObjectChecksums) {
        assert!(got.verification.is_verified(), "{:?}", got.verification);
    } else {
        bed.skip_unless(Capability::FullObjectChecksums, "a parallel download verified whole");
    }
    // A small object is one GET; to a writer, the same bytes.
    client
        .put_object("small.txt", "small".into(), &ObjectParameters::new())
        .await
        .unwrap();
    let mut out = Vec::new();
    let got = client
        .download_to_writer("small.txt", &mut out, pieces(3 * MIB, 4))
        .await
        .unwrap();
    assert_eq!((out.as_slice(), got.parts), (&b"small"[..], 1));
    let mut out = Vec::new();
    client
        .download_to_writer("big.bin", &mut out, pieces(MIB, 10))
        .await
        .unwrap();
    assert!(out == object);
}

both_styles!(a_large_object_comes_in_pieces_byte_for_byte);

#[tokio::test]
async fn a_piece_broken_midway_resumes_on_its_own() {
    let bed = Bed::new().await;
    let proxy = FaultProxy::start(bed.addr).await;
    let o = proxied(&bed, &proxy, "dlfault");
    let client = Client::new(
        &storages_s3::Settings::builder()
            .options(o)
            .no_globals()
            .build()
            .unwrap(),
    )
    .unwrap();
    client.create_bucket().await.unwrap();
    let object = data(6 * MIB, 9);
    let mut upload = Upload::new(&client, "k.bin", UploadOptions::default()).unwrap();
    upload.write(&object).await.unwrap();
    upload.finish().await.unwrap();
    // The HEAD passes; two pieces are cut after 100 KiB and 1 MiB.
    proxy.push([Fault::Pass, Fault::TruncateBody(100 * 1024), Fault::TruncateBody(MIB)]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("k.bin");
    let got = client
        .download_to_path("k.bin", &target, pieces(2 * MIB, 2))
        .await
        .unwrap();
    assert_eq!(got.parts, 3);
    assert!(std::fs::read(&target).unwrap() == object);
    let resumed = proxy
        .requests()
        .iter()
        .filter(|h| h.starts_with("GET ") && h.to_ascii_lowercase().contains("if-match:"))
        .count();
    assert_eq!(resumed, 5, "three pieces and two resumes, each pinned");
}

/// A file's local copy goes as the original's `download_fileobj` does: a large object in
/// pieces at once, each pinned to the version the file was opened on, a piece cut midway
/// resumed; the file then reads at its end. Replaced after the open, the object is an error,
/// not a copy of the new version.
#[tokio::test]
async fn a_files_local_copy_comes_in_pieces_of_the_version_opened() {
    use tokio::io::AsyncReadExt;
    let bed = Bed::new().await;
    let proxy = FaultProxy::start(bed.addr).await;
    let mut o = proxied(&bed, &proxy, "dlcopy");
    o.insert(
        "transfer_config".into(),
        r#"{"multipart_threshold": 5242880, "multipart_chunksize": 5242880, "max_concurrency": 3}"#.into(),
    );
    let storage = storages_s3::S3Storage::builder()
        .options(o)
        .no_globals()
        .build()
        .unwrap();
    storage.client().create_bucket().await.unwrap();
    let object = data(12 * MIB + 7, 5);
    storage
        .save("big.bin", storages_s3::Content::from_bytes(object.clone()), None)
        .await
        .unwrap();
    let mut file = storage.open("big.bin", "rb").await.unwrap();
    let before = proxy.requests().len();
    // The second piece is cut after 1 MiB, and resumes.
    proxy.push([Fault::Pass, Fault::TruncateBody(MIB)]);
    let mut copy = file.local_copy().await.unwrap();
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut copy, &mut got).unwrap();
    assert!(got == object, "the copy is the object");
    let gets: Vec<String> = proxy
        .requests()
        .into_iter()
        .skip(before)
        .map(|h| h.to_ascii_lowercase())
        .filter(|h| h.starts_with("get "))
        .collect();
    assert!(
        gets.iter()
            .all(|h| h.contains("if-match:") && h.contains("range: bytes=")),
        "{gets:?}"
    );
    assert_eq!(gets.len(), 4, "three pieces and one resume: {gets:?}");
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "the file was read to its end");

    // Replaced after the open: the copy is refused, not made of the new version.
    let mut file = storage.open("big.bin", "rb").await.unwrap();
    storage
        .client()
        .put_object("big.bin", data(11 * MIB, 6).into(), &ObjectParameters::new())
        .await
        .unwrap();
    let e = file.local_copy().await.unwrap_err();
    assert!(e.is_precondition_failed(), "{e}");
}

/// A server for downloads of `object`: HEAD states its size and `head_checksum`; each GET
/// gets `get(n, request)`.
async fn object_server(
    object: Vec<u8>,
    head_checksum: Option<String>,
    get: impl Fn(usize, &Request, &[u8]) -> Reply + Send + Sync + 'static,
) -> Hostile {
    Hostile::start(move |n, req| {
        if req.method == "HEAD" {
            let len = object.len().to_string();
            let mut headers = vec![("etag", ETAG), ("content-length", len.as_str())];
            if let Some(c) = &head_checksum {
                headers.push(("x-amz-checksum-crc64nvme", c.as_str()));
            }
            return Reply::head(200, &headers);
        }
        get(n, req, &object)
    })
    .await
}

fn range_reply(req: &Request, object: &[u8], etag: &str, corrupt: bool) -> Reply {
    let (first, last) = req.range().unwrap();
    let last = last.unwrap().min(object.len() as u64 - 1);
    let mut body = object[first as usize..=last as usize].to_vec();
    if corrupt {
        body[0] ^= 1;
    }
    let range = format!("bytes {first}-{last}/{}", object.len());
    Reply::new(206, &[("etag", etag), ("content-range", &range)], &body)
}

#[tokio::test]
async fn a_changed_object_is_an_error_and_leaves_no_file() {
    let object = data(300_000, 1);
    // The second piece comes from another version (a server that ignores If-Match).
    let server = object_server(object, None, |n, req, o| {
        let etag = if n == 2 {
            "\"fedcba9876543210fedcba9876543210\""
        } else {
            ETAG
        };
        range_reply(req, o, etag, false)
    })
    .await;
    let client = Client::new(&server.settings(&[])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("k.bin");
    std::fs::write(&target, b"the old content").unwrap();
    let e = client
        .download_to_path("k", &target, pieces(100_000, 1))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PreconditionFailed, "{e}");
    assert_eq!(
        std::fs::read(&target).unwrap(),
        b"the old content",
        "never partial content"
    );
    assert_eq!(files_in(dir.path()), ["k.bin"], "no temporary left");
}

#[tokio::test]
async fn a_corrupted_piece_is_caught_by_the_whole_objects_checksum() {
    let object = data(300_000, 2);
    let crc = ChecksumAlgorithm::Crc64Nvme.value_of(&object);
    // Every download's second piece is corrupted in the first attempt only.
    let server = object_server(object.clone(), Some(crc.clone()), |n, req, o| {
        range_reply(req, o, ETAG, n == 2)
    })
    .await;
    let client = Client::new(&server.settings(&[])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("k.bin");
    let got = client.download_to_path("k", &target, pieces(100_000, 1)).await.unwrap();
    assert!(std::fs::read(&target).unwrap() == object);
    assert_eq!(
        got.verification,
        Verification::Verified(got_checksum(&got.verification))
    );
    assert_eq!(
        server.requests().iter().filter(|r| r.method == "HEAD").count(),
        2,
        "downloaded once more"
    );
    // Corrupted every time: the typed error, and no file.
    let server = object_server(object, Some(crc), |_, req, o| range_reply(req, o, ETAG, true)).await;
    let client = Client::new(&server.settings(&[])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("k.bin");
    let e = client
        .download_to_path("k", &target, pieces(100_000, 3))
        .await
        .unwrap_err();
    assert!(e.is_checksum_mismatch(), "{e}");
    assert!(files_in(dir.path()).is_empty(), "{:?}", files_in(dir.path()));
}

fn got_checksum(v: &Verification) -> storages_s3::s3::StoredChecksum {
    match v {
        Verification::Verified(c) => c.clone(),
        other => panic!("not verified: {other:?}"),
    }
}
