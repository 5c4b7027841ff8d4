//! Gzip as the storage uses it: deterministic compression of uploads, byte for byte what
//! the original stores (zlib's deflate at level 9 in zlib's own gzip wrapper: mtime 0, no
//! file name, XFL 2, OS 3), so the same file gives the same object and ETag from either;
//! and streaming decompression of objects stored with `Content-Encoding: gzip`.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, Read, Write as _};

use bytes::Bytes;
use flate2::Compression;
use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::error::{Error, ErrorKind, Result};

/// The operating system byte zlib writes in its gzip header on Unix (the original's
/// `zlib.compressobj(9, zlib.DEFLATED, 31)` wrote it on the servers that stored the files).
const OS_UNIX: u8 = 3;

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
            .operating_system(OS_UNIX)
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

/// Compresses a whole buffer (deterministic: the same bytes every time).
pub fn compress(data: &[u8]) -> Bytes {
    let mut c = Compressor::new();
    let head = c.push(data);
    let tail = c.finish();
    let mut out = Vec::with_capacity(head.len() + tail.len());
    out.extend_from_slice(&head);
    out.extend_from_slice(&tail);
    Bytes::from(out)
}

/// Compressed bytes waiting for the decoder. Reading from it when it is empty says
/// `WouldBlock` until [`Decompressor::end`] (flate2's gzip decoder keeps its place and
/// asks again), so the decoder only ever holds what the network already delivered.
#[derive(Default)]
struct Input {
    chunks: VecDeque<Bytes>,
    ended: bool,
}

impl Read for Input {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.chunks.front().is_some_and(Bytes::is_empty) {
            self.chunks.pop_front();
        }
        match self.chunks.front() {
            Some(chunk) => Ok(chunk),
            None if self.ended => Ok(&[]),
            None => Err(std::io::ErrorKind::WouldBlock.into()),
        }
    }

    fn consume(&mut self, n: usize) {
        if let Some(chunk) = self.chunks.front_mut() {
            let _ = chunk.split_to(n.min(chunk.len()));
        }
    }
}

/// A streaming gzip decompressor (several members allowed, as `gzip` concatenates them)
/// that inflates only as much as its reader asks for: memory follows the reads, never the
/// compression ratio (a small gzip bomb does not become gigabytes in memory).
pub struct Decompressor {
    decoder: MultiGzDecoder<Input>,
}

impl Default for Decompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decompressor").finish_non_exhaustive()
    }
}

impl Decompressor {
    /// A new decompressor.
    pub fn new() -> Self {
        Decompressor {
            decoder: MultiGzDecoder::new(Input::default()),
        }
    }

    /// Queues compressed bytes.
    pub fn push(&mut self, data: Bytes) {
        self.decoder.get_mut().chunks.push_back(data);
    }

    /// Says that no more compressed bytes will come: a stream that stops midway is then
    /// an error.
    pub fn end(&mut self) {
        self.decoder.get_mut().ended = true;
    }

    /// Whether compressed bytes are queued and not yet decoded.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn has_input(&self) -> bool {
        self.decoder.get_ref().chunks.iter().any(|c| !c.is_empty())
    }

    /// Inflates into `out`: `Some(n)` bytes (`Some(0)` at the end of the stream, after
    /// [`end`](Decompressor::end)), or `None` when more compressed bytes are needed first.
    /// Invalid or truncated gzip is an [`ErrorKind::InvalidResponse`] error.
    pub fn read(&mut self, out: &mut [u8]) -> Result<Option<usize>> {
        if out.is_empty() {
            return Ok(Some(0));
        }
        loop {
            match self.decoder.read(out) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::new(ErrorKind::InvalidResponse, "the object is not valid gzip").with_source(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn compression_is_deterministic_and_inflation_follows_the_reads() {
        let a = compress(b"body { margin: 0 }");
        assert_eq!(a, compress(b"body { margin: 0 }"));
        assert_eq!(&a[..3], &[0x1f, 0x8b, 8]);
        let mut d = Decompressor::new();
        d.push(compress(&[0u8; 100_000]));
        d.end();
        let mut out = [1u8; 4096];
        assert_eq!(d.read(&mut out).unwrap(), Some(4096), "never more than asked");
        assert!(out.iter().all(|b| *b == 0));
    }

    use super::*;

    /// Everything `d` gives, read `step` bytes at a time (`None`: it wants more input).
    fn drain(d: &mut Decompressor, step: usize, out: &mut Vec<u8>) -> Result<Option<usize>> {
        let mut buf = vec![0u8; step];
        loop {
            match d.read(&mut buf)? {
                Some(0) => return Ok(Some(0)),
                Some(n) => {
                    assert!(n <= step);
                    out.extend_from_slice(&buf[..n]);
                }
                None => return Ok(None),
            }
        }
    }

    #[test]
    fn deterministic_header_and_round_trip() {
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 97).to_le_bytes()).collect();
        let z = compress(&data);
        // Magic, deflate, no flags, mtime 0, max compression, Unix.
        assert_eq!(&z[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
        let mut c = Compressor::new();
        let mut streamed = Vec::new();
        for piece in data.chunks(7_777) {
            streamed.extend_from_slice(&c.push(piece));
        }
        streamed.extend_from_slice(&c.finish());
        assert_eq!(streamed, z.to_vec(), "streaming gives the same bytes");
        // Fed in pieces of every size, read in pieces of every size.
        for (piece, step) in [(1, 7), (1000, 1), (1000, 65_536), (z.len(), 3)] {
            let mut d = Decompressor::new();
            let mut out = Vec::new();
            for chunk in z.chunks(piece) {
                d.push(Bytes::copy_from_slice(chunk));
                assert_eq!(drain(&mut d, step, &mut out).unwrap(), None);
            }
            d.end();
            assert_eq!(drain(&mut d, step, &mut out).unwrap(), Some(0));
            assert_eq!(out, data, "pieces of {piece}, reads of {step}");
        }
    }

    #[test]
    fn several_members_are_one_stream() {
        let mut both = compress(b"hello ").to_vec();
        both.extend_from_slice(&compress(b"world"));
        let mut d = Decompressor::new();
        d.push(Bytes::from(both));
        d.end();
        let mut out = Vec::new();
        assert_eq!(drain(&mut d, 2, &mut out).unwrap(), Some(0));
        assert_eq!(out, b"hello world");
    }

    #[test]
    fn a_bomb_inflates_no_faster_than_it_is_read() {
        let bomb = compress(&vec![0u8; 64 << 20]);
        let mut d = Decompressor::new();
        d.push(bomb);
        d.end();
        let mut buf = [0u8; 8192];
        // A read never gives more than asked, whatever the ratio of what is queued.
        assert_eq!(d.read(&mut buf).unwrap(), Some(8192));
        assert!(d.has_input());
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let mut d = Decompressor::new();
        d.push(Bytes::from_static(b"definitely not gzip"));
        assert!(d.read(&mut [0u8; 64]).is_err());
        let z = compress(b"hello hello hello");
        let mut d = Decompressor::new();
        d.push(z.slice(..z.len() - 4));
        let mut out = Vec::new();
        assert_eq!(drain(&mut d, 64, &mut out).unwrap(), None, "waits for the rest");
        d.end();
        assert!(drain(&mut d, 64, &mut out).is_err(), "the rest never came");
    }
}
