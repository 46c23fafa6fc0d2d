//! Callers and upstreams that misbehave, against a generated REST adapter
//! served by `logto_client::listen::serve_lean` (what the binary runs; the
//! lean path hands what it does not serve to hyper, as `listen::serve` and
//! `naftiko serve` run it): slowloris, oversized and ambiguous requests, values that
//! would smuggle headers upstream, upstreams that die mid-answer or answer
//! too much. Every case speaks raw HTTP/1.1 over TCP, so what is asserted is
//! exactly what crossed the wire.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logto_client::listen::HttpLimits;
use logto_client::server::RestConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod common;
use common::read_head;

logto_client::naftiko_capability!("edges.yaml");

/// What a scripted upstream does with each request it reads.
#[derive(Clone, Copy)]
enum Upstream {
    /// `200` with `len` bytes and a `Content-Length`, one per connection
    /// (`Connection: close`: the script serves one request a connection).
    Sized(usize),
    /// `200`, chunked, `len` bytes in 16 KiB chunks.
    Chunked(usize),
    /// Announces `announced` bytes, sends `sent`, then closes.
    ClosesMidBody { announced: usize, sent: usize },
    /// Chunked; sends one chunk, then resets the connection (RST).
    ResetsMidBody,
    /// Announces `announced` bytes, sends `sent`, then sends nothing more
    /// (the connection stays open).
    StallsMidBody { announced: usize, sent: usize },
    /// `302 Found` to `/answer?step=2`, setting a cookie.
    Redirects,
    /// A redirect with this status to `/answer?step=2`, setting a cookie,
    /// then `200` with 2 bytes for that target (one request a connection,
    /// as every script here).
    RedirectsOnce(u16),
    /// `302 Found` to this other upstream's `/answer?step=2`, setting a
    /// cookie.
    RedirectsTo(&'static str),
    /// `201` with 2 bytes, under names in any case, repeated apart, and
    /// hop-by-hop ones between the others (which a header map's removal
    /// reorders), and a `Date` of its own.
    Mixed,
}

/// A raw upstream on loopback; returns its URL and the requests it read
/// (heads, and bodies of announced length).
async fn upstream(script: Upstream) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut head = read_head(&mut conn).await;
                // A sized body is read too, and logged after its head.
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                if conn.read_exact(&mut body).await.is_ok() {
                    head.push_str(&String::from_utf8_lossy(&body));
                }
                let script = match script {
                    Upstream::RedirectsOnce(_)
                        if head.starts_with("GET /answer?step=2 ")
                            || head.starts_with("POST /answer?step=2 ") =>
                    {
                        Upstream::Sized(2)
                    }
                    other => other,
                };
                log.lock().unwrap().push(head);
                answer(&mut conn, script).await;
            });
        }
    });
    (url, seen)
}

async fn answer(conn: &mut TcpStream, script: Upstream) {
    let _ = match script {
        Upstream::Sized(len) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {len}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n"
            );
            conn.write_all(head.as_bytes()).await.unwrap();
            conn.write_all(&vec![b'x'; len]).await
        }
        Upstream::Chunked(len) => {
            conn.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n")
                .await
                .unwrap();
            let mut left = len;
            while left > 0 {
                let n = left.min(16 * 1024);
                let chunk = format!("{n:x}\r\n{}\r\n", "x".repeat(n));
                if conn.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
                left -= n;
            }
            conn.write_all(b"0\r\n\r\n").await
        }
        Upstream::ClosesMidBody { announced, sent } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {announced}\r\n\r\n");
            conn.write_all(head.as_bytes()).await.unwrap();
            conn.write_all(&vec![b'x'; sent]).await.unwrap();
            conn.shutdown().await
        }
        Upstream::StallsMidBody { announced, sent } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {announced}\r\n\r\n");
            conn.write_all(head.as_bytes()).await.unwrap();
            conn.write_all(&vec![b'x'; sent]).await
        }
        Upstream::Redirects => {
            conn.write_all(
                b"HTTP/1.1 302 Found\r\nlocation: /answer?step=2\r\nset-cookie: step=2; Path=/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await
        }
        Upstream::RedirectsOnce(status) => {
            let head = format!(
                "HTTP/1.1 {status} Moved\r\nlocation: /answer?step=2\r\nset-cookie: step=2; Path=/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            conn.write_all(head.as_bytes()).await
        }
        Upstream::Mixed => {
            conn.write_all(
                b"HTTP/1.1 201 Created\r\nX-Trace: a\r\nConnection: keep-alive, close\r\nSet-Cookie: a=1\r\nKeep-Alive: timeout=5\r\nContent-Type: text/plain\r\nset-cookie: b=2\r\nUpgrade: h2c\r\nx-trace: b\r\nContent-Length: 2\r\nDATE: Thu, 01 Jan 2026 00:00:00 GMT\r\nX-Last: z\r\n\r\nok",
            )
            .await
        }
        Upstream::RedirectsTo(other) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nlocation: {other}/answer?step=2\r\nset-cookie: step=2; Path=/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            conn.write_all(head.as_bytes()).await
        }
        Upstream::ResetsMidBody => {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n",
            )
            .await
            .unwrap();
            conn.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            // Linger 0: close() sends RST instead of FIN.
            #[allow(deprecated)] // blocking on drop is what a reset needs here
            conn.set_linger(Some(Duration::ZERO)).unwrap();
            Ok(())
        }
    };
    // Keep the connection until the adapter is done with it.
    let mut rest = [0u8; 64];
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.read(&mut rest)).await;
}

