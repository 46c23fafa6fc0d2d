//! The generated REST adapters end to end: a full Logto sign-in through
//! `logto_experience_rest`, and every edge of SEMANTICS.md decisions 12-15
//! through a small capability of our own.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use std::time::Duration;

use axum::response::IntoResponse;
use logto_client::dev::{DEMO_PASSWORD, DEMO_USERNAME};
use logto_client::logto_experience_rest as logto_rest;
use logto_client::server::RestConfig;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

logto_client::naftiko_capability!("rest-api.yaml");

const TOKEN: &str = "upstream-secret-token";

/// The Logto adapter in front of `upstream`.
async fn logto_adapter(upstream: &str) -> String {
    let client = logto_client::logto_experience::Client::builder()
        .base_url(upstream)
        .bind("LOGTO_API_KEY", TOKEN)
        .cookie_store(false)
        .build()
        .unwrap();
    let forwarder = logto_rest::Forwarder {
        upstreams: logto_rest::Upstreams {
            logto_experience: client,
        },
    };
    // On the lean path, as the binary serves it.
    let (router, lean) = logto_rest::lean_router(forwarder, RestConfig::default());
    common::serve_lean(router, lean).await
}

#[tokio::test]
async fn full_sign_in_through_the_rest_adapter() {
    let (upstream, dev) = common::dev_logto().await;
    let adapter = logto_adapter(&upstream).await;
    let http = common::cookie_client();
    common::start_interaction(&http, &upstream).await;
    let api = format!("{adapter}/v1/api/experience");

    let r = http
        .put(&api)
        .json(&json!({"interactionEvent": "SignIn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = http
        .post(format!("{api}/verification/password"))
        .json(&json!({"identifier": {"type": "username", "value": DEMO_USERNAME}, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.json::<Value>().await.unwrap()["verificationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{api}/identification"))
        .json(&json!({"verificationId": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = http.post(format!("{api}/submit")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let redirect = r.json::<Value>().await.unwrap()["redirectTo"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(redirect.contains("/oidc/auth/uid"), "{redirect}");
    assert_eq!(dev.requests().len(), 5);

    // A caller without the cookie pair gets Logto's own 400, passed through.
    let r = reqwest::Client::new()
        .put(&api)
        .json(&json!({"interactionEvent": "SignIn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "session.not_found"
    );
}

#[tokio::test]
async fn register_identification_201_text_keeps_its_content_type() {
    let (upstream, _) = common::dev_logto().await;
    let adapter = logto_adapter(&upstream).await;
    let http = common::cookie_client();
    common::start_interaction(&http, &upstream).await;
    let api = format!("{adapter}/v1/api/experience");
    http.put(&api)
        .json(&json!({"interactionEvent": "Register"}))
        .send()
        .await
        .unwrap();
    let r = http
        .post(format!("{api}/identification"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(r.text().await.unwrap(), "Created");
}

#[tokio::test]
async fn connectorid_reaches_the_consumed_connector_id_segment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/api/experience/verification/social/git%2Fhub/authorization-uri",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"verificationId": "v1", "authorizationUri": "https://x"})),
        )
        .mount(&server)
        .await;
    let adapter = logto_adapter(&server.uri()).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{adapter}/v1/api/experience/verification/social/git%2Fhub/authorization-uri"
        ))
        .json(&json!({"state": "s", "redirectUri": "https://app/cb"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        serde_json::from_slice::<Value>(&got.body).unwrap(),
        json!({"state": "s", "redirectUri": "https://app/cb"})
    );
}

#[tokio::test]
async fn request_body_numbers_reach_the_upstream_unchanged() {
    let server = common::empty_json_upstream().await;
    let adapter = logto_adapter(&server.uri()).await;
    let r = reqwest::Client::new()
        .post(format!("{adapter}/v1/api/experience/verification/password"))
        .header("content-type", "application/json")
        .body(common::EXACT_NUMBERS)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "{}");
    let got = &server.received_requests().await.unwrap()[0];
    assert_eq!(got.method.as_str(), "POST");
    assert_eq!(got.url.path(), "/api/experience/verification/password");
    assert_eq!(
        std::str::from_utf8(&got.body).unwrap(),
        common::EXACT_NUMBERS
    );
}

#[tokio::test]
async fn identity_mapping_streams_the_exact_bytes() {
    let server = MockServer::start().await;
    // Odd spacing and key order: any re-serialisation would change them.
    let raw = "{ \"z\": 1,   \"a\": [true,false] ,\"verificationId\":\"v\" }";
    Mock::given(path("/api/experience/verification/password"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(raw, "application/json")
                .insert_header("x-upstream", "yes"),
        )
        .mount(&server)
        .await;
    let adapter = logto_adapter(&server.uri()).await;
    let r = reqwest::Client::new()
        .post(format!("{adapter}/v1/api/experience/verification/password"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-upstream"], "yes");
    assert_eq!(r.text().await.unwrap(), raw);
}

#[tokio::test]
async fn cookies_go_up_set_cookie_comes_back_and_callers_never_mix() {
    let server = MockServer::start().await;
    Mock::given(path("/api/experience/interaction"))
        .respond_with(|req: &Request| {
            let cookie = req
                .headers
                .get("cookie")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let auth = req
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            ResponseTemplate::new(200)
                .set_body_json(json!({"cookie": cookie, "authorization": auth}))
                .append_header("set-cookie", format!("seen={}; Path=/", cookie.len()))
        })
        .mount(&server)
        .await;
    let adapter = logto_adapter(&server.uri()).await;
    let url = format!("{adapter}/v1/api/experience/interaction");
    let caller = |cookie: &'static str| {
        let url = url.clone();
        async move {
            let r = reqwest::Client::new()
                .get(&url)
                .header("cookie", cookie)
                .header("authorization", "Bearer caller-token")
                .header("proxy-authorization", "Basic caller")
                .header("keep-alive", "timeout=5")
                .send()
                .await
                .unwrap();
            let set = r
                .headers()
                .get("set-cookie")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            (set, r.json::<Value>().await.unwrap())
        }
    };
    let a = r#"_interaction={"demo-app":"uid-a","_legacy":"uid-a"}; _interaction.sig=aaaa"#;
    let b = r#"_interaction={"demo-app":"uid-b","_legacy":"uid-b"}; _interaction.sig=bbbbbbbb"#;
    let mut handles = Vec::new();
    for i in 0..20 {
        let c = if i % 2 == 0 { a } else { b };
        handles.push(tokio::spawn(caller(c)));
    }
    for (i, h) in handles.into_iter().enumerate() {
        let (set_cookie, body) = h.await.unwrap();
        let sent = if i % 2 == 0 { a } else { b };
        assert_eq!(
            body["cookie"], sent,
            "each caller's raw JSON cookie reaches the upstream untouched, alone"
        );
        assert_eq!(
            set_cookie,
            format!("seen={}; Path=/", sent.len()),
            "Set-Cookie comes back to its caller"
        );
        assert_eq!(
            body["authorization"],
            format!("Bearer {TOKEN}"),
            "the caller's Authorization is replaced by the bind"
        );
    }
    for req in server.received_requests().await.unwrap() {
        assert!(
            req.headers.get("proxy-authorization").is_none(),
            "hop-by-hop header forwarded"
        );
        assert!(
            req.headers.get("keep-alive").is_none(),
            "hop-by-hop header forwarded"
        );
    }
}

/// The items API's client, calling `upstream`.
fn items_client(upstream: &str, timeout: Duration) -> items_api::Client {
    items_api::Client::builder()
        .base_url(upstream)
        .bind("UPSTREAM_TOKEN", TOKEN)
        .bind("REGION", "eu")
        .cookie_store(false)
        .timeout(timeout)
        .build()
        .unwrap()
}

async fn items_adapter(upstream: &str, config: RestConfig, timeout: Duration) -> String {
    let client = items_client(upstream, timeout);
    common::serve(items_rest::router(
        App {
            upstreams: items_rest::Upstreams { items_api: client },
        },
        config,
    ))
    .await
}

/// `health` has no `call`, so it is implemented here; `get-item` is
/// overridden; `put-item` and `search` keep forwarding.
struct App {
    upstreams: items_rest::Upstreams,
}

impl items_rest::Handlers for App {
    fn upstreams(&self) -> &items_rest::Upstreams {
        &self.upstreams
    }

    fn health(
        &self,
        _input: items_rest::HealthInput,
        _forwarded: http::HeaderMap,
    ) -> items_rest::HandlerFuture<'_> {
        Box::pin(async move { axum::Json(json!({"ok": true})).into_response() })
    }

    fn get_item(
        &self,
        input: items_rest::GetItemInput,
        forwarded: http::HeaderMap,
    ) -> items_rest::HandlerFuture<'_> {
        Box::pin(async move {
            if input.item_id == "local" {
                return axum::Json(json!("served locally")).into_response();
            }
            // Everything else: proxy as the spec says.
            let core = self.upstreams.items_api.core();
            let call = core
                .prepare(&items_api::OP_GET_ITEM, vec![input.item_id.into()])
                .unwrap();
            logto_client::server::forward(
                self.upstreams.items_api.core(),
                call,
                forwarded,
                Some("$.name"),
            )
            .await
        })
    }
}

#[tokio::test]
async fn overridden_operations_next_to_forwarded_ones_and_mappings() {
    let server = MockServer::start().await;
    Mock::given(path("/items/7"))
        .and(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"name": "anchor", "weight": 3}, "meta": {}})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/items/7"))
        .and(method("PUT"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let adapter = items_adapter(&server.uri(), RestConfig::default(), Duration::from_secs(5)).await;
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{adapter}/v2/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.json::<Value>().await.unwrap(), json!({"ok": true}));
    let local = http
        .get(format!("{adapter}/v2/items/local"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        local.json::<Value>().await.unwrap(),
        json!("served locally")
    );
    let item = http
        .get(format!("{adapter}/v2/items/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        item.json::<Value>().await.unwrap(),
        json!("anchor"),
        "$.data then $.name"
    );
    let put = http
        .put(format!("{adapter}/v2/items/7"))
        .header("x-request-id", "req-1")
        .header("x-other", "no")
        .json(&json!({"name": "anchor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let sent = server.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(
        sent.headers.get("x-request-id").unwrap(),
        "req-1",
        "trusted header forwarded"
    );
    assert!(
        sent.headers.get("x-other").is_none(),
        "untrusted header dropped"
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&sent.body).unwrap(),
        json!({"name": "anchor"})
    );
}

#[tokio::test]
async fn typed_query_inputs_and_400s_name_the_input() {
    let server = MockServer::start().await;
    Mock::given(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let adapter = items_adapter(&server.uri(), RestConfig::default(), Duration::from_secs(5)).await;
    let http = reqwest::Client::new();
    let ok = http
        .get(format!("{adapter}/v2/search?q=anchor%20chain&limit=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        server.received_requests().await.unwrap()[0].url.query(),
        Some("q=anchor+chain&limit=3")
    );

    let missing = http
        .get(format!("{adapter}/v2/search"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    assert!(missing.text().await.unwrap().contains("`q`"));
    let bad_int = http
        .get(format!("{adapter}/v2/search?q=x&limit=many"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_int.status(), 400);
    assert!(
        bad_int
            .text()
            .await
            .unwrap()
            .contains("`limit` must be an integer")
    );
    let bad_json = http
        .put(format!("{adapter}/v2/items/1"))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    assert!(bad_json.text().await.unwrap().contains("not valid JSON"));
    let no_body = http
        .put(format!("{adapter}/v2/items/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_body.status(), 400);
    assert!(no_body.text().await.unwrap().contains("`body`"));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "bad requests never reach the upstream"
    );
}

#[tokio::test]
async fn wrong_method_unknown_path_and_body_limit() {
    let server = MockServer::start().await;
    Mock::given(path("/items/1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let adapter = items_adapter(
        &server.uri(),
        RestConfig {
            body_limit: 64,
            ..RestConfig::default()
        },
        Duration::from_secs(5),
    )
    .await;
    let http = reqwest::Client::new();
    let r = http
        .delete(format!("{adapter}/v2/items/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.text().await.unwrap().contains("DELETE"));
    let r = http
        .get(format!("{adapter}/v2/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let big = json!({"data": "x".repeat(100)});
    let r = http
        .put(format!("{adapter}/v2/items/1"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let small = json!({"d": 1});
    let r = http
        .put(format!("{adapter}/v2/items/1"))
        .json(&small)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn upstream_errors_pass_through_and_unreachable_is_502_timeout_504() {
    let server = MockServer::start().await;
    Mock::given(path("/items/404"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"code": "entity.not_found"})))
        .mount(&server)
        .await;
    Mock::given(path("/items/500"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    Mock::given(path("/items/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let adapter = items_adapter(
        &server.uri(),
        RestConfig::default(),
        Duration::from_millis(300),
    )
    .await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{adapter}/v2/items/404"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"code": "entity.not_found"}),
        "4xx body untouched, unmapped"
    );
    let r = http
        .get(format!("{adapter}/v2/items/500"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (500, "boom".to_owned())
    );
    let r = http
        .get(format!("{adapter}/v2/items/slow"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    let host = server.uri().trim_start_matches("http://").to_owned();
    let text = r.text().await.unwrap();
    assert!(text.contains(&host), "504 names the upstream: {text}");

    let port = common::closed_port();
    let dead = items_adapter(
        &format!("http://127.0.0.1:{port}"),
        RestConfig::default(),
        Duration::from_secs(5),
    )
    .await;
    let r = http.get(format!("{dead}/v2/items/1")).send().await.unwrap();
    assert_eq!(r.status(), 502);
    let text = r.text().await.unwrap();
    assert!(
        text.contains(&format!("127.0.0.1:{port}")),
        "502 names the upstream: {text}"
    );
    assert!(!text.contains(TOKEN));
}

#[tokio::test]
async fn openapi_document_is_3_1_and_matches_the_routes() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let adapter = logto_adapter(&server.uri()).await;
    let text = reqwest::get(format!("{adapter}/openapi.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, logto_rest::OPENAPI);
    let spec = oas3::from_json(&text).expect("a valid OpenAPI 3.1 document");
    assert!(spec.openapi.starts_with("3.1"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut ops = Vec::new();
    for (route, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            ops.push(op["operationId"].as_str().unwrap().to_owned());
            // Every documented operation is served (not 404/405).
            let url = format!("{adapter}{}", route.replace("{connectorid}", "c1"));
            let r = reqwest::Client::new()
                .request(m.to_uppercase().parse().unwrap(), url)
                .query(&[("email", "a@b.c")])
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert!(
                r.status() != 404 && r.status() != 405,
                "{m} {route}: {}",
                r.status()
            );
        }
    }
    ops.sort();
    let mut expected: Vec<String> = logto_rest::OPERATIONS
        .iter()
        .map(|s| s.to_string())
        .collect();
    expected.sort();
    assert_eq!(ops, expected);
    assert_eq!(ops.len(), 36);
    let sso = &doc["paths"]["/v1/api/experience/sso-connectors"]["get"]["parameters"][0];
    assert_eq!(
        sso,
        &json!({"name": "email", "in": "query", "required": true, "schema": {"type": "string"}, "description": "The email address to find the enabled SSO connectors."})
    );
    let social =
        &doc["paths"]["/v1/api/experience/verification/social/{connectorid}/verify"]["post"];
    assert_eq!(social["parameters"][0]["name"], "connectorid");
    assert_eq!(social["parameters"][0]["in"], "path");
    assert_eq!(social["requestBody"]["required"], true);
}

#[tokio::test]
async fn hop_by_hop_headers_of_the_upstream_answer_are_dropped() {
    let upstream = common::serve(axum::Router::new().route(
        "/api/experience/interaction",
        axum::routing::get(|| async {
            (
                [
                    ("keep-alive", "timeout=5"),
                    ("proxy-authenticate", "Basic"),
                    ("x-upstream", "kept"),
                ],
                axum::Json(json!({"interactionEvent": "SignIn"})),
            )
        }),
    ))
    .await;
    let adapter = logto_adapter(&upstream).await;
    let r = reqwest::get(format!("{adapter}/v1/api/experience/interaction"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-upstream"], "kept");
    assert!(r.headers().get("keep-alive").is_none(), "{:?}", r.headers());
    assert!(
        r.headers().get("proxy-authenticate").is_none(),
        "{:?}",
        r.headers()
    );
}

#[tokio::test]
async fn with_templates_fill_inputs_and_binds() {
    let server = MockServer::start().await;
    Mock::given(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let adapter = items_adapter(&server.uri(), RestConfig::default(), Duration::from_secs(5)).await;
    let r = reqwest::get(format!("{adapter}/v2/find/ship?term=ever%20given"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sent = server.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(sent.url.query(), Some("q=eu%2Fship%3Aever+given"));
}

#[tokio::test]
async fn nested_properties_and_items_reshape_the_answer() {
    let server = MockServer::start().await;
    Mock::given(path("/items/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"name": "anchor", "tags": [{"name": "heavy", "id": 1}, {"name": "steel", "id": 2}], "secret": "x"}
        })))
        .mount(&server)
        .await;
    let adapter = items_adapter(&server.uri(), RestConfig::default(), Duration::from_secs(5)).await;
    let r = reqwest::get(format!("{adapter}/v2/items/9/summary"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The consumed `$.data`, then the exposed shape.
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"title": "anchor", "kind": "item", "tags": [{"label": "heavy"}, {"label": "steel"}]})
    );
}

/// A handler of one's own that reads the answer `server::forward` gives:
/// it calls `forward` as the handler is called (inside the lean path's
/// call), and awaits it later. `put-item` maps nothing, so a generated
/// handler's answer would keep its head raw there.
struct ReadsHeaders {
    upstreams: items_rest::Upstreams,
}

impl items_rest::Handlers for ReadsHeaders {
    fn upstreams(&self) -> &items_rest::Upstreams {
        &self.upstreams
    }

    fn health(
        &self,
        _input: items_rest::HealthInput,
        _forwarded: http::HeaderMap,
    ) -> items_rest::HandlerFuture<'_> {
        Box::pin(async move { axum::Json(json!({"ok": true})).into_response() })
    }

    fn put_item(
        &self,
        input: items_rest::PutItemInput,
        forwarded: http::HeaderMap,
    ) -> items_rest::HandlerFuture<'_> {
        let core = self.upstreams.items_api.core();
        let call = core
            .prepare(
                &items_api::OP_PUT_ITEM,
                vec![input.item_id.into(), input.body.into()],
            )
            .unwrap();
        let answer = logto_client::server::forward(core, call, forwarded, None);
        Box::pin(async move {
            let mut resp = answer.await;
            let seen = resp.headers().get("x-upstream").cloned();
            let seen = seen.unwrap_or(http::HeaderValue::from_static("none"));
            resp.headers_mut().insert("x-seen", seen);
            resp
        })
    }
}

#[tokio::test]
async fn a_handler_of_ones_own_on_the_lean_path_reads_the_answers_headers() {
    let server = MockServer::start().await;
    Mock::given(path("/items/7"))
        .and(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-upstream", "yes")
                .set_body_string("stored"),
        )
        .mount(&server)
        .await;
    let client = items_client(&server.uri(), Duration::from_secs(5));
    let (router, lean) = items_rest::lean_router(
        ReadsHeaders {
            upstreams: items_rest::Upstreams { items_api: client },
        },
        RestConfig::default(),
    );
    let served = lean.clone();
    let adapter = common::serve_lean(router, lean).await;
    let resp = reqwest::Client::new()
        .put(format!("{adapter}/v2/items/7"))
        .json(&json!({"weight": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-upstream"], "yes");
    // Its own header, made from the upstream's: the answer's map was there.
    assert_eq!(resp.headers()["x-seen"], "yes");
    assert_eq!(resp.text().await.unwrap(), "stored");
    assert_eq!(served.map(|l| l.served()), Some(1), "not on the lean path");
    let sent = server.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(sent.url.path(), "/items/7");
    assert_eq!(
        sent.headers.get("authorization").unwrap(),
        format!("Bearer {TOKEN}").as_str()
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&sent.body).unwrap(),
        json!({"weight": 3})
    );
}
