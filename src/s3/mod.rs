//! The S3 REST layer: addressing, signing, XML, one module per operation, and the client
//! that sends them.

pub mod addressing;
pub mod sign;
pub mod xml;
