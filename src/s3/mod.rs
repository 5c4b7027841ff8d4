//! The S3 REST layer: addressing, signing, XML, one module per operation, and the client
//! that sends them with retries.
//!
//! Building requests and parsing replies are pure functions (`ops`, `xml`, `addressing`,
//! `sign`), tested and fuzzed without a network; [`Client`] is the thin layer that sends
//! them through the [`http`](crate::http) floor.

pub(crate) mod addressing;
mod body;
pub(crate) mod checksum;
pub(crate) mod client;
pub(crate) mod download;
mod list;
pub(crate) mod multipart;
pub(crate) mod ops;
pub(crate) mod params;
pub(crate) mod post;
pub(crate) mod request;
pub(crate) mod sign;
pub(crate) mod xml;

pub use body::ObjectBody;
pub use checksum::{StoredChecksum, Verification};
pub use client::{Client, GetObjectOutput, UnabortedUpload};
pub use download::{DownloadOptions, DownloadOutcome};
pub use list::{ListObjects, ListUploads};
pub use multipart::{Upload, UploadOptions, UploadOutcome, part_size_for, upload_stream};

pub use ops::copy_object::{CopyObjectResult, MetadataDirective};
pub use ops::delete_objects::{DeleteError, DeleteObjectsResult, DeletedObject};
pub use ops::get_object::{ByteRange, ContentRange};
pub use ops::list_multipart_uploads::{ListMultipartUploadsPage, MultipartUploadSummary};
pub use ops::list_objects::{ListObjectsInput, ListObjectsPage, ObjectSummary};
pub use ops::put_object::{PutObjectOutput, WriteOptions};
pub use ops::upload_part::UploadedPart;
pub use params::ObjectHead;
pub use post::{PostPolicy, PostSigning, PresignedPost, SuccessActionStatus};
