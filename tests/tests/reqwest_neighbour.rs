//! Adding `logto-client` to a crate must not change how that crate's own
//! reqwest behaves. This crate's reqwest is the workspace's (no TLS feature of
//! its own), unified with logto-client's: building a plain client, with no
//! crypto provider installed by anyone, must work (with rustls and no
//! provider it panicked: "No rustls crypto provider is configured").

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_neighbours_plain_reqwest_client_builds_and_works() {
    // Nothing in this process installs a TLS provider before this line.
    let client = reqwest::Client::builder()
        .build()
        .expect("a plain reqwest client builds next to logto-client");
    let upstream = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("hello"))
        .mount(&upstream)
        .await;
    let answer = client.get(upstream.uri()).send().await.unwrap();
    assert_eq!(answer.text().await.unwrap(), "hello");
    // The default constructor too (it panics where the builder fails).
    let _ = reqwest::Client::new();
    // And logto-client's own clients still build in the same process.
    logto_client::logto_experience::Client::builder()
        .base_url(upstream.uri())
        .bind("LOGTO_API_KEY", "k")
        .build()
        .expect("the Logto client builds");
}
