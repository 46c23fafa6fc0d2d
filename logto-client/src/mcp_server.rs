//! The one rmcp server every generated MCP adapter runs on.
//!
//! rmcp's service stack (streamable HTTP, stdio, the tool router) is generic
//! over the server type. Were each generated adapter its own `ServerHandler`,
//! every user crate would compile that whole stack again for it (about four
//! seconds of a debug build here, at every rebuild after a YAML edit). So the
//! generated code only describes its adapter ([`McpAdapter`]: tools, upstream
//! clients, the code of tools with steps or mocks, resources, prompts) and the
//! stack is compiled once, here, for [`McpServer`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestMethod, GetPromptRequestParams,
    GetPromptResponse, JsonObject, ListPromptsRequestMethod, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesRequestMethod, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ReadResourceRequestMethod, ReadResourceRequestParams,
    ReadResourceResponse, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::client::{CookieJar, Core};
use crate::mcp::{ToolSpec, call_planned, check_arguments, tool};
use crate::mcp_catalog::{self, PromptSpec, ResourceSpec};
use crate::mcp_sessions::session_of;

/// The future of a generated tool or resource read.
pub type McpFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ErrorData>> + Send + 'a>>;

/// What a generated MCP adapter tells the runtime's server.
pub trait McpAdapter: Send + Sync + 'static {
    /// Name, instructions and capabilities.
    fn info(&self) -> ServerConfig;

    /// The tools, in spec order.
    fn tools(&self) -> &'static [ToolSpec];

    /// The client core of upstream `api` (the adapter's `Upstreams` order).
    fn core(&self, api: usize) -> Option<&Core>;

    /// The same adapter with its upstream clients keeping cookies in `jar`
    /// (one MCP session's).
    fn in_session(&self, jar: &CookieJar) -> Arc<dyn McpAdapter>;

    /// Runs tool `index` of [`McpAdapter::tools`] when it has no call plan
    /// (steps, mocks); `args` are already checked against its schema.
    fn call_tool(&self, index: usize, args: JsonObject) -> McpFuture<'_, CallToolResponse> {
        let _ = args;
        Box::pin(std::future::ready(Err(ErrorData::invalid_params(
            format!("tool {index} has no code"),
            None,
        ))))
    }

    /// The resources (none by default).
    fn resources(&self) -> &'static [ResourceSpec] {
        &[]
    }

    /// Reads resource `index` at `uri`, its template's variables in `params`.
    fn read_resource(
        &self,
        index: usize,
        uri: String,
        params: JsonObject,
    ) -> McpFuture<'_, ReadResourceResponse> {
        let _ = (index, uri, params);
        Box::pin(std::future::ready(Err(ErrorData::method_not_found::<
            ReadResourceRequestMethod,
        >())))
    }

    /// The prompts (none by default).
    fn prompts(&self) -> &'static [PromptSpec] {
        &[]
    }
}

/// An MCP server for one generated adapter (cheap to clone: rmcp clones it
/// per request).
#[derive(Clone)]
pub struct McpServer {
    adapter: Arc<dyn McpAdapter>,
    tools: Arc<ToolRouter<McpServer>>,
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServer")
            .field("tools", &self.adapter.tools().len())
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// A server for `adapter`, its tool router built from its tools.
    pub fn new(adapter: Arc<dyn McpAdapter>) -> Self {
        let tools = Arc::new(tool_router(adapter.tools()));
        Self { adapter, tools }
    }

    /// The adapter (for the tools of this crate).
    pub(crate) fn adapter(&self) -> &dyn McpAdapter {
        self.adapter.as_ref()
    }

    /// The tool `name`'s definition.
    pub(crate) fn tool(&self, name: &str) -> Option<&Tool> {
        self.tools.get(name)
    }

    /// This server with the cookie jar of the MCP session the request
    /// belongs to, if it belongs to one.
    fn in_session(&self, context: &RequestContext<RoleServer>) -> Self {
        match session_of(&context.extensions) {
            Some(session) => self.with_jar(session.jar()),
            None => self.clone(),
        }
    }
}

/// The routes of `specs`, each running [`McpServer::run_tool`].
fn tool_router(specs: &'static [ToolSpec]) -> ToolRouter<McpServer> {
    let mut router = ToolRouter::new();
    for (index, spec) in specs.iter().enumerate() {
        let route = ToolRoute::new_dyn(tool(spec), move |ctx: ToolCallContext<'_, McpServer>| {
            Box::pin(ctx.service.run_tool(index, ctx.arguments))
        });
        router = router.with_route(route);
    }
    router
}

impl McpServer {
    /// Runs tool `index` of the adapter's tools: a forwarding tool calls its
    /// plan; any other runs the adapter's code for it, after the arguments
    /// are checked. (rmcp's tool router and [`crate::mcp_direct`] both call
    /// this.)
    pub(crate) async fn run_tool(
        &self,
        index: usize,
        args: Option<JsonObject>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(spec) = self.adapter.tools().get(index) else {
            return Err(ErrorData::invalid_params("tool not found", None));
        };
        match &spec.call {
            Some(plan) => call_planned(self, spec, plan, args).await,
            None => {
                if let Some(tool) = self.tool(spec.name) {
                    check_arguments(tool, args.as_ref())?;
                }
                self.adapter
                    .call_tool(index, args.unwrap_or_default())
                    .await
            }
        }
    }

    /// This server with its upstream clients keeping cookies in `jar`.
    pub(crate) fn with_jar(&self, jar: &CookieJar) -> Self {
        Self {
            adapter: self.adapter.in_session(jar),
            tools: Arc::clone(&self.tools),
        }
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        self.adapter.info()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.list_all()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let server = self.in_session(&context);
        server
            .tools
            .call(ToolCallContext::new(&server, request, context))
            .await
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.get(name).cloned()
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        match self.adapter.resources() {
            [] => Err(ErrorData::method_not_found::<ListResourcesRequestMethod>()),
            specs => Ok(mcp_catalog::list_resources(specs)),
        }
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        match self.adapter.resources() {
            [] => Err(ErrorData::method_not_found::<ListResourcesRequestMethod>()),
            specs => Ok(mcp_catalog::list_templates(specs)),
        }
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let server = self.in_session(&context);
        let specs = server.adapter.resources();
        if specs.is_empty() {
            return Err(ErrorData::method_not_found::<ReadResourceRequestMethod>());
        }
        let (index, params) = mcp_catalog::find_resource(specs, &request.uri)?;
        server
            .adapter
            .read_resource(index, request.uri, params)
            .await
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        match self.adapter.prompts() {
            [] => Err(ErrorData::method_not_found::<ListPromptsRequestMethod>()),
            specs => Ok(mcp_catalog::list_prompts(specs)),
        }
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        match self.adapter.prompts() {
            [] => Err(ErrorData::method_not_found::<GetPromptRequestMethod>()),
            specs => mcp_catalog::get_prompt(specs, &request.name, request.arguments.as_ref())
                .map(Into::into),
        }
    }
}
