//! The integration tests: one binary, so that the test server and the helpers in `common`
//! compile and link once. Each module runs against a real S3 server started in process
//! (or the external one that `STORAGES_S3_TEST_ENDPOINT` names).

#[macro_use]
mod common;

mod axum_browser;
mod bad_input;
mod blocking;
mod checksums;
mod cli;
mod credentials;
mod download;
mod fault_campaign;
mod faults;
mod framing;
mod fs_storage;
#[cfg(feature = "fuzzing")]
mod gzip_fidelity;
mod lying;
mod manifest_goldens;
mod manifest_storage;
mod names_goldens;
mod oracle;
mod presets;
mod presign;
mod presigned_post;
mod s3_ops;
mod storage;
mod transport;
mod urls;
