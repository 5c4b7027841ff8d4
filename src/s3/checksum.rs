//! Checksums S3 checks and stores: `Content-MD5`, and the flexible checksums
//! (`x-amz-checksum-*`) computed before a body is sent and verified while a body is read.
//!
//! The CRCs run on the processor's CRC instructions (crc32fast, crc32c and
//! crc64fast-nvme; about 15 to 60 GiB/s here): next to TLS they cost little.

use base64::Engine as _;
use http::HeaderMap;
use md5::Digest as _;

use crate::config::ChecksumAlgorithm;
use crate::error::{Error, ErrorKind, Result};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `Content-MD5`: base64 of the MD5 of the body.
pub(crate) fn content_md5(body: &[u8]) -> String {
    B64.encode(md5::Md5::digest(body))
}

impl ChecksumAlgorithm {
    /// Every algorithm, in the order a reply's checksums are chosen from: the cheapest
    /// to verify first.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// S3's name (`x-amz-checksum-algorithm`, boto3's `ChecksumAlgorithm`).
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The header that carries a value.
    pub(crate) fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The element of a part in CompleteMultipartUpload's body.
    pub(crate) fn element(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc64Nvme => "ChecksumCRC64NVME",
            ChecksumAlgorithm::Crc32c => "ChecksumCRC32C",
            ChecksumAlgorithm::Crc32 => "ChecksumCRC32",
            ChecksumAlgorithm::Sha1 => "ChecksumSHA1",
            ChecksumAlgorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// Whether a multipart upload can store one value for the whole object
    /// (`FULL_OBJECT`, the CRCs); the hashes are stored per part (`COMPOSITE`).
    pub(crate) fn full_object(self) -> bool {
        matches!(
            self,
            ChecksumAlgorithm::Crc64Nvme | ChecksumAlgorithm::Crc32c | ChecksumAlgorithm::Crc32
        )
    }

    /// The checksum of `body` as S3 states it (base64 of the big-endian digest), to
    /// compare with [`ObjectHead::checksum`](crate::s3::ObjectHead::checksum).
    ///
    /// ```
    /// use storages_s3::config::ChecksumAlgorithm;
    /// assert_eq!(ChecksumAlgorithm::Crc32.value_of(b"hello"), "NhCmhg==");
    /// ```
    pub fn value_of(self, body: &[u8]) -> String {
        let mut h = Hasher::new(self);
        h.update(body);
        h.finish()
    }
}

/// A checksum a server stated for an object (`x-amz-checksum-*` of a GET or HEAD reply).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredChecksum {
    /// The algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// The value as sent (base64; a composite one ends in `-N`).
    pub value: String,
    /// For a composite checksum (a checksum of the parts' checksums), the number of
    /// parts: it cannot be checked against the whole object's bytes.
    pub parts: Option<u32>,
}

impl StoredChecksum {
    /// The checksum a reply states, if any: the first algorithm of
    /// [`ChecksumAlgorithm::ALL`] present. Composite when the value ends in `-N` or the
    /// reply says `x-amz-checksum-type: COMPOSITE`.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<StoredChecksum> {
        let (algorithm, value) = ChecksumAlgorithm::ALL.into_iter().find_map(|a| {
            let v = headers.get(a.header())?.to_str().ok()?.trim();
            (!v.is_empty()).then(|| (a, v.to_owned()))
        })?;
        let counted = value
            .rsplit_once('-')
            .and_then(|(_, n)| n.parse::<u32>().ok())
            .filter(|n| *n > 0);
        let declared = headers
            .get("x-amz-checksum-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("COMPOSITE"));
        let parts = counted.or(declared.then_some(0));
        Some(StoredChecksum {
            algorithm,
            value,
            parts,
        })
    }

    /// Whether it covers the whole object's bytes (and so can be checked on a whole read).
    pub fn is_full_object(&self) -> bool {
        self.parts.is_none()
    }
}

/// What was verified of a body read: see [`ObjectBody::verification`](crate::s3::ObjectBody::verification).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verification {
    /// Every byte read matched the checksum the server stored for the object.
    Verified(StoredChecksum),
    /// The body has not been read to its end yet: the checksum is checked there.
    Pending(StoredChecksum),
    /// A range (or a read resumed from a seek): a stored checksum covers the whole
    /// object, and there is none for part of it.
    Ranged,
    /// The stored checksum is composite (one per part of a multipart upload), which no
    /// whole read can check.
    Composite(StoredChecksum),
    /// The server stated no checksum (none was stored, or it returns none).
    Absent,
    /// Checking is off (`response_checksum_validation = when_required`).
    Disabled,
}

