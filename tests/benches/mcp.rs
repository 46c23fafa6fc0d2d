//! One operation through the generated MCP adapter (rmcp's client, streamable
//! HTTP, `tools/call`) against the same operation through the REST adapter,
//! in the same run, against the same loopback upstream. Read the ratio of
//! the two medians (issue 9 asks MCP for at least half the REST rate).
//! `mcp_tools_call` runs rmcp's client, whose own service (tasks, channels)
//! is in the time; `mcp_tools_call_http` posts the same JSON-RPC request in
//! an open session with the reqwest client the REST case uses, so the two
//! differ only by the adapter.
//!
//! `cargo bench -p logto-tests --bench mcp`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)] // a benchmark binary

use criterion::{Criterion, criterion_group, criterion_main};
use logto_client::logto_experience::Client;
use logto_client::logto_experience_mcp as mcp;
use logto_client::logto_experience_rest::{Forwarder, Upstreams, router};
use logto_client::mcp::McpHttpConfig;
use logto_client::server::RestConfig;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;

mod common;

use common::{ANSWER, serve};

fn bench(c: &mut Criterion) {
    let rt = common::runtime();
    let body =
        json!({"identifier": {"type": "username", "value": "demo"}, "password": "demo-password"});
    let (rest, client, mcp_url) = rt.block_on(async {
        let upstream = common::upstream().await;
        let build = |jar: bool| {
            Client::builder()
                .base_url(&upstream)
                .bind("LOGTO_API_KEY", "bench-key")
                .cookie_store(jar)
                .build()
                .unwrap()
        };
        let rest = serve(router(
            Forwarder {
                upstreams: Upstreams {
                    logto_experience: build(false),
                },
            },
            RestConfig::default(),
        ))
        .await;
        let mcp_url = format!(
            "{}/mcp",
            serve(
                mcp::router(
                    mcp::Upstreams {
                        logto_experience: build(true),
                    },
                    &McpHttpConfig::default(),
                )
                .unwrap()
            )
            .await
        );
        let client =
            ().serve(StreamableHttpClientTransport::from_uri(mcp_url.clone()))
                .await
                .unwrap();
        (rest, client, mcp_url)
    });
    let http = reqwest::Client::new();
    let session = rt.block_on(open_session(&http, &mcp_url));
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "create-password-verification-record", "arguments": {"body": body}}});
    let url = format!("{rest}/v1/api/experience/verification/password");
    let args = json!({"body": body}).as_object().unwrap().clone();

    let mut group = c.benchmark_group("verification_password");
    group.bench_function("rest_adapter", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = http.post(&url).json(&body).send().await.unwrap();
            assert!(resp.status().is_success());
            assert_eq!(resp.bytes().await.unwrap().len(), ANSWER.len());
        })
    });
    group.bench_function("mcp_tools_call", |b| {
        b.to_async(&rt).iter(|| async {
            let r = client
                .call_tool(
                    CallToolRequestParams::new("create-password-verification-record")
                        .with_arguments(args.clone()),
                )
                .await
                .unwrap();
            assert_eq!(r.is_error, Some(false));
        })
    });
    group.bench_function("mcp_tools_call_http", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = http
                .post(&mcp_url)
                .header("accept", "application/json, text/event-stream")
                .header("mcp-session-id", &session)
                .header("mcp-protocol-version", "2025-06-18")
                .json(&call)
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success());
            let answer: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(answer["result"]["isError"], false);
        })
    });
    group.finish();
}

/// An initialized MCP session at `url` (its id), as any HTTP client opens it.
async fn open_session(http: &reqwest::Client, url: &str) -> String {
    let post = |body: serde_json::Value, session: Option<String>| {
        let mut req = http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(id) = session {
            req = req
                .header("mcp-session-id", id)
                .header("mcp-protocol-version", "2025-06-18");
        }
        req.send()
    };
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"}}});
    let resp = post(init, None).await.unwrap();
    let id = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(note, Some(id.clone())).await.unwrap().status(), 202);
    id
}

criterion_group!(benches, bench);
criterion_main!(benches);
