//! Gzip as the storage uses it: deterministic compression of uploads (level 9, mtime 0,
//! no file name: the same bytes give the same object, as in the original) and streaming
//! decompression of objects stored with `Content-Encoding: gzip`.

use std::io::Write as _;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::{GzEncoder, MultiGzDecoder};

use crate::error::{Error, ErrorKind, Result};

/// "Unknown" operating system in the gzip header, as Python's `gzip` writes it.
const OS_UNKNOWN: u8 = 255;

/// A streaming gzip compressor: push input, take output as it comes.
pub struct Compressor {
    encoder: GzEncoder<Vec<u8>>,
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

impl Compressor {
    /// A compressor with the original's parameters.
    pub fn new() -> Self {
        let encoder = flate2::GzBuilder::new()
            .mtime(0)
            .operating_system(OS_UNKNOWN)
            .write(Vec::new(), Compression::best());
        Compressor { encoder }
    }

    /// Compresses `data`; returns the compressed bytes produced so far (maybe none).
    pub fn push(&mut self, data: &[u8]) -> Bytes {
        self.encoder.write_all(data).expect("writing to a Vec cannot fail");
        Bytes::from(std::mem::take(self.encoder.get_mut()))
    }

    /// Ends the stream; returns the last compressed bytes and the trailer.
    pub fn finish(self) -> Bytes {
        Bytes::from(self.encoder.finish().expect("writing to a Vec cannot fail"))
    }
}

/// Compresses a whole buffer.
///
/// ```
/// let a = storages_s3::storage::gzip::compress(b"body { margin: 0 }");
/// assert_eq!(a, storages_s3::storage::gzip::compress(b"body { margin: 0 }"));
/// assert_eq!(&a[..3], &[0x1f, 0x8b, 8]);
/// ```
pub fn compress(data: &[u8]) -> Bytes {
    let mut c = Compressor::new();
    let head = c.push(data);
    let tail = c.finish();
    let mut out = Vec::with_capacity(head.len() + tail.len());
    out.extend_from_slice(&head);
    out.extend_from_slice(&tail);
    Bytes::from(out)
}

/// A streaming gzip decompressor (several members allowed, as `gzip` concatenates them).
pub struct Decompressor {
    decoder: MultiGzDecoder<Vec<u8>>,
}

impl Default for Decompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl Decompressor {
    /// A new decompressor.
    pub fn new() -> Self {
        Decompressor {
            decoder: MultiGzDecoder::new(Vec::new()),
        }
    }

    fn invalid(e: std::io::Error) -> Error {
        Error::new(ErrorKind::InvalidResponse, "the object is not valid gzip").with_source(e)
    }

    /// Decompresses `data`; returns the bytes decoded so far.
    pub fn push(&mut self, data: &[u8]) -> Result<Bytes> {
        self.decoder.write_all(data).map_err(Self::invalid)?;
        Ok(Bytes::from(std::mem::take(self.decoder.get_mut())))
    }

    /// Ends the stream; an incomplete gzip stream is an error.
    pub fn finish(self) -> Result<Bytes> {
        self.decoder.finish().map(Bytes::from).map_err(Self::invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_header_and_round_trip() {
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 97).to_le_bytes()).collect();
        let z = compress(&data);
        // Magic, deflate, no flags, mtime 0, max compression, unknown OS.
        assert_eq!(&z[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
        let mut c = Compressor::new();
        let mut streamed = Vec::new();
        for piece in data.chunks(7_777) {
            streamed.extend_from_slice(&c.push(piece));
        }
        streamed.extend_from_slice(&c.finish());
        assert_eq!(streamed, z.to_vec(), "streaming gives the same bytes");
        let mut d = Decompressor::new();
        let mut out = Vec::new();
        for piece in z.chunks(1000) {
            out.extend_from_slice(&d.push(piece).unwrap());
        }
        out.extend_from_slice(&d.finish().unwrap());
        assert_eq!(out, data);
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let mut d = Decompressor::new();
        assert!(d.push(b"definitely not gzip").is_err());
        let z = compress(b"hello hello hello");
        let mut d = Decompressor::new();
        d.push(&z[..z.len() - 4]).unwrap();
        assert!(d.finish().is_err());
    }
}
