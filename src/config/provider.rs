//! Known differences of S3-compatible services, as defaults a provider preset applies.
//!
//! A preset only changes defaults: any setting given explicitly (option or global) wins.

use super::{AddressingStyle, ChecksumPolicy, ListObjectsVersion, Provider};

/// What a provider preset sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderDefaults {
    /// Signing region when none is configured.
    pub region: &'static str,
    /// Addressing style when none is configured.
    pub addressing_style: AddressingStyle,
    /// Checksum policy when none is configured.
    pub checksum_policy: ChecksumPolicy,
    /// ListObjects API version.
    pub list_objects_version: ListObjectsVersion,
    /// Whether `If-None-Match: *` on PutObject and CompleteMultipartUpload is honoured.
    pub conditional_writes: bool,
    /// Whether DeleteObjects is supported.
    pub bulk_delete: bool,
    /// Whether legacy SigV2 (`signature_version = "s3"`) is accepted: asking for it with a
    /// provider that refuses it is an error when the settings are built.
    pub sigv2: bool,
    /// Whether PutObject and UploadPart take an `x-amz-checksum-crc32` header (no
    /// `aws-chunked` trailer): sent with bodies whose payload is not signed, so that
    /// something the service checks still covers them.
    pub unsigned_payload_checksum: bool,
}

impl ProviderDefaults {
    /// The preset of a provider.
    pub const fn of(provider: Provider) -> ProviderDefaults {
        let base = ProviderDefaults {
            region: "us-east-1",
            addressing_style: AddressingStyle::Path,
            // Flexible checksums with aws-chunked trailers break most S3-compatible
            // services (django-storages #1482), so none are sent unless asked for.
            checksum_policy: ChecksumPolicy::WhenRequired,
            list_objects_version: ListObjectsVersion::V2,
            conditional_writes: true,
            bulk_delete: true,
            sigv2: true,
            // AWS and MinIO document the header; Garage 2.5.0 takes it (tested here). R2
            // documents CRC32 for multipart uploads only, and RustFS not at all: none is
            // sent there.
            unsigned_payload_checksum: true,
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
                unsigned_payload_checksum: false,
                ..base
            },
            // MinIO and RustFS implement conditional writes (MinIO since 2024, RustFS since 2025).
            Provider::Minio => base,
            Provider::RustFs => ProviderDefaults {
                unsigned_payload_checksum: false,
                ..base
            },
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
