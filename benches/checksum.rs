//! Flexible checksums at the speed of the hardware: each algorithm over an 8 MiB part (a
//! multipart upload's default), in one call and in the 64 KiB pieces a download verifies
//! as they arrive, and the combine of 1,000 parts' CRCs into the whole object's.
//!
//! Run: `cargo bench --bench checksum` (criterion reports GiB/s).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use storages_s3::config::ChecksumAlgorithm;
use storages_s3::fuzzing::checksum::combine;

const PART: usize = 8 * 1024 * 1024;

fn checksums(c: &mut Criterion) {
    let data: Vec<u8> = (0..PART).map(|i| (i as u8).wrapping_mul(31).wrapping_add(7)).collect();
    let mut group = c.benchmark_group("checksum 8 MiB");
    group.throughput(Throughput::Bytes(PART as u64));
    for algorithm in ChecksumAlgorithm::ALL {
        group.bench_function(algorithm.name(), |b| b.iter(|| algorithm.value_of(black_box(&data))));
    }
    group.finish();
    let part = ChecksumAlgorithm::Crc64Nvme.value_of(&data[..4096]);
    // One combine builds the operator of the length; a multipart upload's whole-object
    // checksum builds it once for all its equal parts.
    c.bench_function("combine 1000 CRC64NVME parts, each alone", |b| {
        b.iter(|| {
            let mut whole = part.clone();
            for _ in 0..999 {
                whole = combine(ChecksumAlgorithm::Crc64Nvme, &whole, black_box(&part), PART as u64).unwrap();
            }
            whole
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = checksums
}
criterion_main!(benches);
