//! One operation through the generated MCP adapter (rmcp's client, streamable
//! HTTP, `tools/call`) against the same operation through the REST adapter,
//! in the same run, against the same loopback upstream. Read the ratio of
//! the two medians (issue 9 asks MCP for at least half the REST rate).
//!
//! `cargo bench -p logto-tests --bench mcp`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a benchmark binary

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
    let (rest, client) = rt.block_on(async {
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
        let client = ().serve(StreamableHttpClientTransport::from_uri(mcp_url)).await.unwrap();
        (rest, client)
    });
    let http = reqwest::Client::new();
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
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
