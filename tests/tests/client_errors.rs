//! The generated client's edges: path-segment injection, missing bind, bad
//! base URL, 4xx/5xx answers, connection refused, timeout, non-JSON and
//! empty bodies, header injection; and the token never shows in an error.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use std::time::Duration;

use logto_client::Error;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

logto_client::naftiko_capability!("errors-api.yaml");

const TOKEN: &str = "s3cr3t-token-value";

async fn client(server: &MockServer) -> errors_api::Client {
    errors_api::Client::builder()
        .base_url(format!("{}/base", server.uri()))
        .bind("SECRET_TOKEN", TOKEN)
        .build()
        .unwrap()
}

/// Every error's Display and Debug, checked for the token.
fn assert_no_secret(e: &Error) {
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(TOKEN), "the token leaked into: {shown}");
}

#[tokio::test]
async fn path_values_stay_one_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let c = client(&server).await;
    for (value, sent) in [
        ("../x", "/base/items/..%2Fx"),
        ("a/b", "/base/items/a%2Fb"),
        ("a?b#c", "/base/items/a%3Fb%23c"),
        ("%2F", "/base/items/%252F"),
    ] {
        c.get_item(value, None, None).await.unwrap();
        let last = server.received_requests().await.unwrap().pop().unwrap();
        assert_eq!(last.url.path(), sent, "value {value:?}");
        assert_eq!(last.url.query(), None);
    }
    for bad in ["..", ".", ""] {
        let err = c.get_item(bad, None, None).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest { .. }),
            "{bad:?}: {err:?}"
        );
        assert!(err.to_string().contains("path parameter `id`"), "{err}");
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        4,
        "refused values never leave the client"
    );
}

#[tokio::test]
async fn query_header_auth_and_mapping() {
    let server = MockServer::start().await;
    Mock::given(path("/base/items/7"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"item": {"name": "Ever Given", "imo": 9811000}})),
        )
        .mount(&server)
        .await;
    let c = client(&server).await;
    let name = c.get_item("7", Some(true), Some("note")).await.unwrap();
    assert_eq!(
        *name,
        json!("Ever Given"),
        "output mapping $.item.name applied"
    );
    let req = server.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(req.url.query(), Some("verbose=true"));
    assert_eq!(req.headers.get("x-request-note").unwrap(), "note");
    assert_eq!(
        req.headers.get("authorization").unwrap(),
        &format!("Bearer {TOKEN}")
    );
}

#[tokio::test]
async fn header_values_with_newlines_are_refused() {
    let server = MockServer::start().await;
    let c = client(&server).await;
    let err = c
        .get_item("1", None, Some("a\r\nX-Injected: yes"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("X-Request-Note"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn missing_bind_and_bad_urls_fail_at_build() {
    let err = errors_api::Client::builder()
        .base_url("http://127.0.0.1:1")
        .build()
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("SECRET_TOKEN") && msg.contains("NAFTIKO_TEST_TOKEN_NEVER_SET"),
        "{msg}"
    );
    assert!(
        msg.contains("errors-api.yaml"),
        "names the spec line that uses it: {msg}"
    );

    let err = errors_api::Client::builder()
        .bind("SECRET_TOKEN", TOKEN)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains(".host("), "{err}");

    let c = errors_api::Client::builder()
        .host("127.0.0.1:8")
        .bind("SECRET_TOKEN", TOKEN)
        .build()
        .unwrap();
    assert_eq!(c.base_url(), "http://127.0.0.1:8/base", "[host] filled in");

    let err = errors_api::Client::builder()
        .base_url("not a url")
        .bind("SECRET_TOKEN", TOKEN)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("`not a url`"), "{err}");
    let err = errors_api::Client::builder()
        .base_url("ftp://example.com")
        .bind("SECRET_TOKEN", TOKEN)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("http(s)"), "{err}");
    assert_no_secret(&err);
}

/// Host names outside ASCII are mapped (UTS 46) and punycoded, as a browser
/// would: the workspace pins idna's unicode-rs back end instead of ICU4X
/// (issue 9), and its stub back end (idna_adapter 1.0) would refuse them.
#[tokio::test]
async fn international_host_names_are_punycoded() {
    for (base, host) in [
        (
            "http://Bücher.EXAMPLE:8080/base",
            "xn--bcher-kva.example:8080",
        ),
        (
            "http://ＡＢＣ.例え.テスト/base",
            "abc.xn--r8jz45g.xn--zckzah",
        ),
    ] {
        let c = errors_api::Client::builder()
            .base_url(base)
            .bind("SECRET_TOKEN", TOKEN)
            .build()
            .unwrap();
        assert_eq!(c.core().host(), host, "{base}");
    }
}

