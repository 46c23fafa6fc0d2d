//! `tools/call` in an MCP session, answered without rmcp's per-request
//! service.
//!
//! The adapters run rmcp's streamable HTTP service statelessly (sessions and
//! their cookie jars are kept by [`crate::mcp_sessions`]), and rmcp serves
//! each stateless request by starting a whole service for it: a spawned
//! task, channels between it and the HTTP handler, cancellation tokens, the
//! message parsed into its every-method enum. Profiled under load, that was
//! a third of an MCP tool call's CPU, and tool calls are what MCP clients
//! send all day. So a session's `tools/call` is answered here: the same tool
//! code ([`McpServer::run_tool`]), the answer built from rmcp's own message
//! types and serialized as rmcp serializes it (a test compares the bytes of
//! both paths). Everything else goes to rmcp unchanged, body included, and
//! so does any request this module is not sure rmcp would hand to the tool
//! as it is: `_meta` beyond a progress token, an `Origin`, a protocol version
//! it does not know or one that needs more checks, a `Host` it cannot match
//! exactly.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, uri::Authority};
use axum::middleware::Next;
use axum::response::Response;
use rmcp::model::{JsonObject, ProgressToken, RequestId, ServerJsonRpcMessage, ServerResult};
use serde::Deserialize;

use crate::mcp_server::McpServer;
use crate::mcp_sessions::McpSession;

/// The largest body taken here (rmcp's own default limit; a larger one goes
/// to rmcp, which answers it).
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Protocol versions whose requests need nothing beyond what is checked
/// here: before 2026-07-28, which adds required `_meta` fields and standard
/// headers that only rmcp checks.
const VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// What answering tool calls directly needs: the server and rmcp's host
/// allowlist.
#[derive(Debug)]
pub(crate) struct DirectCalls {
    server: McpServer,
    hosts: HostGuard,
    /// Tool names to their index; the last tool of a name wins, as in
    /// rmcp's router.
    by_name: HashMap<&'static str, usize>,
}

impl DirectCalls {
    /// Direct calls for `server`, with rmcp's `allowed_hosts` (empty allows
    /// every host, as in rmcp).
    pub(crate) fn new(server: McpServer, allowed_hosts: &[String]) -> Self {
        let by_name = server
            .adapter()
            .tools()
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name, i))
            .collect();
        Self {
            server,
            hosts: HostGuard::new(allowed_hosts),
            by_name,
        }
    }

    /// Serves `req` of `session`: a tool call is answered here, anything
    /// else goes on to rmcp.
    pub(crate) async fn serve(
        &self,
        session: Arc<McpSession>,
        req: Request,
        next: Next,
    ) -> Response {
        if !self.takes(&req) {
            return on_to_rmcp(req, session, next).await;
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
            return crate::server::problem(
                StatusCode::BAD_REQUEST,
                "the MCP request's body could not be read",
            );
        };
        let Some((id, index, arguments)) = self.tool_call(&bytes) else {
            let req = Request::from_parts(parts, Body::from(bytes));
            return on_to_rmcp(req, session, next).await;
        };
        let tool = self.server.adapter().tools().get(index).map(|t| t.name);
        tracing::debug!(tool, "MCP tools/call answered directly");
        let server = self.server.with_jar(session.jar());
        let message = match server.run_tool(index, arguments).await {
            Ok(answer) => {
                // What rmcp's handler does for every version taken here
                // (all before 2026-07-28).
                let mut result = ServerResult::from(answer);
                result.strip_result_type_for_legacy_peer();
                result.strip_non_object_output_for_legacy_peer();
                ServerJsonRpcMessage::response(result, id)
            }
            Err(error) => ServerJsonRpcMessage::error(error, Some(id)),
        };
        json_response(&message)
    }

    /// Whether the request's line and headers are ones rmcp would accept
    /// for a tool call and hand to the tool unchanged.
    fn takes(&self, req: &Request) -> bool {
        let headers = req.headers();
        req.method() == Method::POST
            && req.uri().path() == "/mcp"
            && self.hosts.allows(headers)
            && !headers.contains_key(header::ORIGIN)
            && accepts_json_and_sse(headers)
            && is_json(headers.get(header::CONTENT_TYPE))
            && one_of(headers, "mcp-protocol-version", &VERSIONS)
            && content_length(headers).is_some_and(|n| n <= BODY_LIMIT)
    }

    /// A `tools/call` request for a known tool: its id, the tool's index
    /// and the arguments. `None` for anything else, or any field rmcp would
    /// read and this would not (`task`, `_meta` beyond a progress token).
    fn tool_call(&self, body: &[u8]) -> Option<(RequestId, usize, Option<JsonObject>)> {
        let call: Call = crate::formats::json_from_slice(body).ok()?;
        if call.jsonrpc != "2.0" || call.method != "tools/call" {
            return None;
        }
        let index = *self.by_name.get(call.params.name.as_str())?;
        Some((call.id, index, call.params.arguments))
    }
}

