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
use super::wire::{Fields, Framing, Head};
use crate::error::TransportError;

/// An answer's status and headers, and its body still to be read (at most
/// until the call's deadline).
pub struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    /// The head's fields as they came, when the call asked for them
    /// (`Call::raw_head`): `headers` is empty then.
    fields: Option<Fields>,
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
            fields: None,
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
            fields: None,
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
            fields: head.fields,
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

    /// The headers (empty when the head was kept raw, which only the REST
    /// adapter's lean path asks for, for its generated default handlers).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The headers, to move them out.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The headers moved out, as a map whether or not the head was kept raw.
    pub(crate) fn take_headers(&mut self) -> HeaderMap {
        match self.fields.take() {
            // Its bytes passed the checks `to_map` makes when it was read.
            Some(fields) => fields.to_map().unwrap_or_default(),
            None => std::mem::take(&mut self.headers),
        }
    }

    /// The head's fields as they came, when the call kept them raw.
    pub(crate) fn take_fields(&mut self) -> Option<Fields> {
        self.fields.take()
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
                let next = match conn.ready_chunk(framing) {
                    Some(ready) => Ok(ready),
                    None => tokio::time::timeout_at(*deadline, conn.next_chunk(framing))
                        .await
                        .map_err(|_| TransportError::timed_out(*timeout))?,
                };
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::Arc;

    use tokio::io::AsyncWriteExt as _;

    use super::*;
    use crate::client::affine::{Parked, lend, scope};
    use crate::client::wire::Conn;

    /// The answer to a GET whose head and body the upstream sent as `raw`,
    /// on a connection lent from `parked` in the current caller scope; and
    /// the upstream's end, kept open.
    async fn answer(parked: &Arc<Parked>, raw: &[u8]) -> (Answer, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let near = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut far, _) = listener.accept().await.unwrap();
        far.write_all(raw).await.unwrap();
        let mut lease = lend(parked).expect("a caller scope");
        assert!(lease.take().is_none(), "a new connection each time here");
        let mut conn = Conn::tcp(near);
        let head = conn.read_head(&http::Method::GET, false).await.unwrap();
        lease.hold(conn);
        let timeout = Duration::from_secs(2);
        let answer = Answer::wire(head, lease, Instant::now() + timeout, timeout);
        (answer, far)
    }

    #[tokio::test]
    async fn a_body_read_to_its_last_byte_frees_its_connection_and_one_cut_short_closes_it() {
        let parked = Arc::new(Parked::default());
        scope(async {
            // Read to its last byte, not on to the end: reused.
            let (mut ok, _far) =
                answer(&parked, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
            assert_eq!(ok.content_length(), Some(2));
            assert_eq!(ok.chunk().await.unwrap().unwrap(), "ok");
            drop(ok);
            let mut next = lend(&parked).unwrap();
            assert!(next.take().is_some(), "given back at its last byte");
            drop(next);

            // Dropped with a byte unread: the connection goes with it.
            let (short, _far) =
                answer(&parked, b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok").await;
            drop(short);
            assert!(lend(&parked).unwrap().take().is_none());

            // Asked to close: not kept, though read to its end.
            let (mut closing, _far) = answer(
                &parked,
                b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
            )
            .await;
            while closing.chunk().await.unwrap().is_some() {}
            drop(closing);
            assert!(lend(&parked).unwrap().take().is_none());
        })
        .await;
    }
}
