//! Requests through the generated REST adapter against the same requests
//! straight to the upstream, in the same run, on loopback. Read the ratio
//! of the two medians. A third adapter sends on a reqwest client given to
//! it (`.http_client`), the way every call went before plain-HTTP calls of
//! adapters went straight to hyper's client: their ratio is that change. (`../shared/bin/proxy-bench` measures the release
//! binary under load against nginx.)
//!
//! `cargo bench -p logto-tests --bench rest`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a benchmark binary

use criterion::{Criterion, criterion_group, criterion_main};
use logto_client::logto_experience::Client;
use logto_client::logto_experience_rest::{Forwarder, Upstreams, router};
use logto_client::server::RestConfig;
use serde_json::json;

mod common;

use common::{ANSWER, serve};

fn bench(c: &mut Criterion) {
    let rt = common::runtime();
    let (upstream, adapter, adapter_reqwest) = rt.block_on(async {
        let upstream = common::upstream().await;
        let client = Client::builder()
            .base_url(&upstream)
            .bind("LOGTO_API_KEY", "bench-key")
            .cookie_store(false)
            .build()
            .unwrap();
        // The same adapter on a reqwest client of the user's: its calls go
        // through reqwest's layers instead of straight to hyper's client.
        let via_reqwest = Client::builder()
            .base_url(&upstream)
            .bind("LOGTO_API_KEY", "bench-key")
            .cookie_store(false)
            .http_client(
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let adapter = |client| {
            serve(router(
                Forwarder {
                    upstreams: Upstreams {
                        logto_experience: client,
                    },
                },
                RestConfig::default(),
            ))
        };
        let (a, b) = (adapter(client).await, adapter(via_reqwest).await);
        (upstream, a, b)
    });
    let http = reqwest::Client::new();
    let body =
        json!({"identifier": {"type": "username", "value": "demo"}, "password": "demo-password"});
    let cookie =
        r#"_interaction={"demo-app":"uid","_legacy":"uid"}; _interaction.sig=0123456789abcdef"#;

    let mut group = c.benchmark_group("rest_verification_password");
    for (name, url) in [
        (
            "direct",
            format!("{upstream}/api/experience/verification/password"),
        ),
        (
            "through_adapter",
            format!("{adapter}/v1/api/experience/verification/password"),
        ),
        (
            "through_adapter_on_reqwest",
            format!("{adapter_reqwest}/v1/api/experience/verification/password"),
        ),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let resp = http
                    .post(&url)
                    .header("cookie", cookie)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success());
                assert_eq!(resp.bytes().await.unwrap().len(), ANSWER.len());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
