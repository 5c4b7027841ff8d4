//! Which S3 server the tests run against, and what it can do. `STORAGES_S3_TEST_SERVER`
//! names it (`s3s-fs`, `moto`, `garage`, `aws`, `minio`, `r2`, `rustfs`); without an
//! external endpoint the tests run against s3s-fs in process. A test that needs what the
//! server lacks skips with a line that names the capability; a test whose expectation
//! depends on the server asks it and asserts the right thing for each.

use std::fmt;

/// An S3 server the suite knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    S3sFs,
    Moto,
    Garage,
    Aws,
    Minio,
    R2,
    RustFs,
}

/// Something a test may need of its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Refuses requests and URLs whose signature is wrong, missing or expired.
    SignatureChecks,
    /// Takes legacy SigV2 (`signature_version = "s3"`) requests, URLs and forms.
    SigV2,
    /// Honours `If-None-Match: *` on PutObject and CompleteMultipartUpload.
    ConditionalWrites,
    /// Refuses parts under 5 MiB but the last (`EntityTooSmall`).
    MinPartSize,
    /// Refuses a request signed for another region, naming the bucket's region.
    RegionChecks,
    /// Takes browser POST uploads and checks their policies and signatures.
    PostPolicies,
    /// Checks the session token that a POST form carries.
    PostSessionTokens,
    /// Takes a request with a session token it did not issue (it checks signatures only);
    /// RustFS refuses one (500 `InvalidRequest` "invalid token").
    SessionTokensIgnored,
    /// Reports when each multipart upload started (moto reports a fixed date).
    UploadStartTimes,
    /// Checks `x-amz-checksum-crc32` against the body (`BadDigest`).
    ChecksumChecks,
    /// Refuses a body whose checksum is wrong without storing it (s3s-fs stores the
    /// object first and checks after).
    RefusedUploadsLeaveNothing,
    /// Stores the checksum a PutObject carries and returns it with the object
    /// (`x-amz-checksum-mode: ENABLED`).
    StoredChecksums,
    /// Stores one checksum of all of a multipart object's bytes (`FULL_OBJECT`), checked
    /// against the one CompleteMultipartUpload carries, and returns it.
    FullObjectChecksums,
    /// Stores a checksum of the parts' checksums for a multipart upload (`COMPOSITE`) and
    /// returns it (`value-N`).
    CompositeChecksums,
    /// Keeps any key as given (`%`, `+`, `//` included) and lists keys url-encoded when
    /// asked (`encoding-type=url`); s3s-fs stores keys as file paths and ignores it.
    ExactKeys,
    /// Answers a HEAD of a key that is only a prefix of others with 404 (s3s-fs: 500).
    PrefixHeads,
    /// Takes keys with empty path segments (`a//b`), which S3 allows; MinIO and RustFS
    /// refuse them (400 `InvalidArgument`).
    DoubleSlashKeys,
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerKind::S3sFs => "s3s-fs",
            ServerKind::Moto => "moto",
            ServerKind::Garage => "garage",
            ServerKind::Aws => "aws",
            ServerKind::Minio => "minio",
            ServerKind::R2 => "r2",
            ServerKind::RustFs => "rustfs",
        })
    }
}

impl ServerKind {
    /// The server `STORAGES_S3_TEST_SERVER` names; `default` when unset.
    pub fn from_env(default: ServerKind) -> ServerKind {
        match std::env::var("STORAGES_S3_TEST_SERVER").unwrap_or_default().trim() {
            "" => default,
            "s3s-fs" | "s3s" => ServerKind::S3sFs,
            "moto" => ServerKind::Moto,
            "garage" => ServerKind::Garage,
            "aws" => ServerKind::Aws,
            "minio" => ServerKind::Minio,
            "r2" => ServerKind::R2,
            "rustfs" => ServerKind::RustFs,
            other => panic!("STORAGES_S3_TEST_SERVER={other}: expected s3s-fs, moto, garage, aws, minio, r2 or rustfs"),
        }
    }

