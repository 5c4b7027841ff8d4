//! Django's storage semantics on top of the S3 layer.

pub mod content_type;
pub mod gzip;
pub mod names;
