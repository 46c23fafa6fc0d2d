//! What generated MCP adapters call: tool definitions from the spec,
//! argument validation, turning an upstream answer into a tool result, and
//! serving over streamable HTTP or stdio.

use std::sync::Arc;

use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, JsonObject, ServerCapabilities, ServerConfig,
    Tool, ToolAnnotations,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServiceExt};
use serde_json::Value;

use crate::client::{Call, Core, is_json};
use crate::error::Error;
use crate::mapping;
pub use crate::mcp_config::{
    DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE, McpHttpConfig, resolve_token,
};
use crate::mcp_direct::DirectCalls;
pub use crate::mcp_server::{McpAdapter, McpFuture, McpServer};
pub use crate::mcp_sessions::{McpSession, Sessions, session_of};
use crate::plan::CallPlan;
use crate::secret::Secret;

/// A tool as the spec declares it.
#[derive(Debug)]
pub struct ToolSpec {
    /// Name.
    pub name: &'static str,
    /// `label`, shown as the title.
    pub title: Option<&'static str>,
    /// Description.
    pub description: &'static str,
    /// The input JSON Schema, as JSON text.
    pub schema: &'static str,
    /// `readOnly`, `destructive`, `idempotent`, `openWorld`.
    pub hints: [Option<bool>; 4],
    /// The consumed operation a plain forwarding tool calls; `None` for
    /// tools with a generated function (steps, mocks).
    pub call: Option<CallPlan>,
}

/// One call of a forwarding tool: arguments checked against the tool's
/// schema, the consumed operation called, its answer as the tool result.
pub(crate) async fn call_planned(
    server: &McpServer,
    spec: &'static ToolSpec,
    plan: &'static CallPlan,
    args: Option<JsonObject>,
) -> Result<CallToolResponse, ErrorData> {
    if let Some(tool) = server.tool(spec.name) {
        check_arguments(tool, args.as_ref())?;
    }
    let Some(core) = server.adapter().core(plan.api) else {
        return Err(ErrorData::internal_error(
            "the tool's upstream is missing",
            None,
        ));
    };
    let call = match plan.prepare(core, args.unwrap_or_default()) {
        Ok(call) => call,
        Err(e @ Error::Config { .. }) => {
            return Err(ErrorData::internal_error(e.to_string(), None));
        }
        Err(e) => return Err(invalid_params(e)),
    };
    Ok(call_tool(core, call, plan.mapping).await.into())
}

/// The rmcp tool definition of a spec tool.
pub fn tool(spec: &ToolSpec) -> Tool {
    let schema: JsonObject = serde_json::from_str(spec.schema).unwrap_or_default();
    let mut tool = Tool::new(spec.name, spec.description, Arc::new(schema));
    let [read_only, destructive, idempotent, open_world] = spec.hints;
    let mut annotations = ToolAnnotations::new();
    annotations.title = spec.title.map(str::to_owned);
    annotations.read_only_hint = read_only;
    annotations.destructive_hint = destructive;
    annotations.idempotent_hint = idempotent;
    annotations.open_world_hint = open_world;
    if let Some(title) = spec.title {
        tool = tool.with_title(title);
    }
    tool.annotate(annotations)
}

/// Checks tool arguments against the tool's schema: required arguments are
/// present, and every known argument has its declared JSON type.
pub fn check_arguments(tool: &Tool, args: Option<&JsonObject>) -> Result<(), ErrorData> {
    let schema = &tool.input_schema;
    let empty = JsonObject::new();
    let args = args.unwrap_or(&empty);
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if args.get(name).is_none_or(Value::is_null) {
                return Err(ErrorData::invalid_params(
                    format!("missing required argument `{name}` of tool `{}`", tool.name),
                    None,
                ));
            }
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, value) in args {
        let Some(expected) = properties
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let ok = match expected {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            _ => true,
        };
        if !ok && !value.is_null() {
            return Err(ErrorData::invalid_params(
                format!(
                    "argument `{name}` of tool `{}` must be {}",
                    tool.name,
                    article(expected)
                ),
                None,
            ));
        }
    }
    Ok(())
}