/// The adapter in front of `upstream`, answers limited to `answer_limit`,
/// served with a 1 s header timeout; returns its address.
async fn adapter(upstream: &str, answer_limit: usize) -> String {
    adapter_with_timeout(upstream, answer_limit, Duration::from_secs(30)).await
}

/// [`adapter`] whose upstream calls time out after `timeout`.
async fn adapter_with_timeout(upstream: &str, answer_limit: usize, timeout: Duration) -> String {
    let client = edge_api::Client::builder()
        .base_url(upstream)
        .cookie_store(false)
        .answer_limit(answer_limit)
        .timeout(timeout)
        .build()
        .unwrap();
    serve_edge(client, true).await.0
}

/// The edge adapter of `client`, served with a 1 s header timeout, on the
/// lean path or on hyper alone; returns its address and its lean path.
async fn serve_edge(
    client: edge_api::Client,
    lean: bool,
) -> (String, Option<logto_client::listen::Lean>) {
    let (router, lean_path) = edge_rest::lean_router(
        edge_rest::Forwarder {
            upstreams: edge_rest::Upstreams { edge_api: client },
        },
        RestConfig::default(),
    );
    let lean_path = lean_path.filter(|_| lean);
    let limits = HttpLimits {
        header_read_timeout: Duration::from_secs(1),
        ..HttpLimits::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let served = lean_path.clone();
    tokio::spawn(async move {
        logto_client::listen::serve_lean(listener, router, served, &limits, std::future::pending())
            .await
    });
    (addr, lean_path)
}

/// Sends raw bytes, reads until the adapter closes the connection (or 5 s).
/// Returns what came back and whether the read ended in an error.
async fn exchange(addr: &str, request: &[u8]) -> (String, bool) {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Ok(Ok(0)) => return (String::from_utf8_lossy(&out).into_owned(), false),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Err(_) => panic!(
                "the connection stayed open 5 s; got so far: {}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

fn get(target: &str, extra: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n{extra}\r\n")
        .into_bytes()
}

/// Raw requests, each sent (then a `GET` of an unknown path that closes the
/// connection) to the adapter on hyper alone and on the lean path, each in
/// front of its own upstream with the same script: the callers get the same
/// bytes (but the `date` and the upstream's port), the upstreams read the
/// same requests, and the lean path served exactly the requests it should
/// (the others went to hyper, on the same connection).
#[tokio::test]
async fn the_lean_path_answers_and_forwards_as_hyper_does() {
    const LAST: &str = "GET /nope HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
    let get = |extra: &str| format!("GET /answer HTTP/1.1\r\nhost: x\r\n{extra}\r\n");
    let echo = |body: &str| {
        format!(
            "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let two = |a: String, b: &str| format!("{a}{b}");
    let sized = Upstream::Sized(2);
    let cases: Vec<(&str, Upstream, String, u64)> = vec![
        ("a GET", sized, get(""), 1),
        ("cookies", sized, get("cookie: a=1\r\nx-other: 1\r\nCookie: b=2\r\n"), 1),
        ("two pipelined", sized, two(get(""), &get("")), 2),
        ("a query input", sized, "GET /tagged?tag=a%20b&tag=c+d&x HTTP/1.1\r\nhost: x\r\n\r\n".into(), 1),
        ("a JSON body", sized, echo("{\"b\": [1, 2.50, \"\\u00e9\"], \"a\": null}"), 1),
        ("exact numbers", sized, echo(common::EXACT_NUMBERS), 1),
        // The lean path sends a body already in serde_json's form as it came.
        ("a JSON body as serde_json writes it", sized, echo(r#"{"a":[1,-2,{"b":"é x"}],"c":true}"#), 1),
        // Nearly so, each in one way; sent as serde_json writes them.
        ("keys unsorted deeper down", sized, echo(r#"{"a":[{"c":1,"b":2}]}"#), 1),
        ("a key twice", sized, echo(r#"{"a":{"e":1,"e":2}}"#), 1),
        ("an escape", sized, echo(r#"{"a":"\/"}"#), 1),
        ("a space", sized, echo(r#"{"a":[1, 2]}"#), 1),
        ("a decimal", sized, echo(r#"{"a":2.50}"#), 1),
        ("minus zero", sized, echo(r#"{"a":-0}"#), 1),
        ("a long integer", sized, echo(r#"{"a":123456789012345678901234}"#), 1),
        ("not JSON", sized, echo("{nope"), 1),
        // Nearly serde_json's form, and not JSON: 400, whichever path reads it.
        ("a trailing comma", sized, echo(r#"{"a":[1,2],}"#), 1),
        ("a leading zero", sized, echo(r#"{"a":01}"#), 1),
        ("a control character", sized, echo("{\"a\":\"\u{1}\"}"), 1),
        ("cut short", sized, echo(r#"{"a":[1,2]"#), 1),
        ("a second value", sized, echo(r#"{"a":1}{"b":2}"#), 1),
        ("a word cut", sized, echo(r#"{"a":nul}"#), 1),
        ("a key without its value", sized, echo(r#"{"a","b":1}"#), 1),
        ("no body", sized, echo(""), 1),
        ("a chunked answer", Upstream::Chunked(100_000), get(""), 1),
        ("a short answer cut", Upstream::ClosesMidBody { announced: 100, sent: 10 }, get(""), 1),
        ("a redirect", Upstream::Redirects, get(""), 1),
        ("a head with names in any case, repeated and hop-by-hop", Upstream::Mixed, get(""), 1),
        ("HEAD", sized, "HEAD /answer HTTP/1.1\r\nhost: x\r\n\r\n".into(), 0),
        ("404", sized, "GET /answers HTTP/1.1\r\nhost: x\r\n\r\n".into(), 0),
        ("405", sized, "DELETE /answer HTTP/1.1\r\nhost: x\r\n\r\n".into(), 0),
        ("a trailing slash", sized, "GET /answer/ HTTP/1.1\r\nhost: x\r\n\r\n".into(), 0),
        ("an encoded path", sized, "GET /%61nswer HTTP/1.1\r\nhost: x\r\n\r\n".into(), 0),
        ("the OpenAPI document", sized, "GET /openapi.json HTTP/1.1\r\nhost: x\r\n\r\n".into(), 0),
        ("HTTP/1.0", sized, "GET /answer HTTP/1.0\r\n\r\n".into(), 0),
        ("a UTF-8 header value", sized, get("x-name: caf\u{e9}\r\n"), 0),
        (
            "a chunked request",
            sized,
            "POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n".into(),
            0,
        ),
        ("served, then handed over", sized, two(get(""), "GET /openapi.json HTTP/1.1\r\nhost: x\r\n\r\n"), 1),
        ("handed over, then hyper's", sized, two("GET /nope HTTP/1.1\r\nhost: x\r\n\r\n".into(), &get("")), 0),
    ];
    for (what, script, request, served) in cases {
        let mut runs = Vec::new();
        for lean in [false, true] {
            let (up, seen) = upstream(script).await;
            let client = edge_api::Client::builder()
                .base_url(&up)
                .cookie_store(false)
                .build()
                .unwrap();
            let (addr, lean_path) = serve_edge(client, lean).await;
            let answer = exchange(&addr, format!("{request}{LAST}").as_bytes()).await;
            let port = up.trim_start_matches("http://");
            let mask = |text: &str| {
                text.replace(port, "UPSTREAM")
                    .split("\r\n")
                    .map(|l| {
                        if l.starts_with("date: ") {
                            "date: *"
                        } else {
                            l
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\r\n")
            };
            let seen: Vec<String> = seen.lock().unwrap().iter().map(|r| mask(r)).collect();
            let count = lean_path.map_or(0, |l| l.served());
            runs.push((mask(&answer.0), answer.1, seen, count));
        }
        let (hyper, lean) = (&runs[0], &runs[1]);
        assert_eq!(lean.0, hyper.0, "{what}: the answers differ");
        assert_eq!(lean.1, hyper.1, "{what}: one connection ended in an error");
        assert_eq!(
            lean.2, hyper.2,
            "{what}: the upstreams read different requests"
        );
        assert_eq!(lean.3, served, "{what}: requests served on the lean path");
        if matches!(script, Upstream::Mixed) {
            // The map's order: each name at its first place, with all its
            // values; hop-by-hop names gone, `x-last` moved up into the
            // place of the first one removed.
            let head = hyper.0.split("\r\n\r\n").next().unwrap();
            let names: Vec<&str> = head
                .lines()
                .skip(1)
                .map(|l| l.split(':').next().unwrap())
                .collect();
            assert_eq!(
                names,
                [
                    "x-trace",
                    "x-trace",
                    "x-last",
                    "set-cookie",
                    "set-cookie",
                    "date",
                    "content-type",
                    "content-length"
                ],
                "{head}"
            );
        }
        assert!(hyper.0.starts_with("HTTP/1."), "{what}: {}", hyper.0);
        assert!(
            hyper.0.contains("no route for `/nope`") || what == "HTTP/1.0",
            "{what}: {}",
            hyper.0
        );
    }
}

#[tokio::test]
async fn a_caller_that_never_finishes_its_headers_is_disconnected() {
    let (up, seen) = upstream(Upstream::Sized(2)).await;
    let addr = adapter(&up, 1 << 20).await;
    let started = Instant::now();
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    conn.write_all(b"GET /answer HTTP/1.1\r\nhost: localhost\r\nx-slow: ")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "a slowloris connection was still open after 5 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn too_many_or_too_large_headers_get_431_and_long_targets_414() {
    let (up, seen) = upstream(Upstream::Sized(2)).await;
    let addr = adapter(&up, 1 << 20).await;

    let many: String = (0..101).map(|i| format!("x-h{i}: v\r\n")).collect();
    let (answer, _) = exchange(&addr, &get("/answer", &many)).await;
    assert_eq!(status_of(&answer), 431, "{answer}");

    let huge = format!("x-big: {}\r\n", "a".repeat(40 * 1024));
    let (answer, _) = exchange(&addr, &get("/answer", &huge)).await;
    assert_eq!(status_of(&answer), 431, "{answer}");

    let long = format!("/answer?q={}", "a".repeat(9 * 1024));
    let (answer, _) = exchange(&addr, &get(&long, "")).await;
    assert_eq!(status_of(&answer), 414, "{answer}");
    assert!(answer.contains("the limit is 8192"), "{answer}");

    // Within the limits the same request goes through.
    let (answer, _) = exchange(&addr, &get("/answer?q=a", "x-h: v\r\n")).await;
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "only the good request went upstream"
    );
}

#[tokio::test]
async fn ambiguous_lengths_get_400_and_close_the_connection() {
    let (up, seen) = upstream(Upstream::Sized(2)).await;
    let addr = adapter(&up, 1 << 20).await;
    // A smuggling attempt: a second request hides in the first's body.
    let both = b"GET /answer HTTP/1.1\r\nhost: localhost\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /answer?smuggled HTTP/1.1\r\nhost: localhost\r\n\r\n";
    let (answer, _) = exchange(&addr, both).await;
    assert_eq!(status_of(&answer), 400, "{answer}");
    assert!(
        answer.contains("Content-Length and Transfer-Encoding"),
        "{answer}"
    );
    assert_eq!(
        answer.matches("HTTP/1.1 ").count(),
        1,
        "nothing after the refusal is served: {answer}"
    );

    // The same on a kept-alive connection, after two good requests (one
    // chunked): those are answered, the ambiguous third one is refused.
    let three = b"POST /answer HTTP/1.1\r\nhost: localhost\r\ncontent-length: 2\r\n\r\nhiPOST /answer HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nGET /answer HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n";
    let (answer, _) = exchange(&addr, three).await;
    let statuses: Vec<u16> = answer
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| status_of(&answer[i..]))
        .collect();
    assert_eq!(statuses, [405, 405, 400], "{answer}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the upstream"
    );

    let two = b"GET /answer HTTP/1.1\r\nhost: localhost\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab";
    let (answer, _) = exchange(&addr, two).await;
    assert_eq!(status_of(&answer), 400, "{answer}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the upstream"
    );
}

#[tokio::test]
async fn values_that_would_break_upstream_headers_get_400() {
    let (up, seen) = upstream(Upstream::Sized(2)).await;
    let addr = adapter(&up, 1 << 20).await;

    // CR LF in a value the adapter sends on as a header.
    let (answer, _) = exchange(&addr, &get("/tagged?tag=a%0D%0Ax-injected:%201", "")).await;
    assert_eq!(status_of(&answer), 400, "{answer}");
    assert!(
        answer.contains("X-Tag"),
        "the answer names the input: {answer}"
    );

    // A header value that is not UTF-8.
    let mut raw = b"GET /answer HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncookie: a=\xff\xfe\r\n\r\n".to_vec();
    let (answer, _) = exchange(&addr, &raw).await;
    assert_eq!(status_of(&answer), 400, "{answer}");
    assert!(answer.contains("`cookie` is not UTF-8"), "{answer}");

    // A bare CR inside a header value never parses.
    raw = b"GET /answer HTTP/1.1\r\nhost: localhost\r\nx-a: b\rx-injected: 1\r\n\r\n".to_vec();
    let (answer, _) = exchange(&addr, &raw).await;
    assert_eq!(status_of(&answer), 400, "{answer}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the upstream"
    );

    // A clean value goes through, as a header.
    let (answer, _) = exchange(&addr, &get("/tagged?tag=blue", "")).await;
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(seen.lock().unwrap()[0].contains("x-tag: blue\r\n"));
}

#[tokio::test]
async fn an_upstream_that_dies_mid_body_never_yields_a_complete_looking_answer() {
    // Small answers are read whole first: a broken one is a 502.
    let (up, _) = upstream(Upstream::ClosesMidBody {
        announced: 1000,
        sent: 10,
    })
    .await;
    let addr = adapter(&up, 1 << 20).await;
    let (answer, _) = exchange(&addr, &get("/answer", "")).await;
    assert_eq!(status_of(&answer), 502, "{answer}");

    // Large answers stream: the status is already sent, so the connection is
    // cut before the announced length (never a clean, short 200).
    let (up, _) = upstream(Upstream::ClosesMidBody {
        announced: 200_000,
        sent: 70_000,
    })
    .await;
    let addr = adapter(&up, 1 << 20).await;
    let (answer, _) = exchange(&addr, &get("/answer", "")).await;
    assert_eq!(status_of(&answer), 200);
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    assert!(answer.contains("content-length: 200000"), "{answer:.200}");
    assert!(
        body.len() < 200_000,
        "the caller sees fewer bytes than announced"
    );

    // A chunked answer reset mid-way ends without its last chunk, so the
    // caller can tell it is broken.
    let (up, _) = upstream(Upstream::ResetsMidBody).await;
    let addr = adapter(&up, 1 << 20).await;
    let (answer, _) = exchange(&addr, &get("/answer", "")).await;
    assert_eq!(status_of(&answer), 200);
    assert!(answer.contains("0123456789abcdef"), "{answer}");
    assert!(
        !answer.ends_with("0\r\n\r\n"),
        "no terminating chunk: {answer:?}"
    );
}

#[tokio::test]
async fn an_answer_over_the_limit_is_refused() {
    // Length known up front: 502 before anything is sent on.
    let (up, _) = upstream(Upstream::Sized(100_000)).await;
    let addr = adapter(&up, 50_000).await;
    let (answer, _) = exchange(&addr, &get("/answer", "")).await;
    assert_eq!(status_of(&answer), 502, "{answer:.300}");
    assert!(
        answer.contains("larger than the limit of 50000 bytes"),
        "{answer:.300}"
    );

    // Streamed without a length: cut once past the limit, the caller's
    // connection closed. When the upstream's chunks are all there at once,
    // the cut comes before hyper's server has written anything (it drops
    // what it buffered), and the caller gets no answer at all; else a 200
    // whose body stops short. Never a complete-looking answer.
    let (up, _) = upstream(Upstream::Chunked(200_000)).await;
    let addr = adapter(&up, 50_000).await;
    let (answer, _) = exchange(&addr, &get("/answer", "")).await;
    if !answer.is_empty() {
        assert_eq!(status_of(&answer), 200);
        let body = answer.split_once("\r\n\r\n").unwrap().1;
        assert!(
            body.len() < 100_000,
            "cut near the limit: {} bytes",
            body.len()
        );
        assert!(!body.ends_with("0\r\n\r\n"), "no terminating chunk");
    }

    // Under the limit, the whole answer arrives.
    let (up, _) = upstream(Upstream::Chunked(40_000)).await;
    let addr = adapter(&up, 50_000).await;
    let (answer, _) = exchange(&addr, &get("/answer", "")).await;
    assert_eq!(status_of(&answer), 200);
    assert!(answer.ends_with("0\r\n\r\n"));
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(body.matches('x').count(), 40_000);
}

#[tokio::test]
async fn an_upstream_that_stalls_mid_body_is_cut_at_the_call_timeout() {
    // A small answer is read whole first: 504 once the timeout passes.
    let (up, _) = upstream(Upstream::StallsMidBody {
        announced: 1000,
        sent: 10,
    })
    .await;
    let addr = adapter_with_timeout(&up, 1 << 20, Duration::from_millis(300)).await;
    let started = Instant::now();
    let (answer, _) = exchange(&addr, &get("/answer", "")).await;
    assert_eq!(status_of(&answer), 504, "{answer}");
    assert!(answer.contains("did not answer in time"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // A large one streams: its status is sent, then the connection is cut at
    // the deadline, short of the announced length.
    let (up, _) = upstream(Upstream::StallsMidBody {
        announced: 200_000,
        sent: 70_000,
    })
    .await;
    let addr = adapter_with_timeout(&up, 1 << 20, Duration::from_millis(300)).await;
    let started = Instant::now();
    let (answer, _) = exchange(&addr, &get("/answer", "")).await;
    assert_eq!(status_of(&answer), 200);
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    assert!(body.len() < 200_000, "cut short: {} bytes", body.len());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_redirect_goes_back_to_the_caller_with_its_cookie() {
    // The adapter keeps no cookies (they are the caller's), so it follows no
    // redirect: the caller gets the 3xx, its Location and its Set-Cookie.
    let (up, seen) = upstream(Upstream::Redirects).await;
    let addr = adapter(&up, 1 << 20).await;
    let (answer, _) = exchange(&addr, &get("/answer", "")).await;
    assert_eq!(status_of(&answer), 302, "{answer}");
    assert!(answer.contains("location: /answer?step=2"), "{answer}");
    assert!(answer.contains("set-cookie: step=2; Path=/"), "{answer}");
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the redirect was not followed"
    );
}

/// A typed client whose calls go through reqwest, as every call did before
/// the direct path: on a reqwest client the user gave (with a jar of its
/// own, as ours keep cookies).
fn through_reqwest(up: &str) -> edge_api::Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    edge_api::Client::builder()
        .base_url(up)
        .http_client(http)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_adapter_sends_upstream_exactly_what_the_typed_client_sends() {
    // The adapter's client (no cookie store, plain HTTP) sends on hyper's
    // client directly, as a typed client (a session with its jar) does; a
    // client on a reqwest client of the user's sends through reqwest. The
    // upstream must not be able to tell them apart.
    let (up, seen) = upstream(Upstream::Sized(2)).await;
    let addr = adapter(&up, 1 << 20).await;
    let (answer, _) = exchange(&addr, &get("/tagged?tag=v%201", "")).await;
    assert_eq!(status_of(&answer), 200, "{answer}");
    let typed = through_reqwest(&up);
    typed.get_tagged("v 1").await.unwrap();
    let session = edge_api::Client::builder().base_url(&up).build().unwrap();
    session.get_tagged("v 1").await.unwrap();

    let port = up.rsplit(':').next().unwrap();
    let expected = format!(
        "GET /tagged HTTP/1.1\r\nx-tag: v 1\r\naccept: */*\r\nhost: 127.0.0.1:{port}\r\n\r\n"
    );
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [expected.clone(), expected.clone(), expected]
    );

    // A JSON body, as every Logto operation sends one: same head, same bytes.
    seen.lock().unwrap().clear();
    let body = r#"{"password":"p","identifier":{"value":"demo","type":"username"}}"#;
    let post = format!(
        "POST /echo HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let (answer, _) = exchange(&addr, post.as_bytes()).await;
    assert_eq!(status_of(&answer), 200, "{answer}");
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    typed.post_echo(&value).await.unwrap();
    session.post_echo(&value).await.unwrap();
    let sent = value.to_string();
    let expected = format!(
        "POST /echo HTTP/1.1\r\ncontent-type: application/json\r\naccept: */*\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {}\r\n\r\n{sent}",
        sent.len()
    );
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [expected.clone(), expected.clone(), expected]
    );
}

/// The answer at the end of a followed redirect: the scripted upstream's
/// `200` with its two bytes of text, not the 3xx.
fn assert_final_answer(answer: logto_client::ResponseValue<serde_json::Value>, what: &str) {
    assert_eq!(answer.status(), 200, "{what}");
    assert_eq!(answer.headers()["content-type"], "text/plain", "{what}");
    assert_eq!(answer.into_inner(), serde_json::json!("xx"), "{what}");
}

/// A JSON body for `post_echo`.
fn echo_body() -> serde_json::Value {
    serde_json::json!({"identifier": {"type": "username", "value": "demo"}, "password": "p"})
}

#[tokio::test]
async fn a_session_follows_redirects_with_its_cookies_as_reqwest_does() {
    // A session (a client that keeps cookies) sends on hyper's client and
    // follows redirects itself: each redirected request must be the one
    // reqwest's layers send, byte for byte.
    for (status, method, body) in [
        (301, "GET", false),
        (302, "GET", false),
        (303, "GET", false),
        (307, "POST", true),
        (308, "POST", true),
    ] {
        let (up, seen) = upstream(Upstream::RedirectsOnce(status)).await;
        let session = edge_api::Client::builder().base_url(&up).build().unwrap();
        let answer = session.post_echo(&echo_body()).await.unwrap();
        assert_final_answer(answer, &format!("{status}, hyper"));
        let answer = through_reqwest(&up).post_echo(&echo_body()).await.unwrap();
        assert_final_answer(answer, &format!("{status}, reqwest"));

        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 4, "{status}: {seen:?}");
        assert_eq!(
            seen[..2],
            seen[2..],
            "{status}: hyper's requests, then reqwest's"
        );
        let port = up.rsplit(':').next().unwrap();
        let sent = echo_body().to_string();
        let payload = if body {
            format!(
                "content-type: application/json\r\naccept: */*\r\nreferer: {up}/echo\r\ncookie: step=2\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {}\r\n\r\n{sent}",
                sent.len()
            )
        } else {
            format!(
                "accept: */*\r\nreferer: {up}/echo\r\ncookie: step=2\r\nhost: 127.0.0.1:{port}\r\n\r\n"
            )
        };
        assert_eq!(
            seen[1],
            format!("{method} /answer?step=2 HTTP/1.1\r\n{payload}"),
            "{status}"
        );
    }
}

#[tokio::test]
async fn a_session_redirected_elsewhere_carries_no_credentials_of_its_upstream() {
    // The redirect leaves the upstream's origin (another port): the request
    // there loses the `Authorization` and the `Cookie` header the call set
    // itself, as reqwest drops them; the jar's cookies for that origin are
    // sent instead. Its `Referer` is the origin alone (reqwest sends the
    // whole URL, which may hold an API key): the one difference.
    let (other, seen_there) = upstream(Upstream::Sized(2)).await;
    let other: &'static str = Box::leak(other.into_boxed_str());
    let (up, seen) = upstream(Upstream::RedirectsTo(other)).await;
    let mut own = http::HeaderMap::new();
    own.insert("authorization", "Bearer s3cret".parse().unwrap());
    own.insert("cookie", "own=1".parse().unwrap());
    own.insert("x-keep", "1".parse().unwrap());
    let session = edge_api::Client::builder().base_url(&up).build().unwrap();
    let session = session.with_headers(own.clone());
    assert_final_answer(session.get_answer().await.unwrap(), "hyper");
    let answer = through_reqwest(&up)
        .with_headers(own)
        .get_answer()
        .await
        .unwrap();
    assert_final_answer(answer, "reqwest");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], seen[1]);
    assert!(
        seen[0].contains("authorization: Bearer s3cret\r\ncookie: own=1\r\n"),
        "{}",
        seen[0]
    );
    let there = seen_there.lock().unwrap().clone();
    assert_eq!(there.len(), 2);
    let port = other.rsplit(':').next().unwrap();
    let request = |referer: &str| {
        format!(
            "GET /answer?step=2 HTTP/1.1\r\naccept: */*\r\nx-keep: 1\r\nreferer: {referer}\r\ncookie: step=2\r\nhost: 127.0.0.1:{port}\r\n\r\n"
        )
    };
    assert_eq!(there[0], request(&format!("{up}/")), "hyper's");
    assert_eq!(there[1], request(&format!("{up}/answer")), "reqwest's");
}

#[tokio::test]
async fn a_chain_that_leaves_the_origin_is_held_to_the_same_ten_redirects() {
    // One redirect here, then a loop at another origin, which reqwest
    // follows: the 11th redirect of the call is the error, as on reqwest
    // alone.
    let (other, seen_there) = upstream(Upstream::Redirects).await;
    let other: &'static str = Box::leak(other.into_boxed_str());
    let (up, seen) = upstream(Upstream::RedirectsTo(other)).await;
    let session = edge_api::Client::builder().base_url(&up).build().unwrap();
    let e = session.get_answer().await.unwrap_err();
    assert!(e.to_string().contains("error following redirect"), "{e}");
    let here_and_there = (seen.lock().unwrap().len(), seen_there.lock().unwrap().len());
    let e = through_reqwest(&up).get_answer().await.unwrap_err();
    assert!(e.to_string().contains("error following redirect"), "{e}");
    // One request here; ten there, the ten redirects followed.
    assert_eq!(here_and_there, (1, 10));
    let all = (seen.lock().unwrap().len(), seen_there.lock().unwrap().len());
    assert_eq!(all, (2, 20), "reqwest alone: the same");
}

#[tokio::test]
async fn a_session_stops_at_the_eleventh_redirect() {
    let (up, seen) = upstream(Upstream::Redirects).await;
    let session = edge_api::Client::builder().base_url(&up).build().unwrap();
    let e = session.get_answer().await.unwrap_err();
    assert!(e.to_string().contains("error following redirect"), "{e}");
    let followed = seen.lock().unwrap().len();
    let e = through_reqwest(&up).get_answer().await.unwrap_err();
    assert!(e.to_string().contains("error following redirect"), "{e}");
    // The first request and ten redirects, on either stack.
    assert_eq!(followed, 11);
    assert_eq!(seen.lock().unwrap().len(), 22);
}

#[tokio::test]
async fn a_client_reads_a_chunked_answer_whole_and_refuses_one_over_its_limit() {
    // 40 000 bytes in 16 KiB chunks, read whole: every piece joined, in
    // order; past the limit it stops reading, with an error naming it. Both
    // stacks: with a cookie store (reqwest), without (hyper's client).
    let (up, _) = upstream(Upstream::Chunked(40_000)).await;
    for cookie_store in [true, false] {
        let api = |limit| {
            edge_api::Client::builder()
                .base_url(&up)
                .cookie_store(cookie_store)
                .answer_limit(limit)
                .build()
                .unwrap()
        };
        let answer = api(50_000).get_answer().await.unwrap();
        assert_eq!(*answer, serde_json::Value::String("x".repeat(40_000)));
        let e = api(20_000).get_answer().await.unwrap_err();
        assert!(
            e.to_string()
                .contains("larger than the limit of 20000 bytes"),
            "{e}"
        );
    }
}

/// What a keep-alive upstream answers to the request numbered `n` (from 0,
/// across its connections).
#[derive(Clone, Copy)]
enum Reply {
    /// `200` with a 2-byte body; the connection stays open.
    Small,
    /// `200` with a 2-byte body, then the upstream closes the connection
    /// without saying so (as an idle timeout does).
    SmallThenClose,
    /// `200` announcing and sending `len` bytes; the connection stays open.
    Sized(usize),
}

/// A keep-alive upstream on loopback; returns its URL and, per request read,
/// the number of the connection it came on (from 0) and its head.
async fn keepalive_upstream(
    script: fn(usize) -> Reply,
) -> (String, Arc<Mutex<Vec<(usize, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        for conn_no in 0.. {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                loop {
                    let head = read_head(&mut conn).await;
                    if head.is_empty() {
                        return; // the adapter closed the connection
                    }
                    let n = {
                        let mut log = log.lock().unwrap();
                        log.push((conn_no, head));
                        log.len() - 1
                    };
                    let (len, close) = match script(n) {
                        Reply::Small => (2, false),
                        Reply::SmallThenClose => (2, true),
                        Reply::Sized(len) => (len, false),
                    };
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n");
                    if conn.write_all(head.as_bytes()).await.is_err()
                        || conn.write_all(&vec![b'x'; len]).await.is_err()
                        || close
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

/// One request on an open keep-alive connection; its answer's status and
/// body (read by its `Content-Length`).
async fn request_on(conn: &mut TcpStream, target: &str) -> (u16, String) {
    let request = format!("GET {target} HTTP/1.1\r\nhost: localhost\r\n\r\n");
    conn.write_all(request.as_bytes()).await.unwrap();
    let head = read_head(conn).await;
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no content-length in {head}"));
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).await.unwrap();
    (status_of(&head), String::from_utf8(body).unwrap())
}

#[tokio::test]
async fn each_caller_connection_keeps_one_upstream_connection() {
    // A caller's keep-alive connection sends one request at a time, so the
    // adapter sends its calls on one upstream connection of its own.
    let (up, seen) = keepalive_upstream(|_| Reply::Small).await;
    let addr = adapter(&up, 1 << 20).await;
    let mut callers = [
        TcpStream::connect(&addr).await.unwrap(),
        TcpStream::connect(&addr).await.unwrap(),
    ];
    for caller in [0, 1, 0, 1, 0] {
        let answer = request_on(&mut callers[caller], "/answer").await;
        assert_eq!(answer, (200, "xx".to_owned()));
    }
    let port = up.rsplit(':').next().unwrap();
    let seen = seen.lock().unwrap();
    let conns: Vec<usize> = seen.iter().map(|(conn, _)| *conn).collect();
    assert_eq!(conns, [0, 1, 0, 1, 0], "{seen:?}");
    for (_, head) in seen.iter() {
        assert_eq!(
            head,
            &format!("GET /answer HTTP/1.1\r\naccept: */*\r\nhost: 127.0.0.1:{port}\r\n\r\n")
        );
    }
}

#[tokio::test]
async fn a_connection_the_upstream_closed_is_replaced() {
    // The upstream closes each connection after one answer, unannounced (an
    // idle timeout): the caller's next request goes on a new one.
    let (up, seen) = keepalive_upstream(|_| Reply::SmallThenClose).await;
    let addr = adapter(&up, 1 << 20).await;
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            request_on(&mut conn, "/answer").await,
            (200, "xx".to_owned())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let conns: Vec<usize> = seen.lock().unwrap().iter().map(|(c, _)| *c).collect();
    assert_eq!(conns, [0, 1, 2]);
}

#[tokio::test]
async fn a_connection_whose_answer_was_not_read_to_its_end_is_not_reused() {
    // The first answer is over the limit: refused unread, its connection is
    // left (it still holds the unread bytes), and the next call opens one.
    let (up, seen) = keepalive_upstream(|n| match n {
        0 => Reply::Sized(100_000),
        _ => Reply::Small,
    })
    .await;
    let addr = adapter(&up, 50_000).await;
    let mut conn = TcpStream::connect(&addr).await.unwrap();
    let (status, body) = request_on(&mut conn, "/answer").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("larger than the limit of 50000 bytes"),
        "{body}"
    );
    for _ in 0..2 {
        assert_eq!(
            request_on(&mut conn, "/answer").await,
            (200, "xx".to_owned())
        );
    }
    let conns: Vec<usize> = seen.lock().unwrap().iter().map(|(c, _)| *c).collect();
    assert_eq!(conns, [0, 1, 1]);
}

#[tokio::test]
async fn callers_that_close_their_connections_reuse_one_upstream_connection() {
    // One request per caller connection (`Connection: close`): each ended
    // caller connection leaves its upstream connection parked for the next,
    // rather than one upstream connection opened (and closed) per request.
    let (up, seen) = keepalive_upstream(|_| Reply::Small).await;
    let addr = adapter(&up, 1 << 20).await;
    for _ in 0..3 {
        let (answer, _) = exchange(&addr, &get("/answer", "")).await;
        assert_eq!(status_of(&answer), 200, "{answer}");
        assert!(answer.ends_with("\r\n\r\nxx"), "{answer}");
    }
    let conns: Vec<usize> = seen.lock().unwrap().iter().map(|(c, _)| *c).collect();
    assert_eq!(conns, [0, 0, 0]);
}

#[tokio::test]
async fn a_base_url_with_userinfo_sends_it_as_basic_auth() {
    // reqwest turns a URL's userinfo into `Authorization: Basic`; hyper's
    // client would drop it, so such base URLs stay on reqwest.
    let (up, seen) = upstream(Upstream::Sized(2)).await;
    let with_userinfo = up.replacen("http://", "http://user:pw@", 1);
    for keeps_cookies in [true, false] {
        let client = edge_api::Client::builder()
            .base_url(&with_userinfo)
            .cookie_store(keeps_cookies)
            .build()
            .unwrap();
        assert_eq!(client.get_answer().await.unwrap().status(), 200);
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for head in &seen {
        // base64 of `user:pw`
        assert!(
            head.contains("authorization: Basic dXNlcjpwdw==\r\n"),
            "{head}"
        );
    }
}
