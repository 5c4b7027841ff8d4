//! Gzip bodies byte for byte as the original stores them: the fixtures in
//! `tests/fixtures/gzip` were made by CPython's zlib exactly as django-storages-s3 calls it
//! (`make.py` there), from inputs generated here by the same rules.

use std::path::Path;

use md5::Digest as _;
use storages_s3::fuzzing::gzip::{Compressor, compress};

use crate::common::{Bed, Style};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gzip")
        .join(format!("{name}.gz"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `make.py`'s `text`: CSS-like rules, cut at `size` bytes.
fn text(size: usize) -> Vec<u8> {
    let mut out = String::new();
    let mut i: u64 = 0;
    while out.len() < size {
        out.push_str(&format!(
            ".rule-{i} {{ margin: {}px {}em; color: #{:06x}; }}\n",
            i % 17,
            i % 5,
            (i * 2_654_435_761) % 16_777_216
        ));
        i += 1;
    }
    out.into_bytes()[..size].to_vec()
}

/// `make.py`'s `noise`: the top byte of each state of a 64-bit LCG.
fn noise(size: usize) -> Vec<u8> {
    let mut x: u64 = 0x5EED;
    (0..size)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 56) as u8
        })
        .collect()
}

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty", Vec::new()),
        ("small", b"body { margin: 0; padding: 0 }\n".to_vec()),
        ("text-1mib", text(1 << 20)),
        ("noise-64kib", noise(64 << 10)),
    ]
}

#[test]
fn compression_is_byte_identical_to_the_original() {
    for (name, body) in bodies() {
        let expected = fixture(name);
        assert_eq!(&expected[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3], "{name}");
        let whole = compress(&body);
        assert!(
            whole[..] == expected[..],
            "{name}: {} bytes, the original's {}",
            whole.len(),
            expected.len()
        );
        // Streamed in pieces of any size, the same bytes.
        for piece in [1, 4096, 100_000] {
            if piece == 1 && body.len() > 70_000 {
                continue;
            }
            let mut c = Compressor::new();
            let mut streamed = Vec::new();
            for chunk in body.chunks(piece) {
                streamed.extend_from_slice(&c.push(chunk));
            }
            streamed.extend_from_slice(&c.finish());
            assert!(streamed == expected, "{name} in pieces of {piece}");
        }
    }
}

#[tokio::test]
async fn a_gzipped_save_stores_the_originals_object() {
    let bed = Bed::new().await;
    let storage = bed.storage("gzipsame", Style::Path, &[("gzip", "true")]).await;
    for (name, body) in bodies() {
        if body.is_empty() {
            continue;
        }
        let expected = fixture(name);
        let file = format!("{name}.css");
        storage.save(&file, body.clone(), None).await.unwrap();
        let got = storage.client().get_object(&file, None).await.unwrap();
        assert_eq!(got.head.content_encoding.as_deref(), Some("gzip"), "{name}");
        let etag = got.head.etag.clone().unwrap();
        let stored = got.body.collect(4 << 20).await.unwrap();
        assert!(
            stored[..] == expected[..],
            "{name}: the stored bytes are the original's"
        );
        assert_eq!(
            etag,
            format!("\"{}\"", hex::encode(md5::Md5::digest(&expected))),
            "{name}"
        );
        assert_eq!(storage.expected_etag(&file, &body).unwrap(), etag, "{name}");
    }
}
