//! The one error type of generated clients.
//!
//! Display and Debug never show secrets: no request headers, no bound
//! values, no URLs with query strings (API keys may live there).

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

/// What went wrong with a call (or with building a client).
#[non_exhaustive]
pub enum Error {
    /// The upstream answered with a status outside 2xx.
    Response {
        /// `namespace.operation` of the call.
        operation: &'static str,
        /// The status.
        status: StatusCode,
        /// The response headers.
        headers: HeaderMap,
        /// The response body, as received.
        body: Bytes,
    },
    /// The request did not complete: connection refused, timeout, reset.
    Transport {
        /// `namespace.operation` of the call.
        operation: &'static str,
        /// The host the call was sent to.
        host: String,
        /// What failed (reqwest's or hyper's error, no URL in it).
        source: TransportError,
    },
    /// The request could not be built from the arguments (a header value
    /// with CR/LF, a path segment of `..`, a body that is not JSON).
    InvalidRequest {
        /// `namespace.operation` of the call.
        operation: &'static str,
        /// What is wrong, naming the argument.
        message: String,
    },
    /// A 2xx answer whose body could not be decoded as its content type says.
    InvalidResponse {
        /// `namespace.operation` of the call.
        operation: &'static str,
        /// The status.
        status: StatusCode,
        /// What is wrong.
        message: String,
        /// The body, as received.
        body: Bytes,
    },
    /// The client could not be built (missing bound variable, bad base URL).
    Config {
        /// What to set, naming the variable or the URL, never a secret.
        message: String,
    },
}

