//! Request signing: SigV4 in headers for one typical PutObject (host, content-type,
//! content-length, user-agent, an `x-amz-meta-*` header, precomputed payload SHA-256),
//! a SigV4 presigned GET URL, SigV2 header signing of the same request, and the payload
//! hash (`PayloadHash::of`) of a 64 KiB body.
//!
//! Target (DESIGN.md): SigV4 header signing under 10 µs per request. The `HeaderMap`
//! that signing mutates is cloned per iteration in `iter_batched` setup, outside the
//! measurement; `headers_clone` measures that clone on its own, and
//! `sigv4_headers_with_clone` times clone + sign together in a plain loop.
//!
//! Run: `cargo bench --bench sign`.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Method, Uri};
use storages_s3::credentials::Credentials;
use storages_s3::fuzzing::sign::{PayloadHash, presign_v4, sign_v2, sign_v4};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "eu-west-3";
const URL: &str = "https://media-bucket.s3.eu-west-3.amazonaws.com/media/uploads/2026/11/26/photo-000123%20final.jpg";

/// A fixed signing time, so every iteration signs the same string.
fn signing_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

/// The headers of a typical PutObject before signing.
fn request_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "host",
        HeaderValue::from_static("media-bucket.s3.eu-west-3.amazonaws.com"),
    );
    h.insert("content-type", HeaderValue::from_static("image/jpeg"));
    h.insert("content-length", HeaderValue::from_static("65536"));
    h.insert("user-agent", HeaderValue::from_static("storages-s3/0.1.0"));
    h.insert("x-amz-meta-uploaded-by", HeaderValue::from_static("user-4711"));
    h
}

fn bench_sign(c: &mut Criterion) {
    let method = Method::PUT;
    let uri: Uri = URL.parse().expect("uri");
    let creds = Credentials::new(ACCESS_KEY, SECRET_KEY);
    let body = vec![0x5au8; 64 * 1024];
    let payload = PayloadHash::of(&body);
    let headers = request_headers();
    let time = signing_time();

    // Sanity: each signer succeeds and adds what it should, before anything is timed.
    {
        let mut h = headers.clone();
        sign_v4(&method, &uri, &mut h, &creds, REGION, time, &payload).expect("sign_v4");
        assert!(h.contains_key("authorization") && h.contains_key("x-amz-date"));
        let mut h = headers.clone();
        sign_v2(&method, &uri, &mut h, &creds, time, Some("media-bucket")).expect("sign_v2");
        assert!(h.contains_key("authorization") && h.contains_key("date"));
    }

    let mut g = c.benchmark_group("sign");
    g.bench_function("headers_clone", |b| b.iter(|| black_box(headers.clone())));
    g.bench_function("sigv4_headers", |b| {
        b.iter_batched(
            || headers.clone(),
            |mut h| {
                sign_v4(&method, &uri, &mut h, &creds, REGION, time, &payload).expect("sign_v4");
                h
            },
            BatchSize::SmallInput,
        )
    });
    // The same with the clone timed: no batches of pre-built inputs, so the allocator sees
    // the request's real pattern (allocate, sign, free).
    g.bench_function("sigv4_headers_with_clone", |b| {
        b.iter(|| {
            let mut h = headers.clone();
            sign_v4(&method, &uri, &mut h, &creds, REGION, time, &payload).expect("sign_v4");
            h
        })
    });
    let presign_headers = {
        let mut h = HeaderMap::new();
        h.insert(
            "host",
            HeaderValue::from_static("media-bucket.s3.eu-west-3.amazonaws.com"),
        );
        h
    };
    g.bench_function("sigv4_presign", |b| {
        b.iter(|| {
            presign_v4(
                &Method::GET,
                &uri,
                &presign_headers,
                &creds,
                REGION,
                time,
                Duration::from_secs(3600),
            )
            .expect("presign_v4")
        })
    });
    g.bench_function("sigv2_headers", |b| {
        b.iter_batched(
            || headers.clone(),
            |mut h| {
                sign_v2(&method, &uri, &mut h, &creds, time, Some("media-bucket")).expect("sign_v2");
                h
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("payload_hash");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("sha256_64KiB", |b| b.iter(|| PayloadHash::of(black_box(&body))));
    g.finish();
}

criterion_group!(benches, bench_sign);
criterion_main!(benches);
