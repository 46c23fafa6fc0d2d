//! The generated MCP adapter through rmcp's own client, over streamable HTTP
//! and over stdio (spawning the `logto-experience` binary).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use std::time::Duration;

use logto_client::logto_experience::Client;
use logto_client::logto_experience_mcp as mcp;
use logto_client::mcp::McpHttpConfig;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject, Tool};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

type McpClient = RunningService<RoleClient, ()>;

/// The MCP adapter in front of `upstream`, on loopback; returns its `/mcp` URL.
async fn adapter(upstream: &str, timeout: Duration) -> String {
    let client = Client::builder()
        .base_url(upstream)
        .bind("LOGTO_API_KEY", "mcp-key")
        .timeout(timeout)
        .build()
        .unwrap();
    let router = mcp::router(
        mcp::Upstreams {
            logto_experience: client,
        },
        &McpHttpConfig::default(),
    )
    .unwrap();
    format!("{}/mcp", common::serve(router).await)
}

async fn connect(url: &str) -> McpClient {
    ().serve(StreamableHttpClientTransport::from_uri(url.to_owned()))
        .await
        .unwrap()
}

fn args(v: Value) -> JsonObject {
    v.as_object().unwrap().clone()
}

async fn call(
    client: &McpClient,
    tool: &str,
    arguments: Value,
) -> Result<CallToolResult, rmcp::ServiceError> {
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args(arguments)))
        .await
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("")
}

fn find<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

#[tokio::test]
async fn tools_list_matches_the_spec() {
    let server = MockServer::start().await;
    let client = connect(&adapter(&server.uri(), Duration::from_secs(5)).await).await;
    let info = client.peer_info().unwrap();
    assert_eq!(info.instructions.as_deref(), mcp::INSTRUCTIONS);
    assert!(
        info.instructions
            .as_deref()
            .unwrap()
            .starts_with("MCP adapter for Logto")
    );

    let tools = client.list_tools(None).await.unwrap().tools;
    assert_eq!(tools.len(), 36);

    let init = find(&tools, "init-new-interaction");
    assert_eq!(init.description.as_deref(), Some("Init new interaction"));
    let a = init.annotations.as_ref().unwrap();
    assert_eq!(
        (
            a.read_only_hint,
            a.destructive_hint,
            a.idempotent_hint,
            a.open_world_hint
        ),
        (Some(false), Some(false), Some(true), None)
    );
    assert_eq!(
        Value::Object((*init.input_schema).clone()),
        json!({"type": "object", "properties": {"body": {"type": "object", "description": "Request body (JSON)."}}, "required": ["body"]})
    );

    let sso = find(&tools, "get-enabled-sso-connectors-given");
    assert_eq!(sso.annotations.as_ref().unwrap().read_only_hint, Some(true));
    assert_eq!(sso.input_schema["properties"]["email"]["type"], "string");
    assert_eq!(sso.input_schema["required"], json!(["email"]));

    let with_connector: Vec<&str> = tools
        .iter()
        .filter(|t| {
            t.input_schema
                .get("properties")
                .and_then(|p| p.get("connectorId"))
                .is_some()
        })
        .map(|t| t.name.as_ref())
        .collect();
    assert_eq!(with_connector.len(), 4, "{with_connector:?}");
    for name in with_connector {
        let t = find(&tools, name);
        assert_eq!(
            t.input_schema["properties"]["connectorId"]["type"],
            "string"
        );
        let required: Vec<&str> = t.input_schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            required.contains(&"connectorId") && required.contains(&"body"),
            "{name}: {required:?}"
        );
    }

    let submit = find(&tools, "submit-interaction");
    assert_eq!(
        Value::Object((*submit.input_schema).clone()),
        json!({"type": "object", "properties": {}})
    );
}

#[tokio::test]
async fn argument_numbers_reach_the_upstream_unchanged() {
    let server = common::empty_json_upstream().await;
    let client = connect(&adapter(&server.uri(), Duration::from_secs(5)).await).await;
    let body: Value = serde_json::from_str(common::EXACT_NUMBERS).unwrap();
    let r = call(
        &client,
        "create-social-verification",
        json!({"connectorId": "c", "body": body}),
    )
    .await
    .unwrap();
    assert_eq!(r.is_error, Some(false));
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        std::str::from_utf8(&reqs[0].body).unwrap(),
        common::EXACT_NUMBERS
    );
}

