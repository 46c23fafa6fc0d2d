//! Operations and tools without `call` serve the spec's mock values,
//! templated from their inputs and coerced to the declared types.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use logto_client::mcp::McpHttpConfig;
use logto_client::server::RestConfig;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};

logto_client::naftiko_capability!("mock-api.yaml");

#[tokio::test]
async fn rest_mock_answers() {
    let base = common::serve(fleet_rest::router(
        fleet_rest::Forwarder {
            upstreams: fleet_rest::Upstreams {},
        },
        RestConfig::default(),
    ))
    .await;
    let r = reqwest::get(format!("{base}/ships/IMO-9321483"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"imo": "IMO-9321483", "tonnage": 199000, "active": true})
    );
}

#[tokio::test]
async fn mcp_mock_answers() {
    let url = format!(
        "{}/mcp",
        common::serve(
            fleet_mcp::router(fleet_mcp::Upstreams {}, &McpHttpConfig::default()).unwrap()
        )
        .await
    );
    let client = ().serve(StreamableHttpClientTransport::from_uri(url)).await.unwrap();
    let args = json!({"imo_number": "IMO-9321483"})
        .as_object()
        .unwrap()
        .clone();
    let r = client
        .call_tool(CallToolRequestParams::new("get-ship").with_arguments(args))
        .await
        .unwrap();
    assert_eq!(
        r.structured_content,
        Some(json!({"imo": "IMO-9321483", "name": "Northern Star", "length": 399.9}))
    );
    let missing = client
        .call_tool(CallToolRequestParams::new("get-ship"))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("imo_number"), "{missing}");
}
