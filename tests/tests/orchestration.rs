//! The rest of the format end to end (`fleet-orchestrated.yaml`): steps,
//! lookups and mappings, aggregate functions through `ref`, XML answers,
//! text body templates, REST body fields, the skill adapter, and the
//! `capability` module that wires every adapter from one configuration.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use logto_client::serve::ServeConfig;
use logto_client::{Secret, mcp::McpHttpConfig, server::RestConfig};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

logto_client::naftiko_capability!("fleet-orchestrated.yaml");

const TOKEN: &str = "fleet-secret";
const MCP_TOKEN: &str = "mcp-secret";

/// The registry and legacy upstreams, answering like the tutorial's mocks.
async fn upstreams() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ships/IMO-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "imo_number": "IMO-1", "vessel_name": "Northern Star", "gross_tonnage": "95000",
            "year": "2011", "assignedCrew": ["C1", "C3"]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crew"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"crewId": "C1", "fullName": "Ann Lee", "role": "captain"},
            {"crewId": "C2", "fullName": "Bo Diaz", "role": "cook"},
            {"crewId": "C3", "fullName": "Cy Ode", "role": "engineer"}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/voyages"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"voyageId": "VOY-1"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/vessels"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<vessels><vessel><vesselCode>L-1</vesselCode><vesselName>Old &amp; Faithful</vesselName></vessel>\
             <vessel><vesselCode>L-2</vesselCode><vesselName>Iron</vesselName></vessel></vessels>",
            "application/xml",
        ))
        .mount(&server)
        .await;
    server
}

fn registry(base: &str, jar: bool) -> registry::Client {
    registry::Client::builder()
        .base_url(base)
        .bind("FLEET_TOKEN", TOKEN)
        .cookie_store(jar)
        .build()
        .unwrap()
}

async fn rest(server: &MockServer) -> String {
    let upstreams = fleet_api::Upstreams {
        registry: registry(&server.uri(), false),
        legacy: legacy::Client::new(&server.uri()).unwrap(),
    };
    common::serve(fleet_api::router(
        fleet_api::Forwarder { upstreams },
        RestConfig::default(),
    ))
    .await
}

async fn mcp(server: &MockServer) -> RunningService<RoleClient, ()> {
    let upstreams = fleet_tools::Upstreams {
        registry: registry(&server.uri(), true),
        legacy: legacy::Client::new(&server.uri()).unwrap(),
    };
    let mut config = McpHttpConfig::default();
    config
        .binds
        .insert("MCP_TOKEN".into(), Secret::new(MCP_TOKEN));
    let url = format!(
        "{}/mcp",
        common::serve(fleet_tools::router(upstreams, &config).unwrap()).await
    );
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url).auth_header(MCP_TOKEN),
    );
    ().serve(transport).await.unwrap()
}

/// The requests the upstream received: method, path and query.
async fn received(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let q = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{} {}{q}", r.method, r.url.path())
        })
        .collect()
}

