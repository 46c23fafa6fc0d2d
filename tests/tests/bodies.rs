//! Request bodies by `body.type` (`bodies.yaml`): the exact bytes and
//! content type that reach the upstream.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

logto_client::naftiko_capability!("bodies.yaml");

async fn upstream() -> (MockServer, bodies::Client) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = bodies::Client::new(&server.uri()).unwrap();
    (server, client)
}

async fn last(server: &MockServer) -> (String, String) {
    let r = server.received_requests().await.unwrap().pop().unwrap();
    (
        r.headers["content-type"].to_str().unwrap().to_owned(),
        String::from_utf8(r.body).unwrap(),
    )
}

#[tokio::test]
async fn forms_are_url_encoded_and_leave_out_missing_fields() {
    let (server, client) = upstream().await;
    client
        .send_message(Some("+1 555 & co"), None, Some("Ann"))
        .await
        .unwrap();
    assert_eq!(
        last(&server).await,
        (
            "application/x-www-form-urlencoded".to_owned(),
            "To=%2B1+555+%26+co&Body=Hi+Ann".to_owned()
        ),
        "`{{tools.to}}` names the input `to`; `From` was not given"
    );
}

#[tokio::test]
async fn multipart_parts_carry_names_files_and_types() {
    let (server, client) = upstream().await;
    client
        .upload(Some("Log"), Some("line 1\nline 2"))
        .await
        .unwrap();
    let (ct, body) = last(&server).await;
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
    assert_eq!(
        body,
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nLog\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\
             Content-Type: text/plain\r\n\r\nline 1\nline 2\r\n--{boundary}--\r\n"
        )
    );
}

#[tokio::test]
async fn text_and_xml_templates_are_sent_as_their_type() {
    let (server, client) = upstream().await;
    client.add_note(Some("check <hull>")).await.unwrap();
    assert_eq!(
        last(&server).await,
        ("text/plain".to_owned(), "Note: check <hull>".to_owned())
    );
    client.add_xml(Some("sails")).await.unwrap();
    assert_eq!(
        last(&server).await,
        (
            "application/xml".to_owned(),
            "<note><text>sails</text></note>".to_owned()
        )
    );
}
