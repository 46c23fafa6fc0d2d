//! What generated MCP adapters call: tool definitions from the spec,
//! argument validation, turning an upstream answer into a tool result, and
//! serving over streamable HTTP or stdio.

use std::sync::Arc;

use rmcp::model::{
    CallToolResult, ContentBlock, JsonObject, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use serde_json::Value;

use crate::client::{Call, Core, is_json};
use crate::error::Error;
use crate::mapping;

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
    let consumed_mapping = call.mapping.take();
    let resp = match core.send_raw(&call).await {
        Ok(r) => r,
        Err(e) => return failure(&e),
    };
    let status = resp.status();
    let json = is_json(resp.headers());
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            return failure(&Error::Transport {
                operation: call.operation,
                host: core.host().to_owned(),
                source: e.without_url(),
            });
        }
    };
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
    if !json {
        return CallToolResult::success(vec![ContentBlock::text(
            String::from_utf8_lossy(&body).into_owned(),
        )]);
    }
    let mut value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return CallToolResult::error(vec![ContentBlock::text(format!(
                "the upstream {} answered invalid JSON: {e}",
                core.host()
            ))]);
        }
    };
    for m in [consumed_mapping, exposed_mapping].into_iter().flatten() {
        value = match mapping::apply(m, value) {
            Ok(v) => v,
            Err(e) => return CallToolResult::error(vec![ContentBlock::text(e)]),
        };
    }
    if value.is_object() {
        CallToolResult::structured(value)
    } else {
        // Structured content must be an object; other JSON goes as text.
        CallToolResult::success(vec![ContentBlock::text(value.to_string())])
    }
}

/// A failed call as a tool error (never a secret: errors carry none).
pub fn failure(e: &Error) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(e.to_string())])
}

/// The server description: tools enabled, the adapter's description as
/// instructions.
pub fn server_info(namespace: &str, instructions: Option<&str>) -> ServerConfig {
    let mut info =
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            rmcp::model::Implementation::new(namespace, env!("CARGO_PKG_VERSION")),
        );
    if let Some(text) = instructions {
        info = info.with_instructions(text);
    }
    info
}

/// Settings of the streamable HTTP transport.
#[derive(Debug, Clone)]
pub struct McpHttpConfig {
    /// `Host` values accepted (rmcp's DNS-rebinding guard). Loopback only by
    /// default; add the names a deployment is reached by.
    pub allowed_hosts: Vec<String>,
}

impl Default for McpHttpConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
        }
    }
}

/// The streamable HTTP service of a server; `new_session` makes the handler
/// of each MCP session (each with its own upstream cookie jars).
pub fn http_service<S>(
    new_session: impl Fn() -> Result<S, std::io::Error> + Send + Sync + 'static,
    config: &McpHttpConfig,
) -> StreamableHttpService<S, LocalSessionManager>
where
    S: ServerHandler + Send + 'static,
{
    let cfg =
        StreamableHttpServerConfig::default().with_allowed_hosts(config.allowed_hosts.clone());
    StreamableHttpService::new(new_session, Arc::default(), cfg)
}

/// An axum router serving `service` at `/mcp`.
pub fn http_router<S>(service: StreamableHttpService<S, LocalSessionManager>) -> axum::Router
where
    S: ServerHandler + Send + 'static,
{
    axum::Router::new().nest_service("/mcp", service)
}

/// Serves one session over stdin/stdout until the client closes it.
pub async fn serve_stdio<S: ServerHandler + Send + 'static>(server: S) -> std::io::Result<()> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(())
}
