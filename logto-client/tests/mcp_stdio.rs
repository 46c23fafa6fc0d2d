//! `logto-experience --mcp-stdio`, spawned by rmcp's client as an MCP host
//! would: tools/list and tools/call over stdin/stdout.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn stdio_transport_lists_and_calls_tools() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"connectorIds": ["sso-1"]})))
        .mount(&server)
        .await;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_logto-experience"));
    cmd.args(["--mcp-stdio", "--upstream", &server.uri()])
        .env("LOGTO_API_KEY", "stdio-key")
        .env("RUST_LOG", "debug"); // logs go to stderr, never into the protocol
    let client = ().serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();

    let tools = client.list_tools(None).await.unwrap().tools;
    assert_eq!(tools.len(), 36);

    let args = json!({"email": "ada@example.com"})
        .as_object()
        .unwrap()
        .clone();
    let result = client
        .call_tool(
            CallToolRequestParams::new("get-enabled-sso-connectors-given").with_arguments(args),
        )
        .await
        .unwrap();
    assert_eq!(
        result.structured_content,
        Some(json!({"connectorIds": ["sso-1"]}))
    );
    let req = &server.received_requests().await.unwrap()[0];
    assert_eq!(req.url.path(), "/api/experience/sso-connectors");
    assert_eq!(req.url.query(), Some("email=ada%40example.com"));
    assert_eq!(
        req.headers.get("authorization").unwrap(),
        "Bearer stdio-key"
    );
    client.cancel().await.unwrap();
}
