//! storages-s3
pub mod config;
mod error;

pub use config::Settings;
pub use error::{Error, ErrorKind, Result, ServiceError};