#[tokio::test]
async fn upstream_4xx_and_5xx_are_response_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/base/items/404"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": "entity.not_found", "message": "gone"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/base/items/503"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "1")
                .set_body_string("maintenance"),
        )
        .mount(&server)
        .await;
    let c = client(&server).await;
    let e404 = c.get_item("404", None, None).await.unwrap_err();
    assert_eq!(e404.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(
        e404.json(),
        Some(json!({"code": "entity.not_found", "message": "gone"}))
    );
    assert!(
        e404.to_string().contains("404") && e404.to_string().contains("entity.not_found"),
        "{e404}"
    );
    let e503 = c.get_item("503", None, None).await.unwrap_err();
    assert_eq!(e503.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(e503.body().map(|b| b.as_ref()), Some(&b"maintenance"[..]));
    assert_eq!(e503.headers().unwrap().get("retry-after").unwrap(), "1");
    assert_eq!(e503.json(), None);
    assert_no_secret(&e404);
    assert_no_secret(&e503);
}

#[tokio::test]
async fn connection_refused_and_timeout() {
    let port = common::closed_port();
    let c = errors_api::Client::builder()
        .host(format!("127.0.0.1:{port}"))
        .bind("SECRET_TOKEN", TOKEN)
        .build()
        .unwrap();
    let refused = c.get_raw().await.unwrap_err();
    assert!(refused.is_connect() && !refused.is_timeout(), "{refused:?}");
    assert!(
        refused.to_string().contains(&format!("127.0.0.1:{port}")),
        "names the upstream host: {refused}"
    );
    assert_no_secret(&refused);

    let server = MockServer::start().await;
    Mock::given(path("/base/raw"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let slow = errors_api::Client::builder()
        .base_url(format!("{}/base", server.uri()))
        .bind("SECRET_TOKEN", TOKEN)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let timeout = slow.get_raw().await.unwrap_err();
    assert!(timeout.is_timeout(), "{timeout:?}");
    assert!(timeout.to_string().contains("timed out"), "{timeout}");
    assert_no_secret(&timeout);
}

#[tokio::test]
async fn api_key_in_query_never_shows_in_errors() {
    let port = common::closed_port();
    let c = keyed_api::Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .bind("SECRET_TOKEN", TOKEN)
        .build()
        .unwrap();
    let err = c.list_things().await.unwrap_err();
    assert_no_secret(&err);
    assert!(
        !format!("{c:?}").contains(TOKEN),
        "client Debug leaks the key"
    );
}

#[tokio::test]
async fn a_bound_variable_in_the_base_uri_never_shows() {
    // Bound into the base URL's path: Debug shows the base URI as the spec
    // writes it; the error (nothing listens on port 9) names the host only.
    let c = tenant_api::Client::builder()
        .bind("SECRET_TOKEN", TOKEN)
        .build()
        .unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("/tenant/{{env.SECRET_TOKEN}}"), "{shown}");
    let err = c.list_tenant_things().await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_no_secret(&err);
}

#[test]
fn a_bound_variable_in_the_base_host_never_shows() {
    // Messages (errors, MCP tool results) name the upstream host: as the
    // spec writes it when a bound value is in it.
    let c = bound_host_api::Client::builder()
        .bind("SECRET_TOKEN", TOKEN)
        .build()
        .unwrap();
    assert_eq!(c.core().host(), "{{env.SECRET_TOKEN}}.upstream.test:9");
    assert!(!format!("{c:?}").contains(TOKEN));
    // A value no URL can hold: the error shows the template, not the value.
    let err = bound_host_api::Client::builder()
        .bind("SECRET_TOKEN", format!("{TOKEN} and more"))
        .build()
        .unwrap_err();
    assert_no_secret(&err);
    assert!(err.to_string().contains("{{env.SECRET_TOKEN}}"), "{err}");
}

#[tokio::test]
async fn client_debug_never_shows_the_token() {
    let server = MockServer::start().await;
    let c = client(&server).await;
    let shown = format!("{c:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[tokio::test]
async fn non_json_empty_and_broken_bodies() {
    let server = MockServer::start().await;
    Mock::given(path("/base/raw"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("content-type", "text/plain")
                .set_body_string("Created"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/base/raw"))
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/base/raw"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{not json", "application/json"))
        .mount(&server)
        .await;
    let c = client(&server).await;
    let text = c.get_raw().await.unwrap();
    assert_eq!(
        (text.status().as_u16(), text.into_inner()),
        (201, Value::String("Created".into()))
    );
    let empty = c.get_raw().await.unwrap();
    assert_eq!(
        (empty.status().as_u16(), empty.into_inner()),
        (204, Value::Null)
    );
    let broken = c.get_raw().await.unwrap_err();
    assert!(
        matches!(broken, Error::InvalidResponse { .. }),
        "{broken:?}"
    );
    assert_eq!(broken.status().map(|s| s.as_u16()), Some(200));
}
