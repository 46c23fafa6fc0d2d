//! HTTPS upstreams. With logto-client's default `native-tls` feature, calls
//! to them skip reqwest's layers as plain-HTTP ones do (`client::direct`),
//! on the TLS connector reqwest itself would use. The upstream here is raw
//! HTTP/1.1 behind TLS on loopback, with certificates of a test CA
//! (`tests/tls`, made by its `make-certs`), so what is asserted is exactly
//! what crossed the wire, once decrypted.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use std::sync::{Arc, Mutex};

use logto_client::listen::HttpLimits;
use logto_client::server::RestConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod common;
use common::read_head;

logto_client::naftiko_capability!("edges.yaml");

/// The test CA, which signs both server certificates.
const CA: &[u8] = include_bytes!("../tls/ca.pem");

/// A certificate for `127.0.0.1` and `localhost`, and its key.
const LOCALHOST: (&[u8], &[u8]) = (
    include_bytes!("../tls/localhost.pem"),
    include_bytes!("../tls/localhost.key"),
);

/// A certificate for `other.test` only, and its key.
const OTHER: (&[u8], &[u8]) = (
    include_bytes!("../tls/other.pem"),
    include_bytes!("../tls/other.key"),
);

/// Per request read: the number of the TLS connection it came on (from 0),
/// and its head and body as received.
type Seen = Arc<Mutex<Vec<(usize, String)>>>;

/// An HTTPS upstream on `127.0.0.1` with the certificate `identity`; keeps
/// connections alive and answers every request `200` with `xx` and a
/// `Secure` cookie. Returns its URL and what it read.
async fn tls_upstream(identity: (&[u8], &[u8])) -> (String, Seen) {
    tls_upstream_answering(identity, b"xx".to_vec()).await
}

/// [`tls_upstream`] answering `body` (as text).
async fn tls_upstream_answering(identity: (&[u8], &[u8]), body: Vec<u8>) -> (String, Seen) {
    let answer: Arc<[u8]> = [
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\
             set-cookie: seen=1; Secure; HttpOnly; Path=/\r\n\
             content-length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
        &body,
    ]
    .concat()
    .into();
    let identity = native_tls::Identity::from_pkcs8(identity.0, identity.1).unwrap();
    let acceptor: tokio_native_tls::TlsAcceptor =
        native_tls::TlsAcceptor::new(identity).unwrap().into();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let seen = Seen::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        for conn_no in 0.. {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, log) = (acceptor.clone(), Arc::clone(&log));
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake.
                let Ok(mut conn) = acceptor.accept(tcp).await else {
                    return;
                };
                loop {
                    let mut request = read_head(&mut conn).await;
                    if request.is_empty() {
                        return;
                    }
                    let length = content_length(&request).unwrap_or(0);
                    let mut body = vec![0u8; length];
                    conn.read_exact(&mut body).await.unwrap();
                    request.push_str(&String::from_utf8(body).unwrap());
                    log.lock().unwrap().push((conn_no, request));
                    if conn.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

fn content_length(head: &str) -> Option<usize> {
    head.lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|n| n.trim().parse().ok())
}

/// Our own client for `url` (a session: it keeps cookies), trusting the
/// test CA.
fn session(url: &str) -> edge_api::Client {
    edge_api::Client::builder()
        .base_url(url)
        .root_certificate_pem(CA)
        .build()
        .unwrap()
}

/// A typed client whose calls go through reqwest: on a reqwest client of the
/// user's, with a jar, trusting the test CA.
fn through_reqwest(url: &str) -> edge_api::Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .tls_certs_merge([reqwest::Certificate::from_pem(CA).unwrap()])
        .build()
        .unwrap();
    edge_api::Client::builder()
        .base_url(url)
        .http_client(http)
        .build()
        .unwrap()
}

/// The REST adapter in front of `url` (its client keeps no cookies and
/// trusts the test CA), served by `listen::serve`; returns its address.
async fn adapter(url: &str) -> String {
    let client = edge_api::Client::builder()
        .base_url(url)
        .root_certificate_pem(CA)
        .cookie_store(false)
        .build()
        .unwrap();
    let router = edge_rest::router(
        edge_rest::Forwarder {
            upstreams: edge_rest::Upstreams { edge_api: client },
        },
        RestConfig::default(),
    );
    common::listen_serve(router, HttpLimits::default()).await
}

/// One request on an open connection to the adapter: the answer's status,
/// head and body.
async fn request_on(conn: &mut TcpStream, request: &str) -> (u16, String, String) {
    conn.write_all(request.as_bytes()).await.unwrap();
    let head = read_head(conn).await;
    let mut body = vec![0u8; content_length(&head).expect("a content-length")];
    conn.read_exact(&mut body).await.unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, String::from_utf8(body).unwrap())
}

