//! MCP resources and prompts (`mcp-catalog.yaml`), through rmcp's client:
//! lists, reads (static, templates, files) against a recording upstream,
//! prompts with their arguments, and the errors of unknown names.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

mod common;

use logto_client::mcp::McpHttpConfig;
use rmcp::ServiceExt;
use rmcp::model::{GetPromptRequestParams, ReadResourceRequestParams, ResourceContents, Role};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

logto_client::naftiko_capability!("mcp-catalog.yaml");

async fn connect(server: &MockServer) -> RunningService<RoleClient, ()> {
    let upstreams = catalog_mcp::Upstreams {
        mock_api: mock_api::Client::new(&format!("{}/v1", server.uri())).unwrap(),
    };
    let url = format!(
        "{}/mcp",
        common::serve(catalog_mcp::router(upstreams, &McpHttpConfig::default()).unwrap()).await
    );
    ().serve(StreamableHttpClientTransport::from_uri(url))
        .await
        .unwrap()
}

fn text(c: &ResourceContents) -> (&str, Option<&str>) {
    match c {
        ResourceContents::TextResourceContents {
            text, mime_type, ..
        } => (text.as_str(), mime_type.as_deref()),
        other => panic!("not text: {other:?}"),
    }
}

#[tokio::test]
async fn resources_are_listed_and_read_through_their_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/databases/42/query"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"results": [{"id": "u-42"}]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/databases/test-db-id-123/query"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"columns": ["id", "name"]})))
        .mount(&server)
        .await;
    let client = connect(&server).await;
    let info = client.peer_info().unwrap();
    assert!(info.capabilities.resources.is_some() && info.capabilities.prompts.is_some());

    let listed = client.list_resources(None).await.unwrap().resources;
    let uris: Vec<&str> = listed.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(
        uris,
        ["data://databases/pre-release/schema", "file:///guide"],
        "templates are not listed as resources"
    );
    assert_eq!(listed[0].title.as_deref(), Some("Database Schema"));
    assert_eq!(listed[0].mime_type.as_deref(), Some("application/json"));
    let templates = client
        .list_resource_templates(None)
        .await
        .unwrap()
        .resource_templates;
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].uri_template, "data://users/{userId}/profile");

    let schema = client
        .read_resource(ReadResourceRequestParams::new(
            "data://databases/pre-release/schema",
        ))
        .await
        .unwrap();
    assert_eq!(
        text(&schema.contents[0]),
        (r#"{"columns":["id","name"]}"#, Some("application/json"))
    );
    let profile = client
        .read_resource(ReadResourceRequestParams::new("data://users/42/profile"))
        .await
        .unwrap();
    assert_eq!(
        text(&profile.contents[0]).0,
        r#"{"results":[{"id":"u-42"}]}"#
    );
    let sent = server.received_requests().await.unwrap();
    assert_eq!(
        sent.iter().map(|r| r.url.path()).collect::<Vec<_>>(),
        [
            "/v1/databases/test-db-id-123/query",
            "/v1/databases/42/query"
        ],
        "the template variable filled `{{userId}}`"
    );
    assert_eq!(sent[1].body, b"{\"filter\": \"Committed\"}\n");

    let guide = client
        .read_resource(ReadResourceRequestParams::new("file:///guide"))
        .await
        .unwrap();
    assert_eq!(
        text(&guide.contents[0]),
        ("Review {{topic}} carefully.\n", Some("text/markdown"))
    );

    for unknown in ["data://users/4/2/profile", "data://nothing"] {
        let e = client
            .read_resource(ReadResourceRequestParams::new(unknown))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains(unknown) && e.contains("-32602"), "{e}");
    }
}

#[tokio::test]
async fn prompts_are_listed_and_filled_once() {
    let server = MockServer::start().await;
    let client = connect(&server).await;
    let prompts = client.list_prompts(None).await.unwrap().prompts;
    assert_eq!(
        prompts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["participant-outreach", "summary", "review"]
    );
    let summary = &prompts[1];
    assert_eq!(summary.title.as_deref(), Some("Summary"));
    let args = summary.arguments.as_ref().unwrap();
    assert_eq!(
        args.iter()
            .map(|a| (a.name.as_str(), a.required))
            .collect::<Vec<_>>(),
        [("data", Some(true)), ("format", Some(false))],
        "arguments are required unless they say otherwise"
    );

    let got = client
        .get_prompt(
            GetPromptRequestParams::new("summary").with_arguments(
                json!({"data": "{{format}} rows"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    let texts: Vec<(Role, String)> = got
        .messages
        .iter()
        .map(|m| (m.role.clone(), m.content.as_text().unwrap().text.clone()))
        .collect();
    assert_eq!(
        texts,
        [
            (
                Role::User,
                "Summarize in {{format}} format: {{format}} rows".to_owned()
            ),
            (Role::Assistant, "I will.".to_owned())
        ],
        "an unknown placeholder stays; an argument is not filled again"
    );
    let review = client
        .get_prompt(
            GetPromptRequestParams::new("review")
                .with_arguments(json!({"topic": "the hull"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        review.messages[0].content.as_text().unwrap().text,
        "Review the hull carefully.\n"
    );

    let missing = client
        .get_prompt(GetPromptRequestParams::new("participant-outreach"))
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("participant_name"), "{missing}");
    let unknown = client
        .get_prompt(GetPromptRequestParams::new("nope"))
        .await
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("nope"), "{unknown}");
}
