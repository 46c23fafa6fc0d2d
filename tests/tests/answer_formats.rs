//! Answers in CSV, YAML, HTML and Markdown (`formats.yaml`) are converted to
//! JSON before the mappings, through the client and the REST adapter.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use logto_client::server::RestConfig;
use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

logto_client::naftiko_capability!("formats.yaml");

async fn upstream() -> MockServer {
    let server = MockServer::start().await;
    for (p, body, ct) in [
        (
            "/report.csv",
            "id,name\n1,Star\n2,\"Iron, Maiden\"\n",
            "text/csv",
        ),
        (
            "/config.yaml",
            "deploy:\n  region: eu-west\n  replicas: 3\n",
            "application/yaml",
        ),
        (
            "/products.html",
            "<table><tr><th>Skip</th></tr><tr><td>x</td></tr></table>\
             <table class=\"products\"><tr><th>Name</th><th>Price</th></tr>\
             <tr><td>Widget</td><td>$99</td></tr><tr><td>Gadget</td><td>$5</td></tr></table>",
            "text/html",
        ),
        (
            "/notes.md",
            "---\nversion: 2\n---\n# Release 2\nShips faster.\n\n# Other\nNot this.\n",
            "text/markdown",
        ),
    ] {
        Mock::given(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, ct))
            .mount(&server)
            .await;
    }
    server
}

/// The REST adapter in front of [`upstream`]; keep the server alive.
async fn adapter() -> (MockServer, String) {
    let server = upstream().await;
    let base = common::serve(formats_api::router(
        formats_api::Forwarder {
            upstreams: formats_api::Upstreams {
                formats: formats::Client::new(&server.uri()).unwrap(),
            },
        },
        RestConfig::default(),
    ))
    .await;
    (server, base)
}

#[tokio::test]
async fn the_client_converts_each_format() {
    let server = upstream().await;
    let c = formats::Client::new(&server.uri()).unwrap();
    assert_eq!(
        *c.csv_report().await.unwrap(),
        json!([{"id": "1", "name": "Star"}, {"id": "2", "name": "Iron, Maiden"}])
    );
    assert_eq!(
        *c.yaml_config().await.unwrap(),
        json!("eu-west"),
        "mapped after conversion"
    );
    assert_eq!(
        *c.html_products().await.unwrap(),
        json!({"tables": [[{"Name": "Widget", "Price": "$99"}, {"Name": "Gadget", "Price": "$5"}]]}),
        "only the tables `outputSchema` selects"
    );
    assert_eq!(
        *c.markdown_notes().await.unwrap(),
        json!({
            "frontMatter": {"version": 2},
            "tables": [],
            "sections": [{"heading": "Release 2", "level": 1, "content": "Ships faster."}]
        })
    );
}

#[tokio::test]
async fn the_rest_adapter_maps_converted_answers() {
    let (_server, base) = adapter().await;
    let r = reqwest::get(format!("{base}/products")).await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!([{"name": "Widget"}, {"name": "Gadget"}])
    );
}

#[tokio::test]
async fn operations_sharing_a_name_get_distinct_methods() {
    let (_server, base) = adapter().await;
    // Three operations named `products`: the first keeps the name, the one
    // on another route gets the route, the one on the same route the method.
    let _: fn(formats_api::ProductsInput) = |_| {};
    let _: fn(formats_api::ProductsProductsCheapInput) = |_| {};
    let _: fn(formats_api::ProductsPostInput) = |_| {};
    let cheap = reqwest::get(format!("{base}/products/cheap"))
        .await
        .unwrap();
    assert_eq!(cheap.json::<Value>().await.unwrap()[0]["name"], "Star");
    let post = reqwest::Client::new()
        .post(format!("{base}/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.json::<Value>().await.unwrap(), json!("eu-west"));
    let doc: Value = reqwest::get(format!("{base}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = ["/products", "/products/cheap"]
        .iter()
        .flat_map(|p| doc["paths"][*p].as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ["products", "products_products_cheap", "products_post"]
            .iter()
            .all(|i| ids.contains(i)),
        "{ids:?}"
    );
}

#[tokio::test]
#[allow(deprecated)] // `to_avro_datum`: the plainest way to write one datum
async fn avro_datums_and_container_files_are_decoded() {
    use apache_avro::types::Value as Avro;
    let schema = apache_avro::Schema::parse_str(
        &std::fs::read_to_string("capabilities/schemas/records.avsc").unwrap(),
    )
    .unwrap();
    let rec = |id: &str, title: &str| {
        Avro::Record(vec![
            ("id".into(), Avro::String(id.into())),
            ("title".into(), Avro::String(title.into())),
        ])
    };
    let page = Avro::Record(vec![(
        "records".into(),
        Avro::Array(vec![rec("1", "Hull"), rec("2", "Sails")]),
    )]);
    let datum = apache_avro::to_avro_datum(&schema, page.clone()).unwrap();
    let mut file = apache_avro::Writer::new(&schema, Vec::new()).unwrap();
    file.append(page).unwrap();
    let file = file.into_inner().unwrap();

    let server = MockServer::start().await;
    Mock::given(path("/records.avro"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(datum, "application/avro"))
        .mount(&server)
        .await;
    Mock::given(path("/archive.avro"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(file, "application/avro"))
        .mount(&server)
        .await;
    let c = formats::Client::new(&server.uri()).unwrap();
    assert_eq!(
        *c.avro_records().await.unwrap(),
        json!(["Hull", "Sails"]),
        "decoded with the `outputSchema` file, then mapped"
    );
    assert_eq!(
        *c.avro_archive().await.unwrap(),
        json!([{"records": [{"id": "1", "title": "Hull"}, {"id": "2", "title": "Sails"}]}]),
        "a container file carries its schema"
    );
}

#[tokio::test]
async fn protobuf_messages_are_decoded_with_their_proto_file() {
    // fleet.Ship{imo: "IMO-1", tonnage: 150, crew_ids: ["C1", "C3"]}, encoded by hand.
    let mut body = vec![0x0a, 5];
    body.extend(b"IMO-1");
    body.extend([0x10, 0x96, 0x01, 0x1a, 2]);
    body.extend(b"C1");
    body.extend([0x1a, 2]);
    body.extend(b"C3");
    let server = MockServer::start().await;
    Mock::given(path("/ship.pb"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/x-protobuf"))
        .mount(&server)
        .await;
    let c = formats::Client::new(&server.uri()).unwrap();
    assert_eq!(
        *c.protobuf_ship().await.unwrap(),
        json!({"imo": "IMO-1", "tonnage": 150, "crew_ids": ["C1", "C3"]}),
        "the file's first message, fields under their .proto names"
    );
}