async fn tool(mcp: &RunningService<RoleClient, ()>, name: &str, args: Value) -> Value {
    let r = mcp
        .call_tool(
            CallToolRequestParams::new(name.to_owned())
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{name}: {r:?}");
    let text = r.content[0].as_text().unwrap().text.clone();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn rest_steps_call_look_up_and_map_in_order() {
    let server = upstreams().await;
    let base = rest(&server).await;
    let r = reqwest::get(format!("{base}/ships/IMO-1/crew"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({
            "name": "Northern Star",
            "crew": [{"fullName": "Ann Lee"}, {"fullName": "Cy Ode"}],
            "year": 2011
        }),
        "mapped outputs, the lookup's matches, `year` coerced to its declared integer"
    );
    assert_eq!(
        received(&server).await,
        ["GET /ships/IMO-1", "GET /crew"],
        "the steps ran in order, the path placeholder filled from `{{imo}}`"
    );
    let first = &server.received_requests().await.unwrap()[0];
    assert_eq!(first.headers["authorization"], format!("Bearer {TOKEN}"));
}

#[tokio::test]
async fn rest_steps_report_an_upstream_failure_as_it_came() {
    let server = upstreams().await;
    let base = rest(&server).await;
    let r = reqwest::get(format!("{base}/ships/IMO-404/crew"))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "wiremock's 404 for an unknown ship passes through"
    );
    assert_eq!(
        received(&server).await,
        ["GET /ships/IMO-404"],
        "later steps do not run"
    );
}

#[tokio::test]
async fn rest_ref_runs_the_aggregate_function() {
    let server = upstreams().await;
    let base = rest(&server).await;
    let r = reqwest::get(format!("{base}/resolved/IMO-1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({
            "imo": "IMO-1",
            "specs": {"tonnage": "95000"},
            "crew": [{"fullName": "Ann Lee", "role": "captain"}, {"fullName": "Cy Ode", "role": "engineer"}]
        }),
        "dotted targets nest; the function's outputs are kept"
    );
    assert_eq!(
        received(&server).await,
        ["GET /ships/IMO-1", "GET /crew?role=sailor"],
        "`with: crew-resolver.imo` names the aggregate's input; a literal `with` is sent"
    );

    let hello = reqwest::get(format!("{base}/hello?name=Nina"))
        .await
        .unwrap();
    assert_eq!(hello.status(), 200);
    assert_eq!(
        hello.json::<Value>().await.unwrap(),
        json!({"message": "Hello, Nina!", "source": "aggregate-mock"})
    );
    let missing = reqwest::get(format!("{base}/hello")).await.unwrap();
    assert_eq!(missing.status(), 400, "the inherited input is required");
}

#[tokio::test]
async fn rest_body_fields_fill_a_text_body_template() {
    let server = upstreams().await;
    let base = rest(&server).await;
    let r = reqwest::Client::new()
        .post(format!("{base}/voyages"))
        .json(&json!({"shipImo": "IMO-1", "crewIds": ["C1", "C3"], "ignored": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the upstream's status passes through");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"voyageId": "VOY-1"})
    );
    let sent = server.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(sent.headers["content-type"], "application/json");
    assert_eq!(
        String::from_utf8(sent.body).unwrap(),
        "{\"shipImo\": \"IMO-1\", \"crewIds\": [\"C1\",\"C3\"], \"note\": \"null\"}\n",
        "strings as text, arrays as JSON, a missing input as null"
    );

    let bad = reqwest::Client::new()
        .post(format!("{base}/voyages"))
        .json(&json!({"crewIds": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text().await.unwrap().contains("shipImo"),
        "the problem names the missing field"
    );
}

#[tokio::test]
async fn xml_answers_are_converted_before_mapping() {
    let server = upstreams().await;
    let base = rest(&server).await;
    let r = reqwest::get(format!("{base}/legacy")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!([{"code": "L-1", "name": "Old & Faithful"}, {"code": "L-2", "name": "Iron"}])
    );
    let client = mcp(&server).await;
    assert_eq!(
        tool(&client, "list-legacy", json!({})).await,
        json!([{"code": "L-1"}, {"code": "L-2"}])
    );
}

#[tokio::test]
async fn mcp_steps_refs_and_derived_hints() {
    let server = upstreams().await;
    let client = mcp(&server).await;
    assert_eq!(
        tool(&client, "get-ship-with-crew", json!({"imo": "IMO-1"})).await,
        json!({
            "name": "Northern Star",
            "crew": [{"fullName": "Ann Lee", "role": "captain"}, {"fullName": "Cy Ode", "role": "engineer"}]
        })
    );
    let tools = client.list_tools(None).await.unwrap().tools;
    let mut names: Vec<&str> = tools.iter().map(|t| &*t.name).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "get-ship-with-crew",
            "greet",
            "list-legacy",
            "ship-with-crew"
        ],
        "a `ref` tool takes the function's name unless it gives its own"
    );
    let by_name = |n: &str| tools.iter().find(|t| t.name == n).unwrap();
    let inherited = by_name("ship-with-crew");
    assert_eq!(
        inherited.description.as_deref(),
        Some("A ship with its crew resolved.")
    );
    assert_eq!(
        inherited.input_schema["required"],
        json!(["imo"]),
        "inputs are inherited"
    );
    let a = inherited.annotations.as_ref().unwrap();
    assert_eq!(
        (a.read_only_hint, a.destructive_hint, a.idempotent_hint),
        (Some(true), Some(false), Some(true)),
        "safe: read-only and not destructive; idempotent copied"
    );
    let greet = by_name("greet").annotations.as_ref().unwrap();
    assert_eq!(
        greet.open_world_hint,
        Some(false),
        "explicit hints are kept"
    );
    assert_eq!(
        tool(&client, "greet", json!({"name": "Nina"})).await,
        json!({"message": "Hello, Nina!", "source": "aggregate-mock"})
    );
    let bad = client
        .call_tool(CallToolRequestParams::new("ship-with-crew"))
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("imo"), "{bad}");
}

#[tokio::test]
async fn skill_adapter_serves_the_catalog_and_files() {
    let base = common::serve(fleet_skills::router()).await;
    let get = |p: &str| reqwest::get(format!("{base}{p}"));
    let list: Value = get("/skills").await.unwrap().json().await.unwrap();
    assert_eq!(
        list,
        json!({"count": 2, "skills": [
            {"name": "fleet-ops", "description": "Inspect ships.", "license": "MIT",
             "tools": ["get-ship-with-crew", "create-voyage"]},
            {"name": "runbook", "description": "How to run the fleet.", "tools": ["read-me"]}
        ]})
    );
    let detail: Value = get("/skills/fleet-ops")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["tools"],
        json!([
            {"name": "get-ship-with-crew", "description": "A ship with its crew.", "type": "derived",
             "invocationRef": {"targetNamespace": "fleet-tools", "action": "get-ship-with-crew", "mode": "mcp"}},
            {"name": "create-voyage", "description": "Plan a voyage.", "type": "derived",
             "invocationRef": {"targetNamespace": "fleet-api", "action": "create-voyage", "mode": "rest"}}
        ])
    );
    assert_eq!(get("/skills/nope").await.unwrap().status(), 404);
    assert_eq!(
        get("/skills/fleet-ops/contents").await.unwrap().status(),
        404,
        "a skill without `location` has no files"
    );
    // `file:///./...` is read from the working directory: the test crate's.
    let contents: Value = get("/skills/runbook/contents")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        contents,
        json!({"name": "runbook", "files": [
            {"path": "README.md", "size": 42, "type": "text/markdown"},
            {"path": "steps/one.txt", "size": 26, "type": "text/plain"}
        ]})
    );
    let file = get("/skills/runbook/contents/steps/one.txt").await.unwrap();
    assert_eq!(file.headers()["content-type"], "text/plain");
    assert_eq!(file.text().await.unwrap(), "Step one: count the crew.\n");
    let escape = get("/skills/runbook/contents/..%2F..%2FCargo.toml")
        .await
        .unwrap();
    assert_eq!(escape.status(), 400, "no path leaves the skill's directory");
    let zip = get("/skills/runbook/download").await.unwrap();
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let bytes = zip.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "a ZIP archive");
    assert!(
        bytes.windows(13).any(|w| w == b"steps/one.txt"),
        "holding the skill's files"
    );
}