/// rmcp's DNS-rebinding check, for a single well-formed `Host`.
#[derive(Debug)]
struct HostGuard {
    /// rmcp allows every `Host` when its list is empty (not when no entry
    /// of it parses: then it allows none).
    any: bool,
    /// `(host, port)` of each allowed `Host`, normalized as rmcp does.
    allowed: Vec<(String, Option<u16>)>,
}

impl HostGuard {
    fn new(allowed_hosts: &[String]) -> Self {
        Self {
            any: allowed_hosts.is_empty(),
            allowed: allowed_hosts
                .iter()
                .filter_map(|h| allowed_authority(h))
                .collect(),
        }
    }

    /// Whether rmcp would let the request's `Host` through; `false` also
    /// when unsure (no `Host`, several).
    fn allows(&self, headers: &HeaderMap) -> bool {
        if self.any {
            return true;
        }
        let mut hosts = headers.get_all(header::HOST).iter();
        let (Some(host), None) = (hosts.next(), hosts.next()) else {
            return false;
        };
        let Some((host, port)) = host.to_str().ok().and_then(allowed_authority) else {
            return false;
        };
        self.allowed
            .iter()
            .any(|(h, p)| *h == host && p.is_none_or(|p| Some(p) == port))
    }
}

/// A JSON-RPC `tools/call` request with nothing but what this module reads.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Call {
    jsonrpc: String,
    id: RequestId,
    method: String,
    params: Params,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    name: String,
    #[serde(default)]
    arguments: Option<JsonObject>,
    /// Only a progress token (rmcp's client sends one with every call):
    /// these tools report no progress, so it changes nothing.
    #[serde(default, rename = "_meta")]
    _meta: Option<Meta>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    #[serde(rename = "progressToken")]
    _progress_token: ProgressToken,
}

/// The request as it came (its session attached), for rmcp.
async fn on_to_rmcp(mut req: Request, session: Arc<McpSession>, next: Next) -> Response {
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// rmcp's JSON answer to a request: 200, `application/json`, the message.
fn json_response(message: &ServerJsonRpcMessage) -> Response {
    match serde_json::to_vec(message) {
        Ok(body) => {
            let mut resp = Response::new(Body::from(body));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => crate::server::problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the tool's answer could not be written as JSON: {e}"),
        ),
    }
}

/// `host[:port]` normalized as rmcp's allowlist does (brackets off, lower
/// case).
fn allowed_authority(text: &str) -> Option<(String, Option<u16>)> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let (host, port) = match Authority::try_from(text) {
        Ok(a) => (a.host().to_owned(), a.port_u16()),
        Err(_) => (text.to_owned(), None),
    };
    let host = host
        .trim_matches('[')
        .trim_matches(']')
        .to_ascii_lowercase();
    Some((host, port))
}

