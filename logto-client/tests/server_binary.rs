//! The `logto-experience` binary as a user runs it: flags, startup lines,
//! one-line errors with exit code 2, `--dev`, graceful shutdown.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const BIN: &str = env!("CARGO_BIN_EXE_logto-experience");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary and returns it with its first stdout lines.
fn start(args: &[&str], env: &[(&str, &str)], lines: usize) -> (Child, Vec<String>) {
    start_with(args, env, lines, Stdio::null())
}

/// [`start`] with the server's stderr (its logs) going to `stderr`.
fn start_with(
    args: &[&str],
    env: &[(&str, &str)],
    lines: usize,
    stderr: Stdio,
) -> (Child, Vec<String>) {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    if !args.contains(&"--mcp-addr") {
        // Never the spec's 9090: tests run side by side.
        cmd.args(["--mcp-addr", "127.0.0.1:0"]);
    }
    cmd.env_remove("LOGTO_API_KEY")
        .stdout(Stdio::piped())
        .stderr(stderr);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut got = Vec::new();
    for _ in 0..lines {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        got.push(line.trim_end().to_owned());
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    (child, got)
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn help_documents_every_flag_and_variable() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--upstream",
        "--upstream-ca",
        "--var",
        "--rest-addr",
        "--mcp-addr",
        "--mcp-stdio",
        "--allowed-host",
        "--timeout",
        "--body-limit",
        "--dev",
        "--grace",
        "--workers",
        "--header-timeout",
        "--answer-limit",
        "--max-mcp-sessions",
        "--mcp-session-idle",
        "LOGTO_API_KEY",
        "RUST_LOG",
    ] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}:\n{help}"
        );
    }
}

#[test]
fn missing_upstream_or_key_is_one_line_and_exit_2() {
    let out = Command::new(BIN)
        .env_remove("LOGTO_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--upstream") && err.contains("--dev"), "{err}");

    let out = Command::new(BIN)
        .args(["--upstream", "http://127.0.0.1:9"])
        .env_remove("LOGTO_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("LOGTO_API_KEY"), "{err}");

    let out = Command::new(BIN)
        .args(["--var", "region=eu"])
        .env("LOGTO_API_KEY", "k")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tenant_id"));

    // A CA file that cannot be read, or holds no certificate.
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/tls");
    for (file, says) in [
        ("missing.pem", "cannot read --upstream-ca"),
        ("localhost.key", "holds no PEM certificate"),
    ] {
        let out = Command::new(BIN)
            .args(["--upstream", "https://127.0.0.1:9", "--upstream-ca"])
            .arg(format!("{ca}/{file}"))
            .env("LOGTO_API_KEY", "k")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{file}: {err}");
    }
}

#[test]
fn tenant_variable_builds_the_logto_url() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let (mut child, lines) = start(
        &["--var", "tenant_id=abc", "--rest-addr", &addr],
        &[("LOGTO_API_KEY", "k")],
        2,
    );
    assert!(
        lines[0].contains(&format!("http://{addr}")) && lines[0].contains("36 routes"),
        "{lines:?}"
    );
    assert!(lines[1].contains("https://abc.logto.app"), "{lines:?}");
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// The embedded upstream's URL, from the banner's fourth line.
fn dev_url(lines: &[String]) -> String {
    lines[3]
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned()
}

