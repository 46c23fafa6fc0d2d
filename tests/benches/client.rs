//! One generated call against the same request made with bare reqwest, on a
//! loopback server, in the same run. Read the ratio of the two medians.
//!
//! `cargo bench -p logto-tests --bench client`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a benchmark binary

use axum::Router;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use logto_client::logto_experience::Client;
use serde_json::{Value, json};

const ANSWER: &str = r#"{"verificationId":"v-0123456789abcdefghijklmnop"}"#;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let base = rt.block_on(async {
        let router = Router::new().route(
            "/api/experience/verification/password",
            post(|| async { ([("content-type", "application/json")], ANSWER) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}")
    });
    let body =
        json!({"identifier": {"type": "username", "value": "demo"}, "password": "demo-password"});

    let bare = reqwest::Client::new();
    let url = format!("{base}/api/experience/verification/password");
    let generated = Client::builder()
        .base_url(&base)
        .bind("LOGTO_API_KEY", "bench-key")
        .build()
        .unwrap();

    let mut group = c.benchmark_group("verification_password");
    group.bench_function("bare_reqwest", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = bare
                .post(&url)
                .bearer_auth("bench-key")
                .json(&body)
                .send()
                .await
                .unwrap();
            let v: Value = resp.json().await.unwrap();
            assert!(v.get("verificationId").is_some());
        })
    });
    group.bench_function("generated_client", |b| {
        b.to_async(&rt).iter(|| async {
            let v = generated.createpasswordverification(&body).await.unwrap();
            assert!(v.get("verificationId").is_some());
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