#[tokio::test]
async fn tool_calls_reach_the_upstream_exactly() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"verificationId": "v1"})))
        .mount(&server)
        .await;
    let client = connect(&adapter(&server.uri(), Duration::from_secs(5)).await).await;

    let r = call(
        &client,
        "create-social-verification",
        json!({"connectorId": "git/hub", "body": {"state": "s"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.structured_content, Some(json!({"verificationId": "v1"})));
    assert_eq!(
        serde_json::from_str::<Value>(&text(&r)).unwrap(),
        json!({"verificationId": "v1"}),
        "same JSON as text"
    );

    call(
        &client,
        "get-enabled-sso-connectors-given",
        json!({"email": "ada@example.com"}),
    )
    .await
    .unwrap();
    call(&client, "submit-interaction", json!({}))
        .await
        .unwrap();

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs[0].method.as_str(), "POST");
    assert_eq!(
        reqs[0].url.path(),
        "/api/experience/verification/social/git%2Fhub/authorization-uri"
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&reqs[0].body).unwrap(),
        json!({"state": "s"})
    );
    assert_eq!(
        reqs[0].headers.get("authorization").unwrap(),
        "Bearer mcp-key"
    );
    assert_eq!(
        (
            reqs[1].method.as_str(),
            reqs[1].url.path(),
            reqs[1].url.query()
        ),
        (
            "GET",
            "/api/experience/sso-connectors",
            Some("email=ada%40example.com")
        )
    );
    assert_eq!(
        (reqs[2].method.as_str(), reqs[2].url.path()),
        ("POST", "/api/experience/submit")
    );
    assert!(reqs[2].body.is_empty());
}

