//! MCP sessions, bounded and cheap: an id and a cookie jar each.
//!
//! rmcp's own session manager keeps a task and half a dozen channels per
//! session (about 50 kB measured, whatever the limit), and keeps them until
//! an idle timer fires. The adapters instead run rmcp statelessly (each
//! request is served on its own) and keep sessions here: `initialize` opens
//! one (its id goes back in `Mcp-Session-Id`), later requests carrying the id
//! find its upstream cookie jar, `DELETE` closes it, and one idle for longer
//! than the idle time is gone (its entry is dropped when next looked up, or
//! swept when the map is full). At most `max` live at once: past that,
//! `initialize` gets a JSON-RPC error before anything is built.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::client::CookieJar;
use crate::mcp_direct::DirectCalls;

/// The JSON-RPC error code of a refused `initialize` (implementation-defined
/// server error range).
pub const TOO_MANY_SESSIONS: i64 = -32000;
/// The JSON-RPC error code for an unknown or expired session.
pub const SESSION_NOT_FOUND: i64 = -32001;

const SESSION_HEADER: &str = "mcp-session-id";
/// The largest session-less POST body looked at (rmcp's own limit).
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// One MCP session: the cookie jar its upstream calls use (cookies are
/// scoped by domain, so one jar serves every upstream of the session).
#[derive(Debug, Default)]
pub struct McpSession {
    jar: CookieJar,
}

impl McpSession {
    /// The session's cookie jar.
    pub fn jar(&self) -> &CookieJar {
        &self.jar
    }
}

#[derive(Debug)]
struct Entry {
    session: Arc<McpSession>,
    last_used: Instant,
}

/// The live sessions of one MCP adapter.
#[derive(Debug)]
pub struct Sessions {
    max: usize,
    idle: Duration,
    map: Mutex<HashMap<Box<str>, Entry>>,
}

impl Sessions {
    /// At most `max` live sessions, each closed after `idle` without a request.
    pub fn new(max: usize, idle: Duration) -> Self {
        Self {
            max,
            idle,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Opens a session, sweeping expired ones first when full; `None` at the
    /// limit.
    fn open(&self) -> Option<(String, Arc<McpSession>)> {
        let mut map = self.map.lock().ok()?;
        if map.len() >= self.max {
            let idle = self.idle;
            map.retain(|_, e| e.last_used.elapsed() < idle);
            if map.len() >= self.max {
                return None;
            }
        }
        let id = new_id()?;
        let session = Arc::new(McpSession::default());
        map.insert(
            id.clone().into_boxed_str(),
            Entry {
                session: Arc::clone(&session),
                last_used: Instant::now(),
            },
        );
        Some((id, session))
    }

    /// The live session `id`, marked used; an expired one is removed.
    fn find(&self, id: &str) -> Option<Arc<McpSession>> {
        let mut map = self.map.lock().ok()?;
        let entry = map.get_mut(id)?;
        if entry.last_used.elapsed() >= self.idle {
            map.remove(id);
            return None;
        }
        entry.last_used = Instant::now();
        Some(Arc::clone(&entry.session))
    }

    /// Closes session `id`; whether it was live.
    fn close(&self, id: &str) -> bool {
        self.map.lock().is_ok_and(|mut m| {
            m.remove(id)
                .is_some_and(|e| e.last_used.elapsed() < self.idle)
        })
    }
}

/// 128 random bits as 32 hex digits.
fn new_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The session a request belongs to, as the sessions middleware attached it (for handlers:
/// rmcp passes the HTTP request's parts along with each MCP request).
pub fn session_of(extensions: &rmcp::model::Extensions) -> Option<Arc<McpSession>> {
    extensions
        .get::<axum::http::request::Parts>()?
        .extensions
        .get::<Arc<McpSession>>()
        .cloned()
}

fn jsonrpc_error(status: StatusCode, id: Value, code: i64, message: String) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

/// Middleware in front of rmcp: opens a session on `initialize`, attaches the
/// session to requests that name one (404 and a JSON-RPC error when it is
/// unknown or expired, as the MCP specification asks), closes it on `DELETE`.
/// With `direct`, a session's tool calls are answered there.
pub(crate) async fn route(
    sessions: Arc<Sessions>,
    direct: Option<Arc<DirectCalls>>,
    req: Request,
    next: Next,
) -> Response {
    let given = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match (req.method().clone(), given) {
        (Method::DELETE, Some(id)) => {
            if sessions.close(&id) {
                StatusCode::NO_CONTENT.into_response()
            } else {
                not_found(Value::Null)
            }
        }
        (_, Some(id)) => match sessions.find(&id) {
            Some(session) => match direct {
                Some(direct) => direct.serve(session, req, next).await,
                None => {
                    let mut req = req;
                    req.extensions_mut().insert(session);
                    next.run(req).await
                }
            },
            None => not_found(Value::Null),
        },
        (Method::POST, None) => open(&sessions, req, next).await,
        (_, None) => next.run(req).await,
    }
}

fn not_found(id: Value) -> Response {
    jsonrpc_error(
        StatusCode::NOT_FOUND,
        id,
        SESSION_NOT_FOUND,
        "unknown or expired MCP session: send `initialize` again for a new one".into(),
    )
}

/// A POST without a session: an `initialize` opens one, anything else is
/// served without (stateless clients).
async fn open(sessions: &Sessions, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return crate::server::problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("an MCP message may be at most {BODY_LIMIT} bytes"),
        );
    };
    let message: Option<Value> = serde_json::from_slice(&bytes).ok();
    let is_initialize = message
        .as_ref()
        .is_some_and(|m| m.get("method").and_then(Value::as_str) == Some("initialize"));
    let mut req = Request::from_parts(parts, axum::body::Body::from(bytes));
    if !is_initialize {
        return next.run(req).await;
    }
    let Some((id, session)) = sessions.open() else {
        let request_id = message
            .and_then(|m| m.get("id").cloned())
            .unwrap_or(Value::Null);
        let mut resp = jsonrpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            request_id,
            TOO_MANY_SESSIONS,
            format!(
                "too many MCP sessions: this server keeps at most {}; close one (HTTP DELETE with its Mcp-Session-Id) or retry when an idle one has expired",
                sessions.max()
            ),
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return resp;
    };
    req.extensions_mut().insert(session);
    let mut resp = next.run(req).await;
    match HeaderValue::from_str(&id) {
        Ok(v) if resp.status().is_success() => {
            resp.headers_mut().insert(SESSION_HEADER, v);
        }
        _ => {
            sessions.close(&id);
        }
    }
    resp
}
