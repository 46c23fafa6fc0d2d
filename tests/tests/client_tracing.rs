//! Every generated call has a tracing span with the operation, method,
//! status and duration, and nothing in the trace carries a secret or a body.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use common::Capture;
use logto_client::logto_experience::Client;
use serde_json::json;
use tracing_subscriber::fmt::format::FmtSpan;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn spans_name_the_call_and_never_carry_secrets_or_bodies() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"verificationId": "answer-body-marker"})),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .bind("LOGTO_API_KEY", "trace-secret-key")
        .build()
        .unwrap();
    client
        .createpasswordverification(&json!({"password": "request-body-marker"}))
        .await
        .unwrap();

    let log = capture.text();
    let span_line = log
        .lines()
        .find(|l| l.contains("naftiko.call") && l.contains("close"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        span_line.contains("operation=\"logto-experience.createpasswordverification\""),
        "{span_line}"
    );
    assert!(
        span_line.contains("method=POST")
            && span_line.contains("status=200")
            && span_line.contains("duration_ms="),
        "{span_line}"
    );
    for secret in [
        "trace-secret-key",
        "request-body-marker",
        "answer-body-marker",
    ] {
        assert!(
            !log.contains(secret),
            "`{secret}` leaked into the trace:\n{log}"
        );
    }
}

/// A call that fails is a warning at the adapter's usual level (`warn`: the
/// call's span is off then, and the adapter takes its shortest path to the
/// upstream), naming what failed and nothing secret.
#[tokio::test]
async fn a_failed_call_is_a_warning_when_spans_are_off() {
    use logto_client::logto_experience_rest as rest;
    let capture = Capture::default();
    let _guard = capture.install(tracing::Level::WARN);

    // A port nothing listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = Client::builder()
        .base_url(&upstream)
        .bind("LOGTO_API_KEY", "warn-secret-key")
        .cookie_store(false)
        .build()
        .unwrap();
    let forwarder = rest::Forwarder {
        upstreams: rest::Upstreams {
            logto_experience: client,
        },
    };
    let (router, lean) = rest::lean_router(forwarder, logto_client::server::RestConfig::default());
    let adapter = common::serve_lean(router, lean).await;
    let resp = reqwest::Client::new()
        .post(format!("{adapter}/v1/api/experience/verification/password"))
        .json(&json!({"password": "request-body-marker"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);

    let log = capture.text();
    let line = log
        .lines()
        .find(|l| l.contains("upstream call failed"))
        .unwrap_or_else(|| panic!("no warning:\n{log}"));
    assert!(
        line.contains("WARN") && line.contains("connect=true") && line.contains("timeout=false"),
        "{line}"
    );
    for secret in ["warn-secret-key", "request-body-marker"] {
        assert!(
            !log.contains(secret),
            "`{secret}` leaked into the log:\n{log}"
        );
    }
}