fn requests(seen: &Seen) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(_, r)| r.clone())
        .collect()
}

#[tokio::test]
async fn an_https_upstream_gets_from_the_direct_path_exactly_what_reqwest_sends() {
    let (url, seen) = tls_upstream(LOCALHOST).await;
    let port = url.rsplit(':').next().unwrap();
    let body =
        serde_json::json!({"identifier": {"type": "username", "value": "demo"}, "password": "p"});
    let sent = body.to_string();
    let get = format!(
        "GET /tagged HTTP/1.1\r\nx-tag: v 1\r\naccept: */*\r\nhost: 127.0.0.1:{port}\r\n\r\n"
    );
    let post = format!(
        "POST /echo HTTP/1.1\r\ncontent-type: application/json\r\naccept: */*\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {}\r\n\r\n{sent}",
        sent.len()
    );
    // Each answer sets a `Secure` cookie: a session sends it back on its
    // next call (to an https:// URL), as reqwest's jar does.
    let expected = [
        get.clone(),
        post.replacen("accept: */*\r\n", "accept: */*\r\ncookie: seen=1\r\n", 1),
    ];

    for (stack, client) in [
        ("direct", session(&url)),
        ("reqwest", through_reqwest(&url)),
    ] {
        seen.lock().unwrap().clear();
        let answer = client.get_tagged("v 1").await.unwrap();
        assert_eq!(answer.status(), 200, "{stack}");
        assert_eq!(answer.into_inner(), serde_json::json!("xx"), "{stack}");
        let answer = client.post_echo(&body).await.unwrap();
        assert_eq!(answer.into_inner(), serde_json::json!("xx"), "{stack}");
        assert_eq!(requests(&seen), expected, "{stack}");
    }

    // The REST adapter (no jar: the cookie is the caller's, and comes back).
    seen.lock().unwrap().clear();
    let addr = adapter(&url).await;
    let mut caller = TcpStream::connect(&addr).await.unwrap();
    let (status, head, answer) = request_on(
        &mut caller,
        "GET /tagged?tag=v%201 HTTP/1.1\r\nhost: localhost\r\n\r\n",
    )
    .await;
    assert_eq!((status, answer.as_str()), (200, "xx"), "{head}");
    assert!(
        head.contains("set-cookie: seen=1; Secure; HttpOnly; Path=/\r\n"),
        "{head}"
    );
    let (status, head, _) = request_on(
        &mut caller,
        &format!(
            "POST /echo HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{sent}",
            sent.len()
        ),
    )
    .await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(requests(&seen), [get, post]);
}

#[tokio::test]
async fn each_caller_connection_keeps_one_tls_connection() {
    // As over plain HTTP: a caller's keep-alive connection has an upstream
    // connection of its own, TLS handshake done once.
    let (url, seen) = tls_upstream(LOCALHOST).await;
    let addr = adapter(&url).await;
    let mut callers = [
        TcpStream::connect(&addr).await.unwrap(),
        TcpStream::connect(&addr).await.unwrap(),
    ];
    for caller in [0, 1, 0, 1, 0] {
        let (status, head, body) = request_on(
            &mut callers[caller],
            "GET /answer HTTP/1.1\r\nhost: localhost\r\n\r\n",
        )
        .await;
        assert_eq!((status, body.as_str()), (200, "xx"), "{head}");
    }
    let conns: Vec<usize> = seen.lock().unwrap().iter().map(|(c, _)| *c).collect();
    assert_eq!(conns, [0, 1, 0, 1, 0]);
}

#[tokio::test]
async fn an_upstream_that_cannot_be_verified_gets_no_request() {
    // Verification is on, on the direct path as on reqwest: a certificate
    // of a CA the client does not trust, and one for another host name.
    let (untrusted, seen_untrusted) = tls_upstream(LOCALHOST).await;
    let (misnamed, seen_misnamed) = tls_upstream(OTHER).await;
    let without_ca = edge_api::Client::builder()
        .base_url(&untrusted)
        .build()
        .unwrap();
    for (what, client) in [
        ("an untrusted CA", without_ca),
        ("another host's certificate", session(&misnamed)),
    ] {
        let err = client.get_answer().await.unwrap_err();
        let logto_client::Error::Transport { source: e, .. } = &err else {
            panic!("{what}: {err:?}");
        };
        assert!(e.is_connect(), "{what}: {e:?}");
        assert!(
            e.to_string().contains("certificate verify failed"),
            "{what}: {e}"
        );
    }

    // Through the adapter: 502 (the cause is the adapter's log's, not the
    // caller's), and the same on the caller's next request.
    let addr = adapter(&misnamed).await;
    let mut caller = TcpStream::connect(&addr).await.unwrap();
    let host = misnamed.trim_start_matches("https://");
    for _ in 0..2 {
        let (status, head, body) = request_on(
            &mut caller,
            "GET /answer HTTP/1.1\r\nhost: localhost\r\n\r\n",
        )
        .await;
        assert_eq!(status, 502, "{head}{body}");
        assert_eq!(
            body,
            format!(
                r#"{{"detail":"the upstream {host} is unreachable","status":502,"title":"Bad Gateway","type":"about:blank"}}"#
            )
        );
    }
    assert!(seen_untrusted.lock().unwrap().is_empty());
    assert!(seen_misnamed.lock().unwrap().is_empty());
}

