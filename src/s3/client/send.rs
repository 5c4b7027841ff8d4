//! Sending: one signed attempt, the retry loop around it, and how each reply is classed
//! (success, error to retry, error to return, the bucket's region to follow, the clock
//! skew to correct). The per-operation methods build requests and read replies around it.

use super::*;
use crate::http::body::Repr;

impl Client {
    /// Signs and sends one attempt of a request.
    pub(super) async fn attempt(
        &self,
        parts: &Parts,
        query: &str,
        body: Body,
        payload: &PayloadHash,
    ) -> Result<Response<ResponseBody>> {
        let routing = self.routing();
        let target = routing.addressing.target(self.bucket(), parts.key.as_deref());
        let uri: Uri = target
            .url(query)
            .parse()
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, "the request URL is malformed").with_source(e))?;
        let mut headers = parts.headers.clone();
        headers.insert(
            http::header::HOST,
            HeaderValue::from_str(&target.authority)
                .map_err(|_| Error::new(ErrorKind::InvalidSetting, "endpoint host is not a valid header value"))?,
        );
        headers.insert(http::header::USER_AGENT, self.inner.user_agent.clone());
        if !body.is_empty() || matches!(parts.method, Method::PUT | Method::POST) {
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        if let Some(creds) = self.credentials().await? {
            match self.inner.options.signature_version {
                SignatureVersion::V2 => sign::sign_v2(
                    &parts.method,
                    &uri,
                    &mut headers,
                    &creds,
                    self.signing_time(),
                    target.bucket_in_host.as_deref(),
                )?,
                _ => sign::sign_v4(
                    &parts.method,
                    &uri,
                    &mut headers,
                    &creds,
                    &routing.region,
                    self.signing_time(),
                    payload,
                )?,
            }
        }
        let mut request = http::Request::builder()
            .method(parts.method.clone())
            .uri(uri)
            .body(body)
            .expect("valid parts");
        *request.headers_mut() = headers;
        self.inner.http.send(request).await
    }

    /// Sends a request with retries; returns a successful reply or the typed error.
    pub(crate) async fn send(&self, op: OpRequest) -> Result<Response<ResponseBody>> {
        self.send_with(op, &AtomicU32::new(0), |resp| async move { Ok(resp) })
            .await
    }

    /// Sends a request with retries and hands a successful reply to `read`; a reply whose
    /// reading breaks (connection cut or stalled midway) counts as a failed attempt when
    /// the request can be sent again. `attempts` ends as the number of attempts made.
    pub(super) async fn send_with<T, F, Fut>(&self, op: OpRequest, attempts: &AtomicU32, read: F) -> Result<T>
    where
        F: Fn(Response<ResponseBody>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.send_within(op, attempts, &self.inner.options.retry, &self.inner.quota, read)
            .await
    }

    /// [`send_with`](Client::send_with) on a retry budget of its own (cleanup's).
    pub(super) async fn send_within<T, F, Fut>(
        &self,
        op: OpRequest,
        attempts: &AtomicU32,
        policy: &RetryPolicy,
        quota: &RetryQuota,
        read: F,
    ) -> Result<T>
    where
        F: Fn(Response<ResponseBody>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let OpRequest {
            operation,
            method,
            key,
            query,
            headers,
            body,
        } = op;
        let query: Vec<(&str, Option<&str>)> = query.iter().map(|(k, v)| (*k, v.as_deref())).collect();
        let query = encode_query(&query);
        // An empty body's hash is a constant: it is signed whatever the policy, as every
        // service takes it.
        let payload = match body.as_bytes() {
            Some(bytes)
                if self.signs_payload()
                    || (bytes.is_empty() && self.inner.options.signature_version == SignatureVersion::V4) =>
            {
                PayloadHash::of(bytes)
            }
            _ => PayloadHash::Unsigned,
        };
        #[cfg(feature = "tracing")]
        let span = tracing::debug_span!(
            target: "storages_s3",
            "s3",
            operation,
            bucket = %self.bucket(),
            key = key.as_deref().unwrap_or(""),
            bytes_sent = body.len(),
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        #[cfg(feature = "tracing")]
        let started = std::time::Instant::now();
        // The last reply's status and request id, recorded on the span at the end.
        #[cfg(feature = "tracing")]
        let last_reply: std::sync::Mutex<(u16, Option<String>)> = std::sync::Mutex::new((0, None));
        #[cfg(feature = "tracing")]
        let last_reply = &last_reply;
        // Bytes in memory are sent again on retry; a stream goes once.
        let (replay, mut stream) = match body {
            Body(Repr::Empty) => (Some(Bytes::new()), None),
            Body(Repr::Bytes(b)) => (Some(b), None),
            stream @ Body(Repr::Stream { .. }) => (None, Some(stream)),
        };
        let replayable = replay.is_some();
        let parts = Parts { method, key, headers };
        let followed = AtomicBool::new(false);
        let (parts_ref, query, payload, followed, replay) = (&parts, &query, &payload, &followed, &replay);
        let read = &read;
        let run = retry::run(policy, quota, |n| {
            attempts.store(n, Ordering::Relaxed);
            let body = match replay {
                Some(b) => Body::from(b.clone()),
                None => stream.take().unwrap_or_default(),
            };
            async move {
                let reply = self.attempt(parts_ref, query, body, payload).await;
                #[cfg(feature = "tracing")]
                if let Ok(resp) = &reply {
                    let id = resp.headers().get("x-amz-request-id").and_then(|v| v.to_str().ok());
                    *last_reply.lock().expect("reply lock") = (resp.status().as_u16(), id.map(str::to_owned));
                }
                match reply {
                    Ok(resp) if resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED => {
                        match read(resp).await {
                            Err(e) if replayable && matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout) => {
                                let timeout = e.kind() == ErrorKind::Timeout;
                                Attempt::Retry {
                                    error: e,
                                    delay: None,
                                    timeout,
                                }
                            }
                            // S3 sends 200 before it knows how CompleteMultipartUpload or
                            // CopyObject ends, and a transient error then comes inside the
                            // reply: another attempt, from the same budget.
                            Err(e)
                                if replayable
                                    && e.status() == Some(200)
                                    && is_transient_code(e.code().unwrap_or_default()) =>
                            {
                                Attempt::Retry {
                                    error: e,
                                    delay: None,
                                    timeout: false,
                                }
                            }
                            done => Attempt::Done(done),
                        }
                    }
                    Ok(resp) => {
                        let date = resp
                            .headers()
                            .get(http::header::DATE)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|d| httpdate::parse_http_date(d).ok());
                        let service = read_error(resp).await;
                        self.classify(service, date, replayable, followed)
                    }
                    Err(e) => {
                        if replayable && matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout) {
                            let timeout = e.kind() == ErrorKind::Timeout;
                            Attempt::Retry {
                                error: e,
                                delay: None,
                                timeout,
                            }
                        } else {
                            Attempt::Done(Err(e))
                        }
                    }
                }
            }
        });
        #[cfg(feature = "tracing")]
        let run = tracing::Instrument::instrument(run, span.clone());
        let result = run.await;
        #[cfg(feature = "tracing")]
        {
            span.record("attempts", attempts.load(Ordering::Relaxed));
            span.record("elapsed_ms", started.elapsed().as_millis() as u64);
            let (status, request_id) = last_reply.lock().expect("reply lock").clone();
            if status != 0 {
                span.record("status", status);
            }
            if let Some(id) = request_id {
                span.record("request_id", id);
            }
            let _in = span.enter();
            match &result {
                Ok(_) => tracing::debug!(target: "storages_s3", "done"),
                Err(e) => tracing::debug!(target: "storages_s3", error = %e, "failed"),
            }
        }
        result.map_err(|e| {
            e.with_operation(operation)
                .with_object(self.bucket(), parts.key.as_deref())
        })
    }

    pub(super) fn classify<T>(
        &self,
        service: ServiceError,
        date: Option<SystemTime>,
        replayable: bool,
        followed: &AtomicBool,
    ) -> Attempt<T> {
        let status = service.status;
        let code = service.code.clone();
        // A request to the wrong region: follow the region the server names, once.
        if matches!(status, 301 | 307 | 400)
            && let Some(region) = service.bucket_region.clone()
            && replayable
            && !followed.swap(true, Ordering::Relaxed)
            && self.follow_region(&region)
        {
            return Attempt::Retry {
                error: Error::service(service),
                delay: Some(Duration::ZERO),
                timeout: false,
            };
        }
        if code == "RequestTimeTooSkewed"
            && let Some(server) = date
        {
            let skew = match server.duration_since(SystemTime::now()) {
                Ok(ahead) => ahead.as_millis() as i64,
                Err(behind) => -(behind.duration().as_millis() as i64),
            };
            self.inner.skew_ms.store(skew, Ordering::Relaxed);
            crate::trace::event!(info, skew_ms = skew, "clock skew corrected from the server's Date");
            if replayable {
                return Attempt::Retry {
                    error: Error::service(service),
                    delay: Some(Duration::ZERO),
                    timeout: false,
                };
            }
        }
        let transient = matches!(status, 429 | 500 | 502 | 503 | 504) || is_transient_code(&code);
        if transient && replayable {
            Attempt::Retry {
                error: Error::service(service),
                delay: None,
                timeout: code == "RequestTimeout",
            }
        } else {
            Attempt::Done(Err(Error::service(service)))
        }
    }

    /// Sends a request and reads its whole (XML) reply.
    pub(super) async fn send_for_body(&self, op: OpRequest) -> Result<(http::HeaderMap, Bytes)> {
        self.send_for_body_counted(op, &AtomicU32::new(0)).await
    }

    /// Sends a request and reads its whole (XML) reply, a reply cut short being retried
    /// like a failed attempt.
    pub(super) async fn send_for_body_counted(
        &self,
        op: OpRequest,
        attempts: &AtomicU32,
    ) -> Result<(http::HeaderMap, Bytes)> {
        self.send_with(op, attempts, |resp| async move {
            let (parts, body) = resp.into_parts();
            let bytes = body.collect(MAX_XML_REPLY).await?;
            Ok((parts.headers, bytes))
        })
        .await
    }

    pub(super) fn context<T>(&self, r: Result<T>, operation: &'static str, key: Option<&str>) -> Result<T> {
        r.map_err(|e| e.with_operation(operation).with_object(self.bucket(), key))
    }

    /// Sends a request whose XML reply `parse` reads (an error inside a 200 reply
    /// included), retrying cut replies and transient embedded errors as failed attempts.
    pub(super) async fn send_for_xml<T>(
        &self,
        op: OpRequest,
        attempts: &AtomicU32,
        parse: fn(&[u8]) -> Result<T>,
    ) -> Result<T> {
        self.send_with(op, attempts, |resp| async move {
            let bytes = resp.into_body().collect(MAX_XML_REPLY).await?;
            parse(&bytes)
        })
        .await
    }
}

