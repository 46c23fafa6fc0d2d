//! The floor of our HTTP stack as a reverse proxy, for `proxy-bench`: hyper's
//! server and hyper-util's pooled client on one current-thread tokio runtime,
//! and nothing else (no axum, no reqwest, no input reading). It does only
//! what proxy-bench's nginx does: `/v1/api/...` → upstream `/api/...`, an
//! `Authorization: Bearer $LOGTO_API_KEY` added, the rest passed through.
//!
//! ```text
//! cargo build --release -p logto-tests --example bare_proxy
//! ../shared/bin/proxy-bench --adapter-cmd 'target/release/examples/bare_proxy {UPSTREAM} 127.0.0.1:{PORT}'
//! ```
//!
//! A third argument, `affine`, keeps one upstream connection per caller
//! connection instead of hyper-util's pool, driven in the caller's task (see
//! [`affine`]); `affine-spawn` drives it in a task of its own, as the
//! adapter's direct path does (`logto_client`'s `client::affine`). What the
//! pool costs: `scripts/instructions` counts both.
//!
//! `lean` is below hyper: HTTP/1.1 written by hand on httparse, one task
//! per caller connection that owns its upstream connection and does both
//! sides in turn (read the request, write it upstream, read the answer,
//! write it back), bodies framed by `Content-Length` only. It measures what
//! a proxy on tokio could cost without hyper's layers; it is not a proxy to
//! use (no chunked bodies, no limits, no timeouts).
//!
//! `lean-client` is hyper's server with that hand-written client half: one
//! upstream connection per caller connection, written to and read from in
//! the service's own future (bodies collected; `Content-Length` answers
//! only). Between `affine-spawn` and `lean`, it says which half of hyper's
//! cost is its client's. `lean-server` is the other way round from hyper:
//! the hand-written server half, which builds `http` types (a `HeaderMap`,
//! a `Uri`) as hyper's server would and hands them to that client half,
//! then writes the answer: what replacing only hyper's server, not the
//! `http` types a router and handlers take, is worth.
//!
//! What the generated adapter does beyond this (routing, reading and
//! checking inputs, the call plan, hop-by-hop hygiene, limits) costs the
//! difference between the two runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::convert::Infallible;

use http::{HeaderValue, Request, Response, Uri};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