/// A complete password sign-in through the REST adapter at `api`, each step
/// checked; returns the values of the `_interaction` cookies it set.
async fn rest_sign_in(dev: &str, api: &str) -> Vec<String> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let start = http
        .get(format!("{dev}/oidc/auth?client_id=demo-app&redirect_uri=http://localhost/cb&response_type=code&scope=openid&state=x"))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| {
            v.to_str()
                .ok()?
                .split(';')
                .next()?
                .split_once('=')
                .map(|(_, v)| v.to_owned())
        })
        .collect();
    assert_eq!(cookies.len(), 2, "the interaction cookie pair");
    let r = http
        .put(api)
        .json(&serde_json::json!({"interactionEvent": "SignIn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let v: serde_json::Value = http
        .post(format!("{api}/verification/password"))
        .json(&serde_json::json!({"identifier": {"type": "username", "value": "demo"}, "password": "demo-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .post(format!("{api}/identification"))
        .json(&serde_json::json!({"verificationId": v["verificationId"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let done: serde_json::Value = http
        .post(format!("{api}/submit"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(done["redirectTo"].as_str().unwrap().contains("/oidc/auth/"));
    cookies
}

#[tokio::test]
async fn dev_mode_serves_a_complete_sign_in() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mcp = format!("127.0.0.1:{}", free_port());
    let (mut child, lines) = start(&["--dev", "--rest-addr", &addr, "--mcp-addr", &mcp], &[], 4);
    rest_sign_in(
        &dev_url(&lines),
        &format!("http://{addr}/v1/api/experience"),
    )
    .await;
    sigterm(&child);
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn upstream_ca_lets_the_binary_call_an_https_upstream() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // An HTTPS upstream with a certificate of the test CA, which no system
    // trusts: it answers one request a connection and logs each head.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/tls");
    let read = |name: &str| std::fs::read(format!("{dir}/{name}")).unwrap();
    let identity =
        native_tls::Identity::from_pkcs8(&read("localhost.pem"), &read("localhost.key")).unwrap();
    let acceptor: tokio_native_tls::TlsAcceptor =
        native_tls::TlsAcceptor::new(identity).unwrap().into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = std::sync::Arc::clone(&heads);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut conn) = acceptor.accept(tcp).await else {
                continue;
            };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).await.unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).into_owned());
            let body = r#"{"interactionEvent":"SignIn"}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes()).await;
            let _ = conn.shutdown().await;
        }
    });
    let addr = format!("127.0.0.1:{}", free_port());
    let (mut child, _) = start(
        &[
            "--upstream",
            &format!("https://{upstream}"),
            "--upstream-ca",
            &format!("{dir}/ca.pem"),
            "--rest-addr",
            &addr,
        ],
        &[("LOGTO_API_KEY", "k")],
        2,
    );
    let answer = reqwest::get(format!("http://{addr}/v1/api/experience/interaction"))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.text().await.unwrap(),
        r#"{"interactionEvent":"SignIn"}"#
    );
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0].starts_with("GET /api/experience/interaction HTTP/1.1\r\n")
            && heads[0].contains("\r\nauthorization: Bearer k\r\n"),
        "{heads:?}"
    );
    sigterm(&child);
    assert!(child.wait().unwrap().success());
}

/// An upstream whose `/api/experience/interaction` answers after `delay`;
/// also returns how many requests have reached it.
async fn slow_upstream(
    delay: Duration,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up_addr = upstream.local_addr().unwrap();
    let arrived = std::sync::Arc::new(AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&arrived);
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/api/experience/interaction",
            axum::routing::get(move || {
                count.fetch_add(1, Ordering::SeqCst);
                async move {
                    tokio::time::sleep(delay).await;
                    axum::Json(serde_json::json!({"interactionEvent": "SignIn"}))
                }
            }),
        );
        axum::serve(upstream, app).await
    });
    (up_addr, arrived)
}

/// Waits until `n` requests have reached the upstream (they are in flight).
async fn wait_arrived(arrived: &std::sync::atomic::AtomicUsize, n: usize) {
    for _ in 0..200 {
        if arrived.load(std::sync::atomic::Ordering::SeqCst) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the requests never reached the upstream");
}

/// The binary in front of `upstream` with `--grace SECONDS` and `RUST_LOG`
/// at `log` (`warn`: requests are served on the lean path; `info`: they are
/// logged, through hyper and axum); returns it, its REST address and the URL
/// of `interaction` through it.
fn start_in_front_of(
    upstream: std::net::SocketAddr,
    grace: &str,
    log: &str,
) -> (Child, String, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let (child, _) = start(
        &[
            "--upstream",
            &format!("http://{upstream}"),
            "--rest-addr",
            &addr,
            "--grace",
            grace,
        ],
        &[("LOGTO_API_KEY", "k"), ("RUST_LOG", log)],
        2,
    );
    let url = format!("http://{addr}/v1/api/experience/interaction");
    (child, addr, url)
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_refuses_new_connections() {
    // On the lean path and on hyper's.
    for log in ["warn", "info"] {
        sigterm_lets_in_flight_requests_finish(log).await;
    }
}

async fn sigterm_lets_in_flight_requests_finish(log: &str) {
    let (up_addr, arrived) = slow_upstream(Duration::from_millis(1500)).await;
    let (mut child, addr, url) = start_in_front_of(up_addr, "5", log);
    // An idle keep-alive connection (after a 400, which does not reach the
    // upstream) does not hold the stop up.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(
        b"POST /v1/api/experience/identification HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\n{nope",
    )
    .await
    .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 400");
    let in_flight: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status()) })
        })
        .collect();
    wait_arrived(&arrived, 8).await;
    let stopped_at = std::time::Instant::now();
    sigterm(&child);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = tokio::net::TcpStream::connect(&addr).await;
    assert!(
        refused.is_err(),
        "a new connection was accepted after SIGTERM"
    );
    for request in in_flight {
        assert_eq!(
            request.await.unwrap().unwrap(),
            200,
            "every in-flight request finished"
        );
    }
    assert!(child.wait().unwrap().success());
    assert!(stopped_at.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_process_exits_when_the_grace_period_is_over() {
    let (up_addr, arrived) = slow_upstream(Duration::from_secs(30)).await;
    let (mut child, _, url) = start_in_front_of(up_addr, "1", "warn");
    let stuck = tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status()) });
    wait_arrived(&arrived, 1).await;
    let stopped_at = std::time::Instant::now();
    sigterm(&child);
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let took = stopped_at.elapsed();
    assert!(status.success());
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "exited {took:?} after SIGTERM with a 1 s grace period"
    );
    assert!(
        stuck.await.unwrap().is_err(),
        "the request still running was cut, not answered"
    );
}

