//! Inbound MCP authentication from the spec's `authentication`: clients
//! without the bearer token get 401; a missing bound token is a clear error.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use logto_client::Secret;
use logto_client::mcp::McpHttpConfig;
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

logto_client::naftiko_capability!("mcp-auth.yaml");

const TOKEN: &str = "inbound-mcp-token";

#[test]
fn a_missing_bound_token_names_the_variable() {
    let client = echo_api::Client::new("http://127.0.0.1:9").unwrap();
    let err = guarded_mcp::router(
        guarded_mcp::Upstreams { echo_api: client },
        &McpHttpConfig::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("MCP_TOKEN") && msg.contains("NAFTIKO_TEST_MCP_TOKEN_NEVER_SET"),
        "{msg}"
    );
}

/// An upstream answering `{"pong": true}` and the guarded adapter in front
/// of it; returns both, the adapter as its `/mcp` URL.
async fn guarded() -> (MockServer, String) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"pong": true})))
        .mount(&server)
        .await;
    let client = echo_api::Client::new(&server.uri()).unwrap();
    let config = McpHttpConfig {
        bearer_token: Some(Secret::new(TOKEN)),
        ..McpHttpConfig::default()
    };
    let router = guarded_mcp::router(guarded_mcp::Upstreams { echo_api: client }, &config).unwrap();
    let url = format!("{}/mcp", common::serve(router).await);
    (server, url)
}

#[tokio::test]
async fn clients_without_the_token_get_401_and_label_is_the_title() {
    let (_upstream, url) = guarded().await; // kept alive for the test

    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let anonymous = reqwest::Client::new()
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");

    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url).auth_header(TOKEN),
    );
    let mcp = ().serve(transport).await.unwrap();
    let tools = mcp.list_tools(None).await.unwrap().tools;
    assert_eq!(tools.len(), 2);
    let ping = tools.iter().find(|t| t.name == "ping").unwrap();
    assert_eq!(ping.title.as_deref(), Some("Ping"));
    let a = ping.annotations.as_ref().unwrap();
    assert_eq!(
        (a.title.as_deref(), a.read_only_hint, a.open_world_hint),
        (Some("Ping"), Some(true), Some(false))
    );
    let r = mcp
        .call_tool(rmcp::model::CallToolRequestParams::new("ping"))
        .await
        .unwrap();
    assert_eq!(r.structured_content, Some(json!({"pong": true})));
}

#[tokio::test]
async fn tool_templates_become_extra_query_parameters() {
    let (server, url) = guarded().await;
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url).auth_header(TOKEN),
    );
    let mcp = ().serve(transport).await.unwrap();
    let tools = mcp.list_tools(None).await.unwrap().tools;
    let shout = tools.iter().find(|t| t.name == "shout").unwrap();
    assert_eq!(
        shout.input_schema["properties"]["word"]["type"], "string",
        "the template's input is inferred"
    );
    let args = json!({"word": "hello"}).as_object().unwrap().clone();
    mcp.call_tool(rmcp::model::CallToolRequestParams::new("shout").with_arguments(args))
        .await
        .unwrap();
    let sent = server.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(
        sent.url.query(),
        Some("word=say-hello"),
        "a `with` key the operation does not declare goes as a query parameter"
    );
}
