//! A full username + password sign-in through the generated client against
//! an upstream that enforces the Logto rules (cookie pair, prior PUT, 204s,
//! JSON errors).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use logto_client::dev::{DEMO_PASSWORD, DEMO_USERNAME};
use logto_client::logto_experience::Client;
use serde_json::{Value, json};

/// A client whose cookie jar holds a fresh interaction (`GET /oidc/auth`).
async fn session(base: &str) -> Client {
    let http = common::cookie_client();
    common::start_interaction(&http, base).await;
    Client::builder()
        .base_url(base)
        .bind("LOGTO_API_KEY", "k")
        .http_client(http)
        .build()
        .unwrap()
}

fn password_body(password: &str) -> Value {
    json!({"identifier": {"type": "username", "value": DEMO_USERNAME}, "password": password})
}

#[tokio::test]
async fn full_sign_in_returns_redirect_to() {
    let (base, dev) = common::dev_logto().await;
    let http = common::cookie_client();
    common::start_interaction(&http, &base).await;
    let client = Client::builder()
        .base_url(&base)
        .bind("LOGTO_API_KEY", "k")
        .http_client(http)
        .build()
        .unwrap();

    let init = client
        .initinteraction(&json!({"interactionEvent": "SignIn"}))
        .await
        .unwrap();
    assert_eq!(init.status(), 204);
    assert_eq!(*init, Value::Null, "204 is an empty body");

    let verification = client
        .createpasswordverification(&password_body(DEMO_PASSWORD))
        .await
        .unwrap();
    assert_eq!(verification.status(), 200);
    let id = verification["verificationId"].as_str().unwrap().to_owned();

    let identified = client
        .identifyuser(&json!({"verificationId": id}))
        .await
        .unwrap();
    assert_eq!(identified.status(), 204);

    let submitted = client.submitinteraction().await.unwrap();
    let redirect = submitted["redirectTo"].as_str().unwrap();
    assert!(
        redirect.starts_with(&format!("{base}/oidc/auth/uid")),
        "{redirect}"
    );

    assert_eq!(
        dev.requests(),
        vec![
            "GET /oidc/auth",
            "PUT /api/experience",
            "POST /api/experience/verification/password",
            "POST /api/experience/identification",
            "POST /api/experience/submit",
        ]
    );
}

#[tokio::test]
async fn wrong_password_is_a_422_with_logto_code() {
    let (base, _) = common::dev_logto().await;
    let client = session(&base).await;
    client
        .initinteraction(&json!({"interactionEvent": "SignIn"}))
        .await
        .unwrap();
    let err = client
        .createpasswordverification(&password_body("nope"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    assert_eq!(err.json().unwrap()["code"], "session.invalid_credentials");
    assert!(
        err.to_string().contains("session.invalid_credentials"),
        "{err}"
    );
}

#[tokio::test]
async fn register_identification_is_201_text() {
    let (base, _) = common::dev_logto().await;
    let client = session(&base).await;
    client
        .initinteraction(&json!({"interactionEvent": "Register"}))
        .await
        .unwrap();
    let created = client.identifyuser(&json!({})).await.unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(
        *created,
        Value::String("Created".into()),
        "text/plain comes back as a JSON string"
    );
}

#[tokio::test]
async fn without_cookies_logto_says_session_not_found() {
    let (base, _) = common::dev_logto().await;
    let client = Client::builder()
        .base_url(&base)
        .bind("LOGTO_API_KEY", "k")
        .build()
        .unwrap();
    let err = client
        .initinteraction(&json!({"interactionEvent": "SignIn"}))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(err.json().unwrap()["code"], "session.not_found");
}

#[tokio::test]
async fn without_prior_put_logto_says_interaction_not_found() {
    let (base, _) = common::dev_logto().await;
    let client = session(&base).await;
    let err = client.getinteraction().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.json().unwrap()["code"], "session.interaction_not_found");
    // The three operations that need no prior PUT still answer.
    let sso = client
        .getenabledssoconnectors("ada@example.com")
        .await
        .unwrap();
    assert_eq!(*sso, json!({"connectorIds": []}));
}

#[tokio::test]
async fn one_client_is_one_session_with_its_own_cookie_store() {
    let (base, _) = common::dev_logto().await;
    // The client's own jar: seed it through the same client's reqwest...
    let http = common::cookie_client();
    common::start_interaction(&http, &base).await;
    let a = Client::builder()
        .base_url(&base)
        .bind("LOGTO_API_KEY", "k")
        .http_client(http)
        .build()
        .unwrap();
    a.initinteraction(&json!({"interactionEvent": "SignIn"}))
        .await
        .unwrap();
    // ...while a second client with its default jar has no session at all.
    let b = Client::builder()
        .base_url(&base)
        .bind("LOGTO_API_KEY", "k")
        .build()
        .unwrap();
    assert_eq!(
        b.getinteraction()
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(400)
    );
    assert_eq!(
        a.getinteraction().await.unwrap()["interactionEvent"],
        "SignIn"
    );
}