#[tokio::test]
async fn each_session_carries_its_own_cookies() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/experience"))
        .respond_with(|_: &Request| {
            ResponseTemplate::new(204).append_header(
                "set-cookie",
                r#"_interaction={"demo-app":"u1","_legacy":"u1"}; Path=/"#,
            )
        })
        .mount(&server)
        .await;
    Mock::given(path("/api/experience/interaction"))
        .respond_with(|req: &Request| {
            let cookie = req
                .headers
                .get("cookie")
                .map(|v| v.to_str().unwrap().to_owned());
            ResponseTemplate::new(200).set_body_json(json!({"cookie": cookie}))
        })
        .mount(&server)
        .await;
    let url = adapter(&server.uri(), Duration::from_secs(5)).await;
    let a = connect(&url).await;
    let b = connect(&url).await;
    let r = call(
        &a,
        "init-new-interaction",
        json!({"body": {"interactionEvent": "SignIn"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.is_error, Some(false));
    assert!(text(&r).contains("204"), "{}", text(&r));
    let seen_by_a = call(&a, "get-public-interaction-data", json!({}))
        .await
        .unwrap();
    assert_eq!(
        seen_by_a.structured_content,
        Some(json!({"cookie": r#"_interaction={"demo-app":"u1","_legacy":"u1"}"#}))
    );
    let seen_by_b = call(&b, "get-public-interaction-data", json!({}))
        .await
        .unwrap();
    assert_eq!(
        seen_by_b.structured_content,
        Some(json!({"cookie": null})),
        "another session never sees the cookie"
    );
}

/// The capability has no tool for `/oidc/auth`, so an MCP session has no
/// interaction cookie pair: a Logto-faithful upstream answers with its own
/// 400, which comes back as a tool error carrying Logto's code.
#[tokio::test]
async fn logto_errors_come_back_as_tool_errors() {
    let (upstream, _) = common::dev_logto().await;
    let client = connect(&adapter(&upstream, Duration::from_secs(5)).await).await;
    let r = call(
        &client,
        "init-new-interaction",
        json!({"body": {"interactionEvent": "SignIn"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    assert!(t.contains("400") && t.contains("session.not_found"), "{t}");
}

#[tokio::test]
async fn invalid_arguments_and_unknown_tools_are_protocol_errors() {
    let server = MockServer::start().await;
    let client = connect(&adapter(&server.uri(), Duration::from_secs(5)).await).await;
    let missing = call(&client, "identify-user-current-interaction", json!({}))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("`body`"), "{missing}");
    let wrong = call(
        &client,
        "get-enabled-sso-connectors-given",
        json!({"email": 42}),
    )
    .await
    .unwrap_err();
    assert!(
        wrong.to_string().contains("`email`") && wrong.to_string().contains("string"),
        "{wrong}"
    );
    let unknown = call(&client, "no-such-tool", json!({})).await.unwrap_err();
    assert!(unknown.to_string().contains("tool not found"), "{unknown}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn upstream_answers_become_tool_results() {
    let server = MockServer::start().await;
    Mock::given(path("/api/experience/verification/password"))
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({"code": "session.invalid_credentials"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/experience/identification"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("content-type", "text/plain")
                .set_body_string("Created"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/experience/submit"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = connect(&adapter(&server.uri(), Duration::from_millis(300)).await).await;
    let r = call(
        &client,
        "create-password-verification-record",
        json!({"body": {}}),
    )
    .await
    .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains("422") && text(&r).contains("session.invalid_credentials"),
        "{}",
        text(&r)
    );
    let r = call(
        &client,
        "identify-user-current-interaction",
        json!({"body": {}}),
    )
    .await
    .unwrap();
    assert_eq!((r.is_error, text(&r)), (Some(false), "Created".to_owned()));
    let r = call(&client, "submit-interaction", json!({}))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    let host = server.uri().trim_start_matches("http://").to_owned();
    assert!(
        text(&r).contains("timed out") && text(&r).contains(&host),
        "{}",
        text(&r)
    );

    let port = common::closed_port();
    let dead =
        connect(&adapter(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5)).await).await;
    let r = call(&dead, "submit-interaction", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r).contains(&format!("127.0.0.1:{port}")),
        "{}",
        text(&r)
    );
    assert!(!text(&r).contains("mcp-key"));
}

#[tokio::test]
async fn foreign_host_headers_are_refused() {
    let server = MockServer::start().await;
    let url = adapter(&server.uri(), Duration::from_secs(5)).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let http = reqwest::Client::new();
    let evil = http
        .post(&url)
        .header("host", "evil.example")
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert!(evil.status().is_client_error(), "{}", evil.status());
    let ok = http
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
}

/// Sessions are bounded: past the limit an `initialize` gets a JSON-RPC error
/// (and no session); closing one or letting sessions idle out makes room.
#[tokio::test]
async fn sessions_are_limited_and_idle_ones_expire() {
    let server = MockServer::start().await;
    let client = Client::builder()
        .base_url(server.uri())
        .bind("LOGTO_API_KEY", "mcp-key")
        .build()
        .unwrap();
    let config = McpHttpConfig {
        max_sessions: 3,
        session_idle: Duration::from_millis(1500),
        ..McpHttpConfig::default()
    };
    let router = mcp::router(
        mcp::Upstreams {
            logto_experience: client,
        },
        &config,
    )
    .unwrap();
    let url = format!("{}/mcp", common::serve(router).await);
    let http = reqwest::Client::new();
    let initialize = |id: u32| {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
        http.post(&url)
            .header("accept", "application/json, text/event-stream")
            .json(&body)
            .send()
    };
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = initialize(i).await.unwrap();
        assert_eq!(r.status(), 200);
        ids.push(r.headers()["mcp-session-id"].to_str().unwrap().to_owned());
    }
    let refused = initialize(7).await.unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().get("mcp-session-id").is_none());
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["jsonrpc"], "2.0");
    assert_eq!(body["id"], 7, "the error answers the request's id");
    assert_eq!(body["error"]["code"], -32000);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 3"),
        "{body}"
    );
    // A live session still works past the limit.
    let listed = http
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &ids[0])
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .unwrap();
    assert!(listed.status().is_success(), "{}", listed.status());
    // Closing one makes room for one.
    let closed = http
        .delete(&url)
        .header("mcp-session-id", &ids[1])
        .send()
        .await
        .unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
    assert_eq!(initialize(8).await.unwrap().status(), 200);
    assert_eq!(initialize(9).await.unwrap().status(), 503);
    // Idle sessions expire: after the idle time all three slots are free.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let gone = http
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &ids[0])
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404, "an expired session is unknown");
    for i in 10..13 {
        assert_eq!(initialize(i).await.unwrap().status(), 200);
    }
}

/// Every tool of the spec, read from the YAML itself, is listed with its
/// description, its hints as annotations, and `body`/`email`/`connectorId`
/// arguments as the `with` entries and consumed paths imply.
#[tokio::test]
async fn every_tool_matches_the_yaml() {
    let yaml = include_str!("../../capabilities/logto-experience.yaml");
    let doc = logto_macros_core::yaml::parse(yaml)
        .unwrap()
        .unwrap()
        .to_json();
    let spec_tools = doc["capability"]["exposes"][1]["tools"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(spec_tools.len(), 36);

    let server = MockServer::start().await;
    let client = connect(&adapter(&server.uri(), Duration::from_secs(5)).await).await;
    let tools = client.list_tools(None).await.unwrap().tools;
    assert_eq!(tools.len(), spec_tools.len());
    for spec in &spec_tools {
        let name = spec["name"].as_str().unwrap();
        let tool = find(&tools, name);
        assert_eq!(
            tool.description.as_deref(),
            spec["description"].as_str(),
            "{name}"
        );
        let a = tool.annotations.as_ref().unwrap();
        let hint = |k: &str| spec["hints"].get(k).and_then(Value::as_bool);
        assert_eq!(
            (
                a.read_only_hint,
                a.destructive_hint,
                a.idempotent_hint,
                a.open_world_hint
            ),
            (
                hint("readOnly"),
                hint("destructive"),
                hint("idempotent"),
                hint("openWorld")
            ),
            "{name}"
        );
        let mut expected: Vec<String> = spec
            .get("with")
            .and_then(Value::as_object)
            .map(|w| w.keys().cloned().collect())
            .unwrap_or_default();
        let consumed = spec["call"]
            .as_str()
            .unwrap()
            .trim_start_matches("logto-experience.");
        let path = doc["capability"]["consumes"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["operations"][0]["name"] == consumed)
            .map(|r| r["path"].as_str().unwrap().to_owned())
            .unwrap();
        if path.contains("{connectorId}") {
            expected.push("connectorId".into());
        }
        expected.sort();
        let mut listed: Vec<String> = tool.input_schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        listed.sort();
        assert_eq!(listed, expected, "{name}: arguments");
        let mut required: Vec<String> = tool
            .input_schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        required.sort();
        assert_eq!(required, expected, "{name}: every argument is required");
    }
}
