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
//! What the generated adapter does beyond this (routing, reading and
//! checking inputs, the call plan, hop-by-hop hygiene, limits) costs the
//! difference between the two runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
            let (auth, authority) = (auth.clone(), authority.clone());
            tokio::task::spawn_local(async move {
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
                        let ready =
                            std::future::poll_fn(|cx| sender.borrow_mut().poll_ready(cx)).await;
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
            });
        }
    });
}