/// One `Accept` header listing both JSON and SSE, without parameters (a
/// `q=0` is rmcp's to weigh).
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::ACCEPT).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    if value.contains([';', '"']) {
        return false;
    }
    let has = |wanted: &str| {
        value
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(wanted))
    };
    has("application/json") && has("text/event-stream")
}

/// rmcp's content-type check: the first `Content-Type`'s essence is JSON.
fn is_json(value: Option<&HeaderValue>) -> bool {
    value.and_then(|v| v.to_str().ok()).is_some_and(|v| {
        let essence = v.split_once(';').map_or(v, |(e, _)| e);
        essence.trim().eq_ignore_ascii_case("application/json")
    })
}

/// Exactly one `name` header, its value one of `allowed`.
fn one_of(headers: &HeaderMap, name: &str, allowed: &[&str]) -> bool {
    let mut values = headers.get_all(name).iter();
    matches!((values.next(), values.next()), (Some(v), None) if allowed.iter().any(|a| v == a))
}

/// The single `Content-Length`, when there is one and no chunked coding.
fn content_length(headers: &HeaderMap) -> Option<usize> {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return None;
    }
    let mut values = headers.get_all(header::CONTENT_LENGTH).iter();
    match (values.next(), values.next()) {
        (Some(v), None) => v.to_str().ok()?.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn hosts_are_matched_as_rmcp_matches_them() {
        let loopback = HostGuard::new(&["localhost".into(), "127.0.0.1".into(), "::1".into()]);
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1:1",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(loopback.allows(&headers(&[("host", host)])), "{host}");
        }
        for host in [
            "evil.example",
            "localhost.evil.example",
            "127.0.0.2",
            "[::2]:80",
        ] {
            assert!(!loopback.allows(&headers(&[("host", host)])), "{host}");
        }
        assert!(!loopback.allows(&headers(&[])), "no Host");
        assert!(
            !loopback.allows(&headers(&[("host", "localhost"), ("host", "localhost")])),
            "two Hosts are rmcp's to judge"
        );
        let with_port = HostGuard::new(&["example.com:8080".into()]);
        assert!(with_port.allows(&headers(&[("host", "example.com:8080")])));
        assert!(!with_port.allows(&headers(&[("host", "example.com:8081")])));
        assert!(!with_port.allows(&headers(&[("host", "example.com")])));
        // An empty list allows every host, as in rmcp; a list of nothing
        // usable allows none.
        assert!(HostGuard::new(&[]).allows(&headers(&[("host", "evil.example")])));
        assert!(!HostGuard::new(&[" ".into()]).allows(&headers(&[("host", "evil.example")])));
    }

    #[test]
    fn only_plain_accept_and_content_headers_are_taken() {
        let accept = |v: &'static str| accepts_json_and_sse(&headers(&[("accept", v)]));
        assert!(accept("application/json, text/event-stream"));
        assert!(accept("TEXT/EVENT-STREAM,application/json"));
        assert!(!accept("application/json"));
        assert!(
            !accept("application/json, text/event-stream;q=0"),
            "weights are rmcp's"
        );
        assert!(!accept("*/*"));
        assert!(is_json(Some(&HeaderValue::from_static(
            "application/json; charset=utf-8"
        ))));
        assert!(!is_json(Some(&HeaderValue::from_static("text/json"))));
        assert!(!is_json(None));
        assert_eq!(
            content_length(&headers(&[("content-length", "12")])),
            Some(12)
        );
        assert_eq!(content_length(&headers(&[])), None);
        assert_eq!(
            content_length(&headers(&[
                ("content-length", "12"),
                ("transfer-encoding", "chunked")
            ])),
            None
        );
        assert!(one_of(
            &headers(&[("mcp-protocol-version", "2025-06-18")]),
            "mcp-protocol-version",
            &VERSIONS
        ));
        assert!(!one_of(
            &headers(&[("mcp-protocol-version", "2026-07-28")]),
            "mcp-protocol-version",
            &VERSIONS
        ));
    }
}