impl Verification {
    /// Whether the bytes were checked and matched.
    pub fn is_verified(&self) -> bool {
        matches!(self, Verification::Verified(_))
    }
}

/// A running checksum of one algorithm.
#[derive(Clone)]
pub(crate) enum Hasher {
    Crc64Nvme(crc64fast_nvme::Digest),
    Crc32c(u32),
    Crc32(crc32fast::Hasher),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    pub(crate) fn new(algorithm: ChecksumAlgorithm) -> Hasher {
        match algorithm {
            ChecksumAlgorithm::Crc64Nvme => Hasher::Crc64Nvme(crc64fast_nvme::Digest::new()),
            ChecksumAlgorithm::Crc32c => Hasher::Crc32c(0),
            ChecksumAlgorithm::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            ChecksumAlgorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Crc64Nvme(d) => d.write(bytes),
            Hasher::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, bytes),
            Hasher::Crc32(h) => h.update(bytes),
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
        }
    }

    /// The value, as the header carries it.
    pub(crate) fn finish(self) -> String {
        match self {
            Hasher::Crc64Nvme(d) => B64.encode(d.sum64().to_be_bytes()),
            Hasher::Crc32c(crc) => B64.encode(crc.to_be_bytes()),
            Hasher::Crc32(h) => B64.encode(h.finalize().to_be_bytes()),
            Hasher::Sha1(h) => B64.encode(h.finalize()),
            Hasher::Sha256(h) => B64.encode(h.finalize()),
        }
    }
}

/// The CRC of `a` followed by `b`, from the CRC of each and the length of `b`: how the
/// whole-object checksum of a multipart upload comes from its parts, hashed once each as
/// they are sent in parallel. `None` for the hashes, which do not combine.
pub fn combine(algorithm: ChecksumAlgorithm, a: &str, b: &str, len_b: u64) -> Option<String> {
    let decode = |v: &str| B64.decode(v).ok();
    let (a, b) = (decode(a)?, decode(b)?);
    match algorithm {
        ChecksumAlgorithm::Crc64Nvme => {
            let (a, b) = (
                u64::from_be_bytes(a.try_into().ok()?),
                u64::from_be_bytes(b.try_into().ok()?),
            );
            Some(B64.encode(crc64_combine(CRC64_NVME_REFLECTED, a, b, len_b).to_be_bytes()))
        }
        ChecksumAlgorithm::Crc32c => {
            let (a, b) = (
                u32::from_be_bytes(a.try_into().ok()?),
                u32::from_be_bytes(b.try_into().ok()?),
            );
            Some(B64.encode(crc32c::crc32c_combine(a, b, usize::try_from(len_b).ok()?).to_be_bytes()))
        }
        ChecksumAlgorithm::Crc32 => {
            let (a, b) = (
                u32::from_be_bytes(a.try_into().ok()?),
                u32::from_be_bytes(b.try_into().ok()?),
            );
            let mut h = crc32fast::Hasher::new_with_initial(a);
            h.combine(&crc32fast::Hasher::new_with_initial_len(b, len_b));
            Some(B64.encode(h.finalize().to_be_bytes()))
        }
        ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
    }
}

/// CRC-64/NVME's polynomial, bit-reflected.
const CRC64_NVME_REFLECTED: u64 = 0x9a6c_9329_ac4b_c9b5;

/// The CRC of `A || B` from `crc(A)`, `crc(B)` and `len(B)`, for a reflected 64-bit CRC
/// whose initial value and final xor are all ones (zlib's method: `crc(A)` is run through
/// `len(B)` zero bytes, then `crc(B)` is added). No crate the crate uses offers it for
/// CRC-64/NVME.
fn crc64_combine(poly: u64, crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    times(&crc64_shift(poly, len_b), crc_a) ^ crc_b
}

