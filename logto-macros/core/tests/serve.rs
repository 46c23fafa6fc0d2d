//! `naftiko serve`: a capability served whole from one command. The first
//! run builds the server crate under `target/naftiko-serve` (a minute or
//! two from a cold cache); the test then talks to every adapter, checks that
//! a bound value reaches the MCP adapter without showing up in the logs or
//! the process list, and stops the server with SIGTERM.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "served-secret-5bd1";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange; returns the status and the body.
fn http(port: u16, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn get(port: u16, path: &str) -> (u16, String) {
    http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    )
}

fn mcp_initialize(port: u16, token: &str) -> u16 {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    http(
        port,
        &format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
             Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .0
}

#[test]
fn serves_every_adapter_of_a_capability_and_stops_on_sigterm() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/served.yaml");
    let (rest, mcp, skill) = (free_port(), free_port(), free_port());
    let log = std::env::temp_dir().join(format!("naftiko-serve-test-{}.log", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_naftiko"))
        .args(["serve", file])
        .args(["--bind", &format!("MCP_TOKEN={SECRET}")])
        .args(["--addr", &format!("served-api=127.0.0.1:{rest}")])
        .args(["--addr", &format!("served-tools=127.0.0.1:{mcp}")])
        .args(["--addr", &format!("served-skills=127.0.0.1:{skill}")])
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // Builds take minutes from a cold cache.
    let started = Instant::now();
    while [rest, mcp, skill]
        .iter()
        .any(|p| TcpStream::connect(("127.0.0.1", *p)).is_err())
    {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "naftiko serve exited ({status}) before serving:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "no server after 15 min"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let (status, body) = get(rest, "/hello?name=Nina");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"message":"Hello, Nina!"}"#)
    );
    let (status, body) = get(skill, "/skills");
    assert_eq!(status, 200);
    assert!(body.contains(r#""count":1"#), "{body}");
    assert_eq!(mcp_initialize(mcp, "wrong"), 401);
    assert_eq!(
        mcp_initialize(mcp, SECRET),
        200,
        "`--bind` reaches the MCP adapter"
    );

    // The bound value is on no command line: `naftiko serve` passes it on
    // through the environment (and the server replaced it: same pid).
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&cmdline).contains(SECRET));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(15),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    let output = std::fs::read_to_string(&log).unwrap();
    for line in [
        format!("rest adapter `served-api` listening on http://127.0.0.1:{rest}"),
        format!("mcp adapter `served-tools` listening on http://127.0.0.1:{mcp}/mcp"),
        format!("skill adapter `served-skills` listening on http://127.0.0.1:{skill}"),
    ] {
        assert!(output.contains(&line), "missing `{line}` in:\n{output}");
    }
    assert!(
        !output.contains(SECRET),
        "the bound value leaked into the log"
    );
    let _ = std::fs::remove_file(&log);
}

#[test]
fn a_bad_spec_is_shown_as_its_diagnostics_and_nothing_is_built() {
    let dir = std::env::temp_dir().join(format!("naftiko-serve-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        "naftiko: 1.0.0-alpha3\ncapability:\n  exposes:\n  - type: rest\n    namespace: a\n    port: 1\n    resources:\n    - path: /x\n      operations:\n      - method: GET\n        call: nowhere.op\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_naftiko"))
        .arg("serve")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:11:15: error:") && err.contains("`nowhere`"),
        "{err}"
    );
    assert!(!err.contains("building"), "nothing was built: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}
