//! storages-s3
pub mod config;
pub mod credentials;
mod error;
pub mod http;
pub mod s3;

pub use config::Settings;
pub use error::{Error, ErrorKind, Result, ServiceError};
