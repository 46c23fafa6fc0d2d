//! An upstream's answer whose body is not read yet, from whichever HTTP
//! stack the client sent on: reqwest, hyper's pooled client directly (see
//! [`super::direct`]), or a caller connection's own upstream connection
//! (see [`super::wire`]).

use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Body as _, Incoming};
use tokio::time::Instant;

use super::affine::Lease;
use super::wire::{Framing, Head};
use crate::error::TransportError;

/// An answer's status and headers, and its body still to be read (at most
/// until the call's deadline).
pub struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: AnswerBody,
}

enum AnswerBody {
    /// From reqwest (HTTPS, cookie jars, digest and OAuth 2.0 auth, a client
    /// the user gave): reqwest enforces the deadline.
    Reqwest(reqwest::Response),
    /// From hyper's client: every read is bounded by the call's deadline, as
    /// reqwest's total timeout bounds its own.
    Direct(DirectBody),
    /// From a caller connection's own upstream connection, read under the
    /// call's deadline as well.
    Wire(WireBody),
}

/// A body from hyper's client.
struct DirectBody {
    body: Incoming,
    deadline: Instant,
    timeout: Duration,
}

/// A body still on the connection that the lease holds.
struct WireBody {
    /// Holds the connection; `None` once given back or dropped.
    lease: Option<Lease>,
    framing: Framing,
    /// The connection may carry another call after this body.
    keep_alive: bool,
    /// The length the head announced (0 for a body-less answer).
    length: Option<u64>,
    deadline: Instant,
    timeout: Duration,
}

impl WireBody {
    /// The body is read to its end: its connection goes back for the
    /// caller's next call, when it can carry one.
    fn ended(&mut self) {
        if let Some(mut lease) = self.lease.take()
            && self.keep_alive
            && lease.held().is_some_and(|conn| conn.is_drained())
        {
            lease.give_back();
        }
    }
}

impl Drop for WireBody {
    /// A body dropped at its end (an empty one, or one whose last byte was
    /// read) frees its connection as reading on to the end would; one
    /// dropped before closes it.
    fn drop(&mut self) {
        if self.framing == Framing::Ended {
            self.ended();
        }
    }
}

/// Status, header names and which client: never header values (`Set-Cookie`)
/// or the URL (reqwest's `Response` shows it, query string and all).
impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.keys().map(|k| k.as_str()).collect();
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("header_names", &names)
            .field(
                "client",
                &match self.body {
                    AnswerBody::Reqwest(_) => "reqwest",
                    AnswerBody::Direct(_) | AnswerBody::Wire(_) => "hyper",
                },
            )
            .finish()
    }
}

impl Answer {
    /// An answer received by reqwest (its headers are moved out, not copied).
    pub(crate) fn from_reqwest(mut resp: reqwest::Response) -> Self {
        Self {
            status: resp.status(),
            headers: std::mem::take(resp.headers_mut()),
            body: AnswerBody::Reqwest(resp),
        }
    }

    /// An answer received by hyper's client for a call sent with `timeout`,
    /// due by `deadline`.
    pub(crate) fn direct(
        resp: http::Response<Incoming>,
        deadline: Instant,
        timeout: Duration,
    ) -> Self {
        let (parts, body) = resp.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
            body: AnswerBody::Direct(DirectBody {
                body,
                deadline,
                timeout,
            }),
        }
    }

    /// An answer whose head was read on the connection `lease` holds, for
    /// a call sent with `timeout`, due by `deadline`.
    pub(crate) fn wire(head: Head, lease: Lease, deadline: Instant, timeout: Duration) -> Self {
        let length = match head.framing {
            Framing::Ended => Some(0),
            Framing::Length(n) => Some(n),
            Framing::Chunked(_) | Framing::Close => None,
        };
        Self {
            status: head.status,
            headers: head.headers,
            body: AnswerBody::Wire(WireBody {
                lease: Some(lease),
                framing: head.framing,
                keep_alive: head.keep_alive,
                length,
                deadline,
                timeout,
            }),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, to move them out.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body's length when the upstream announced it.
    pub fn content_length(&self) -> Option<u64> {
        match &self.body {
            AnswerBody::Reqwest(r) => r.content_length(),
            AnswerBody::Direct(d) => d.body.size_hint().exact(),
            AnswerBody::Wire(w) => w.length,
        }
    }

    /// The next piece of the body, `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        match &mut self.body {
            AnswerBody::Reqwest(r) => Ok(r.chunk().await?),
            AnswerBody::Direct(direct) => loop {
                let frame = tokio::time::timeout_at(direct.deadline, direct.body.frame())
                    .await
                    .map_err(|_| TransportError::timed_out(direct.timeout))?;
                match frame {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(TransportError::hyper(e)),
                    // Trailers carry no data: skipped, as reqwest does.
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                }
            },
            AnswerBody::Wire(wire) => {
                let WireBody {
                    lease,
                    framing,
                    deadline,
                    timeout,
                    ..
                } = wire;
                let Some(conn) = lease.as_mut().and_then(Lease::held) else {
                    return Ok(None);
                };
                let next = tokio::time::timeout_at(*deadline, conn.next_chunk(framing))
                    .await
                    .map_err(|_| TransportError::timed_out(*timeout))?;
                if let Ok(None) = next {
                    wire.ended();
                }
                next
            }
        }
    }

    /// The body as a stream of pieces, each error ending it.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, TransportError>> + Send {
        futures::stream::unfold(Some(self), |answer| async move {
            let mut answer = answer?;
            match answer.chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(answer))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}