/// The matrix (over GF(2)) that runs a 64-bit reflected CRC register through `len` zero
/// bytes: the one-zero-bit operator, squared up to each set bit of the length, composed.
/// About 0.1 ms to build; a multipart upload builds it once for all its equal parts.
fn crc64_shift(poly: u64, mut len: u64) -> Box<[u64; 64]> {
    fn square(mat: &[u64; 64]) -> [u64; 64] {
        std::array::from_fn(|n| times(mat, mat[n]))
    }
    let mut op: Box<[u64; 64]> = Box::new(std::array::from_fn(|n| 1 << n));
    if len == 0 {
        return op;
    }
    // The operator for one zero bit, then two, then four.
    let mut odd = [0u64; 64];
    odd[0] = poly;
    for (n, row) in odd.iter_mut().enumerate().skip(1) {
        *row = 1 << (n - 1);
    }
    let mut even = square(&odd);
    odd = square(&even);
    // Compose the operators of the set bits of the length in bytes.
    let mut compose = |with: &[u64; 64]| {
        for row in op.iter_mut() {
            *row = times(with, *row);
        }
    };
    loop {
        even = square(&odd);
        if len & 1 != 0 {
            compose(&even);
        }
        len >>= 1;
        if len == 0 {
            break;
        }
        odd = square(&even);
        if len & 1 != 0 {
            compose(&odd);
        }
        len >>= 1;
        if len == 0 {
            break;
        }
    }
    op
}

/// A vector times a GF(2) matrix given by the images of the basis vectors.
fn times(mat: &[u64; 64], mut vec: u64) -> u64 {
    let mut sum = 0;
    let mut row = 0;
    while vec != 0 {
        if vec & 1 != 0 {
            sum ^= mat[row];
        }
        vec >>= 1;
        row += 1;
    }
    sum
}

/// Joins the CRCs of consecutive pieces into the CRC of them all, as [`combine`] does, with
/// the CRC-64/NVME operator of a length built once for every piece of that length (a
/// multipart upload's parts, but the last).
pub(crate) struct Joiner {
    algorithm: ChecksumAlgorithm,
    whole: Option<String>,
    shift: Option<(u64, Box<[u64; 64]>)>,
}

impl Joiner {
    pub(crate) fn new(algorithm: ChecksumAlgorithm) -> Joiner {
        Joiner {
            algorithm,
            whole: None,
            shift: None,
        }
    }

    /// Appends a piece of `len` bytes whose CRC is `value`; `None` when the algorithm does
    /// not combine or a value is not one.
    pub(crate) fn push(&mut self, value: &str, len: u64) -> Option<()> {
        let Some(whole) = self.whole.take() else {
            self.whole = Some(value.to_owned());
            return Some(());
        };
        self.whole = Some(if self.algorithm == ChecksumAlgorithm::Crc64Nvme {
            let decode = |v: &str| Some(u64::from_be_bytes(B64.decode(v).ok()?.try_into().ok()?));
            let (a, b) = (decode(&whole)?, decode(value)?);
            if self.shift.as_ref().is_none_or(|(l, _)| *l != len) {
                self.shift = Some((len, crc64_shift(CRC64_NVME_REFLECTED, len)));
            }
            let (_, shift) = self.shift.as_ref()?;
            B64.encode((times(shift, a) ^ b).to_be_bytes())
        } else {
            combine(self.algorithm, &whole, value, len)?
        });
        Some(())
    }

    pub(crate) fn finish(self) -> Option<String> {
        self.whole
    }
}

/// Checks a whole body's bytes against a stored checksum as they pass.
pub struct Verifier {
    expected: StoredChecksum,
    hasher: Hasher,
}

impl Verifier {
    /// A verifier of a body against the checksum the server stated.
    pub fn new(expected: StoredChecksum) -> Verifier {
        Verifier {
            hasher: Hasher::new(expected.algorithm),
            expected,
        }
    }

