//! Django's S3 storage backend for Rust, without the AWS SDK.
//!
//! `storages-s3` brings `django-storages-s3` (the S3-only fork of django-storages) to Rust:
//! the same settings under the same names, the same semantics, and a small S3 client
//! written on hyper 1, rustls and `aws-sigv4`.
//!
//! The crate is built in floors, each calling only the ones below it:
//!
//! - The crate root: Django's storage API (feature `storage`, on by default).
//!   [`S3Storage`] and [`FileSystemStorage`] behind the [`Storage`] trait, with Django's
//!   name rules in [`names`], `collectstatic` in [`collect`], and hashed static names in
//!   [`manifest`] (feature `manifest`).
//! - [`s3`]: the S3 REST layer. Addressing, signing, XML, one module per operation (pure
//!   builders and parsers), and the [`s3::Client`] that sends them with retries; multipart
//!   uploads of any size ([`s3::Upload`]).
//! - [`credentials`]: where keys come from.
//! - [`http`]: one pooled HTTP/1.1 client (TLS, proxies, resolver overrides, timeouts) and
//!   the retry loop.
//! - [`config`]: every setting, typed, resolved as option > global setting > default.
//!
//! # What 1.0 promises
//!
//! Everything this documentation shows is the stable surface, and nothing else:
//!
//! - the crate root (the storage API, [`Error`], [`ErrorKind`], [`names`], [`collect`],
//!   [`manifest`]) and its blocking twin in [`blocking`];
//! - [`Settings`]: built from options by their original names, and read through its methods,
//!   which give each setting's effective value (after `client_config`, the shared config
//!   file and the provider preset), one way per setting; the table of every setting is
//!   [`config::SETTINGS`];
//! - [`s3::Client`] with its operations' inputs and outputs, [`s3::Upload`] and presigned
//!   POST policies;
//! - [`credentials`]: the [`credentials::ProvideCredentials`] trait and the providers;
//! - [`http::Body`], and the [`http::HttpClient`] the network providers call through.
//!
//! Types come in two shapes. Behaviour (storages, clients, settings, builders) keeps its
//! fields private and is read through methods. Plain data has public fields: replies are
//! `#[non_exhaustive]`, so that a field can be added, and the inputs a caller fills in
//! (`UploadOptions`, `DownloadOptions`, `ListObjectsInput`, ...) implement `Default`, so
//! that a caller who writes `..Default::default()` keeps compiling when one is added.
//! Not promised: the `fuzzing` feature's hidden module (the crate's internals, for its fuzz
//! targets, benchmarks and tests), and the `Debug` output of any type.
//!
//! # Example
//!
//! ```no_run
//! use storages_s3::{Settings, config::ObjectParameters, http::Body, s3::Client};
//! use storages_s3::s3::ListObjectsInput;
//!
//! # #[tokio::main] async fn main() -> storages_s3::Result<()> {
//! // Global settings come from the environment (AWS_STORAGE_BUCKET_NAME, AWS_ACCESS_KEY_ID,
//! // AWS_S3_ENDPOINT_URL, ...); options given here win over them.
//! let settings = Settings::builder()
//!     .option("bucket_name", "media-bucket")
//!     .option("endpoint_url", "https://acct.r2.cloudflarestorage.com")
//!     .option("provider", "r2")
//!     .build()?;
//! let client = Client::new(&settings)?;
//!
//! let params: ObjectParameters = r#"{"ContentType": "text/plain"}"#.parse().unwrap();
//! client.put_object("docs/hello.txt", Body::from("Hello"), &params).await?;
//!
//! let input = ListObjectsInput { prefix: Some("docs/".into()), ..Default::default() };
//! let (objects, _prefixes) = client.list_objects(input).collect_all().await?;
//! assert_eq!(objects[0].key, "docs/hello.txt");
//!
//! match client.head_object("docs/missing.txt", &ObjectParameters::new()).await {
//!     Err(e) if e.is_not_found() => {}
//!     other => panic!("{other:?}"),
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "blocking")]
pub mod blocking;
pub mod config;
pub mod credentials;
mod error;
pub mod http;
#[cfg(feature = "storage")]
mod py;
pub mod s3;
#[cfg(feature = "storage")]
mod storage;
mod timestamp;
mod trace;
mod xml_ref;

