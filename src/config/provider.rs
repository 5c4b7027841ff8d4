//! Known differences of S3-compatible services, as defaults a provider preset applies.
//!
//! A preset only changes defaults: any setting given explicitly (option or global) wins.

use super::{AddressingStyle, ChecksumAlgorithm, ListObjectsVersion, Provider};

/// What a provider preset sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderDefaults {
    /// Signing region when none is configured.
    pub region: &'static str,
    /// Addressing style when none is configured.
    pub addressing_style: AddressingStyle,
    /// ListObjects API version.
    pub list_objects_version: ListObjectsVersion,
    /// Whether `If-None-Match: *` on PutObject and CompleteMultipartUpload is honoured.
    pub conditional_writes: bool,
    /// Whether DeleteObjects is supported.
    pub bulk_delete: bool,
    /// Whether legacy SigV2 (`signature_version = "s3"`) is accepted: asking for it with a
    /// provider that refuses it is an error when the settings are built.
    pub sigv2: bool,
    /// The checksum the service checks and stores with each upload, given as a header
    /// computed before the body is sent (never an `aws-chunked` trailer, SPEC §7.2): on
    /// PutObject, and for multipart uploads per part and for the whole object
    /// (`FULL_OBJECT`), so that later reads can be verified whole. `None`: no checksum is
    /// sent unless `request_checksum_calculation = when_supported` asks for one.
    pub upload_checksum: Option<ChecksumAlgorithm>,
}

impl ProviderDefaults {
    /// The preset of a provider.
    pub const fn of(provider: Provider) -> ProviderDefaults {
        let base = ProviderDefaults {
            region: "us-east-1",
            addressing_style: AddressingStyle::Path,
            list_objects_version: ListObjectsVersion::V2,
            conditional_writes: true,
            bulk_delete: true,
            sigv2: true,
            // CRC64NVME is the one algorithm every one of these stores whole for multipart
            // uploads: AWS (its default), R2 (the only FULL_OBJECT one it documents), MinIO
            // (since RELEASE.2025-01-20), Garage (since 2.0) and RustFS; each checks it on
            // PutObject and UploadPart. Tested here against Garage (tests/it/presets.rs).
            upload_checksum: Some(ChecksumAlgorithm::Crc64Nvme),
        };
        match provider {
            Provider::Aws => ProviderDefaults {
                addressing_style: AddressingStyle::Auto,
                ..base
            },
            // R2 signs with region `auto`, honours If-None-Match on PutObject, and takes
            // SigV4 only (its documentation).
            Provider::R2 => ProviderDefaults {
                region: "auto",
                sigv2: false,
                ..base
            },
            // MinIO implements conditional writes (since 2024). RustFS 1.0.1 (tested here:
            // tests/it/presets.rs) honours If-None-Match, takes SigV2 and stores CRC64NVME.
            Provider::Minio => base,
            Provider::RustFs => base,
            // Garage's default region is `garage`. Garage 2.5.0 (tested here) ignores
            // If-None-Match on PutObject and CompleteMultipartUpload, so writes without
            // overwrite fall back to exists-then-put, and answers SigV2 with 400
            // "Unsupported authorization method".
            Provider::Garage => ProviderDefaults {
                region: "garage",
                conditional_writes: false,
                sigv2: false,
                ..base
            },
        }
    }
}
