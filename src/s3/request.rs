//! An S3 request before addressing and signing: what each operation builds.

use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::error::{Error, ErrorKind, Result};
use crate::http::Body;

/// One S3 request, independent of endpoint, addressing style and signature: the client
/// turns it into a URL, signs it and sends it.
#[derive(Debug)]
pub struct OpRequest {
    /// The S3 action, for errors (`PutObject`).
    pub operation: &'static str,
    /// HTTP method.
    pub method: Method,
    /// The object key, or `None` for bucket-level requests.
    pub key: Option<String>,
    /// Query parameters, unencoded; `None` values are bare names (`?uploads`).
    pub query: Vec<(&'static str, Option<String>)>,
    /// Headers besides `Host`, signing headers and `Content-Length`.
    pub headers: HeaderMap,
    /// The body.
    pub body: Body,
}

impl OpRequest {
    /// A request of `operation` on `key` (checked: not empty, at most 1024 bytes).
    pub fn object(operation: &'static str, method: Method, key: &str) -> Result<Self> {
        crate::s3::addressing::check_key(key)?;
        Ok(OpRequest {
            operation,
            method,
            key: Some(key.to_owned()),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::empty(),
        })
    }

    /// A bucket-level request.
    pub fn bucket(operation: &'static str, method: Method) -> Self {
        OpRequest {
            operation,
            method,
            key: None,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Body::empty(),
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &'static str, value: impl Into<Option<String>>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Adds a query parameter when there is a value.
    pub fn query_opt(self, name: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.query(name, Some(v.to_owned())),
            None => self,
        }
    }

    /// Sets a header; the value must be visible ASCII.
    pub fn header(mut self, name: &'static str, value: &str) -> Result<Self> {
        let v = HeaderValue::from_str(value)
            .ok()
            .filter(|v| v.to_str().is_ok())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("value of {name} is not visible ASCII"),
                )
            })?;
        self.headers.insert(HeaderName::from_static(name), v);
        Ok(self)
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }
}