/// The crate's pure internals (reply parsers, XML writers, signing, addressing, gzip), for
/// the fuzz targets and benchmarks only: no part of the public API, and no promise kept
/// between versions.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    /// S3's XML replies and request bodies.
    pub mod xml {
        pub use crate::s3::ops::complete_multipart_upload::{
            CompleteMultipartUpload, CompletedPart, parse_complete_multipart, write_complete_multipart,
        };
        pub use crate::s3::ops::copy_object::{CopyObjectResult, parse_copy_object};
        pub use crate::s3::ops::create_multipart_upload::{InitiateMultipartUpload, parse_initiate_multipart};
        pub use crate::s3::ops::delete_objects::{
            DeleteError, DeleteObjectsResult, DeletedObject, parse_delete_objects, write_delete,
        };
        pub use crate::s3::ops::list_multipart_uploads::{
            ListMultipartUploadsPage, MultipartUploadSummary, parse_list_multipart_uploads,
        };
        pub use crate::s3::ops::list_objects::{ListObjectsPage, ObjectSummary, parse_list_objects};
        pub use crate::s3::xml::{ErrorBody, parse_error};
    }
    /// SigV4 and SigV2, headers and query strings.
    pub mod sign {
        pub use crate::s3::sign::*;
    }
    /// POST policy documents and their signatures.
    pub mod post {
        pub use crate::s3::post::*;

        /// The conditions a policy holds, in order.
        pub fn conditions(policy: &crate::s3::PostPolicy) -> &[Condition] {
            policy.conditions()
        }

        /// The key a policy allows.
        pub fn key_condition(policy: &crate::s3::PostPolicy) -> Option<&KeyCondition> {
            policy.key_condition()
        }

        /// When a policy expires, as given.
        pub fn expiration(policy: &crate::s3::PostPolicy) -> Option<Expiration> {
            policy.expiration()
        }
    }
    /// Keys and query strings as they go on the wire.
    pub mod addressing {
        pub use crate::s3::addressing::*;
    }
    /// The gzip encoder and the pull-based decoder.
    pub mod gzip {
        pub use crate::storage::gzip::*;
    }
    /// The credential documents (STS, container, instance metadata, credential_process).
    #[cfg(any(
        feature = "credentials-profile",
        feature = "credentials-container",
        feature = "credentials-imds"
    ))]
    pub mod parse {
        pub use crate::credentials::parse::*;
    }
    /// GetObject replies, checked against what was asked before a byte is handed on.
    pub mod get_object {
        pub use crate::s3::ops::get_object::{Expect, Served, check_reply, parse};
    }
    /// Flexible checksums: the checksum a reply states, the verifier, combined CRCs.
    pub mod checksum {
        pub use crate::s3::checksum::{StoredChecksum, Verifier, combine};
    }
    /// Settings' value types, parsed as a setting's string would be.
    pub mod config {
        pub use crate::config::network::Endpoint;
        pub use crate::config::values::{ClientConfig, TransferConfig};

        /// Checks built settings once more (as `build()` did): it must succeed, unchanged.
        pub fn validate(settings: &mut crate::Settings) -> crate::Result<()> {
            settings.validate()
        }
    }
    /// An error reply from S3 as the error carries it.
    pub use crate::error::ServiceError;

    /// The server's error reply an error carries, when there was one.
    pub fn service_error(e: &crate::Error) -> Option<&ServiceError> {
        e.service_error()
    }

    /// The object head a reply's headers give.
    pub fn object_head(headers: &http::HeaderMap) -> crate::Result<crate::s3::ObjectHead> {
        crate::s3::ObjectHead::from_headers(headers)
    }

    /// One S3 request as the client sends it.
    pub use crate::s3::request::OpRequest;

    /// Sends one request as built, through the client's signing and retries.
    pub async fn send(
        client: &crate::s3::Client,
        op: OpRequest,
    ) -> crate::Result<http::Response<crate::http::ResponseBody>> {
        client.send(op).await
    }
}

#[cfg(feature = "storage")]
pub use storage::{
    BoxFuture, Content, FileSystemStorage, LocalFile, ObjectParametersHook, OpenMode, S3File, S3StaticStorage,
    S3Storage, S3StorageBuilder, Storage, StorageFile, UrlOptions, collect, names,
};
#[cfg(feature = "manifest")]
pub use storage::{PostProcessReport, S3ManifestStaticStorage, manifest};

/// The README's examples, compiled as doctests (the blocking one needs its feature).
#[cfg(all(doctest, feature = "blocking"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
pub use config::table::Settings;
pub use error::{Error, ErrorKind, Result};
