//! OAuth 2.0 client credentials on consumed APIs (`oauth2-api.yaml`): one
//! token fetch for many calls, even concurrent ones; refresh before expiry;
//! a `401` forgets the token once; discovery of the token endpoint.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use serde_json::json;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

logto_client::naftiko_capability!("oauth2-api.yaml");

const SECRET: &str = "s3cr3t";

async fn token_endpoint(server: &MockServer, expires_in: u64) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        // base64("app:s3cr3t")
        .and(header("authorization", "Basic YXBwOnMzY3IzdA=="))
        .and(body_string(
            "grant_type=client_credentials&scope=read+write&audience=ledger-api",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "tok", "token_type": "Bearer", "expires_in": expires_in}),
        ))
        .mount(server)
        .await;
}

async fn api(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/entries"))
        .and(header("authorization", "Bearer tok"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([1, 2])))
        .mount(server)
        .await;
}

fn ledger(server: &MockServer) -> ledger::Client {
    ledger::Client::builder()
        .base_url(server.uri())
        .bind("AUTH_URL", server.uri())
        .bind("CLIENT_ID", "app")
        .bind("CLIENT_SECRET", SECRET)
        .build()
        .unwrap()
}

async fn count(server: &MockServer, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == p)
        .count()
}

#[tokio::test]
async fn one_token_serves_many_calls_even_concurrent_ones() {
    let server = MockServer::start().await;
    token_endpoint(&server, 3600).await;
    api(&server).await;
    let client = ledger(&server);
    let calls = (0..20).map(|_| client.list_entries());
    for r in futures::future::join_all(calls).await {
        assert_eq!(*r.unwrap(), json!([1, 2]));
    }
    client.list_entries().await.unwrap();
    assert_eq!(
        count(&server, "/oauth/token").await,
        1,
        "one fetch at a time, then cached"
    );
    assert_eq!(count(&server, "/entries").await, 21);
}

#[tokio::test]
async fn tokens_about_to_expire_are_replaced() {
    let server = MockServer::start().await;
    token_endpoint(&server, 5).await; // within the 30 s margin: never reused
    api(&server).await;
    let client = ledger(&server);
    client.list_entries().await.unwrap();
    client.list_entries().await.unwrap();
    assert_eq!(count(&server, "/oauth/token").await, 2);
}

#[tokio::test]
async fn a_401_forgets_the_token_once() {
    let server = MockServer::start().await;
    token_endpoint(&server, 3600).await;
    Mock::given(method("GET"))
        .and(path("/entries"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    api(&server).await;
    let client = ledger(&server);
    assert_eq!(*client.list_entries().await.unwrap(), json!([1, 2]));
    assert_eq!(
        count(&server, "/oauth/token").await,
        2,
        "refetched after the 401"
    );
    assert_eq!(count(&server, "/entries").await, 2, "and retried once");

    let stubborn = MockServer::start().await;
    token_endpoint(&stubborn, 3600).await;
    Mock::given(method("GET"))
        .and(path("/entries"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&stubborn)
        .await;
    let e = ledger(&stubborn).list_entries().await.unwrap_err();
    assert_eq!(
        e.status().map(|s| s.as_u16()),
        Some(401),
        "no endless retries"
    );
    assert_eq!(count(&stubborn, "/entries").await, 2);
}

#[tokio::test]
async fn the_token_endpoint_is_discovered_and_its_refusal_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/realms/test/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/realms/test/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"token_endpoint": format!("{}/realms/test/token", server.uri())}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/realms/test/token"))
        .and(body_string("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": "tok"})))
        .mount(&server)
        .await;
    api(&server).await;
    let client = discovered::Client::builder()
        .base_url(server.uri())
        .bind("AUTH_URL", server.uri())
        .bind("CLIENT_ID", "app")
        .bind("CLIENT_SECRET", SECRET)
        .build()
        .unwrap();
    assert_eq!(*client.list_entries().await.unwrap(), json!([1, 2]));

    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})))
        .mount(&refusing)
        .await;
    let e = ledger(&refusing)
        .list_entries()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("token endpoint") && e.contains("invalid_client"),
        "{e}"
    );
    assert!(!e.contains(SECRET));
    assert_eq!(count(&refusing, "/entries").await, 0);
}