    /// The next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    /// At the end of the body: the stored checksum if it matched, else the typed error.
    pub fn finish(self) -> Result<StoredChecksum> {
        let got = self.hasher.finish();
        if got == self.expected.value {
            return Ok(self.expected);
        }
        Err(Error::new(
            ErrorKind::ChecksumMismatch,
            format!(
                "the bytes read do not match the object's stored {} checksum (stored {}, read {got})",
                self.expected.algorithm.name(),
                self.expected.value
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
        assert_eq!(content_md5(b"hello"), "XUFAKrxLKna5cZ2REBfFkg==");
        let check = |a: ChecksumAlgorithm, hex_be: &str| {
            let raw = B64.decode(a.value_of(b"123456789")).unwrap();
            assert_eq!(hex::encode(raw), hex_be, "{}", a.name());
        };
        // The catalogue's check values of each CRC.
        check(ChecksumAlgorithm::Crc32, "cbf43926");
        check(ChecksumAlgorithm::Crc32c, "e3069283");
        check(ChecksumAlgorithm::Crc64Nvme, "ae8b14860a799888");
        check(ChecksumAlgorithm::Sha1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441");
        check(
            ChecksumAlgorithm::Sha256,
            "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
        );
        assert_eq!(ChecksumAlgorithm::Crc32.value_of(b"hello"), "NhCmhg==");
        assert_eq!(ChecksumAlgorithm::Crc32.value_of(b""), "AAAAAA==");
        assert_eq!(ChecksumAlgorithm::Crc64Nvme.value_of(b""), "AAAAAAAAAAA=");
    }

    #[test]
    fn crcs_of_parts_combine_into_the_whole_objects() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..200 {
            let len = rng.usize(0..3000);
            let data: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            let cut = rng.usize(0..=len);
            let (a, b) = data.split_at(cut);
            for alg in [
                ChecksumAlgorithm::Crc64Nvme,
                ChecksumAlgorithm::Crc32c,
                ChecksumAlgorithm::Crc32,
            ] {
                let joined = combine(alg, &alg.value_of(a), &alg.value_of(b), b.len() as u64).unwrap();
                assert_eq!(joined, alg.value_of(&data), "{} at {cut} of {len}", alg.name());
            }
        }
        assert_eq!(combine(ChecksumAlgorithm::Sha1, "x", "y", 1), None);
        // Many parts of one size and a shorter last one, joined with the cached operator.
        let data: Vec<u8> = (0..50_000).map(|_| rng.u8(..)).collect();
        for alg in [ChecksumAlgorithm::Crc64Nvme, ChecksumAlgorithm::Crc32] {
            let mut joiner = Joiner::new(alg);
            for part in data.chunks(7_000) {
                joiner.push(&alg.value_of(part), part.len() as u64).unwrap();
            }
            assert_eq!(joiner.finish().unwrap(), alg.value_of(&data), "{}", alg.name());
        }
        assert_eq!(combine(ChecksumAlgorithm::Crc32, "!", "AAAAAA==", 1), None);
    }

    #[test]
    fn the_stated_checksum_is_chosen_and_read() {
        let mut h = HeaderMap::new();
        assert_eq!(StoredChecksum::from_headers(&h), None);
        h.insert("x-amz-checksum-sha256", "abc=".parse().unwrap());
        h.insert("x-amz-checksum-crc32", "NhCmhg==".parse().unwrap());
        let s = StoredChecksum::from_headers(&h).unwrap();
        assert_eq!(
            (s.algorithm, s.value.as_str(), s.is_full_object()),
            (ChecksumAlgorithm::Crc32, "NhCmhg==", true)
        );
        h.insert("x-amz-checksum-crc32", "NhCmhg==-3".parse().unwrap());
        assert_eq!(StoredChecksum::from_headers(&h).unwrap().parts, Some(3));
        h.insert("x-amz-checksum-crc32", "NhCmhg==".parse().unwrap());
        h.insert("x-amz-checksum-type", "COMPOSITE".parse().unwrap());
        assert!(!StoredChecksum::from_headers(&h).unwrap().is_full_object());
    }

    #[test]
    fn a_verifier_accepts_the_right_bytes_only() {
        let stored = |v: &str| StoredChecksum {
            algorithm: ChecksumAlgorithm::Crc32,
            value: v.into(),
            parts: None,
        };
        let mut v = Verifier::new(stored("NhCmhg=="));
        v.update(b"hel");
        v.update(b"lo");
        assert!(v.finish().is_ok());
        let mut v = Verifier::new(stored("NhCmhg=="));
        v.update(b"hellO");
        assert_eq!(v.finish().unwrap_err().kind(), ErrorKind::ChecksumMismatch);
        // A value that is not even base64 never matches.
        assert!(Verifier::new(stored("not base64")).finish().is_err());
    }
}