    /// The crate's provider preset for this server, where there is one.
    pub fn preset(self) -> Option<&'static str> {
        match self {
            ServerKind::Garage => Some("garage"),
            ServerKind::Minio => Some("minio"),
            ServerKind::R2 => Some("r2"),
            ServerKind::RustFs => Some("rustfs"),
            ServerKind::Aws => Some("aws"),
            ServerKind::S3sFs | ServerKind::Moto => None,
        }
    }

    /// Whether the server has `c`: established against s3s-fs 0.14.1, moto 5.2.5, Garage
    /// 2.5.0 and RustFS 1.0.1 here; for the others, from their documentation.
    pub fn has(self, c: Capability) -> bool {
        use Capability::*;
        use ServerKind::*;
        match c {
            SignatureChecks => self != Moto,
            // RustFS 1.0.1 takes SigV2 headers (tested here).
            SigV2 => matches!(self, S3sFs | Moto | Aws | Minio | RustFs),
            ConditionalWrites => self != Garage,
            MinPartSize => self != Garage,
            RegionChecks => matches!(self, Garage | Aws),
            PostPolicies => matches!(self, S3sFs | Garage | Aws | Minio | RustFs),
            PostSessionTokens => matches!(self, Aws | Minio),
            SessionTokensIgnored => !matches!(self, Aws | Minio | RustFs),
            UploadStartTimes => self != Moto,
            ChecksumChecks => self != Moto,
            StoredChecksums => self != Moto,
            RefusedUploadsLeaveNothing => self != S3sFs,
            // s3s-fs keeps no checksum of a multipart upload; moto 5.2.5 states a wrong
            // one (a CRC64NVME of four bytes).
            FullObjectChecksums | CompositeChecksums => !matches!(self, S3sFs | Moto),
            ExactKeys | PrefixHeads => self != S3sFs,
            DoubleSlashKeys => !matches!(self, Minio | RustFs),
        }
    }
}

/// Something a server refuses, whose status and code differ between servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A request signed with the wrong secret.
    WrongSignature,
    /// A presigned URL past its expiry.
    ExpiredUrl,
    /// A POST form past its policy's expiration.
    ExpiredForm,
    /// A POST form whose fields break its policy (a key outside the prefix, another value).
    PolicyViolated,
    /// A POST upload larger than its policy's `content-length-range`.
    FormTooLarge,
    /// A POST upload smaller than its policy's `content-length-range`.
    FormTooSmall,
    /// A POST form signed with the wrong secret, or whose policy was swapped.
    FormWrongSignature,
    /// A POST form with a field its policy does not name.
    FormExtraField,
    /// A body whose `x-amz-checksum-crc32` is wrong.
    WrongChecksum,
}

impl ServerKind {
    /// The status and error code this server answers `r` with: AWS's documented answers,
    /// and what s3s-fs, Garage and RustFS were seen to answer here.
    pub fn refusal(self, r: Refusal) -> (u16, &'static str) {
        use Refusal::*;
        let garage = self == ServerKind::Garage;
        match r {
            WrongSignature | FormWrongSignature if garage => (403, "AccessDenied"),
            WrongSignature | FormWrongSignature => (403, "SignatureDoesNotMatch"),
            ExpiredUrl | ExpiredForm | PolicyViolated | FormTooLarge | FormTooSmall | FormExtraField if garage => {
                (400, "InvalidRequest")
            }
            ExpiredUrl | ExpiredForm | FormExtraField => (403, "AccessDenied"),
            PolicyViolated if matches!(self, ServerKind::S3sFs | ServerKind::RustFs) => (400, "InvalidPolicyDocument"),
            PolicyViolated => (403, "AccessDenied"),
            FormTooLarge => (400, "EntityTooLarge"),
            FormTooSmall => (400, "EntityTooSmall"),
            WrongChecksum if garage => (400, "InvalidDigest"),
            WrongChecksum => (400, "BadDigest"),
        }
    }
}
