//! Every one of the 36 Logto operations, through the generated client,
//! reaches the upstream with the exact method, path, query, headers and body.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use logto_client::logto_experience::Client;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Expected {
    operation: &'static str,
    method: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    body: Option<Value>,
}

type Answer =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, logto_client::Error>>>>;

fn boxed(
    f: impl std::future::Future<Output = Result<Value, logto_client::Error>> + 'static,
) -> Answer {
    Box::pin(f)
}

macro_rules! case {
    ($op:literal, $method:literal, $path:literal, $query:expr, $body:expr, |$c:ident| $call:expr) => {
        (
            Expected {
                operation: $op,
                method: $method,
                path: $path,
                query: $query,
                body: $body,
            },
            Box::new(|$c: Client| boxed(async move { $call.await.map(|r| r.into_inner()) }))
                as Box<dyn Fn(Client) -> Answer>,
        )
    };
}

#[tokio::test]
async fn all_36_operations_send_exactly_what_the_spec_says() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .bind("LOGTO_API_KEY", "test-api-key")
        .build()
        .unwrap();
    let cases = vec![
        case!(
            "initinteraction",
            "PUT",
            "/api/experience",
            None,
            Some(json!({"op": "initinteraction", "n": 0})),
            |c| c.initinteraction(&json!({"op": "initinteraction", "n": 0}))
        ),
        case!(
            "identifyuser",
            "POST",
            "/api/experience/identification",
            None,
            Some(json!({"op": "identifyuser", "n": 1})),
            |c| c.identifyuser(&json!({"op": "identifyuser", "n": 1}))
        ),
        case!(
            "getinteraction",
            "GET",
            "/api/experience/interaction",
            None,
            None,
            |c| c.getinteraction()
        ),
        case!(
            "updateinteractionevent",
            "PUT",
            "/api/experience/interaction-event",
            None,
            Some(json!({"op": "updateinteractionevent", "n": 3})),
            |c| c.updateinteractionevent(&json!({"op": "updateinteractionevent", "n": 3}))
        ),
        case!(
            "createsigninpasskeyauthentication",
            "POST",
            "/api/experience/preflight/sign-in-passkey/authentication",
            None,
            None,
            |c| c.createsigninpasskeyauthentication()
        ),
        case!(
            "adduserprofile",
            "POST",
            "/api/experience/profile",
            None,
            Some(json!({"op": "adduserprofile", "n": 5})),
            |c| c.adduserprofile(&json!({"op": "adduserprofile", "n": 5}))
        ),
        case!(
            "bindmfaverification",
            "POST",
            "/api/experience/profile/mfa",
            None,
            Some(json!({"op": "bindmfaverification", "n": 6})),
            |c| c.bindmfaverification(&json!({"op": "bindmfaverification", "n": 6}))
        ),
        case!(
            "markmfaenabled",
            "POST",
            "/api/experience/profile/mfa/mfa-enabled",
            None,
            None,
            |c| c.markmfaenabled()
        ),
        case!(
            "skipmfabindingflow",
            "POST",
            "/api/experience/profile/mfa/mfa-skipped",
            None,
            None,
            |c| c.skipmfabindingflow()
        ),
        case!(
            "skipmfasuggestion",
            "POST",
            "/api/experience/profile/mfa/mfa-suggestion-skipped",
            None,
            None,
            |c| c.skipmfasuggestion()
        ),
        case!(
            "bindpasskey",
            "POST",
            "/api/experience/profile/mfa/passkey",
            None,
            Some(json!({"op": "bindpasskey", "n": 10})),
            |c| c.bindpasskey(&json!({"op": "bindpasskey", "n": 10}))
        ),
        case!(
            "skippasskeybinding",
            "POST",
            "/api/experience/profile/mfa/passkey-skipped",
            None,
            None,
            |c| c.skippasskeybinding()
        ),
        case!(
            "resetuserpassword",
            "PUT",
            "/api/experience/profile/password",
            None,
            Some(json!({"op": "resetuserpassword", "n": 12})),
            |c| c.resetuserpassword(&json!({"op": "resetuserpassword", "n": 12}))
        ),
        case!(
            "getenabledssoconnectors",
            "GET",
            "/api/experience/sso-connectors",
            Some("email=ada%40example.com"),
            None,
            |c| c.getenabledssoconnectors("ada@example.com")
        ),
        case!(
            "submitinteraction",
            "POST",
            "/api/experience/submit",
            None,
            None,
            |c| c.submitinteraction()
        ),
        case!(
            "generatebackupcodes",
            "POST",
            "/api/experience/verification/backup-code/generate",
            None,
            None,
            |c| c.generatebackupcodes()
        ),
        case!(
            "verifybackupcode",
            "POST",
            "/api/experience/verification/backup-code/verify",
            None,
            Some(json!({"op": "verifybackupcode", "n": 16})),
            |c| c.verifybackupcode(&json!({"op": "verifybackupcode", "n": 16}))
        ),
        case!(
            "createandsendmfaverificationcode",
            "POST",
            "/api/experience/verification/mfa-verification-code",
            None,
            Some(json!({"op": "createandsendmfaverificationcode", "n": 17})),
            |c| c.createandsendmfaverificationcode(
                &json!({"op": "createandsendmfaverificationcode", "n": 17})
            )
        ),
        case!(
            "verifymfaverificationcode",
            "POST",
            "/api/experience/verification/mfa-verification-code/verify",
            None,
            Some(json!({"op": "verifymfaverificationcode", "n": 18})),
            |c| c.verifymfaverificationcode(&json!({"op": "verifymfaverificationcode", "n": 18}))
        ),
        case!(
            "createnewpasswordidentityverification",
            "POST",
            "/api/experience/verification/new-password-identity",
            None,
            Some(json!({"op": "createnewpasswordidentityverification", "n": 19})),
            |c| c.createnewpasswordidentityverification(
                &json!({"op": "createnewpasswordidentityverification", "n": 19})
            )
        ),
        case!(
            "verifyonetimetokenverification",
            "POST",
            "/api/experience/verification/one-time-token/verify",
            None,
            Some(json!({"op": "verifyonetimetokenverification", "n": 20})),
            |c| c.verifyonetimetokenverification(
                &json!({"op": "verifyonetimetokenverification", "n": 20})
            )
        ),
        case!(
            "createpasswordverification",
            "POST",
            "/api/experience/verification/password",
            None,
            Some(json!({"op": "createpasswordverification", "n": 21})),
            |c| c.createpasswordverification(&json!({"op": "createpasswordverification", "n": 21}))
        ),
        case!(
            "createsigninpasskeyauthenticationwithidentifier",
            "POST",
            "/api/experience/verification/sign-in-passkey/authentication",
            None,
            Some(json!({"op": "createsigninpasskeyauthenticationwithidentifier", "n": 22})),
            |c| c.createsigninpasskeyauthenticationwithidentifier(
                &json!({"op": "createsigninpasskeyauthenticationwithidentifier", "n": 22})
            )
        ),
        case!(
            "verifysigninpasskeyauthentication",
            "POST",
            "/api/experience/verification/sign-in-passkey/authentication/verify",
            None,
            Some(json!({"op": "verifysigninpasskeyauthentication", "n": 23})),
            |c| c.verifysigninpasskeyauthentication(
                &json!({"op": "verifysigninpasskeyauthentication", "n": 23})
            )
        ),
        case!(
            "createsocialverification",
            "POST",
            "/api/experience/verification/social/github-connector/authorization-uri",
            None,
            Some(json!({"op": "createsocialverification", "n": 24})),
            |c| c.createsocialverification(
                "github-connector",
                &json!({"op": "createsocialverification", "n": 24})
            )
        ),
        case!(
            "verifysocialverification",
            "POST",
            "/api/experience/verification/social/github-connector/verify",
            None,
            Some(json!({"op": "verifysocialverification", "n": 25})),
            |c| c.verifysocialverification(
                "github-connector",
                &json!({"op": "verifysocialverification", "n": 25})
            )
        ),
        case!(
            "createenterprisessoverification",
            "POST",
            "/api/experience/verification/sso/github-connector/authorization-uri",
            None,
            Some(json!({"op": "createenterprisessoverification", "n": 26})),
            |c| c.createenterprisessoverification(
                "github-connector",
                &json!({"op": "createenterprisessoverification", "n": 26})
            )
        ),
        case!(
            "verifyenterprisessoverification",
            "POST",
            "/api/experience/verification/sso/github-connector/verify",
            None,
            Some(json!({"op": "verifyenterprisessoverification", "n": 27})),
            |c| c.verifyenterprisessoverification(
                "github-connector",
                &json!({"op": "verifyenterprisessoverification", "n": 27})
            )
        ),
        case!(
            "createtotpsecret",
            "POST",
            "/api/experience/verification/totp/secret",
            None,
            None,
            |c| c.createtotpsecret()
        ),
        case!(
            "verifytotpverification",
            "POST",
            "/api/experience/verification/totp/verify",
            None,
            Some(json!({"op": "verifytotpverification", "n": 29})),
            |c| c.verifytotpverification(&json!({"op": "verifytotpverification", "n": 29}))
        ),
        case!(
            "createandsendverificationcode",
            "POST",
            "/api/experience/verification/verification-code",
            None,
            Some(json!({"op": "createandsendverificationcode", "n": 30})),
            |c| c.createandsendverificationcode(
                &json!({"op": "createandsendverificationcode", "n": 30})
            )
        ),
        case!(
            "verifyverificationcodeverification",
            "POST",
            "/api/experience/verification/verification-code/verify",
            None,
            Some(json!({"op": "verifyverificationcodeverification", "n": 31})),
            |c| c.verifyverificationcodeverification(
                &json!({"op": "verifyverificationcodeverification", "n": 31})
            )
        ),
        case!(
            "createwebauthnauthenticationverification",
            "POST",
            "/api/experience/verification/web-authn/authentication",
            None,
            None,
            |c| c.createwebauthnauthenticationverification()
        ),
        case!(
            "verifywebauthnauthenticationverification",
            "POST",
            "/api/experience/verification/web-authn/authentication/verify",
            None,
            Some(json!({"op": "verifywebauthnauthenticationverification", "n": 33})),
            |c| c.verifywebauthnauthenticationverification(
                &json!({"op": "verifywebauthnauthenticationverification", "n": 33})
            )
        ),
        case!(
            "createwebauthnregistrationverification",
            "POST",
            "/api/experience/verification/web-authn/registration",
            None,
            None,
            |c| c.createwebauthnregistrationverification()
        ),
        case!(
            "verifywebauthnregistrationverification",
            "POST",
            "/api/experience/verification/web-authn/registration/verify",
            None,
            Some(json!({"op": "verifywebauthnregistrationverification", "n": 35})),
            |c| c.verifywebauthnregistrationverification(
                &json!({"op": "verifywebauthnregistrationverification", "n": 35})
            )
        ),
    ];
    assert_eq!(cases.len(), 36);
    assert_eq!(logto_client::logto_experience::OPERATIONS.len(), 36);
    for (i, (expected, call)) in cases.into_iter().enumerate() {
        let answer = call(client.clone())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", expected.operation));
        assert_eq!(answer, json!({"ok": true}), "{}", expected.operation);
        let received = server.received_requests().await.unwrap();
        assert_eq!(
            received.len(),
            i + 1,
            "{}: one request per call",
            expected.operation
        );
        let req = received.last().unwrap();
        let op = expected.operation;
        assert_eq!(req.method.as_str(), expected.method, "{op}: method");
        assert_eq!(req.url.path(), expected.path, "{op}: path");
        assert_eq!(req.url.query(), expected.query, "{op}: query");
        assert_eq!(
            req.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer test-api-key"),
            "{op}: bearer auth from the bind"
        );
        match expected.body {
            Some(body) => {
                assert_eq!(
                    req.headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok()),
                    Some("application/json"),
                    "{op}: content type"
                );
                assert_eq!(
                    serde_json::from_slice::<Value>(&req.body).unwrap(),
                    body,
                    "{op}: body"
                );
            }
            None => {
                assert!(req.body.is_empty(), "{op}: no body expected");
                assert!(
                    req.headers.get("content-type").is_none(),
                    "{op}: no content type without a body"
                );
            }
        }
    }
}
