//! A session's `tools/call` is answered without rmcp's per-request service
//! (`McpHttpConfig::direct_tool_calls`, on by default): the answers are
//! rmcp's byte for byte, whatever the request, and rmcp's own client is
//! served that way.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use std::time::Duration;

use common::Capture;
use logto_client::logto_experience::Client;
use logto_client::logto_experience_mcp as mcp;
use logto_client::mcp::McpHttpConfig;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCEPT: &str = "application/json, text/event-stream";
const VERSION: &str = "2025-06-18";

/// The MCP adapter in front of `upstream`, tool calls answered directly or
/// not; returns its `/mcp` URL.
async fn adapter(upstream: &str, direct: bool) -> String {
    let client = Client::builder()
        .base_url(upstream)
        .bind("LOGTO_API_KEY", "mcp-key")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let config = McpHttpConfig {
        direct_tool_calls: direct,
        ..McpHttpConfig::default()
    };
    let upstreams = mcp::Upstreams {
        logto_experience: client,
    };
    format!(
        "{}/mcp",
        common::serve(mcp::router(upstreams, &config).unwrap()).await
    )
}

/// An initialized session at `url`; its id.
async fn session(http: &reqwest::Client, url: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": VERSION, "capabilities": {},
        "clientInfo": {"name": "direct-test", "version": "1"}}});
    let resp = http
        .post(url)
        .header("accept", ACCEPT)
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let id = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let note = http
        .post(url)
        .header("accept", ACCEPT)
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", VERSION)
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .unwrap();
    assert_eq!(note.status(), 202);
    id
}

/// One request as a client could send it: headers (name, value; the session
/// id is added) and the raw body.
struct Case {
    what: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

fn case(what: &'static str, body: Value) -> Case {
    Case {
        what,
        headers: vec![
            ("accept", ACCEPT),
            ("content-type", "application/json"),
            ("mcp-protocol-version", VERSION),
        ],
        body: body.to_string(),
    }
}

fn raw(what: &'static str, body: &str) -> Case {
    Case {
        body: body.to_owned(),
        ..case(what, Value::Null)
    }
}

fn tool_call(id: Value, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": name, "arguments": arguments}})
}

/// Status, content type and body of `case` sent in `session` at `url`.
async fn send(
    http: &reqwest::Client,
    url: &str,
    session: &str,
    case: &Case,
) -> (u16, String, String) {
    let mut req = http.post(url).header("mcp-session-id", session);
    for (name, value) in &case.headers {
        req = req.header(*name, *value);
    }
    let resp = req.body(case.body.clone()).send().await.unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, resp.text().await.unwrap())
}

