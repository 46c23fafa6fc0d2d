//! The HTTP/1 server every adapter runs on: hyper's connection builder with
//! the limits a proxy facing anyone needs, and graceful shutdown.
//!
//! `axum::serve` gives hyper no timer, so hyper's header read timeout never
//! fires there (a slowloris client holds a connection forever), and it offers
//! no knob for header sizes. This accept loop is axum's, with those set:
//!
//! - headers must arrive within [`HttpLimits::header_read_timeout`], or the
//!   connection is closed;
//! - more than [`HttpLimits::max_headers`] headers, or a head (request line
//!   and headers) over [`HttpLimits::max_head_bytes`], get 431;
//! - a request target over [`HttpLimits::max_uri_bytes`] gets 414;
//! - request smuggling: hyper refuses two different `Content-Length`s and
//!   transfer codings other than `chunked` with 400; a request with both
//!   `Content-Length` and `Transfer-Encoding` gets 400 too and the connection
//!   is closed after it (hyper drops the length before any handler sees the
//!   request, so `framing` follows the raw bytes to find such requests);
//! - a header value that is not UTF-8 gets 400 (hyper already refuses CR, LF
//!   and NUL): such bytes would otherwise travel to the upstream as they are.

use std::future::Future;
use std::time::Duration;

use std::convert::Infallible;
use std::sync::Arc;

use axum::http::{Request, StatusCode};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::Service;

/// Connection limits of an HTTP adapter.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Time a caller has to send a request's line and headers (default 10 s).
    pub header_read_timeout: Duration,
    /// Most headers in one request (default 100, hyper's); more get 431.
    pub max_headers: usize,
    /// Largest request line plus headers, in bytes (default 32 KiB); larger
    /// get 431.
    pub max_head_bytes: usize,
    /// Longest request target (path and query), in bytes (default 8 KiB);
    /// longer get 414.
    pub max_uri_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_headers: 100,
            max_head_bytes: 32 * 1024,
            max_uri_bytes: 8 * 1024,
        }
    }
}

mod framing;
mod lean;
mod respond;

pub use lean::Lean;

/// hyper's smallest read buffer; a smaller `max_buf_size` makes it panic.
const MIN_BUF: usize = 8192;

/// Serves `router` on `listener` until `stop` completes, then stops
/// accepting (new connections are refused) and waits for in-flight requests
/// to finish. Callers bound that wait with their grace period.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: &HttpLimits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_lean(listener, router, None, limits, stop).await
}

/// [`serve`], with the generated routes of `lean` (when given) served on
/// the lean path (see [`Lean`]): each connection starts there and moves to
/// hyper and `router` for good at its first request the lean path does not
/// serve. `router` must be the one the same generated code built along with
/// `lean` (`rest::lean_router`), with no layer that would see or change its
/// routes' requests: the lean path does not go through it.
pub async fn serve_lean(
    listener: TcpListener,
    router: axum::Router,
    lean: Option<Lean>,
    limits: &HttpLimits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_head_bytes)
        // The read buffer must hold a whole head (and never go below hyper's
        // minimum, which it asserts).
        .max_buf_size(limits.max_head_bytes.max(MIN_BUF).saturating_mul(2));
    if limits.max_headers != 100 {
        // Any other value makes hyper allocate the header array per request.
        builder.max_headers(limits.max_headers);
    }
    let hyper = Arc::new(Hyper {
        builder,
        router,
        limits: limits.clone(),
    });
    let graceful = GracefulShutdown::new();
    // Tells connections on the lean path to stop between requests; their
    // tasks hold a receiver each, so `closed` says when all are gone.
    let (halt, halted) = tokio::sync::watch::channel(false);
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                if !is_connection_error(&e) {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::error!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let hyper = Arc::clone(&hyper);
        let watcher = graceful.watcher();
        // The connection runs with its own upstream connection slot (see
        // `client::affine`).
        match &lean {
            Some(lean) => {
                let lean = lean.clone();
                let mut halted = halted.clone();
                tokio::spawn(crate::client::affine_scope(async move {
                    let rest = lean.serve(stream, &hyper.limits, &mut halted).await;
                    drop(halted);
                    if let Some((io, read)) = rest {
                        hyper.connection(io, read, watcher).await;
                    }
                }));
            }
            None => {
                tokio::spawn(crate::client::affine_scope(hyper.connection(
                    stream,
                    bytes::Bytes::new(),
                    watcher,
                )));
            }
        }
    }
    drop(listener);
    drop(halted);
    let _ = halt.send(true);
    tokio::join!(graceful.shutdown(), halt.closed());
    Ok(())
}

/// What serves a connection on hyper: its settings and the router.
struct Hyper {
    builder: hyper::server::conn::http1::Builder,
    router: axum::Router,
    limits: HttpLimits,
}

impl Hyper {
    /// Serves `io` on hyper (`read`: bytes already read from it, its first
    /// request's), watched for graceful shutdown.
    fn connection<IO>(
        &self,
        io: IO,
        read: bytes::Bytes,
        watcher: hyper_util::server::graceful::Watcher,
    ) -> impl Future<Output = ()> + Send + 'static
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let max_uri = self.limits.max_uri_bytes;
        let marks = Arc::new(framing::Marks::default());
        let io = framing::Framed::new(io, read, self.limits.max_head_bytes, Arc::clone(&marks));
        let router = self.router.clone();
        // The checks run before the router (no middleware boxing per request).
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let refused = if marks.next_is_ambiguous() {
                Some(ambiguous())
            } else {
                refuse(&req, max_uri)
            };
            let mut router = router.clone();
            async move {
                match refused {
                    Some(resp) => Ok::<_, Infallible>(resp),
                    None => router.call(req).await,
                }
            }
        });
        let conn = watcher.watch(self.builder.serve_connection(TokioIo::new(io), service));
        async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended: {e}");
            }
        }
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// The answer to a request with both `Content-Length` and
/// `Transfer-Encoding`: its length is ambiguous, so nothing after it on the
/// connection can be trusted (hyper closes it after this answer).
fn ambiguous() -> Response {
    let mut resp = crate::server::problem(
        StatusCode::BAD_REQUEST,
        "the request has both Content-Length and Transfer-Encoding: its length is ambiguous",
    );
    resp.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    resp
}

/// The answer to a request no adapter may see, if it is one.
fn refuse<B>(req: &Request<B>, max_uri: usize) -> Option<Response> {
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > max_uri {
        return Some(crate::server::problem(
            StatusCode::URI_TOO_LONG,
            format!("the request target is {target} bytes long; the limit is {max_uri}"),
        ));
    }
    let headers = req.headers();
    if let Some((name, _)) = headers
        .iter()
        // ASCII, the usual case, is checked faster than UTF-8 in general.
        .find(|(_, v)| !v.as_bytes().is_ascii() && std::str::from_utf8(v.as_bytes()).is_err())
    {
        return Some(crate::server::problem(
            StatusCode::BAD_REQUEST,
            format!("the value of header `{name}` is not UTF-8"),
        ));
    }
    None
}
