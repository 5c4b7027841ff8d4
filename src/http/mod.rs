//! The HTTP floor: one pooled hyper client (TLS, proxies, resolver overrides, timeouts)
//! and the retry loop. Nothing here knows about S3.

pub(crate) mod body;
mod client;
mod connector;
mod idle;
mod proxy;
pub(crate) mod retry;
#[cfg(feature = "tls")]
mod tls;

pub use crate::error::BoxError;
pub use body::{Body, ByteStream, ResponseBody};
pub use client::{HttpClient, HttpConfig};
