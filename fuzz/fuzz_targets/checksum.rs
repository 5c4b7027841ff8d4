//! Checksums: the verifier accepts a body however it is split into pieces, refuses it with
//! one bit changed, and the CRCs of two parts combine into the CRC of the whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storages_s3::ErrorKind;
use storages_s3::config::ChecksumAlgorithm;
use storages_s3::fuzzing::checksum::{StoredChecksum, Verifier, combine};

fn stored(algorithm: ChecksumAlgorithm, value: String) -> StoredChecksum {
    let mut headers = http::HeaderMap::new();
    let name = format!("x-amz-checksum-{}", algorithm.name().to_ascii_lowercase());
    headers.insert(
        http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
        http::HeaderValue::from_str(&value).unwrap(),
    );
    storages_s3::fuzzing::object_head(&headers)
        .unwrap()
        .checksum
        .expect("a stated checksum")
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Some((&cut, body)) = rest.split_first() else { return };
    let algorithm = ChecksumAlgorithm::ALL[pick as usize % 5];
    let right = algorithm.value_of(body);
    // Any split into pieces.
    let mut verifier = Verifier::new(stored(algorithm, right.clone()));
    let step = usize::from(cut).max(1);
    for piece in body.chunks(step) {
        verifier.update(piece);
    }
    assert_eq!(verifier.finish().unwrap().value, right);
    // One bit changed: every algorithm here detects it.
    if !body.is_empty() {
        let mut bad = body.to_vec();
        let at = usize::from(cut) % bad.len();
        bad[at] ^= 1 << (pick % 8);
        let mut verifier = Verifier::new(stored(algorithm, right.clone()));
        verifier.update(&bad);
        assert_eq!(verifier.finish().unwrap_err().kind(), ErrorKind::ChecksumMismatch);
    }
    // CRCs combine.
    let split = usize::from(cut).min(body.len());
    let (a, b) = body.split_at(split);
    match combine(
        algorithm,
        &algorithm.value_of(a),
        &algorithm.value_of(b),
        b.len() as u64,
    ) {
        Some(whole) => assert_eq!(whole, right, "{}", algorithm.name()),
        None => assert!(matches!(algorithm, ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256)),
    }
});
