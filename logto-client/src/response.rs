//! A successful answer: the decoded body with its status and headers.

use http::{HeaderMap, StatusCode};

/// A 2xx answer: `T` is the (mapped) body; status and headers stay readable,
/// so callers can see `Set-Cookie` or a `201`.
#[derive(Debug, Clone)]
pub struct ResponseValue<T> {
    inner: T,
    status: StatusCode,
    headers: HeaderMap,
}

impl<T> ResponseValue<T> {
    /// Wraps a decoded body.
    pub fn new(inner: T, status: StatusCode, headers: HeaderMap) -> Self {
        Self {
            inner,
            status,
            headers,
        }
    }

    /// The status (`200`, `201`, `204`, ...).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body, giving up status and headers.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T> std::ops::Deref for ResponseValue<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}
