//! The good fixtures whose expansions are snapshotted in
//! `logto-macros/core/tests/snapshots/` also compile, and behave.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

logto_client::naftiko_capability!("../logto-macros/core/tests/fixtures/good/shipyard.yaml");

#[tokio::test]
async fn shipyard_fixture_sends_fixed_headers_typed_query_and_mapping() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": [{"imo": "1"}], "total": 1})),
        )
        .mount(&server)
        .await;
    let c = registry::Client::builder()
        .base_url(server.uri())
        .bind("REGISTRY_TOKEN", "t")
        .build()
        .unwrap();
    let items = c.list_ships(Some("active"), Some(5)).await.unwrap();
    assert_eq!(*items, json!([{"imo": "1"}]), "$.items mapping");
    c.get_crew_member("IMO 1", "m/2", None, Some("trace-1"))
        .await
        .unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[0].url.query(), Some("status=active&limit=5"));
    assert_eq!(
        reqs[0].headers.get("registry-version").unwrap(),
        "2024-01",
        "API-wide fixed header"
    );
    assert_eq!(reqs[1].url.path(), "/ships/IMO%201/crew/m%2F2");
    assert_eq!(reqs[1].headers.get("x-trace").unwrap(), "trace-1");
    // `{{term}}` in a fixed parameter value is an argument of its own.
    c.search_ships("ever given").await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[2].url.query(), Some("q=name%3Aever+given"));
    // The base URI variable `{{region}}` has its own setter.
    let regional = registry::Client::builder()
        .region("eu")
        .bind("REGISTRY_TOKEN", "t")
        .build()
        .unwrap();
    assert_eq!(regional.base_url(), "https://eu.registry.example/v1");
}
