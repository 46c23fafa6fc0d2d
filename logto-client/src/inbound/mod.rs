//! Inbound `authentication` of an adapter: bearer, API key (header or
//! query), basic, or OAuth 2.0 access tokens (`jwt`). A request without the
//! right credential gets `401` (`403` for a token without a required scope)
//! with a JSON problem body and a `WWW-Authenticate` header; secrets are
//! compared in constant time and never logged.
//!
//! OAuth 2.0 token checks verify signatures with ring, a C build: they are
//! logto-client's `jwt` feature, off by default (a spec that asks for them
//! is a compile error naming it without).

pub mod digest;
#[cfg(any(feature = "jwt", logto_cli))]
pub mod jwt;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use http::StatusCode;
use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use subtle::ConstantTimeEq;

use crate::secret::Secret;
use crate::server::problem;

/// What callers must present.
#[derive(Debug, Clone)]
pub enum InboundAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// User.
        username: Secret,
        /// Password.
        password: Secret,
    },
    /// An OAuth 2.0 access token (a JWT of the spec's authorization server).
    #[cfg(any(feature = "jwt", logto_cli))]
    OAuth2(Arc<jwt::JwtValidator>),
    /// HTTP Digest (RFC 7616) credentials.
    Digest(Arc<digest::DigestGuard>),
    /// An API key in a header or a query parameter.
    ApiKey {
        /// The header or query parameter.
        name: &'static str,
        /// The key.
        value: Secret,
        /// `true` for a query parameter.
        in_query: bool,
    },
}

fn same(given: &[u8], expected: &[u8]) -> bool {
    given.ct_eq(expected).into()
}

impl InboundAuth {
    /// Whether `req` carries the credential (OAuth 2.0 tokens are checked
    /// by [`InboundAuth::verify`]).
    fn accepts(&self, req: &Request) -> bool {
        let authorization = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        match self {
            InboundAuth::Bearer(token) => authorization
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .is_some_and(|(_, t)| same(t.trim().as_bytes(), token.expose().as_bytes())),
            InboundAuth::Basic { username, password } => authorization
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
                .and_then(|(_, b64)| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .ok()
                })
                .is_some_and(|decoded| {
                    let expected = format!("{}:{}", username.expose(), password.expose());
                    same(&decoded, expected.as_bytes())
                }),
            #[cfg(any(feature = "jwt", logto_cli))]
            InboundAuth::OAuth2(_) => false,
            InboundAuth::Digest(guard) => {
                let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
                guard.accepts(authorization, req.method().as_str(), target)
            }
            InboundAuth::ApiKey {
                name,
                value,
                in_query: false,
            } => req
                .headers()
                .get(*name)
                .is_some_and(|v| same(v.as_bytes(), value.expose().as_bytes())),
            InboundAuth::ApiKey {
                name,
                value,
                in_query: true,
            } => req.uri().query().is_some_and(|q| {
                q.split('&').any(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    let v = percent_encoding::percent_decode_str(v).collect::<Vec<u8>>();
                    k == *name && same(&v, value.expose().as_bytes())
                })
            }),
        }
    }

    /// The `WWW-Authenticate` challenge.
    fn challenge(&self) -> String {
        match self {
            InboundAuth::Bearer(_) => "Bearer".into(),
            InboundAuth::Basic { .. } => "Basic realm=\"naftiko\"".into(),
            #[cfg(any(feature = "jwt", logto_cli))]
            InboundAuth::OAuth2(_) => "Bearer error=\"invalid_token\"".into(),
            InboundAuth::Digest(_) => String::new(),
            InboundAuth::ApiKey { name, in_query, .. } => format!(
                "ApiKey {}=\"{name}\"",
                if *in_query { "query" } else { "header" }
            ),
        }
    }
}

/// The refusal of an OAuth 2.0 token: 401, or 403 for a missing scope.
#[cfg(any(feature = "jwt", logto_cli))]
fn refuse_token(refusal: jwt::Refusal) -> Response {
    let (status, challenge, detail) = match refusal {
        jwt::Refusal::InvalidToken(why) => (
            StatusCode::UNAUTHORIZED,
            "Bearer error=\"invalid_token\"".to_owned(),
            why,
        ),
        jwt::Refusal::InsufficientScope(scope) => (
            StatusCode::FORBIDDEN,
            format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
            format!("the token lacks the scope `{scope}`"),
        ),
    };
    let mut resp = problem(status, detail);
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    resp
}

async fn check(State(auth): State<Arc<InboundAuth>>, req: Request, next: Next) -> Response {
    #[cfg(any(feature = "jwt", logto_cli))]
    if let InboundAuth::OAuth2(validator) = &*auth {
        let token = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_owned());
        return match token {
            None => refuse_token(jwt::Refusal::InvalidToken(
                "missing credentials: this adapter requires an OAuth 2.0 bearer token".into(),
            )),
            Some(t) => match validator.validate(&t).await {
                Ok(_) => next.run(req).await,
                Err(refusal) => refuse_token(refusal),
            },
        };
    }
    if auth.accepts(&req) {
        return next.run(req).await;
    }
    if let InboundAuth::Digest(guard) = &*auth {
        let mut resp = problem(
            StatusCode::UNAUTHORIZED,
            "missing or invalid credentials: this adapter requires HTTP Digest authentication",
        );
        for c in guard.challenges() {
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(WWW_AUTHENTICATE, v);
            }
        }
        return resp;
    }
    let mut resp = problem(
        StatusCode::UNAUTHORIZED,
        "missing or invalid credentials: this adapter requires authentication",
    );
    if let Ok(v) = HeaderValue::from_str(&auth.challenge()) {
        resp.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    resp
}

/// `router` with every route behind `auth`. With OAuth 2.0, the protected
/// resource metadata (RFC 9728) is served, unprotected, at
/// `/.well-known/oauth-protected-resource`.
pub fn require(router: Router, auth: InboundAuth) -> Router {
    let metadata: Option<serde_json::Value> = match &auth {
        #[cfg(any(feature = "jwt", logto_cli))]
        InboundAuth::OAuth2(v) => Some(serde_json::json!({
            "resource": v.audience,
            "authorization_servers": [v.issuer],
            "scopes_supported": v.scopes,
            "bearer_methods_supported": ["header"],
        })),
        _ => None,
    };
    let guarded = router.layer(axum::middleware::from_fn_with_state(Arc::new(auth), check));
    match metadata {
        None => guarded,
        Some(doc) => Router::new()
            .route(
                "/.well-known/oauth-protected-resource",
                axum::routing::get(move || {
                    let doc = doc.clone();
                    async move { axum::Json(doc) }
                }),
            )
            .merge(guarded),
    }
}

/// The OAuth 2.0 check `$auth` (generated for an adapter with inbound
/// `oauth2`) in a build that can verify tokens.
#[cfg(any(feature = "jwt", logto_cli))]
#[macro_export]
#[doc(hidden)]
macro_rules! __jwt_supported {
    ($at:literal, $auth:expr) => {
        $auth
    };
}

/// A compile error at the spec's inbound `oauth2` in a build that cannot
/// verify tokens (no `jwt` feature), in place of the check `$auth`.
#[cfg(not(any(feature = "jwt", logto_cli)))]
#[macro_export]
#[doc(hidden)]
macro_rules! __jwt_supported {
    ($at:literal, $auth:expr) => {
        ::core::compile_error!($at)
    };
}