#[tokio::test]
async fn capability_adapters_take_upstreams_binds_and_addresses_from_config() {
    let server = upstreams().await;
    let config = ServeConfig::from_args(
        [
            "--upstream".to_owned(),
            format!("registry={}", server.uri()),
            "--upstream".to_owned(),
            format!("legacy={}", server.uri()),
            "--bind".to_owned(),
            format!("FLEET_TOKEN={TOKEN}"),
            "--bind".to_owned(),
            format!("MCP_TOKEN={MCP_TOKEN}"),
            "--addr".to_owned(),
            "fleet-api=127.0.0.1:0".to_owned(),
        ]
        .into_iter(),
    )
    .unwrap();
    let adapters = capability::adapters(&config).unwrap();
    let summary: Vec<(&str, &str, String)> = adapters
        .iter()
        .map(|a| (a.namespace, a.kind, a.addr.to_string()))
        .collect();
    assert_eq!(
        summary,
        [
            ("fleet-api", "rest", "127.0.0.1:0".to_owned()),
            ("fleet-tools", "mcp", "127.0.0.1:3001".to_owned()),
            ("fleet-skills", "skill", "127.0.0.1:3003".to_owned()),
            ("control", "control", "127.0.0.1:9199".to_owned()),
        ],
        "`--addr` wins; otherwise the spec's port on loopback"
    );
    let mut routers = adapters.into_iter().map(|a| a.router);
    let rest = common::serve(routers.next().unwrap()).await;
    let r = reqwest::get(format!("{rest}/ships/IMO-1/crew"))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "the upstream URL and the bound token came from the config"
    );
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(sent.headers["authorization"], format!("Bearer {TOKEN}"));

    let mcp = common::serve(routers.next().unwrap()).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let post = |token: &'static str| {
        reqwest::Client::new()
            .post(format!("{mcp}/mcp"))
            .header("accept", "application/json, text/event-stream")
            .bearer_auth(token)
            .json(&init)
            .send()
    };
    assert_eq!(post("wrong").await.unwrap().status(), 401);
    assert_eq!(
        post(MCP_TOKEN).await.unwrap().status(),
        200,
        "`--bind` reaches the MCP adapter's inbound token"
    );

    // The control adapter reports on the others.
    let _skills = routers.next().unwrap();
    let control = common::serve(routers.next().unwrap()).await;
    let get = |p: &str| reqwest::get(format!("{control}{p}"));
    assert_eq!(
        get("/health/live")
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
        json!({"status": "UP"})
    );
    let ready: Value = get("/health/ready").await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "UP");
    assert_eq!(
        ready["adapters"][0],
        json!({"type": "rest", "namespace": "fleet-api", "port": 0, "state": "started"})
    );
    let status: Value = get("/status").await.unwrap().json().await.unwrap();
    assert_eq!(
        status["capability"],
        json!({"label": "Fleet", "specVersion": "1.0.0-alpha3"})
    );
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics
            .contains(r#"naftiko_requests_total{adapter="fleet-api",method="GET",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"naftiko_requests_total{adapter="fleet-tools",method="POST",status="401"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("naftiko_request_duration_seconds_bucket"),
        "{metrics}"
    );
    let traces: Value = get("/traces").await.unwrap().json().await.unwrap();
    assert_eq!(
        traces["count"], 2,
        "the ring buffer keeps `buffer-size` requests: {traces}"
    );
    let id = traces["traces"][0]["traceId"].as_str().unwrap().to_owned();
    let one: Value = get(&format!("/traces/{id}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["adapter"], "fleet-tools");
    let scripting = get("/scripting").await.unwrap();
    assert_eq!(scripting.status(), 501);
    assert!(
        scripting
            .text()
            .await
            .unwrap()
            .contains("script management")
    );

    let missing = ServeConfig::default();
    let e = capability::adapters(&missing).unwrap_err().to_string();
    assert!(e.contains("FLEET_TOKEN"), "{e}");
    assert!(!e.contains(TOKEN));
}

#[tokio::test]
async fn forward_proxies_the_whole_path_below_the_resource() {
    let server = upstreams().await;
    Mock::given(method("PATCH"))
        .and(path("/ships/IMO-1/notes"))
        .respond_with(ResponseTemplate::new(202).set_body_raw("noted", "text/plain"))
        .mount(&server)
        .await;
    let base = rest(&server).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{base}/proxy/ships/IMO-1?fields=name&q=a%20b"))
        .header("x-trace", "t-1")
        .header("x-other", "dropped")
        .header("authorization", "Bearer caller-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["vessel_name"],
        "Northern Star"
    );
    let patch = http
        .patch(format!("{base}/proxy/ships/IMO-1/notes"))
        .header("content-type", "text/plain")
        .body("all hands")
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 202, "any method, the upstream's status");
    assert_eq!(patch.text().await.unwrap(), "noted");

    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent[0].method.as_str(), "GET");
    assert_eq!(sent[0].url.path(), "/ships/IMO-1");
    assert_eq!(
        sent[0].url.query(),
        Some("fields=name&q=a+b"),
        "the query goes too"
    );
    assert_eq!(sent[0].headers["x-trace"], "t-1", "trusted headers go up");
    assert!(!sent[0].headers.contains_key("x-other"));
    assert_eq!(
        sent[0].headers["authorization"],
        format!("Bearer {TOKEN}"),
        "the spec's authentication, never the caller's"
    );
    assert_eq!(sent[1].method.as_str(), "PATCH");
    assert_eq!(sent[1].headers["content-type"], "text/plain");
    assert_eq!(sent[1].body, b"all hands");

    // Raw, since HTTP clients normalize dot segments away before sending.
    for target in [
        "/proxy/ships/%2e%2e/%2e%2e/admin",
        "/proxy/ships/../../admin",
    ] {
        let mut s = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
            .await
            .unwrap();
        let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        tokio::io::AsyncWriteExt::write_all(&mut s, req.as_bytes())
            .await
            .unwrap();
        let mut answer = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut s, &mut answer)
            .await
            .unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "{target}: no way out of the base URL's path: {answer}"
        );
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    let big = http
        .post(format!("{base}/proxy/voyages"))
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(
        big.status(),
        413,
        "the body limit holds for forwarded requests"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn forward_answers_502_when_the_upstream_is_down() {
    let upstreams = fleet_api::Upstreams {
        registry: registry(
            &format!("http://127.0.0.1:{}", common::closed_port()),
            false,
        ),
        legacy: legacy::Client::new("http://127.0.0.1:9").unwrap(),
    };
    let base = common::serve(fleet_api::router(
        fleet_api::Forwarder { upstreams },
        RestConfig::default(),
    ))
    .await;
    let r = reqwest::get(format!("{base}/proxy/ships")).await.unwrap();
    assert_eq!(r.status(), 502);
    assert!(
        r.text().await.unwrap().contains("127.0.0.1"),
        "names the upstream"
    );
}

#[tokio::test]
async fn declared_values_extract_body_fields_or_fix_an_input() {
    let server = upstreams().await;
    Mock::given(method("POST"))
        .and(path("/crew"))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let base = rest(&server).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/crew"))
        .header("origin", "caller")
        .json(&json!({"user": {"id": "u1", "name": "Ann"}, "userId": "ignored"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let sent = server.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(
        String::from_utf8(sent.body).unwrap(),
        "{\"id\":\"u1\",\"name\":\"Ann\",\"origin\":\"fleet-api\"}\n",
        "`$.user.id` read from the body; the fixed `value` wins over the caller's header"
    );
    let missing = http
        .post(format!("{base}/crew"))
        .json(&json!({"user": {"name": "Ann"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert!(missing.text().await.unwrap().contains("$.user.id"));
}

#[test]
fn the_openapi_document_names_body_fields_and_path_templates() {
    let doc: Value = serde_json::from_str(fleet_api::OPENAPI).unwrap();
    oas3::from_json(fleet_api::OPENAPI).unwrap();
    assert_eq!(
        doc["paths"]["/crew"]["post"]["requestBody"],
        json!({"required": true, "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {
                "userId": {"type": "string", "description": "From the body."},
                "userName": {"type": "string", "description": "From the body."}
            },
            "required": ["userId"]
        }}}}),
        "declared body inputs are fields of one JSON object"
    );
    assert_eq!(
        doc["paths"]["/ships/{imo}/crew"]["get"]["parameters"][0],
        json!({"name": "imo", "in": "path", "required": true, "schema": {"type": "string"}})
    );
}
