//! The MCP adapter of an `exposes: type: mcp` entry: a rmcp server whose
//! tool router is built directly (`Tool::new` + annotations), one upstream
//! cookie jar per MCP session, and HTTP / stdio entry points.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Map, Value, json};

use super::Settings;
use super::rest::{upstream_apis, upstreams_struct};
use crate::diagnostics::Sink;
use crate::ir::{self, Source};
use crate::names::ident;

/// The consumed APIs an MCP adapter calls (by `call` or in steps).
pub(crate) fn used_apis(cap: &ir::Capability, a: &ir::McpAdapter) -> Vec<usize> {
    let resources = a.resources.iter().flat_map(|r| match &r.source {
        ir::ResourceSource::Steps(o) => super::steps::calls(Some(o)).map(|c| c.api).collect(),
        ir::ResourceSource::File(_) => Vec::new(),
    });
    let tools = a.tools.iter().flat_map(|t| {
        t.call
            .into_iter()
            .chain(super::steps::calls(t.steps.as_ref()))
            .map(|c| c.api)
    });
    upstream_apis(cap, tools.chain(resources))
}

/// The `McpAdapter` methods and tables of an adapter's resources and
/// prompts (none when it has neither).
fn catalog(rt: &syn::Path, cap: &ir::Capability, a: &ir::McpAdapter) -> (TokenStream, TokenStream) {
    let rmcp = quote! { __rt::rmcp };
    let c = quote! { #rt::mcp_catalog };
    let mut tables = Vec::new();
    let mut methods = Vec::new();
    if !a.resources.is_empty() {
        let specs = a.resources.iter().map(|r| {
            let (name, uri) = (&r.name, &r.uri);
            let (title, description, mime) = (
                super::opt(r.title.as_deref()),
                super::opt(r.description.as_deref()),
                super::opt(r.mime_type.as_deref()),
            );
            quote! { #c::ResourceSpec { name: #name, title: #title, description: #description, mime_type: #mime, uri: #uri } }
        });
        let arms = a.resources.iter().enumerate().map(|(i, r)| {
            let mime = super::opt(r.mime_type.as_deref());
            match &r.source {
                ir::ResourceSource::File(location) => quote! {
                    #i => #c::file_contents(&uri, #mime, #location).map(::core::convert::Into::into),
                },
                ir::ResourceSource::Steps(orch) => {
                    let block = super::steps::block(rt, cap, orch, &|module| {
                        quote! { self.upstreams.#module.core().clone() }
                    });
                    quote! {
                        #i => match (#block).await {
                            __rt::Ok(v) => __rt::Ok(#c::contents(&uri, #mime, v).into()),
                            __rt::Err(e) => __rt::Err(e.into_error_data()),
                        },
                    }
                }
            }
        });
        let len = a.resources.len();
        tables.push(quote! {
            /// The resources, in spec order.
            static RESOURCES: [#c::ResourceSpec; #len] = [#(#specs),*];
        });
        methods.push(quote! {
            fn resources(&self) -> &'static [#c::ResourceSpec] {
                &RESOURCES
            }

            #[allow(unused_variables)]
            fn read_resource(
                &self,
                index: usize,
                uri: ::std::string::String,
                params: #rmcp::model::JsonObject,
            ) -> #rt::mcp::McpFuture<'_, #rmcp::model::ReadResourceResponse> {
                ::std::boxed::Box::pin(async move {
                    match index {
                        #(#arms)*
                        _ => __rt::Err(#rmcp::ErrorData::invalid_params("unknown resource", __rt::None)),
                    }
                })
            }
        });
    }
    if !a.prompts.is_empty() {
        let specs = a.prompts.iter().map(|p| {
            let name = &p.name;
            let (title, description, file) = (
                super::opt(p.title.as_deref()),
                super::opt(p.description.as_deref()),
                super::opt(p.file.as_deref()),
            );
            let args = p.arguments.iter().map(|(n, d, r)| {
                let d = super::opt(d.as_deref());
                quote! { (#n, #d, #r) }
            });
            let messages = p.messages.iter().map(|(r, m)| quote! { (#r, #m) });
            quote! {
                #c::PromptSpec { name: #name, title: #title, description: #description, arguments: &[#(#args),*], messages: &[#(#messages),*], file: #file }
            }
        });
        let len = a.prompts.len();
        tables.push(quote! {
            /// The prompts, in spec order.
            static PROMPTS: [#c::PromptSpec; #len] = [#(#specs),*];
        });
        methods.push(quote! {
            fn prompts(&self) -> &'static [#c::PromptSpec] {
                &PROMPTS
            }
        });
    }
    (quote! { #(#tables)* }, quote! { #(#methods)* })
}

/// The input JSON Schema of a tool (SEMANTICS.md decision 5).
pub fn input_schema(tool: &ir::McpTool) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for i in &tool.inputs {
        let mut p = json!({"type": i.ty.as_str()});
        if let (Some(d), Some(obj)) = (&i.description, p.as_object_mut()) {
            obj.insert("description".into(), json!(d));
        }
        properties.insert(i.name.clone(), p);
        if i.required {
            required.push(json!(i.name));
        }
    }
    let mut schema = json!({"type": "object", "properties": properties});
    if let (false, Some(obj)) = (required.is_empty(), schema.as_object_mut()) {
        obj.insert("required".into(), Value::Array(required));
    }
    schema
}

/// A tool's function: runs `body` with `server` and `args` (a JSON object,
/// already checked against the tool's schema) in scope.
fn tool_fn(fn_ident: &syn::Ident, body: TokenStream) -> TokenStream {
    let rmcp = quote! { __rt::rmcp };
    quote! {
        async fn #fn_ident(
            server: &Server,
            args: #rmcp::model::JsonObject,
        ) -> ::core::result::Result<#rmcp::model::CallToolResponse, #rmcp::ErrorData> {
            #body
        }
    }
}

/// Generates the module body of an MCP adapter.
pub fn generate(
    a: &ir::McpAdapter,
    cap: &ir::Capability,
    settings: &Settings,
    sink: &mut Sink,
) -> TokenStream {
    let rt = &settings.runtime;
    let rmcp = quote! { __rt::rmcp };
    let used = used_apis(cap, a);
    let upstreams = upstreams_struct(cap, &used);
    let mut specs = Vec::new();
    let mut routes = Vec::new();
    let mut fns = Vec::new();
    for t in &a.tools {
        if let Some(why) = &t.unsupported {
            sink.error(
                t.pos,
                &t.yaml_path,
                format!("MCP tool `{}`: {why}", t.name),
                "this construct is read but not generated yet; use `call` + `with`, or remove it",
            );
            continue;
        }
        let index = specs.len();
        let fn_ident = format_ident!("call_{}", t.fn_name);
        let name = &t.name;
        let target = t.call.and_then(|c| {
            Some((
                c,
                cap.apis.get(c.api)?,
                cap.apis.get(c.api)?.operations.get(c.op)?,
            ))
        });
        // What the tool does, for its description.
        let default_description = match (target, &t.mock) {
            _ if t.steps.is_some() => format!("The orchestrated tool `{name}`."),
            (Some((_, api, op)), _) => format!("Calls `{}.{}`.", api.namespace, op.name),
            (None, Some(_)) => format!("The mock tool `{name}`."),
            (None, None) => {
                sink.error(
                    t.pos,
                    &t.yaml_path,
                    format!("MCP tool `{}` has no `call`", t.name),
                    "add `call: namespace.operation`, or mock `value`s on its outputs",
                );
                continue;
            }
        };
        let title = super::opt(t.title.as_deref());
        let description = t.description.clone().unwrap_or(default_description);
        let schema = input_schema(t).to_string();
        let hints = t.hints.iter().map(|h| super::opt(*h));
        // A tool that forwards to one consumed operation is a table entry
        // (its `CallPlan`); steps and mocks get a function of their own.
        let plan = match target {
            Some((call, _, op)) if t.steps.is_none() => {
                let upstream = used.iter().position(|u| *u == call.api).unwrap_or_default();
                let input_of = |src: &Source| -> Option<String> {
                    match src {
                        Source::Argument(n)
                        | Source::PathParam(n)
                        | Source::Query(n)
                        | Source::Header(n) => Some(n.clone()),
                        Source::Body => Some("body".to_owned()),
                        Source::Literal(_) | Source::Template(_) => None,
                    }
                };
                let exposed = super::plan::Exposed {
                    bindings: &t.bindings,
                    mapping: t.output_mapping.as_deref(),
                    input_of: &input_of,
                };
                Some(super::plan::call_plan(upstream, call.op, op, &exposed))
            }
            _ => None,
        };
        let forwards = plan.is_some();
        let call = plan.unwrap_or_else(|| quote! { __rt::None });
        specs.push(quote! {
            __rt::ToolSpec {
                name: #name,
                title: #title,
                description: #description,
                schema: #schema,
                hints: [#(#hints),*],
                call: #call,
            }
        });
        if forwards {
            continue;
        }
        let tool_index = proc_macro2::Literal::usize_unsuffixed(index);
        routes.push(quote! { #tool_index => #fn_ident(self, args).await, });
        if let Some(orch) = &t.steps {
            let block = super::steps::block(rt, cap, orch, &|module| {
                quote! { server.upstreams.#module.core().clone() }
            });
            fns.push(tool_fn(
                &fn_ident,
                quote! {
                    let params = args;
                    match (#block).await {
                        __rt::Ok(v) => __rt::Ok(#rt::mcp::value_result(v).into()),
                        __rt::Err(e) => e.into_tool_result(),
                    }
                },
            ));
            continue;
        }
        // A mock tool: its answer is built from the arguments.
        let text = |arg: &str| quote! { __rt::Arg::json(args.get(#arg).cloned()).into_text().unwrap_or_default() };
        let value = t
            .mock
            .as_ref()
            .map(|m| super::rest::mock_expr(rt, m, &text));
        fns.push(tool_fn(
            &fn_ident,
            quote! {
                let value: __rt::serde_json::Value = #value;
                __rt::Ok(#rt::mcp::value_result(value).into())
            },
        ));
    }
    let specs_len = specs.len();
    let in_jar = used
        .iter()
        .filter_map(|i| cap.apis.get(*i))
        .map(|api| ident(&api.module))
        .map(|f| quote! { #f: self.upstreams.#f.with_cookie_jar(jar) });
    let call_tool = if routes.is_empty() {
        quote! {}
    } else {
        quote! {
            fn call_tool(&self, index: usize, args: #rmcp::model::JsonObject) -> #rt::mcp::McpFuture<'_, #rmcp::model::CallToolResponse> {
                ::std::boxed::Box::pin(async move {
                    match index {
                        #(#routes)*
                        _ => __rt::Err(#rmcp::ErrorData::invalid_params("unknown tool", __rt::None)),
                    }
                })
            }
        }
    };
    let (catalog_tables, catalog_methods) = catalog(rt, cap, a);
    let has_resources = !a.resources.is_empty();
    let has_prompts = !a.prompts.is_empty();
    let ns = &a.namespace;
    let names = a.tools.iter().map(|t| &t.name);
    let port = super::port_const(a.port);
    let instructions = super::opt(a.description.as_deref());
    let stdio = a.stdio;
    let binds = super::client::bind_specs(cap, settings);
    let binds_len = [binds.len()];
    let token = match &a.bearer_token {
        Some(t) => {
            let pieces = super::client::pieces(t);
            quote! { __rt::Some(#rt::mcp::resolve_token(#pieces, &BINDS, config.bearer_token.as_ref(), &config.binds)?) }
        }
        None => quote! { config.bearer_token.clone() },
    };
    let guard = a
        .inbound
        .as_ref()
        .and_then(|x| super::inbound_auth(settings, x, &quote! { &config.binds }))
        .map(|auth| quote! { let router = #rt::inbound::require(router, #auth); });
    let auth_doc = if a.inbound.is_some() {
        "Clients must present the spec's `authentication` (401 otherwise), resolved from its binds \
         (`config.binds`, then the environment); a missing bound variable is an error naming it."
    } else if a.bearer_token.is_some() {
        "Clients must send `Authorization: Bearer <token>`: the spec's `authentication`, resolved from its binds \
         (or `config.bearer_token`); a missing bound variable is an error naming it."
    } else {
        "The spec asks for no authentication; `config.bearer_token` adds one."
    };
    // The serving code needs rmcp, which is logto-client's `mcp` feature:
    // the runtime's `__mcp!` keeps it, or stand-ins whose use is a compile
    // error naming the feature (`logto_client::mcp_switch`).
    let without_feature = quote! {
        /// An axum router serving the adapter at `/mcp`: needs logto-client's
        /// `mcp` feature, which this build does not have (calling it is a
        /// compile error saying so).
        pub fn router(
            upstreams: impl __rt::NeedsMcpFeature,
            _config: &#rt::mcp::McpHttpConfig,
        ) -> ::core::result::Result<__rt::axum::Router, #rt::Error> {
            __rt::NeedsMcpFeature::unavailable(upstreams)
        }

        /// Serves one session over stdin/stdout: needs logto-client's `mcp`
        /// feature, which this build does not have (calling it is a compile
        /// error saying so).
        pub fn serve_stdio(
            upstreams: impl __rt::NeedsMcpFeature,
        ) -> impl ::core::future::Future<Output = ::std::io::Result<()>> {
            async move { __rt::NeedsMcpFeature::unavailable(upstreams) }
        }

        /// [`router`] in a build with logto-client's `mcp` feature; in this
        /// one, an error naming the adapter and the feature.
        pub fn try_router(
            _upstreams: Upstreams,
            _config: &#rt::mcp::McpHttpConfig,
        ) -> ::core::result::Result<__rt::axum::Router, #rt::Error> {
            __rt::Err(__rt::mcp_missing(NAMESPACE))
        }

        /// [`serve_stdio`] in a build with logto-client's `mcp` feature; in
        /// this one, an error naming the adapter and the feature.
        pub fn try_serve_stdio(
            _upstreams: Upstreams,
        ) -> ::core::result::Result<#rt::serve::Stdio, #rt::Error> {
            __rt::Err(__rt::mcp_missing(NAMESPACE))
        }
    };
    quote! {
        /// The adapter's namespace as written in the spec.
        pub const NAMESPACE: &str = #ns;
        #port
        /// The tools, in spec order.
        pub const TOOLS: &[&str] = &[#(#names),*];
        /// The server instructions (the adapter's `description`).
        pub const INSTRUCTIONS: ::core::option::Option<&str> = #instructions;
        /// `true` when the spec asks for `transport: stdio`.
        pub const STDIO: bool = #stdio;

        #upstreams

        #rt::__mcp! { {
        /// The bound variables of the capability (for inbound authentication).
        static BINDS: [__rt::BindSpec; #(#binds_len)*] = [#(#binds),*];

        /// The tools as the spec declares them; those that forward to one
        /// consumed operation carry its plan and need no code of their own.
        static TOOL_SPECS: [__rt::ToolSpec; #specs_len] = [#(#specs),*];
        #catalog_tables

        /// The adapter as the runtime's MCP server sees it: its tools, and
        /// its upstream clients (one set per MCP session, each with the
        /// session's cookie jar).
        #[derive(Debug, Clone)]
        pub struct Server {
            upstreams: Upstreams,
        }

        impl Server {
            /// An adapter forwarding to `upstreams`.
            pub fn new(upstreams: Upstreams) -> Self {
                Self { upstreams }
            }

            /// The upstream clients.
            pub fn upstreams(&self) -> &Upstreams {
                &self.upstreams
            }
        }

        impl #rt::mcp::McpAdapter for Server {
            fn info(&self) -> #rmcp::model::ServerConfig {
                #rt::mcp::server_info_with(NAMESPACE, INSTRUCTIONS, #has_resources, #has_prompts)
            }

            fn tools(&self) -> &'static [__rt::ToolSpec] {
                &TOOL_SPECS
            }

            fn core(&self, api: usize) -> ::core::option::Option<&__rt::Core> {
                __rt::Upstreams::core(&self.upstreams, api)
            }

            #[allow(unused_variables)]
            fn in_session(&self, jar: &#rt::client::CookieJar) -> ::std::sync::Arc<dyn #rt::mcp::McpAdapter> {
                ::std::sync::Arc::new(Server { upstreams: Upstreams { #(#in_jar,)* } })
            }

            #call_tool

            #catalog_methods
        }

        /// The streamable HTTP service (mount it at `/mcp` behind the
        /// sessions of [`router`], which give each MCP session its own
        /// upstream cookie jar).
        pub fn http_service(
            upstreams: Upstreams,
            config: &#rt::mcp::McpHttpConfig,
        ) -> #rmcp::transport::streamable_http_server::StreamableHttpService<#rt::mcp::McpServer, #rmcp::transport::streamable_http_server::session::local::LocalSessionManager> {
            #rt::mcp::http_service(::std::sync::Arc::new(Server::new(upstreams)), config)
        }

        /// An axum router serving the adapter at `/mcp`.
        ///
        #[doc = #auth_doc]
        pub fn router(upstreams: Upstreams, config: &#rt::mcp::McpHttpConfig) -> ::core::result::Result<__rt::axum::Router, #rt::Error> {
            let token = #token;
            let router = #rt::mcp::http_router(::std::sync::Arc::new(Server::new(upstreams)), config, token);
            #guard
            __rt::Ok(router)
        }

        /// Serves one session over stdin/stdout until the client closes it.
        // Not an `async fn`: a public free `async fn` is compiled into every
        // binary of the user's crate even when nothing calls it, and this one
        // reaches rmcp's whole server, so each link read all of it (132 MB
        // for an empty `main`, half of a rebuild after a YAML edit).
        pub fn serve_stdio(upstreams: Upstreams) -> impl ::core::future::Future<Output = ::std::io::Result<()>> {
            #rt::mcp::serve_stdio(::std::sync::Arc::new(Server::new(upstreams)))
        }

        /// [`router`]; in a build without logto-client's `mcp` feature, an
        /// error naming the adapter and the feature (what the `capability`
        /// module serves with).
        pub fn try_router(
            upstreams: Upstreams,
            config: &#rt::mcp::McpHttpConfig,
        ) -> ::core::result::Result<__rt::axum::Router, #rt::Error> {
            router(upstreams, config)
        }

        /// [`serve_stdio`], boxed; in a build without logto-client's `mcp`
        /// feature, an error naming the adapter and the feature.
        pub fn try_serve_stdio(
            upstreams: Upstreams,
        ) -> ::core::result::Result<#rt::serve::Stdio, #rt::Error> {
            __rt::Ok(::std::boxed::Box::pin(serve_stdio(upstreams)))
        }

        #(#fns)*
        } { #without_feature } }
    }
}