fn article(ty: &str) -> String {
    match ty {
        "integer" | "object" | "array" => format!("an {ty}"),
        other => format!("a {other}"),
    }
}

/// Sends `call` and turns the answer into a tool result: 2xx JSON (mapped)
/// becomes structured content plus the same JSON as text; an empty 2xx a
/// successful "no content" text; other 2xx content text; 4xx/5xx and
/// transport failures `isError: true` naming the status or the upstream.
pub async fn call_tool(
    core: &Core,
    mut call: Call,
    exposed_mapping: Option<&'static str>,
) -> CallToolResult {
    let shapes = [call.mapping.take(), exposed_mapping];
    let resp = match core.send_raw(&call).await {
        Ok(r) => r,
        Err(e) => return failure(&e),
    };
    let (status, headers, body) = match core.read(call.operation, resp).await {
        Ok(answer) => answer,
        Err(e) => return failure(&e),
    };
    let json = is_json(&headers);
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        return CallToolResult::error(vec![ContentBlock::text(format!(
            "the upstream {} answered {status}: {text}",
            core.host()
        ))]);
    }
    if body.is_empty() {
        return CallToolResult::success(vec![ContentBlock::text(format!(
            "the upstream answered {status} with no content"
        ))]);
    }
    if !json && call.raw_format.is_none() {
        return CallToolResult::success(vec![ContentBlock::text(
            String::from_utf8_lossy(&body).into_owned(),
        )]);
    }
    let value = match call.raw_format {
        Some(format) => crate::formats::to_json_with(format, call.raw_schema, &body),
        None => crate::formats::json_from_slice(&body).map_err(|e| format!("invalid JSON: {e}")),
    };
    let value: Value = match value {
        Ok(v) => v,
        Err(e) => {
            return CallToolResult::error(vec![ContentBlock::text(format!(
                "the upstream {} answered {e}",
                core.host()
            ))]);
        }
    };
    match mapping::shape_all(shapes, value) {
        Ok(v) => value_result(v),
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e)]),
    }
}

/// A JSON answer as a tool result: objects as structured content (and the
/// same JSON as text); other JSON as text, since structured content must be
/// an object.
pub fn value_result(value: Value) -> CallToolResult {
    // `serde_json::to_string` writes the bytes `Display` (`Value::to_string`,
    // which `CallToolResult::structured` uses) does, without going through
    // `fmt` for every piece: 2.2k of a `tools/call`'s 79k instructions
    // (issue 9).
    let text = serde_json::to_string(&value).unwrap_or_default();
    if value.is_object() {
        let mut result = CallToolResult::structured(Value::Null);
        result.content = vec![ContentBlock::text(text)];
        result.structured_content = Some(value);
        result
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    }
}

/// The MCP error of arguments that cannot make the upstream request (a
/// required one missing, text where a number belongs, CR/LF in a header):
/// invalid params, with the runtime's message naming the argument.
pub fn invalid_params(e: crate::Error) -> rmcp::ErrorData {
    match e {
        crate::Error::InvalidRequest { message, .. } => {
            rmcp::ErrorData::invalid_params(message, None)
        }
        other => rmcp::ErrorData::invalid_params(other.to_string(), None),
    }
}

/// A failed call as a tool error (never a secret: errors carry none).
pub fn failure(e: &Error) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(e.to_string())])
}

/// The server description: tools enabled, the adapter's description as
/// instructions.
pub fn server_info(namespace: &str, instructions: Option<&str>) -> ServerConfig {
    server_info_with(namespace, instructions, false, false)
}

/// [`server_info`] for an adapter that also has resources and/or prompts.
pub fn server_info_with(
    namespace: &str,
    instructions: Option<&str>,
    resources: bool,
    prompts: bool,
) -> ServerConfig {
    let b = ServerCapabilities::builder();
    let capabilities = match (resources, prompts) {
        (false, false) => b.enable_tools().build(),
        (true, false) => b.enable_resources().enable_tools().build(),
        (false, true) => b.enable_prompts().enable_tools().build(),
        (true, true) => b.enable_prompts().enable_resources().enable_tools().build(),
    };
    let mut info = ServerConfig::new(capabilities).with_server_info(
        rmcp::model::Implementation::new(namespace, env!("CARGO_PKG_VERSION")),
    );
    if let Some(text) = instructions {
        info = info.with_instructions(text);
    }
    info
}

