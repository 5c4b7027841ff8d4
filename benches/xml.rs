//! XML of listings and bulk deletes: `parse_list_objects` on a realistic ListObjectsV2
//! page of 1,000 keys (`EncodingType` url, so every key is url-decoded, and the same page
//! without encoding), and `write_delete` of a 1,000-key DeleteObjects body.
//!
//! Target (DESIGN.md): under 1 ms per 1,000 keys for each.
//!
//! Run: `cargo bench --bench xml`.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use storages_s3::fuzzing::xml::{parse_list_objects, write_delete};

const KEYS: usize = 1000;

/// The i-th key: `media/uploads/2026/11/26/photo-000123 final.jpg`, with a non-ASCII
/// name every tenth key so that `%XX` decoding is exercised as well as `+`.
fn key(i: usize) -> String {
    let day = 1 + i % 28;
    if i % 10 == 7 {
        format!("media/uploads/2026/11/{day:02}/café-{i:06} été.jpg")
    } else {
        format!("media/uploads/2026/11/{day:02}/photo-{i:06} final.jpg")
    }
}

/// S3's `encoding-type=url`: every byte but unreserved characters and `/` as `%XX`, and a
/// space as `+`.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A ListObjectsV2 reply as AWS writes it: 1,000 `Contents`, truncated, with a
/// continuation token; keys url-encoded when `url` is set.
fn list_reply(url: bool) -> Vec<u8> {
    let mut x = String::with_capacity(KEYS * 330);
    x.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.push('\n');
    x.push_str(r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#);
    x.push_str("<Name>media-bucket</Name>");
    x.push_str("<Prefix>media/uploads/</Prefix>");
    x.push_str("<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>");
    let _ = write!(x, "<KeyCount>{KEYS}</KeyCount><MaxKeys>1000</MaxKeys>");
    if url {
        x.push_str("<EncodingType>url</EncodingType>");
    }
    x.push_str("<IsTruncated>true</IsTruncated>");
    for i in 0..KEYS {
        let k = key(i);
        let k = if url { url_encode(&k) } else { k };
        let etag = format!(
            "{:032x}",
            (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
        );
        let etag = if i % 50 == 0 {
            format!("{}-3", &etag[..32])
        } else {
            etag
        };
        let _ = write!(
            x,
            "<Contents><Key>{k}</Key><LastModified>2026-11-{:02}T{:02}:{:02}:{:02}.000Z</LastModified>\
             <ETag>&quot;{etag}&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>\
             <Size>{}</Size><StorageClass>{}</StorageClass></Contents>",
            1 + i % 28,
            i % 24,
            i % 60,
            (i * 7) % 60,
            100_000 + i * 1_337,
            if i % 20 == 0 { "STANDARD_IA" } else { "STANDARD" },
        );
    }
    x.push_str("</ListBucketResult>");
    x.into_bytes()
}

fn bench_xml(c: &mut Criterion) {
    let encoded = list_reply(true);
    let plain = list_reply(false);
    let keys: Vec<String> = (0..KEYS).map(key).collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();

    // Sanity: both replies parse to the same 1,000 decoded keys.
    for reply in [&encoded, &plain] {
        let page = parse_list_objects(reply).expect("parse");
        assert_eq!(page.objects.len(), KEYS);
        assert!(page.is_truncated);
        assert_eq!(page.objects[123].key, keys[123]);
        assert_eq!(page.objects[7].key, keys[7]);
        assert_eq!(page.objects[0].etag.as_deref().map(|e| e.starts_with('"')), Some(true));
        assert!(page.objects[0].last_modified.is_some());
    }
    let body = write_delete(&key_refs, true).expect("write_delete");
    println!(
        "list reply: {} bytes url-encoded, {} bytes plain; delete body: {} bytes",
        encoded.len(),
        plain.len(),
        body.len()
    );

    let mut g = c.benchmark_group("xml");
    g.throughput(Throughput::Elements(KEYS as u64));
    g.bench_function("parse_list_objects_1000_url", |b| {
        b.iter(|| parse_list_objects(black_box(&encoded)).expect("parse"))
    });
    g.bench_function("parse_list_objects_1000_plain", |b| {
        b.iter(|| parse_list_objects(black_box(&plain)).expect("parse"))
    });
    g.bench_function("write_delete_1000", |b| {
        b.iter(|| write_delete(black_box(&key_refs), true).expect("write_delete"))
    });
    g.finish();
}

criterion_group!(benches, bench_xml);
criterion_main!(benches);
