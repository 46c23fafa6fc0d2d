//! Writing an answer on the lean path: the bytes hyper's HTTP/1 server
//! writes for the same `Response` (`hyper::proto::h1::role::Server::encode`):
//! `HTTP/1.1 200 OK` or the code and its canonical reason, the header map in
//! order with lower-case names, a `content-length` where hyper puts one (the
//! map's own, else after the map for a body of known size), `transfer-encoding:
//! chunked` for a body of unknown size, a `date` last unless the map has one.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::server::RawHead;
use axum::body::HttpBody as _;
use axum::response::Response;
use http::StatusCode;
use http_body_util::BodyExt as _;
use tokio::io::AsyncWriteExt as _;

/// Bodies up to this size go out in the same write as the head.
const ONE_WRITE: usize = 64 * 1024;

/// Writes `resp` to `io` (`out` is the connection's write buffer). Whether
/// the connection may carry another request: not after a write error, a
/// body that failed or did not match its length (hyper aborts the
/// connection then too), or an answer with `Connection: close`.
pub(super) async fn respond(
    io: &mut (impl tokio::io::AsyncWrite + Unpin),
    out: &mut Vec<u8>,
    resp: Response,
) -> bool {
    let (parts, mut body) = resp.into_parts();
    out.clear();
    let status = parts.status;
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // 204 and 304 have no body and no length (1xx never come from a handler).
    let no_body = matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED);
    let exact = body.size_hint().exact();
    let mut length: Option<u64> = None;
    let mut wrote_date = false;
    let mut keep_alive = true;
    // An upstream head passed on raw (its map is empty then), or the map.
    let raw = parts.extensions.get::<RawHead>();
    let lower = raw.is_some();
    let fields = raw.into_iter().flat_map(RawHead::fields).chain(
        parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes())),
    );
    for (name, value) in fields {
        let is =
            |lower: &str| name.len() == lower.len() && name.eq_ignore_ascii_case(lower.as_bytes());
        if is("content-length") {
            if no_body || length.is_some() {
                continue;
            }
            // hyper trusts a body's own length over the header's value.
            match exact.or_else(|| super::lean::digits(value)) {
                Some(n) => length = Some(n),
                // hyper refuses the answer and closes the connection.
                None => return false,
            }
        } else if is("transfer-encoding") || is("trailer") {
            // Hop-by-hop: an answer of the adapter never carries them
            // (`server::passthrough` drops them); the framing is ours.
            continue;
        } else if is("connection") {
            keep_alive &= !has_close(value);
        } else if is("date") {
            wrote_date = true;
        }
        // Names as a `HeaderName` holds them: lower case.
        let start = out.len();
        out.extend_from_slice(name);
        if lower && let Some(name) = out.get_mut(start..) {
            name.make_ascii_lowercase();
        }
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    let chunked = !no_body && length.is_none() && exact.is_none();
    if !no_body && length.is_none() {
        match exact {
            Some(n) => {
                out.extend_from_slice(b"content-length: ");
                out.extend_from_slice(n.to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
                length = Some(n);
            }
            None => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        }
    }
    if !wrote_date {
        out.extend_from_slice(b"date: ");
        date(out);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if no_body {
        return io.write_all(out).await.is_ok() && keep_alive;
    }
    let mut sent: u64 = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            // A body that fails (an upstream cut short, an answer over the
            // limit): whatever went out, the caller must see a cut.
            let _ = io.write_all(out).await;
            return false;
        };
        let Some(data) = frame.data_ref() else {
            continue; // trailers: hyper writes none without a `Trailer` header
        };
        if data.is_empty() {
            continue;
        }
        sent = sent.saturating_add(data.len() as u64);
        if length.is_some_and(|n| sent > n) {
            let _ = io.write_all(out).await;
            return false;
        }
        if chunked {
            out.extend_from_slice(format!("{:X}\r\n", data.len()).as_bytes());
        }
        if out.len() + data.len() <= ONE_WRITE {
            out.extend_from_slice(data);
        } else {
            if io.write_all(out).await.is_err() || io.write_all(data).await.is_err() {
                return false;
            }
            out.clear();
        }
        if chunked {
            out.extend_from_slice(b"\r\n");
        }
        // A streamed body (chunked, or of the map's length) goes out as it
        // comes, as hyper's does.
        if exact.is_none() {
            if io.write_all(out).await.is_err() {
                return false;
            }
            out.clear();
        }
    }
    if chunked {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    if io.write_all(out).await.is_err() {
        return false;
    }
    // A body shorter than its length leaves the caller waiting: close.
    keep_alive && length.is_none_or(|n| n == sent)
}

/// Whether a `Connection` value has the `close` token.
fn has_close(value: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"))
}

thread_local! {
    /// The `Date` of the current second, formatted once a second per thread
    /// (hyper caches its own the same way).
    static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// Appends the current time as an HTTP date.
fn date(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|cached| {
        let mut cached = cached.borrow_mut();
        if cached.0 != secs {
            *cached = (secs, httpdate::fmt_http_date(now));
        }
        out.extend_from_slice(cached.1.as_bytes());
    });
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::HeaderValue;
    use tokio::io::AsyncReadExt as _;

    /// How a test answer is made (afresh for each writer).
    type Make = fn() -> Response;

    /// One answer of each shape the adapter gives.
    fn answers() -> Vec<(&'static str, Make)> {
        fn stream(parts: &'static [&'static str]) -> Body {
            Body::from_stream(futures::stream::iter(
                parts
                    .iter()
                    .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p.as_bytes()))),
            ))
        }
        use bytes::Bytes;
        vec![
            ("200 with a body", || {
                Response::new(Body::from("{\"ok\":true}"))
            }),
            ("a problem", || {
                crate::server::problem(StatusCode::NOT_FOUND, "no route")
            }),
            ("204", || {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::NO_CONTENT;
                r.headers_mut()
                    .insert("set-cookie", HeaderValue::from_static("a=1"));
                r
            }),
            ("304 with a length", || {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::NOT_MODIFIED;
                r.headers_mut()
                    .insert("content-length", HeaderValue::from_static("10"));
                r
            }),
            ("201 empty", || {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::CREATED;
                r
            }),
            ("the map's length, a sized body", || {
                let mut r = Response::new(Body::from("abc"));
                r.headers_mut().insert("x-a", HeaderValue::from_static("1"));
                r.headers_mut()
                    .insert("content-length", HeaderValue::from_static("3"));
                r.headers_mut()
                    .append("set-cookie", HeaderValue::from_static("a=1"));
                r.headers_mut()
                    .append("set-cookie", HeaderValue::from_static("b=2"));
                r
            }),
            ("streamed, no length", || {
                Response::new(stream(&["ab", "", "abcdefghijklmnopqrstuvwxyz"]))
            }),
            ("streamed, the map's length", || {
                let mut r = Response::new(stream(&["ab", "cd"]));
                r.headers_mut()
                    .insert("content-length", HeaderValue::from_static("4"));
                r
            }),
            ("a status without a reason", || {
                let mut r = Response::new(Body::from("x"));
                *r.status_mut() = StatusCode::from_u16(599).unwrap();
                r
            }),
            ("its own date", || {
                let mut r = Response::new(Body::from("x"));
                r.headers_mut().insert(
                    "date",
                    HeaderValue::from_static("Mon, 01 Jan 2024 00:00:00 GMT"),
                );
                r
            }),
            ("a big body", || {
                Response::new(Body::from(vec![b'x'; 100_000]))
            }),
        ]
    }

    /// Reads one answer (to a GET) from `io`.
    async fn read_answer(io: &mut (impl tokio::io::AsyncRead + Unpin)) -> Vec<u8> {
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        while !out.ends_with(b"\r\n\r\n") {
            assert_eq!(io.read(&mut byte).await.unwrap(), 1, "cut: {out:?}");
            out.push(byte[0]);
        }
        let head = String::from_utf8(out.clone()).unwrap().to_ascii_lowercase();
        if let Some(n) = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map(|n| n.parse::<usize>().unwrap())
        {
            let mut body = vec![0u8; n];
            io.read_exact(&mut body).await.unwrap();
            out.extend(body);
        } else if head.contains("transfer-encoding: chunked") {
            while !out.ends_with(b"\r\n0\r\n\r\n") {
                assert_eq!(io.read(&mut byte).await.unwrap(), 1);
                out.push(byte[0]);
            }
        }
        out
    }

    /// `date: <...>` lines masked (the second may turn between two writes).
    fn masked(bytes: &[u8]) -> String {
        let text = String::from_utf8_lossy(bytes);
        text.split("\r\n")
            .map(|l| {
                if l.starts_with("date: ") && !l.contains("2024") {
                    "date: *"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    #[tokio::test]
    async fn answers_are_written_as_hyper_writes_them() {
        for (what, make) in answers() {
            // hyper's server, on one end of a pipe.
            let (mut client, server) = tokio::io::duplex(1 << 20);
            let service = hyper::service::service_fn(move |_req| async move {
                Ok::<_, std::convert::Infallible>(make())
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(server), service),
            );
            client
                .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            let hyper = read_answer(&mut client).await;
            // The lean path's writer.
            let mut mine = Vec::new();
            let mut out = Vec::new();
            let keep = respond(&mut mine, &mut out, make()).await;
            assert!(keep, "{what}: the connection is not kept");
            assert_eq!(masked(&mine), masked(&hyper), "{what}");
            assert!(mine.starts_with(b"HTTP/1.1 "), "{what}");
        }
    }

    #[tokio::test]
    async fn a_body_that_fails_or_falls_short_closes_the_connection() {
        let failing = || {
            Response::new(Body::from_stream(futures::stream::iter([
                Ok(bytes::Bytes::from_static(b"ab")),
                Err(std::io::Error::other("cut")),
            ])))
        };
        let mut out = Vec::new();
        let mut mine = Vec::new();
        assert!(!respond(&mut mine, &mut out, failing()).await);
        // What went out is visibly cut: no last chunk.
        assert!(!mine.ends_with(b"0\r\n\r\n"));
        let short = || {
            let mut r = Response::new(Body::from_stream(futures::stream::iter([Ok::<
                _,
                std::io::Error,
            >(
                bytes::Bytes::from_static(b"ab"),
            )])));
            r.headers_mut()
                .insert("content-length", HeaderValue::from_static("5"));
            r
        };
        let mut mine = Vec::new();
        assert!(!respond(&mut mine, &mut out, short()).await);
        let long = || {
            let mut r = Response::new(Body::from_stream(futures::stream::iter([Ok::<
                _,
                std::io::Error,
            >(
                bytes::Bytes::from_static(b"abcdef"),
            )])));
            r.headers_mut()
                .insert("content-length", HeaderValue::from_static("5"));
            r
        };
        let mut mine = Vec::new();
        assert!(!respond(&mut mine, &mut out, long()).await);
        let close = || {
            let mut r = Response::new(Body::from("x"));
            r.headers_mut()
                .insert("connection", HeaderValue::from_static("keep-alive, Close"));
            r
        };
        let mut mine = Vec::new();
        assert!(!respond(&mut mine, &mut out, close()).await);
    }
}