/// S3 error codes that another attempt may not meet.
pub(super) fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "SlowDown"
            | "RequestTimeout"
            | "InternalError"
            | "ServiceUnavailable"
            | "Throttling"
            | "ThrottlingException"
            | "RequestThrottled"
            | "RequestLimitExceeded"
    )
}

/// Reads an error reply into a [`ServiceError`].
pub(super) async fn read_error(resp: Response<ResponseBody>) -> ServiceError {
    let (parts, body) = resp.into_parts();
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut service = ServiceError {
        status: parts.status.as_u16(),
        code: String::new(),
        message: String::new(),
        request_id: header("x-amz-request-id"),
        bucket_region: header("x-amz-bucket-region"),
    };
    match body.collect(MAX_ERROR_REPLY).await {
        Ok(bytes) if !bytes.is_empty() => match xml::parse_error(&bytes) {
            Ok(Some(e)) => {
                service.code = e.code;
                service.message = e.message;
                service.request_id = service.request_id.or(e.request_id);
                service.bucket_region = service.bucket_region.or(e.region);
            }
            _ => service.message = "the error reply was not S3's XML".into(),
        },
        Ok(_) => {}
        Err(_) => service.message = "the error reply could not be read".into(),
    }
    if service.message.is_empty() {
        service.message = parts.status.canonical_reason().unwrap_or("").to_owned();
    }
    service
}
