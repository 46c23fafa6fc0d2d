//! An in-process Logto Experience API that behaves like the real one
//! (shared `docs/LOGTO.md`): the signed `_interaction` cookie pair, a prior
//! `PUT /api/experience`, 204s, `201 Created` as text, JSON errors.
//!
//! It backs `logto-experience --dev` and the tests. It is a development
//! upstream, not Logto: one demo user, no connectors, no real crypto.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

/// The demo user's username.
pub const DEMO_USERNAME: &str = "demo";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "demo-password";
/// The application id `/oidc/auth` accepts.
pub const DEMO_CLIENT_ID: &str = "demo-app";

/// One interaction, keyed by the uid in the `_interaction` cookie.
#[derive(Debug, Default, Clone)]
struct Interaction {
    /// Set by `PUT /api/experience`.
    event: Option<String>,
    /// verificationId → username, for verified password verifications.
    verifications: HashMap<String, String>,
    /// The identified user.
    identified: Option<String>,
}

#[derive(Debug, Default)]
struct Store {
    /// uid → interaction; present once `/oidc/auth` issued the cookie.
    sessions: HashMap<String, Interaction>,
    next_id: u64,
}

/// The shared state of one dev upstream.
#[derive(Debug, Clone, Default)]
pub struct DevLogto {
    store: Arc<Mutex<Store>>,
    /// Every request that reached the API, for tests: method, path and query.
    log: Arc<Mutex<Vec<String>>>,
}

impl DevLogto {
    /// A new, empty upstream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The requests received so far (`METHOD /path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The axum router of the Experience API and `/oidc/auth`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/oidc/auth", get(oidc_auth))
            .route("/oidc/auth/{uid}", get(oidc_resume))
            .route("/api/experience", put(init_interaction))
            .route("/api/experience/interaction", get(get_interaction))
            .route("/api/experience/interaction-event", put(update_event))
            .route("/api/experience/identification", post(identify))
            .route("/api/experience/submit", post(submit))
            .route("/api/experience/sso-connectors", get(sso_connectors))
            .route(
                "/api/experience/verification/password",
                post(password_verification),
            )
            .route(
                "/api/experience/preflight/sign-in-passkey/authentication",
                post(preflight_passkey),
            )
            .route("/api/experience/profile", post(no_content))
            .route("/api/experience/profile/password", put(no_content))
            .route("/api/experience/profile/mfa", post(no_content))
            .route("/api/experience/profile/mfa/mfa-enabled", post(no_content))
            .route("/api/experience/profile/mfa/mfa-skipped", post(no_content))
            .route(
                "/api/experience/profile/mfa/mfa-suggestion-skipped",
                post(no_content),
            )
            .route(
                "/api/experience/profile/mfa/passkey-skipped",
                post(no_content),
            )
            .route("/api/experience/profile/mfa/passkey", post(no_content))
            .route(
                "/api/experience/verification/social/{id}/authorization-uri",
                post(connector),
            )
            .route(
                "/api/experience/verification/social/{id}/verify",
                post(connector),
            )
            .route(
                "/api/experience/verification/sso/{id}/authorization-uri",
                post(connector),
            )
            .route(
                "/api/experience/verification/sso/{id}/verify",
                post(connector),
            )
            .route(
                "/api/experience/verification/verification-code",
                post(no_connector),
            )
            .route(
                "/api/experience/verification/verification-code/verify",
                post(no_connector),
            )
            .route(
                "/api/experience/verification/mfa-verification-code",
                post(no_connector),
            )
            .route(
                "/api/experience/verification/mfa-verification-code/verify",
                post(no_connector),
            )
            .route("/api/experience/{*rest}", post(other_verification))
            .with_state(self.clone())
    }

    fn record(&self, method: &Method, path: &str, query: Option<&str>) {
        if let Ok(mut log) = self.log.lock() {
            match query {
                Some(q) => log.push(format!("{method} {path}?{q}")),
                None => log.push(format!("{method} {path}")),
            }
        }
    }

    /// The uid of a valid cookie pair, or Logto's `session.not_found` answer.
    fn session(&self, headers: &HeaderMap) -> Result<String, Response> {
        let cookies = cookies(headers);
        let (Some(raw), Some(sig)) = (cookies.get("_interaction"), cookies.get("_interaction.sig"))
        else {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "session.not_found",
                "Session not found.",
            ));
        };
        if *sig != sign(raw) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "session.not_found",
                "Session not found.",
            ));
        }
        let uid = serde_json::from_str::<Value>(raw)
            .ok()
            .and_then(|v| v.get("_legacy").and_then(Value::as_str).map(str::to_owned));
        let known = uid
            .as_ref()
            .is_some_and(|u| self.store.lock().is_ok_and(|s| s.sessions.contains_key(u)));
        match uid {
            Some(u) if known => Ok(u),
            _ => Err(error(
                StatusCode::BAD_REQUEST,
                "session.not_found",
                "Session not found.",
            )),
        }
    }

    /// The session's interaction, or `session.interaction_not_found` before a
    /// `PUT /api/experience`.
    fn interaction(&self, headers: &HeaderMap) -> Result<(String, Interaction), Response> {
        let uid = self.session(headers)?;
        let found = self
            .store
            .lock()
            .ok()
            .and_then(|s| s.sessions.get(&uid).cloned())
            .filter(|i| i.event.is_some());
        match found {
            Some(i) => Ok((uid, i)),
            None => Err(error(
                StatusCode::NOT_FOUND,
                "session.interaction_not_found",
                "Interaction not found.",
            )),
        }
    }

    fn update(&self, uid: &str, f: impl FnOnce(&mut Interaction)) {
        if let Ok(mut s) = self.store.lock()
            && let Some(i) = s.sessions.get_mut(uid)
        {
            f(i);
        }
    }

    fn next_id(&self, prefix: &str) -> String {
        let n = self
            .store
            .lock()
            .map(|mut s| {
                s.next_id += 1;
                s.next_id
            })
            .unwrap_or_default();
        format!("{prefix}{n:08}")
    }
}