fn main() {
    let mut args = std::env::args().skip(1);
    let upstream: Uri = args.next().expect("upstream URL").parse().expect("URL");
    let addr = args.next().expect("listen address");
    let key = std::env::var("LOGTO_API_KEY").unwrap_or_default();
    let auth = HeaderValue::from_str(&format!("Bearer {key}")).expect("header");
    let authority = upstream.authority().expect("host:port").clone();
    match args.next().as_deref() {
        Some("lean") => return lean(authority.as_str().to_owned(), addr, key),
        Some("lean-client") => return lean_client(authority.as_str().to_owned(), addr, auth),
        Some("lean-server") => return lean_server(authority.as_str().to_owned(), addr, auth),
        Some("affine") => return affine(authority, addr, auth, false),
        Some("affine-spawn") => return affine(authority, addr, auth, true),
        _ => {}
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async move {
            let client: Client<HttpConnector, Incoming> =
                Client::builder(TokioExecutor::new()).build_http();
            let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let (client, auth, authority) = (client.clone(), auth.clone(), authority.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (client, auth, authority) =
                            (client.clone(), auth.clone(), authority.clone());
                        async move {
                            let (mut parts, body) = req.into_parts();
                            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                            let path = path.strip_prefix("/v1").unwrap_or(path);
                            parts.uri = Uri::builder()
                                .scheme("http")
                                .authority(authority)
                                .path_and_query(path)
                                .build()
                                .expect("uri");
                            parts.headers.insert(http::header::AUTHORIZATION, auth);
                            parts.headers.remove(http::header::HOST);
                            let answer =
                                match client.request(Request::from_parts(parts, body)).await {
                                    Ok(resp) => resp.map(http_body_util::Either::Left),
                                    Err(_) => Response::builder()
                                        .status(502)
                                        .body(http_body_util::Either::Right(
                                            http_body_util::Empty::new(),
                                        ))
                                        .expect("response"),
                                };
                            Ok::<_, Infallible>(answer)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
}

/// One upstream connection per caller connection, on hyper's low-level
/// client: no pool. Driven in the caller's task (joined with the server
/// connection: each wake-up polls both), or with `spawn` in a task of its
/// own (a channel hop per request, but only the side woken is polled:
/// 38.5k instructions a request against 45.8k joined and 54.1k pooled).
fn affine(authority: http::uri::Authority, addr: String, auth: HeaderValue, spawn: bool) {
    use std::cell::RefCell;
    use std::rc::Rc;
    serve_local(addr, move |stream| {
        let (auth, authority) = (auth.clone(), authority.clone());
        async move {
            let Ok(up) = tokio::net::TcpStream::connect(authority.as_str()).await else {
                return;
            };
            let _ = up.set_nodelay(true);
            let Ok((sender, conn)) =
                hyper::client::conn::http1::handshake::<_, Incoming>(TokioIo::new(up)).await
            else {
                return;
            };
            let sender = Rc::new(RefCell::new(sender));
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (sender, auth) = (sender.clone(), auth.clone());
                async move {
                    let (mut parts, body) = req.into_parts();
                    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                    let path = path.strip_prefix("/v1").unwrap_or(path);
                    parts.uri = Uri::builder().path_and_query(path).build().expect("uri");
                    parts.headers.insert(http::header::AUTHORIZATION, auth);
                    let ready = std::future::poll_fn(|cx| sender.borrow_mut().poll_ready(cx)).await;
                    let sent = match ready {
                        Ok(()) => Some(
                            sender
                                .borrow_mut()
                                .send_request(Request::from_parts(parts, body)),
                        ),
                        Err(_) => None,
                    };
                    let answer = match sent {
                        Some(f) => f.await.ok(),
                        None => None,
                    };
                    let answer = match answer {
                        Some(resp) => resp.map(http_body_util::Either::Left),
                        None => Response::builder()
                            .status(502)
                            .body(http_body_util::Either::Right(http_body_util::Empty::new()))
                            .expect("response"),
                    };
                    Ok::<_, Infallible>(answer)
                }
            });
            let server = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if spawn {
                tokio::task::spawn_local(conn);
                let _ = server.await;
            } else {
                let _ = tokio::join!(server, conn);
            }
        }
    });
}

/// Hop-by-hop headers (RFC 9110, 7.6.1) and those the proxy writes itself.
fn dropped(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "authorization",
        "content-length",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn content_length(headers: &[httparse::Header<'_>]) -> Option<usize> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
}

/// See the module's docs: HTTP/1.1 by hand, one task per caller connection.
fn lean(authority: String, addr: String, key: String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let authority: &'static str = Box::leak(authority.into_boxed_str());
    let auth: &'static str = Box::leak(format!("Authorization: Bearer {key}\r\n").into_boxed_str());
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = lean_connection(stream, authority, auth).await;
            });
        }
    });
}

