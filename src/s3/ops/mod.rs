//! One module per S3 action: a request builder and a reply parser, both pure, so they are
//! tested without a network. [`Client`](crate::s3::Client) sends them.
//!
//! An action whose request or reply is an XML document has its writer, its reply's types and
//! its parser here too; the walker and escaping they share are in [`xml`](crate::s3::xml).

pub mod abort_multipart_upload;
pub mod bucket;
pub mod complete_multipart_upload;
pub mod copy_object;
pub mod create_multipart_upload;
pub mod delete_object;
pub mod delete_objects;
pub mod get_object;
pub mod head_object;
pub mod list_multipart_uploads;
pub mod list_objects;
pub mod put_object;
pub mod upload_part;