/// The bounded session set `config` describes.
pub fn sessions(config: &McpHttpConfig) -> Arc<Sessions> {
    Arc::new(Sessions::new(config.max_sessions, config.session_idle))
}

/// The streamable HTTP service of an adapter. rmcp serves each request on
/// its own (the server is cloned for it, which is cheap); sessions and their
/// cookie jars are kept by [`http_router`]'s [`Sessions`] instead of rmcp's
/// session manager, which costs a task and several channels per session.
/// Answers are plain JSON when the handler sends nothing before its result.
pub fn http_service(
    adapter: Arc<dyn McpAdapter>,
    config: &McpHttpConfig,
) -> StreamableHttpService<McpServer, LocalSessionManager> {
    service_of(McpServer::new(adapter), config)
}

fn service_of(
    server: McpServer,
    config: &McpHttpConfig,
) -> StreamableHttpService<McpServer, LocalSessionManager> {
    let cfg = StreamableHttpServerConfig::default()
        .with_allowed_hosts(config.allowed_hosts.clone())
        .with_legacy_session_mode(false)
        .with_json_response(true);
    StreamableHttpService::new(move || Ok(server.clone()), Arc::default(), cfg)
}

/// An axum router serving `adapter` at `/mcp`, with MCP sessions kept as
/// `config` says (an `initialize` past its limit gets a JSON-RPC error) and
/// a session's tool calls answered directly unless `config` says otherwise;
/// with a token, requests without `Authorization: Bearer <token>` get 401.
pub fn http_router(
    adapter: Arc<dyn McpAdapter>,
    config: &McpHttpConfig,
    token: Option<Secret>,
) -> axum::Router {
    let server = McpServer::new(adapter);
    let direct = config
        .direct_tool_calls
        .then(|| Arc::new(DirectCalls::new(server.clone(), &config.allowed_hosts)));
    let sessions = sessions(config);
    let router = axum::Router::new()
        .nest_service("/mcp", service_of(server, config))
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                crate::mcp_sessions::route(Arc::clone(&sessions), direct.clone(), req, next)
            },
        ));
    match token {
        None => router,
        Some(token) => {
            let expected = Arc::new(format!("Bearer {}", token.expose()));
            router.layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    let expected = Arc::clone(&expected);
                    async move {
                        let given = req
                            .headers()
                            .get(axum::http::header::AUTHORIZATION)
                            .map(|v| v.as_bytes());
                        if given.is_some_and(|g| constant_time_eq(g, expected.as_bytes())) {
                            next.run(req).await
                        } else {
                            let mut resp = crate::server::problem(
                                axum::http::StatusCode::UNAUTHORIZED,
                                "this MCP server needs `Authorization: Bearer <token>`",
                            );
                            resp.headers_mut().insert(
                                axum::http::header::WWW_AUTHENTICATE,
                                axum::http::HeaderValue::from_static("Bearer"),
                            );
                            resp
                        }
                    }
                },
            ))
        }
    }
}

/// Compares without stopping at the first difference (token checks).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves one session over stdin/stdout until the client closes it.
pub async fn serve_stdio(adapter: Arc<dyn McpAdapter>) -> std::io::Result<()> {
    let running = McpServer::new(adapter)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A tool's result is what rmcp's own constructors make of the value:
    /// objects as structured content with their text, others as text.
    #[test]
    fn a_value_result_is_rmcps_own() {
        let object = json!({
            "b": [1, -2, 2.5, 1e300, null, true],
            "a": "quote \" backslash \\ line\n tab\t é 😀 \u{1}",
            "c": {"": ""},
        });
        assert_eq!(
            value_result(object.clone()),
            CallToolResult::structured(object)
        );
        for other in [json!([1, "x"]), json!("text \"q\""), json!(7), json!(null)] {
            assert_eq!(
                value_result(other.clone()),
                CallToolResult::success(vec![ContentBlock::text(other.to_string())])
            );
        }
    }
}
