//! Digest authentication: the client answers the server's challenge, and
//! reuses it for later calls. The server side here checks the answer with
//! its own computation (RFC 7616, MD5 with qop=auth).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};
use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

logto_client::naftiko_capability!("digest-api.yaml");

const REALM: &str = "vault@example";
const NONCE: &str = "dcd98b7102dd2f0e8b11d0f600bfb0c093";

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn params(header: &str) -> HashMap<String, String> {
    header
        .trim_start_matches("Digest ")
        .split(", ")
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

/// Accepts a correct digest answer for user/password, else challenges.
struct DigestServer {
    seen_nc: Arc<Mutex<Vec<String>>>,
}

impl Respond for DigestServer {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let challenge = ResponseTemplate::new(401).insert_header(
            "www-authenticate",
            format!(r#"Digest realm="{REALM}", qop="auth", nonce="{NONCE}", opaque="op4que", algorithm=MD5"#).as_str(),
        );
        let Some(auth) = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        else {
            return challenge;
        };
        let p = params(auth);
        let uri = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_owned(),
        };
        let ha1 = md5_hex(&format!("ada:{REALM}:s3cret"));
        let ha2 = md5_hex(&format!("{}:{uri}", req.method));
        let expected = md5_hex(&format!(
            "{ha1}:{NONCE}:{}:{}:auth:{ha2}",
            p["nc"], p["cnonce"]
        ));
        if p.get("uri") == Some(&uri)
            && p.get("response") == Some(&expected)
            && p.get("opaque").map(String::as_str) == Some("op4que")
        {
            self.seen_nc.lock().unwrap().push(p["nc"].clone());
            ResponseTemplate::new(200).set_body_json(json!({"value": "opened"}))
        } else {
            challenge
        }
    }
}

#[tokio::test]
async fn digest_challenges_are_answered_and_reused() {
    let server = MockServer::start().await;
    let seen_nc = Arc::new(Mutex::new(Vec::new()));
    Mock::given(any())
        .respond_with(DigestServer {
            seen_nc: Arc::clone(&seen_nc),
        })
        .mount(&server)
        .await;
    let client = vault_api::Client::builder()
        .base_url(server.uri())
        .bind("DIGEST_USER", "ada")
        .bind("DIGEST_PASSWORD", "s3cret")
        .build()
        .unwrap();
    let body = json!({"reason": "audit"});
    assert_eq!(
        *client
            .read_secret("db password", Some(2), &body)
            .await
            .unwrap(),
        json!({"value": "opened"})
    );
    assert_eq!(
        *client
            .read_secret("db password", None, &body)
            .await
            .unwrap(),
        json!({"value": "opened"})
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3, "one challenge, then two answered calls");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&requests[1].body).unwrap(),
        body,
        "the retry resends the body"
    );
    assert_eq!(*seen_nc.lock().unwrap(), vec!["00000001", "00000002"]);

    let wrong = vault_api::Client::builder()
        .base_url(server.uri())
        .bind("DIGEST_USER", "ada")
        .bind("DIGEST_PASSWORD", "wrong")
        .build()
        .unwrap();
    let err = wrong.read_secret("x", None, &body).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(
        !format!("{err} {err:?} {wrong:?}").contains("wrong\""),
        "the password never shows"
    );
}
