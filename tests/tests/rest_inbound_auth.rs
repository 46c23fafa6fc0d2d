//! Inbound `authentication` on REST adapters (`guarded-rest.yaml`): bearer,
//! API key in the query, basic. Without the credential: 401, a JSON problem
//! body and `WWW-Authenticate`; the secrets come from binds.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use logto_client::Secret;
use logto_client::server::RestConfig;
use serde_json::{Value, json};

logto_client::naftiko_capability!("guarded-rest.yaml");

const TOKEN: &str = "t0k3n";

fn config() -> RestConfig {
    let mut c = RestConfig::default();
    c.binds.insert("API_TOKEN".into(), Secret::new(TOKEN));
    c.binds.insert("env.API_USER".into(), Secret::new("ann"));
    c
}

async fn refused(resp: reqwest::Response, challenge: &str) {
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["www-authenticate"], challenge);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 401, "{body}");
    assert!(!body.to_string().contains(TOKEN), "the secret is not echoed");
}

#[tokio::test]
async fn bearer_tokens_are_required() {
    let base = common::serve(
        bearer_api::router(bearer_api::Forwarder { upstreams: bearer_api::Upstreams {} }, config()).unwrap(),
    )
    .await;
    let http = reqwest::Client::new();
    refused(http.get(format!("{base}/ping")).send().await.unwrap(), "Bearer").await;
    refused(
        http.get(format!("{base}/ping")).bearer_auth("t0k3").send().await.unwrap(),
        "Bearer",
    )
    .await;
    refused(
        http.get(format!("{base}/openapi.json")).send().await.unwrap(),
        "Bearer",
    )
    .await;
    let ok = http.get(format!("{base}/ping")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap(), json!({"pong": true}));
}

#[tokio::test]
async fn api_keys_in_the_query_are_required() {
    let base = common::serve(
        key_api::router(key_api::Forwarder { upstreams: key_api::Upstreams {} }, config()).unwrap(),
    )
    .await;
    refused(
        reqwest::get(format!("{base}/ping?api_key={TOKEN}")).await.unwrap(),
        "ApiKey query=\"api_key\"",
    )
    .await;
    let ok = reqwest::get(format!("{base}/ping?api_key=k-{TOKEN}")).await.unwrap();
    assert_eq!(ok.status(), 200, "the key is the spec's template, filled");
}

#[tokio::test]
async fn basic_credentials_are_required() {
    let base = common::serve(
        basic_api::router(basic_api::Forwarder { upstreams: basic_api::Upstreams {} }, config()).unwrap(),
    )
    .await;
    let http = reqwest::Client::new();
    refused(
        http.get(format!("{base}/ping")).basic_auth("ann", Some("nope")).send().await.unwrap(),
        "Basic realm=\"naftiko\"",
    )
    .await;
    let ok = http
        .get(format!("{base}/ping"))
        .basic_auth("ann", Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[test]
fn a_missing_secret_is_an_error_naming_the_bind() {
    let e = bearer_api::router(
        bearer_api::Forwarder { upstreams: bearer_api::Upstreams {} },
        RestConfig::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("API_TOKEN"), "{e}");
}

#[tokio::test]
async fn mcp_adapters_take_api_keys_too() {
    let mut config = logto_client::mcp::McpHttpConfig::default();
    config.binds.insert("API_TOKEN".into(), Secret::new(TOKEN));
    let base = common::serve(key_mcp::router(key_mcp::Upstreams {}, &config).unwrap()).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let post = |key: Option<&str>| {
        let mut r = reqwest::Client::new()
            .post(format!("{base}/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        r.send()
    };
    refused(post(None).await.unwrap(), "ApiKey header=\"X-Api-Key\"").await;
    assert_eq!(post(Some(TOKEN)).await.unwrap().status(), 200);
}
