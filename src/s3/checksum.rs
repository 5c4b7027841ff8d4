//! Checksums S3 checks: `Content-MD5` and the flexible `x-amz-checksum-crc32`.

use base64::Engine as _;
use md5::Digest as _;

/// `Content-MD5`: base64 of the MD5 of the body.
pub fn content_md5(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body))
}

/// `x-amz-checksum-crc32`: base64 of the big-endian CRC32 of the body.
pub fn crc32_base64(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(body).to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
        assert_eq!(content_md5(b"hello"), "XUFAKrxLKna5cZ2REBfFkg==");
        // CRC32 of "hello" is 0x3610a686.
        assert_eq!(crc32_base64(b"hello"), "NhCmhg==");
        assert_eq!(crc32_base64(b""), "AAAAAA==");
    }
}