impl Error {
    /// The upstream's status, when there was an answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Response { status, .. } | Error::InvalidResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// `true` when the call ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport { source, .. } if source.is_timeout())
    }

    /// `true` when no connection could be made.
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Transport { source, .. } if source.is_connect())
    }

    /// The response body, when there was one.
    pub fn body(&self) -> Option<&Bytes> {
        match self {
            Error::Response { body, .. } | Error::InvalidResponse { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The response headers of an error response.
    pub fn headers(&self) -> Option<&HeaderMap> {
        match self {
            Error::Response { headers, .. } => Some(headers),
            _ => None,
        }
    }

    /// The error response's body as JSON, when it is JSON (Logto's
    /// `{"code":"session.not_found","message":...}`).
    pub fn json(&self) -> Option<serde_json::Value> {
        match self {
            Error::Response { body, .. } => serde_json::from_slice(body).ok(),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Response {
                operation,
                status,
                body,
                ..
            } => {
                write!(f, "{operation}: upstream answered {status}")?;
                if let Some(code) = serde_json::from_slice::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
                {
                    write!(f, " ({code})")?;
                }
                Ok(())
            }
            Error::Transport {
                operation,
                host,
                source,
            } => {
                let what = if source.is_timeout() {
                    "timed out"
                } else if source.is_connect() {
                    "could not connect"
                } else {
                    "failed"
                };
                write!(f, "{operation}: request to {host} {what}: {source}")
            }
            Error::InvalidRequest { operation, message } => {
                write!(f, "{operation}: invalid request: {message}")
            }
            Error::InvalidResponse {
                operation,
                status,
                message,
                ..
            } => {
                write!(f, "{operation}: undecodable {status} response: {message}")
            }
            Error::Config { message } => write!(f, "cannot build the client: {message}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may carry session cookies: show names only.
        let names = |h: &HeaderMap| h.keys().map(|k| k.as_str().to_owned()).collect::<Vec<_>>();
        match self {
            Error::Response {
                operation,
                status,
                headers,
                body,
            } => f
                .debug_struct("Response")
                .field("operation", operation)
                .field("status", status)
                .field("header_names", &names(headers))
                .field("body_len", &body.len())
                .finish(),
            Error::Transport {
                operation,
                host,
                source,
            } => f
                .debug_struct("Transport")
                .field("operation", operation)
                .field("host", host)
                .field("timeout", &source.is_timeout())
                .field("connect", &source.is_connect())
                .finish(),
            Error::InvalidRequest { operation, message } => f
                .debug_struct("InvalidRequest")
                .field("operation", operation)
                .field("message", message)
                .finish(),
            Error::InvalidResponse {
                operation,
                status,
                message,
                body,
            } => f
                .debug_struct("InvalidResponse")
                .field("operation", operation)
                .field("status", status)
                .field("message", message)
                .field("body_len", &body.len())
                .finish(),
            Error::Config { message } => {
                f.debug_struct("Config").field("message", message).finish()
            }
        }
    }
}

/// Why a request got no (complete) answer: the error of reqwest or of
/// hyper's client (plain-HTTP calls go straight to hyper: see
/// `client::direct`), or the call's deadline. It never holds a URL.
pub struct TransportError {
    kind: TransportKind,
    inner: Box<dyn std::error::Error + Send + Sync>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransportKind {
    Timeout,
    Connect,
    Other,
}

impl TransportError {
    /// `true` when the call ran out of time.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportKind::Timeout
    }

    /// `true` when no connection could be made.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportKind::Connect
    }

    /// The call's deadline passed (`after` is the client's timeout).
    pub(crate) fn timed_out(after: std::time::Duration) -> Self {
        Self {
            kind: TransportKind::Timeout,
            inner: format!("no complete answer within {after:?}").into(),
        }
    }

    /// A URL that HTTP cannot carry (url's encoding and http's URI grammar
    /// differ at the edges).
    pub(crate) fn invalid_url(e: impl std::fmt::Display) -> Self {
        Self {
            kind: TransportKind::Other,
            inner: format!("the request URL is not a valid URI: {e}").into(),
        }
    }

    /// hyper's client failed to send or to get the answer's head.
    pub(crate) fn hyper_client(e: hyper_util::client::legacy::Error) -> Self {
        use std::error::Error as _;
        let kind = if e.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        // The legacy client's own message is "client error (Connect)"; the
        // cause under it says what happened. Neither holds the URL.
        let inner: Box<dyn std::error::Error + Send + Sync> = match e.source() {
            Some(cause) => cause.to_string().into(),
            None => e.to_string().into(),
        };
        Self { kind, inner }
    }

    /// No connection to the upstream (hyper-util's connector, as the pooled
    /// client reports it: its message, without the address).
    pub(crate) fn connect(e: impl std::fmt::Display) -> Self {
        Self {
            kind: TransportKind::Connect,
            inner: e.to_string().into(),
        }
    }

    /// A redirect that is not followed (too many, or to another scheme),
    /// as reqwest words it.
    pub(crate) fn redirect(why: impl std::fmt::Display) -> Self {
        Self {
            kind: TransportKind::Other,
            inner: format!("error following redirect: {why}").into(),
        }
    }

    /// The direct path's own HTTP/1 reading (`client::wire`) found the
    /// answer malformed or cut short.
    pub(crate) fn wire(what: impl std::fmt::Display) -> Self {
        Self {
            kind: TransportKind::Other,
            inner: what.to_string().into(),
        }
    }

    /// The direct path's connection failed while writing or reading.
    pub(crate) fn wire_io(e: std::io::Error) -> Self {
        Self {
            kind: TransportKind::Other,
            inner: Box::new(e),
        }
    }

    /// hyper failed to send the request, or to read the answer's head or
    /// body.
    pub(crate) fn hyper(e: hyper::Error) -> Self {
        Self {
            kind: if e.is_timeout() {
                TransportKind::Timeout
            } else {
                TransportKind::Other
            },
            inner: Box::new(e),
        }
    }
}

impl From<reqwest::Error> for TransportError {
    fn from(e: reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        };
        Self {
            kind,
            inner: Box::new(e.without_url()),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("timeout", &self.is_timeout())
            .field("connect", &self.is_connect())
            .finish()
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            _ => None,
        }
    }
}
