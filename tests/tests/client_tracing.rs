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
