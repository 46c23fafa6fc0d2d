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
    assert!(
        !body.to_string().contains(TOKEN),
        "the secret is not echoed"
    );
}

#[tokio::test]
async fn bearer_tokens_are_required() {
    let base = common::serve(
        bearer_api::router(
            bearer_api::Forwarder {
                upstreams: bearer_api::Upstreams {},
            },
            config(),
        )
        .unwrap(),
    )
    .await;
    let http = reqwest::Client::new();
    refused(
        http.get(format!("{base}/ping")).send().await.unwrap(),
        "Bearer",
    )
    .await;
    refused(
        http.get(format!("{base}/ping"))
            .bearer_auth("t0k3")
            .send()
            .await
            .unwrap(),
        "Bearer",
    )
    .await;
    refused(
        http.get(format!("{base}/openapi.json"))
            .send()
            .await
            .unwrap(),
        "Bearer",
    )
    .await;
    let ok = http
        .get(format!("{base}/ping"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap(), json!({"pong": true}));
}

#[tokio::test]
async fn api_keys_in_the_query_are_required() {
    let base = common::serve(
        key_api::router(
            key_api::Forwarder {
                upstreams: key_api::Upstreams {},
            },
            config(),
        )
        .unwrap(),
    )
    .await;
    refused(
        reqwest::get(format!("{base}/ping?api_key={TOKEN}"))
            .await
            .unwrap(),
        "ApiKey query=\"api_key\"",
    )
    .await;
    let ok = reqwest::get(format!("{base}/ping?api_key=k-{TOKEN}"))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "the key is the spec's template, filled");
}

#[tokio::test]
async fn basic_credentials_are_required() {
    let base = common::serve(
        basic_api::router(
            basic_api::Forwarder {
                upstreams: basic_api::Upstreams {},
            },
            config(),
        )
        .unwrap(),
    )
    .await;
    let http = reqwest::Client::new();
    refused(
        http.get(format!("{base}/ping"))
            .basic_auth("ann", Some("nope"))
            .send()
            .await
            .unwrap(),
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
        bearer_api::Forwarder {
            upstreams: bearer_api::Upstreams {},
        },
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

/// An authorization server publishing one P-256 key, and a token signer.
struct Issuer {
    server: wiremock::MockServer,
    key: ring::signature::EcdsaKeyPair,
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn p256() -> ring::signature::EcdsaKeyPair {
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
}

impl Issuer {
    async fn start() -> Self {
        use ring::signature::KeyPair as _;
        use wiremock::matchers::path;
        use wiremock::{Mock, ResponseTemplate};
        let server = wiremock::MockServer::start().await;
        let key = p256();
        let public = key.public_key().as_ref().to_vec(); // 0x04 | x | y
        Mock::given(path("/.well-known/oauth-authorization-server"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"issuer": server.uri(), "jwks_uri": format!("{}/jwks", server.uri())}),
            ))
            .mount(&server)
            .await;
        Mock::given(path("/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [{
                "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
                "x": b64(&public[1..33]), "y": b64(&public[33..65]),
            }]})))
            .mount(&server)
            .await;
        Self { server, key }
    }

    fn token(&self, claims: Value, key: Option<&ring::signature::EcdsaKeyPair>) -> String {
        let header = b64(br#"{"alg":"ES256","typ":"at+jwt","kid":"k1"}"#);
        let signed = format!("{header}.{}", b64(claims.to_string().as_bytes()));
        let rng = ring::rand::SystemRandom::new();
        let sig = key
            .unwrap_or(&self.key)
            .sign(&rng, signed.as_bytes())
            .unwrap();
        format!("{signed}.{}", b64(sig.as_ref()))
    }

    fn claims(&self, aud: &str, scope: &str, exp_in: i64) -> Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        json!({"iss": self.server.uri(), "aud": aud, "scope": scope, "exp": now + exp_in, "sub": "agent"})
    }
}

#[tokio::test]
async fn oauth2_access_tokens_are_validated_with_the_servers_keys() {
    let issuer = Issuer::start().await;
    let mut config = config();
    config
        .binds
        .insert("AUTH_URL".into(), Secret::new(issuer.server.uri()));
    let base = common::serve(
        oauth_api::router(
            oauth_api::Forwarder {
                upstreams: oauth_api::Upstreams {},
            },
            config,
        )
        .unwrap(),
    )
    .await;
    let http = reqwest::Client::new();
    let call = |token: Option<String>| {
        let mut r = http.get(format!("{base}/ping"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    const AUD: &str = "https://api.fleet.test";
    let good = issuer.token(issuer.claims(AUD, "fleet.read other", 300), None);
    let ok = call(Some(good)).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap(), json!({"pong": true}));

    refused(call(None).await.unwrap(), "Bearer error=\"invalid_token\"").await;
    for (token, why) in [
        (
            issuer.token(issuer.claims("https://other.test", "fleet.read", 300), None),
            "another audience",
        ),
        (
            issuer.token(issuer.claims(AUD, "fleet.read", -600), None),
            "expired",
        ),
        (
            issuer.token(issuer.claims(AUD, "fleet.read", 300), Some(&p256())),
            "signed by another key",
        ),
        ("not.a.jwt".to_owned(), "garbage"),
    ] {
        let r = call(Some(token)).await.unwrap();
        assert_eq!(r.status(), 401, "{why}");
        assert_eq!(
            r.headers()["www-authenticate"],
            "Bearer error=\"invalid_token\"",
            "{why}"
        );
    }
    let scopeless = call(Some(issuer.token(issuer.claims(AUD, "other", 300), None)))
        .await
        .unwrap();
    assert_eq!(scopeless.status(), 403);
    assert_eq!(
        scopeless.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", scope=\"fleet.read\""
    );

    let meta: Value = reqwest::get(format!("{base}/.well-known/oauth-protected-resource"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta,
        json!({"resource": AUD, "authorization_servers": [issuer.server.uri()],
               "scopes_supported": ["fleet.read"], "bearer_methods_supported": ["header"]}),
        "RFC 9728 metadata, readable without a token"
    );
}

#[tokio::test]
async fn digest_challenges_are_issued_and_answers_checked() {
    let base = common::serve(
        digest_api::router(
            digest_api::Forwarder {
                upstreams: digest_api::Upstreams {},
            },
            config(),
        )
        .unwrap(),
    )
    .await;
    let http = reqwest::Client::new();
    let first = http.get(format!("{base}/ping?x=1")).send().await.unwrap();
    assert_eq!(first.status(), 401);
    let challenges: Vec<String> = first
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(challenges.len(), 2, "SHA-256 and MD5: {challenges:?}");
    assert!(challenges[0].contains("algorithm=SHA-256") && challenges[1].contains("algorithm=MD5"));
    let mut challenge = logto_client::digest_auth::parse_challenge(&challenges[0]).unwrap();
    let answer = |c: &mut logto_client::digest_auth::Challenge, pw: &str| {
        c.answer("ann", pw, "GET", "/ping?x=1")
    };
    let ok = http
        .get(format!("{base}/ping?x=1"))
        .header("authorization", answer(&mut challenge, TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let wrong = http
        .get(format!("{base}/ping?x=1"))
        .header("authorization", answer(&mut challenge, "nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}