/// A Logto-style JSON error.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "message": message})),
    )
        .into_response()
}

/// The cookies of a request, values as sent (Logto's are raw JSON).
fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// The `.sig` of a cookie value (a keyed hash; this is a dev server).
fn sign(value: &str) -> String {
    let mut h = DefaultHasher::new();
    "naftiko-dev-logto".hash(&mut h);
    value.hash(&mut h);
    format!("{:016x}", h.finish())
}

fn no_store() -> (header::HeaderName, HeaderValue) {
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

async fn oidc_auth(
    State(dev): State<DevLogto>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    dev.record(&Method::GET, "/oidc/auth", None);
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    if client_id.is_empty() || !q.contains_key("redirect_uri") {
        return error(
            StatusCode::BAD_REQUEST,
            "oidc.invalid_request",
            "client_id and redirect_uri are required.",
        );
    }
    let uid = dev.next_id("uid");
    if let Ok(mut s) = dev.store.lock() {
        s.sessions.insert(uid.clone(), Interaction::default());
    }
    let value = json!({ client_id.as_str(): uid, "_legacy": uid }).to_string();
    let sig = sign(&value);
    let mut resp = StatusCode::SEE_OTHER.into_response();
    let h = resp.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/sign-in"));
    for cookie in [
        format!("_interaction={value}; path=/; httponly; samesite=lax"),
        format!("_interaction.sig={sig}; path=/; httponly; samesite=lax"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

async fn oidc_resume(Path(uid): Path<String>) -> Response {
    (
        StatusCode::OK,
        format!("interaction {uid} completed; the OIDC flow would continue here\n"),
    )
        .into_response()
}

async fn init_interaction(
    State(dev): State<DevLogto>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    dev.record(&Method::PUT, "/api/experience", None);
    let uid = match dev.session(&headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let event = match event_of(&body) {
        Ok(e) => e,
        Err(r) => return r,
    };
    dev.update(&uid, |i| {
        *i = Interaction {
            event: Some(event),
            ..Interaction::default()
        };
    });
    StatusCode::NO_CONTENT.into_response()
}

fn event_of(body: &[u8]) -> Result<String, Response> {
    let v: Value = serde_json::from_slice(body).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "guard.invalid_input",
            "The request body is invalid.",
        )
    })?;
    match v.get("interactionEvent").and_then(Value::as_str) {
        Some(e @ ("SignIn" | "Register" | "ForgotPassword")) => Ok(e.to_owned()),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "guard.invalid_input",
            "interactionEvent is invalid.",
        )),
    }
}

async fn update_event(State(dev): State<DevLogto>, headers: HeaderMap, body: Bytes) -> Response {
    dev.record(&Method::PUT, "/api/experience/interaction-event", None);
    let (uid, _) = match dev.interaction(&headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let event = match event_of(&body) {
        Ok(e) => e,
        Err(r) => return r,
    };
    dev.update(&uid, |i| i.event = Some(event));
    StatusCode::NO_CONTENT.into_response()
}

async fn get_interaction(State(dev): State<DevLogto>, headers: HeaderMap) -> Response {
    dev.record(&Method::GET, "/api/experience/interaction", None);
    match dev.interaction(&headers) {
        Ok((_, i)) => {
            let profile = match &i.identified {
                Some(u) => json!({"username": u}),
                None => json!({}),
            };
            (StatusCode::OK, [no_store()], axum::Json(json!({
                "interactionEvent": i.event,
                "profile": profile,
                "mfa": {},
                "verificationRecords": i.verifications.keys().map(|id| json!({"id": id, "type": "Password"})).collect::<Vec<_>>(),
            })))
                .into_response()
        }
        Err(r) => r,
    }
}

async fn password_verification(
    State(dev): State<DevLogto>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    dev.record(&Method::POST, "/api/experience/verification/password", None);
    let (uid, _) = match dev.interaction(&headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "guard.invalid_input",
            "The request body is invalid.",
        );
    };
    let user = v.pointer("/identifier/value").and_then(Value::as_str);
    let password = v.get("password").and_then(Value::as_str);
    if user != Some(DEMO_USERNAME) || password != Some(DEMO_PASSWORD) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "session.invalid_credentials",
            "Wrong account or password.",
        );
    }
    let id = dev.next_id("ver");
    dev.update(&uid, |i| {
        i.verifications.insert(id.clone(), DEMO_USERNAME.to_owned());
    });
    (StatusCode::OK, axum::Json(json!({"verificationId": id}))).into_response()
}