async fn lean_connection(
    mut caller: tokio::net::TcpStream,
    authority: &'static str,
    auth: &'static str,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let bad = || std::io::Error::from(std::io::ErrorKind::InvalidData);
    let mut upstream: Option<tokio::net::TcpStream> = None;
    let mut input: Vec<u8> = Vec::with_capacity(8192);
    let mut answer: Vec<u8> = Vec::with_capacity(8192);
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    loop {
        // The request head.
        let (head, body) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&input).map_err(|_| bad())? {
                httparse::Status::Complete(head) => {
                    if req
                        .headers
                        .iter()
                        .any(|h| h.name.eq_ignore_ascii_case("transfer-encoding"))
                    {
                        return Err(bad());
                    }
                    let body = content_length(req.headers).unwrap_or(0);
                    let path = req.path.ok_or_else(bad)?;
                    let path = path.strip_prefix("/v1").unwrap_or(path);
                    out.clear();
                    out.extend_from_slice(req.method.ok_or_else(bad)?.as_bytes());
                    out.push(b' ');
                    out.extend_from_slice(path.as_bytes());
                    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
                    out.extend_from_slice(authority.as_bytes());
                    out.extend_from_slice(b"\r\n");
                    for h in req.headers.iter().filter(|h| !dropped(h.name)) {
                        out.extend_from_slice(h.name.as_bytes());
                        out.extend_from_slice(b": ");
                        out.extend_from_slice(h.value);
                        out.extend_from_slice(b"\r\n");
                    }
                    out.extend_from_slice(auth.as_bytes());
                    if body > 0 {
                        out.extend_from_slice(format!("Content-Length: {body}\r\n").as_bytes());
                    }
                    out.extend_from_slice(b"\r\n");
                    break (head, body);
                }
                httparse::Status::Partial => {
                    if caller.read_buf(&mut input).await? == 0 {
                        return Ok(());
                    }
                }
            }
        };
        while input.len() < head + body {
            if caller.read_buf(&mut input).await? == 0 {
                return Ok(());
            }
        }
        out.extend_from_slice(&input[head..head + body]);
        input.drain(..head + body);
        // Upstream: the connection this caller connection owns.
        let up = match upstream.as_mut() {
            Some(up) => up,
            None => {
                let up = tokio::net::TcpStream::connect(authority).await?;
                up.set_nodelay(true)?;
                upstream.insert(up)
            }
        };
        up.write_all(&out).await?;
        answer.clear();
        let (head, body) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&answer).map_err(|_| bad())? {
                httparse::Status::Complete(head) => {
                    let body = content_length(resp.headers).ok_or_else(bad)?;
                    out.clear();
                    out.extend_from_slice(b"HTTP/1.1 ");
                    out.extend_from_slice(resp.code.ok_or_else(bad)?.to_string().as_bytes());
                    out.push(b' ');
                    out.extend_from_slice(resp.reason.unwrap_or("").as_bytes());
                    out.extend_from_slice(b"\r\n");
                    for h in resp.headers.iter().filter(|h| !dropped(h.name)) {
                        out.extend_from_slice(h.name.as_bytes());
                        out.extend_from_slice(b": ");
                        out.extend_from_slice(h.value);
                        out.extend_from_slice(b"\r\n");
                    }
                    out.extend_from_slice(format!("Content-Length: {body}\r\n\r\n").as_bytes());
                    break (head, body);
                }
                httparse::Status::Partial => {
                    if up.read_buf(&mut answer).await? == 0 {
                        return Err(bad());
                    }
                }
            }
        };
        while answer.len() < head + body {
            if up.read_buf(&mut answer).await? == 0 {
                return Err(bad());
            }
        }
        out.extend_from_slice(&answer[head..head + body]);
        caller.write_all(&out).await?;
    }
}

/// The caller connection's upstream connection and its read buffer.
type LeanSlot = std::rc::Rc<std::cell::RefCell<Option<(tokio::net::TcpStream, Vec<u8>)>>>;

/// Serves each connection accepted on `addr` with `conn`, on one
/// current-thread runtime (tasks need not be `Send`).
fn serve_local<F, Fut>(addr: String, conn: F)
where
    F: Fn(tokio::net::TcpStream) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::task::spawn_local(conn(stream));
        }
    });
}