#[tokio::test]
async fn root_certificates_are_checked_when_the_client_is_built() {
    let config_error = |b: edge_api::ClientBuilder| match b.build() {
        Err(logto_client::Error::Config { message }) => message,
        other => panic!("{other:?}"),
    };
    let message =
        config_error(edge_api::Client::builder().root_certificate_pem(&b"not a certificate"[..]));
    assert!(message.contains("holds no PEM certificate"), "{message}");
    let message = config_error(
        edge_api::Client::builder()
            .root_certificate_pem(CA)
            .http_client(reqwest::Client::new()),
    );
    assert!(message.contains("reqwest client of your own"), "{message}");
    // A bundle of several certificates is fine: each is trusted.
    let bundle = [CA, LOCALHOST.0].concat();
    let (url, seen) = tls_upstream(LOCALHOST).await;
    let client = edge_api::Client::builder()
        .base_url(&url)
        .root_certificate_pem(bundle)
        .build()
        .unwrap();
    client.get_answer().await.unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_answer_of_many_tls_records_arrives_whole_and_in_order() {
    // 100 KiB: seven TLS records, read through buffers smaller than one.
    let body: String = (0..100 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let (url, seen) = tls_upstream_answering(LOCALHOST, body.clone().into_bytes()).await;
    for _ in 0..2 {
        let answer = session(&url).get_answer().await.unwrap();
        assert_eq!(answer.into_inner(), serde_json::Value::String(body.clone()));
    }
    let addr = adapter(&url).await;
    let mut caller = TcpStream::connect(&addr).await.unwrap();
    for _ in 0..2 {
        let (status, head, got) = request_on(
            &mut caller,
            "GET /answer HTTP/1.1\r\nhost: localhost\r\n\r\n",
        )
        .await;
        assert_eq!(status, 200, "{head}");
        assert!(got == body, "the answer differs ({} bytes)", got.len());
    }
    assert_eq!(seen.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn a_served_capability_trusts_the_upstream_ca_it_is_given() {
    // `capability::adapters` (what `naftiko serve` runs): `--upstream-ca`
    // reaches every upstream client.
    let (url, seen) = tls_upstream(LOCALHOST).await;
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tls/ca.pem");
    let args = |extra: &[&str]| {
        [
            "--upstream",
            &format!("edge-api={url}"),
            "--addr",
            "edge-rest=127.0.0.1:0",
        ]
        .iter()
        .chain(extra)
        .map(|a| (*a).to_owned())
        .collect::<Vec<_>>()
    };
    for (extra, status) in [(&[][..], 502), (&["--upstream-ca", ca][..], 200)] {
        let config = logto_client::serve::ServeConfig::from_args(args(extra)).unwrap();
        let router = capability::adapters(&config).unwrap().remove(0).router;
        let addr = common::listen_serve(router, HttpLimits::default()).await;
        let mut caller = TcpStream::connect(&addr).await.unwrap();
        let (got, head, _) = request_on(
            &mut caller,
            "GET /answer HTTP/1.1\r\nhost: localhost\r\n\r\n",
        )
        .await;
        assert_eq!(got, status, "{extra:?}: {head}");
    }
    let port = url.rsplit(':').next().unwrap();
    assert_eq!(
        requests(&seen),
        [format!(
            "GET /answer HTTP/1.1\r\naccept: */*\r\nhost: 127.0.0.1:{port}\r\n\r\n"
        )],
        "only the trusting client's request, as the direct path writes it"
    );

    let e =
        logto_client::serve::ServeConfig::from_args(args(&["--upstream-ca", "/nonexistent.pem"]))
            .unwrap_err();
    assert!(
        e.starts_with("`--upstream-ca /nonexistent.pem`: cannot read it"),
        "{e}"
    );
}

#[tokio::test]
async fn an_upstream_that_never_finishes_the_handshake_is_cut_at_the_call_timeout() {
    // It accepts the connection and reads the ClientHello, then says nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut hello = [0u8; 512];
            let _ = conn.read(&mut hello).await;
            held.push(conn);
        }
    });
    let client = edge_api::Client::builder()
        .base_url(&url)
        .root_certificate_pem(CA)
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.get_answer().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