async fn identify(State(dev): State<DevLogto>, headers: HeaderMap, body: Bytes) -> Response {
    dev.record(&Method::POST, "/api/experience/identification", None);
    let (uid, interaction) = match dev.interaction(&headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if interaction.event.as_deref() == Some("Register") {
        dev.update(&uid, |i| i.identified = Some("new-user".into()));
        return (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Created",
        )
            .into_response();
    }
    let id = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
        v.get("verificationId")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    match id.and_then(|id| interaction.verifications.get(&id).cloned()) {
        Some(user) => {
            dev.update(&uid, |i| i.identified = Some(user));
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "session.verification_session_not_found",
            "The verification record is not found.",
        ),
    }
}

async fn submit(State(dev): State<DevLogto>, headers: HeaderMap) -> Response {
    dev.record(&Method::POST, "/api/experience/submit", None);
    let (uid, interaction) = match dev.interaction(&headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if interaction.identified.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "session.identifier_not_found",
            "The user is not identified.",
        );
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    (
        StatusCode::OK,
        axum::Json(json!({"redirectTo": format!("http://{host}/oidc/auth/{uid}")})),
    )
        .into_response()
}

async fn sso_connectors(
    State(dev): State<DevLogto>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let query = q.get("email").map(|e| format!("email={e}"));
    dev.record(
        &Method::GET,
        "/api/experience/sso-connectors",
        query.as_deref(),
    );
    if let Err(r) = dev.session(&headers) {
        return r;
    }
    match q.get("email") {
        Some(e) if e.contains('@') => {
            (StatusCode::OK, axum::Json(json!({"connectorIds": []}))).into_response()
        }
        _ => error(
            StatusCode::BAD_REQUEST,
            "guard.invalid_input",
            "The email query parameter is required.",
        ),
    }
}

async fn preflight_passkey(State(dev): State<DevLogto>, headers: HeaderMap) -> Response {
    dev.record(
        &Method::POST,
        "/api/experience/preflight/sign-in-passkey/authentication",
        None,
    );
    if let Err(r) = dev.session(&headers) {
        return r;
    }
    let id = dev.next_id("ver");
    (StatusCode::OK, axum::Json(json!({"verificationId": id, "authenticationOptions": {"challenge": "ZGV2", "allowCredentials": []}})))
        .into_response()
}

async fn no_content(
    State(dev): State<DevLogto>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    dev.record(&method, uri.path(), None);
    match dev.interaction(&headers) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => r,
    }
}

/// An operation that needs a connector none is configured for: after the
/// session checks, Logto's own error.
async fn needs_connector(
    dev: &DevLogto,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response {
    dev.record(&Method::POST, uri.path(), None);
    match dev.interaction(headers) {
        Ok(_) => error(status, code, message),
        Err(r) => r,
    }
}

async fn connector(
    State(dev): State<DevLogto>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    needs_connector(
        &dev,
        &uri,
        &headers,
        StatusCode::NOT_FOUND,
        "entity.not_found",
        "The connector is not found.",
    )
    .await
}

async fn no_connector(
    State(dev): State<DevLogto>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    needs_connector(
        &dev,
        &uri,
        &headers,
        StatusCode::NOT_IMPLEMENTED,
        "connector.not_found",
        "No email or SMS connector is configured.",
    )
    .await
}

/// The remaining `verification/*` operations answer a new verificationId
/// (plus the fields Logto adds for TOTP, backup codes and WebAuthn).
async fn other_verification(
    State(dev): State<DevLogto>,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Response {
    dev.record(&Method::POST, &format!("/api/experience/{rest}"), None);
    if let Err(r) = dev.interaction(&headers) {
        return r;
    }
    let id = dev.next_id("ver");
    let mut body = serde_json::Map::new();
    body.insert("verificationId".into(), json!(id));
    match rest.as_str() {
        "verification/totp/secret" => {
            body.insert("secret".into(), json!("JBSWY3DPEHPK3PXP"));
            body.insert("secretQrCode".into(), json!("data:image/png;base64,"));
        }
        "verification/backup-code/generate" => {
            body.insert("codes".into(), json!(["dev-code-1", "dev-code-2"]));
        }
        "verification/web-authn/registration" => {
            body.insert("registrationOptions".into(), json!({"challenge": "ZGV2"}));
        }
        "verification/web-authn/authentication" | "verification/sign-in-passkey/authentication" => {
            body.insert("authenticationOptions".into(), json!({"challenge": "ZGV2"}));
        }
        r if r.starts_with("verification/") => {}
        _ => return error(StatusCode::NOT_FOUND, "guard.not_found", "Not found."),
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}