/// Every request log, at the most verbose level, of a sign-in through REST
/// and tool calls through MCP: no password, bound token or cookie value.
#[tokio::test]
async fn secrets_never_reach_the_logs_even_at_trace() {
    const PASSWORD: &str = "demo-password";
    const KEY: &str = "secret-api-key-5f3e";
    let log = std::env::temp_dir().join(format!("logto-trace-{}.log", std::process::id()));
    let port = free_port();
    let mcp_port = free_port();
    let rest = format!("127.0.0.1:{port}");
    let mcp = format!("127.0.0.1:{mcp_port}");
    let (mut child, lines) = start_with(
        &["--dev", "--rest-addr", &rest, "--mcp-addr", &mcp],
        &[("RUST_LOG", "trace"), ("LOGTO_API_KEY", KEY)],
        4,
        std::fs::File::create(&log).unwrap().into(),
    );
    let cookie_values = rest_sign_in(
        &dev_url(&lines),
        &format!("http://{rest}/v1/api/experience"),
    )
    .await;

    // MCP: initialize, then a tool call carrying the password.
    let mcp = format!("http://127.0.0.1:{mcp_port}/mcp");
    let session = mcp_open(&mcp).await;
    let call = mcp_post(
        &mcp,
        serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "create-password-verification-record",
            "arguments": {"body": {"identifier": {"type": "username", "value": "demo"}, "password": PASSWORD}}
        }}),
        Some(&session),
    )
    .await
    .unwrap();
    let _ = call.text().await;

    sigterm(&child);
    assert!(child.wait().unwrap().success());
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(logs.lines().count() > 20, "trace logging was on:\n{logs}");
    for (what, secret) in [("the password", PASSWORD), ("the bound token", KEY)]
        .into_iter()
        .chain(cookie_values.iter().map(|c| ("a cookie value", c.as_str())))
    {
        let leak = logs.lines().find(|l| l.contains(secret));
        assert!(
            leak.is_none(),
            "{what} is in the logs: {}",
            leak.unwrap_or_default()
        );
    }
}

#[tokio::test]
async fn mcp_requests_add_no_rmcp_lines_to_the_logs_at_info() {
    // rmcp runs a one-request service for every MCP request here and narrates
    // it at info (three lines each); capped at warn, an MCP session at the
    // default level leaves the REST request logs alone in the output.
    let log = std::env::temp_dir().join(format!("logto-info-{}.log", std::process::id()));
    let mcp_port = free_port();
    let rest = format!("127.0.0.1:{}", free_port());
    let mcp_addr = format!("127.0.0.1:{mcp_port}");
    let (mut child, _) = start_with(
        &["--dev", "--rest-addr", &rest, "--mcp-addr", &mcp_addr],
        &[("RUST_LOG", "info")],
        4,
        std::fs::File::create(&log).unwrap().into(),
    );
    let mcp = format!("http://127.0.0.1:{mcp_port}/mcp");
    let session = mcp_open(&mcp).await;
    let list = serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let r = mcp_post(&mcp, list, Some(&session)).await.unwrap();
    assert!(r.status().is_success());
    let _ = r.text().await;

    sigterm(&child);
    assert!(child.wait().unwrap().success());
    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(!logs.contains("rmcp"), "rmcp logged at info:\n{logs}");
}

/// Posts one JSON-RPC message to the MCP endpoint `mcp`, in `session`.
fn mcp_post(
    mcp: &str,
    body: serde_json::Value,
    session: Option<&str>,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
    let mut r = reqwest::Client::new()
        .post(mcp)
        .header("accept", "application/json, text/event-stream")
        .json(&body);
    if let Some(s) = session {
        r = r.header("mcp-session-id", s);
    }
    r.send()
}

/// Opens an MCP session at `mcp` (initialize, then initialized); its id.
async fn mcp_open(mcp: &str) -> String {
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let init = mcp_post(mcp, init, None).await.unwrap();
    let session = init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let _ = init.text().await;
    let initialized = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let r = mcp_post(mcp, initialized, Some(&session)).await.unwrap();
    assert!(r.status().is_success());
    let _ = r.text().await;
    session
}