/// hyper's server, the hand-written client half of `lean` (module docs).
fn lean_client(authority: String, addr: String, auth: HeaderValue) {
    let authority: &'static str = Box::leak(authority.into_boxed_str());
    serve_local(addr, move |stream| {
        let auth = auth.clone();
        async move {
            let slot = LeanSlot::default();
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (slot, auth) = (slot.clone(), auth.clone());
                async move { Ok::<_, Infallible>(lean_exchange(&slot, &auth, authority, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    });
}

/// The hand-written client half: one request on the slot's connection.
async fn lean_exchange<B: hyper::body::Body>(
    slot: &LeanSlot,
    auth: &HeaderValue,
    authority: &'static str,
    req: Request<B>,
) -> Response<http_body_util::Full<hyper::body::Bytes>> {
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let bad = || std::io::Error::from(std::io::ErrorKind::InvalidData);
    let exchange = async {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.map_err(|_| bad())?.to_bytes();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let path = path.strip_prefix("/v1").unwrap_or(path);
        let mut out = Vec::with_capacity(512 + body.len());
        out.extend_from_slice(parts.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
        out.extend_from_slice(authority.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &parts.headers {
            if !dropped(name.as_str()) {
                out.extend_from_slice(name.as_str().as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(value.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        out.extend_from_slice(b"authorization: ");
        out.extend_from_slice(auth.as_bytes());
        out.extend_from_slice(format!("\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(&body);
        let taken = slot.borrow_mut().take();
        let (mut up, mut buf) = match taken {
            Some(conn) => conn,
            None => {
                let up = tokio::net::TcpStream::connect(authority).await?;
                up.set_nodelay(true)?;
                (up, Vec::with_capacity(8192))
            }
        };
        up.write_all(&out).await?;
        buf.clear();
        let (head, len, mut resp) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head) = parsed.parse(&buf).map_err(|_| bad())? {
                let len = content_length(parsed.headers).ok_or_else(bad)?;
                let mut resp = Response::builder().status(parsed.code.ok_or_else(bad)?);
                for h in parsed.headers.iter().filter(|h| !dropped(h.name)) {
                    resp = resp.header(h.name, h.value);
                }
                break (head, len, resp);
            }
            if up.read_buf(&mut buf).await? == 0 {
                return Err(bad());
            }
        };
        while buf.len() < head + len {
            if up.read_buf(&mut buf).await? == 0 {
                return Err(bad());
            }
        }
        let body = hyper::body::Bytes::copy_from_slice(&buf[head..head + len]);
        resp = resp.header(http::header::CONTENT_LENGTH, len);
        *slot.borrow_mut() = Some((up, buf));
        resp.body(http_body_util::Full::new(body))
            .map_err(|_| bad())
    };
    match exchange.await {
        Ok(resp) => resp,
        Err(_) => Response::builder()
            .status(502)
            .body(http_body_util::Full::default())
            .expect("response"),
    }
}

/// The hand-written server half of `lean` in front of a service on `http`
/// types (module docs).
fn lean_server(authority: String, addr: String, auth: HeaderValue) {
    let authority: &'static str = Box::leak(authority.into_boxed_str());
    serve_local(addr, move |stream| {
        let auth = auth.clone();
        async move {
            let _ = lean_server_connection(stream, &auth, authority).await;
        }
    });
}

async fn lean_server_connection(
    mut caller: tokio::net::TcpStream,
    auth: &HeaderValue,
    authority: &'static str,
) -> std::io::Result<()> {
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let bad = || std::io::Error::from(std::io::ErrorKind::InvalidData);
    let slot = LeanSlot::default();
    let mut input = bytes::BytesMut::with_capacity(8192);
    let mut out: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let (head, body, mut parts) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&input).map_err(|_| bad())? {
                httparse::Status::Complete(head) => {
                    let body = content_length(req.headers).unwrap_or(0);
                    let mut map = http::HeaderMap::with_capacity(req.headers.len());
                    for h in req.headers.iter() {
                        map.append(
                            http::HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| bad())?,
                            HeaderValue::from_bytes(h.value).map_err(|_| bad())?,
                        );
                    }
                    let mut parts = Request::new(()).into_parts().0;
                    parts.method = http::Method::from_bytes(req.method.ok_or_else(bad)?.as_bytes())
                        .map_err(|_| bad())?;
                    parts.uri = req.path.ok_or_else(bad)?.parse().map_err(|_| bad())?;
                    parts.headers = map;
                    break (head, body, parts);
                }
                httparse::Status::Partial => {
                    if caller.read_buf(&mut input).await? == 0 {
                        return Ok(());
                    }
                }
            }
        };
        while input.len() < head + body {
            if caller.read_buf(&mut input).await? == 0 {
                return Ok(());
            }
        }
        let _ = input.split_to(head);
        let body = input.split_to(body).freeze();
        parts.headers.remove(http::header::HOST);
        let resp = lean_exchange(
            &slot,
            auth,
            authority,
            Request::from_parts(parts, http_body_util::Full::new(body)),
        )
        .await;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.map_err(|_| bad())?.to_bytes();
        out.clear();
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(parts.status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(parts.status.canonical_reason().unwrap_or("").as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &parts.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        caller.write_all(&out).await?;
    }
}