fn cases() -> Vec<Case> {
    let password =
        json!({"body": {"identifier": {"type": "username", "value": "ada"}, "password": "pw"}});
    let mut cases = vec![
        case(
            "a tool call",
            tool_call(
                json!(7),
                "create-password-verification-record",
                password.clone(),
            ),
        ),
        case(
            "a string id",
            tool_call(
                json!("call-a"),
                "create-password-verification-record",
                password.clone(),
            ),
        ),
        case(
            "an upstream 400 (a tool error)",
            tool_call(
                json!(8),
                "identify-user-current-interaction",
                json!({"body": {}}),
            ),
        ),
        case(
            "a bodiless tool",
            tool_call(json!(9), "submit-interaction", json!({})),
        ),
        case(
            "no arguments at all",
            json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": "submit-interaction"}}),
        ),
        case(
            "a missing required argument",
            tool_call(json!(11), "identify-user-current-interaction", json!({})),
        ),
        case(
            "an argument of the wrong type",
            tool_call(
                json!(12),
                "get-enabled-sso-connectors-given",
                json!({"email": 42}),
            ),
        ),
        case(
            "an unknown tool",
            tool_call(json!(13), "no-such-tool", json!({})),
        ),
        case(
            "arguments not an object",
            tool_call(json!(14), "submit-interaction", json!([1])),
        ),
        case(
            "a progress token",
            json!({"jsonrpc": "2.0", "id": 15, "method": "tools/call",
            "params": {"name": "submit-interaction", "arguments": {}, "_meta": {"progressToken": "p-1"}}}),
        ),
        case(
            "more _meta",
            json!({"jsonrpc": "2.0", "id": 20, "method": "tools/call",
            "params": {"name": "submit-interaction", "_meta": {"progressToken": 1, "x": 1}}}),
        ),
        case(
            "a boolean progress token",
            json!({"jsonrpc": "2.0", "id": 21, "method": "tools/call",
            "params": {"name": "submit-interaction", "_meta": {"progressToken": true}}}),
        ),
        case(
            "a task",
            json!({"jsonrpc": "2.0", "id": 22, "method": "tools/call",
            "params": {"name": "submit-interaction", "task": {}}}),
        ),
        raw(
            "an escaped tool name",
            r#"{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":"submit\u002dinteraction"}}"#,
        ),
        case(
            "jsonrpc 1.0",
            json!({"jsonrpc": "1.0", "id": 16, "method": "tools/call", "params": {"name": "submit-interaction"}}),
        ),
        case(
            "a notification",
            json!({"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "submit-interaction"}}),
        ),
        case(
            "tools/list",
            json!({"jsonrpc": "2.0", "id": 17, "method": "tools/list"}),
        ),
        raw("not JSON", "{\"jsonrpc\": \"2.0\", \"id\": "),
    ];
    let call = tool_call(json!(19), "submit-interaction", json!({}));
    let headers = |what, headers| Case {
        what,
        headers,
        body: call.to_string(),
    };
    cases.extend([
        headers(
            "JSON only accepted",
            vec![
                ("accept", "application/json"),
                ("content-type", "application/json"),
                ("mcp-protocol-version", VERSION),
            ],
        ),
        headers(
            "SSE refused by weight",
            vec![
                ("accept", "application/json, text/event-stream;q=0"),
                ("content-type", "application/json"),
                ("mcp-protocol-version", VERSION),
            ],
        ),
        headers(
            "a text body",
            vec![
                ("accept", ACCEPT),
                ("content-type", "text/plain"),
                ("mcp-protocol-version", VERSION),
            ],
        ),
        headers(
            "JSON with a charset",
            vec![
                ("accept", ACCEPT),
                ("content-type", "application/json; charset=utf-8"),
                ("mcp-protocol-version", VERSION),
            ],
        ),
        headers(
            "an unknown protocol version",
            vec![
                ("accept", ACCEPT),
                ("content-type", "application/json"),
                ("mcp-protocol-version", "1999-01-01"),
            ],
        ),
        headers(
            "the 2026 protocol",
            vec![
                ("accept", ACCEPT),
                ("content-type", "application/json"),
                ("mcp-protocol-version", "2026-07-28"),
            ],
        ),
        headers(
            "no protocol version",
            vec![("accept", ACCEPT), ("content-type", "application/json")],
        ),
        headers(
            "a foreign host",
            vec![
                ("accept", ACCEPT),
                ("content-type", "application/json"),
                ("mcp-protocol-version", VERSION),
                ("host", "evil.example"),
            ],
        ),
        headers(
            "localhost with a port",
            vec![
                ("accept", ACCEPT),
                ("content-type", "application/json"),
                ("mcp-protocol-version", VERSION),
                ("host", "LOCALHOST:1"),
            ],
        ),
        headers(
            "an origin",
            vec![
                ("accept", ACCEPT),
                ("content-type", "application/json"),
                ("mcp-protocol-version", VERSION),
                ("origin", "http://evil.example"),
            ],
        ),
    ]);
    cases
}

#[tokio::test]
async fn direct_answers_are_rmcps_byte_for_byte() {
    let capture = Capture::default();
    let _guard = install(&capture);
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/experience/verification/password"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"verificationId": "v1"})))
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/experience/identification"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({"code": "session.not_found", "message": "Session not found."}),
            ),
        )
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/experience/submit"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"redirectTo": "http://app/cb"})),
        )
        .mount(&upstream)
        .await;
    let direct = adapter(&upstream.uri(), true).await;
    let rmcp = adapter(&upstream.uri(), false).await;
    let http = reqwest::Client::new();
    let (direct_session, rmcp_session) =
        (session(&http, &direct).await, session(&http, &rmcp).await);

    let mut answers = Vec::new();
    let mut taken = Vec::new();
    for case in cases() {
        let before = capture.count(DIRECT);
        let ours = send(&http, &direct, &direct_session, &case).await;
        if capture.count(DIRECT) > before {
            taken.push(case.what);
        }
        let theirs = send(&http, &rmcp, &rmcp_session, &case).await;
        assert_eq!(
            ours, theirs,
            "{}: the direct answer differs from rmcp's",
            case.what
        );
        answers.push((case.what, ours));
    }

    // Which requests the direct path took: tool calls rmcp would hand to the
    // tool; everything else went to rmcp.
    assert_eq!(
        taken,
        [
            "a tool call",
            "a string id",
            "an upstream 400 (a tool error)",
            "a bodiless tool",
            "no arguments at all",
            "a missing required argument",
            "an argument of the wrong type",
            "a progress token",
            "an escaped tool name",
            "JSON with a charset",
            "localhost with a port",
        ]
    );

    // The cases mean what they say (a comparison of two broken answers
    // would pass too).
    let answer = |what: &str| &answers.iter().find(|(w, _)| *w == what).unwrap().1;
    let result = |what: &str| serde_json::from_str::<Value>(&answer(what).2).unwrap();
    assert_eq!(answer("a tool call").0, 200);
    assert_eq!(answer("a tool call").1, "application/json");
    assert_eq!(result("a tool call")["id"], 7);
    assert_eq!(
        result("a tool call")["result"]["structuredContent"],
        json!({"verificationId": "v1"})
    );
    assert_eq!(result("a string id")["id"], "call-a");
    assert_eq!(
        result("an upstream 400 (a tool error)")["result"]["isError"],
        true
    );
    assert_eq!(result("no arguments at all")["result"]["isError"], false);
    assert_eq!(result("an escaped tool name")["result"]["isError"], false);
    assert_eq!(result("a progress token")["result"]["isError"], false);
    assert_eq!(
        result("a missing required argument")["error"]["code"],
        -32602
    );
    assert_eq!(
        result("an argument of the wrong type")["error"]["code"],
        -32602
    );
    assert!(
        result("an unknown tool")["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tool not found")
    );
    assert_eq!(answer("JSON only accepted").0, 406);
    assert_eq!(answer("a text body").0, 415);
    assert_eq!(answer("an unknown protocol version").0, 400);
    assert_eq!(answer("a foreign host").0, 403);
    assert_eq!(answer("localhost with a port").0, 200);
    assert_eq!(result("JSON with a charset")["result"]["isError"], false);

    // Both adapters sent the same upstream calls, in the same order.
    let calls: Vec<(String, Vec<u8>)> = upstream
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.url.path().to_owned(), r.body))
        .collect();
    let (evens, odds): (Vec<_>, Vec<_>) = calls
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .unzip();
    assert_eq!(
        evens, odds,
        "each case reached the upstream once per adapter, the same way"
    );
    assert!(evens.len() >= 8, "{} calls", evens.len());
}

/// The debug line of a directly answered call.
const DIRECT: &str = "MCP tools/call answered directly";

fn install(capture: &Capture) -> tracing::subscriber::DefaultGuard {
    capture.install(tracing::Level::DEBUG)
}

/// rmcp's own client is answered directly (it negotiates a protocol version
/// and sends headers the direct path takes), and only when asked.
#[tokio::test]
async fn rmcps_client_is_answered_directly() {
    let capture = Capture::default();
    let _guard = install(&capture);
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&upstream)
        .await;
    for direct in [true, false] {
        let before = capture.count(DIRECT);
        let url = adapter(&upstream.uri(), direct).await;
        let client = ().serve(StreamableHttpClientTransport::from_uri(url)).await.unwrap();
        let r = client
            .call_tool(CallToolRequestParams::new("submit-interaction"))
            .await
            .unwrap();
        assert_eq!(r.is_error, Some(false));
        let answered = capture.count(&format!("{DIRECT} tool=\"submit-interaction\"")) > before;
        assert_eq!(answered, direct, "direct_tool_calls: {direct}");
    }
}
