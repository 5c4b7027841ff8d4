//! S3 XML replies (being written).
