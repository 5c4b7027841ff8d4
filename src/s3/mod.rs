//! The S3 REST layer: addressing, signing, XML, one module per operation, and the client
//! that sends them with retries.
//!
//! Building requests and parsing replies are pure functions (`ops`, `xml`, `addressing`,
//! `sign`), tested and fuzzed without a network; [`Client`] is the thin layer that sends
//! them through the [`http`](crate::http) floor.

pub mod addressing;
mod body;
pub mod checksum;
mod client;
mod list;
pub mod multipart;
pub mod ops;
pub mod params;
pub mod post;
pub mod request;
pub mod sign;
pub mod xml;

pub use body::ObjectBody;
pub use client::{Client, ClientOptions, GetObjectOutput, Presign};
pub use list::{COLLECT_LIMIT, ListObjects, ListUploads};
pub use params::ObjectHead;
pub use post::{Condition, Expiration, KeyCondition, PostPolicy, PostSigning, PresignedPost, SuccessActionStatus};
