//! Request signing: SigV4 through `aws-sigv4`, legacy SigV2 by hand.
//!
//! Both take a request that is complete but for its signature (method, URL, `Host` and
//! every other header) and add the signature to it, or produce a presigned URL.

mod v2;
mod v4;

#[cfg(feature = "fuzzing")]
pub use v2::string_to_sign_v2;
pub use v2::{presign_v2, sign_v2};
pub use v4::{presign_v4, sign_v4};

use sha2::Digest as _;

/// The SHA-256 of an empty payload.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What `x-amz-content-sha256` says about the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadHash {
    /// The hex SHA-256 of a body in memory: the signature covers the payload.
    Sha256(String),
    /// `UNSIGNED-PAYLOAD`, for streamed bodies (TLS protects them in transit).
    Unsigned,
}

impl PayloadHash {
    /// The hash of bytes in memory.
    pub fn of(body: &[u8]) -> Self {
        if body.is_empty() {
            return PayloadHash::Sha256(EMPTY_SHA256.to_owned());
        }
        PayloadHash::Sha256(hex::encode(sha2::Sha256::digest(body)))
    }

    /// The header value.
    #[cfg(feature = "fuzzing")]
    pub fn as_str(&self) -> &str {
        match self {
            PayloadHash::Sha256(h) => h,
            PayloadHash::Unsigned => "UNSIGNED-PAYLOAD",
        }
    }
}
