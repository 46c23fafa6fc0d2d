//! The axum REST adapter of an `exposes: type: rest` entry: input structs,
//! a `Handlers` trait whose default methods forward through `call`/`with`,
//! a `Forwarder`, and the router.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Settings;
use crate::diagnostics::Sink;
use crate::ir::{self, Location, Source};
use crate::names::{camel, ident};

/// The consumed APIs (indexes into [`ir::Capability::apis`]) an adapter
/// reaches, sorted, each once.
pub(crate) fn upstream_apis(cap: &ir::Capability, apis: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut used: Vec<usize> = apis.filter(|i| *i < cap.apis.len()).collect();
    used.sort_unstable();
    used.dedup();
    used
}

/// The consumed APIs a REST adapter calls (by `call` or in steps).
pub(crate) fn used_apis(cap: &ir::Capability, a: &ir::RestAdapter) -> Vec<usize> {
    let calls = a.operations.iter().flat_map(|o| {
        o.call
            .into_iter()
            .chain(super::steps::calls(o.steps.as_ref()))
            .map(|c| c.api)
    });
    upstream_apis(cap, calls.chain(a.forwards.iter().map(|f| f.api)))
}

/// The `Upstreams` struct: one generated client per consumed API used.
pub(crate) fn upstreams_struct(cap: &ir::Capability, used: &[usize]) -> TokenStream {
    let fields = used.iter().filter_map(|i| cap.apis.get(*i)).map(|api| {
        let field = ident(&api.module);
        let module = ident(&api.module);
        let doc = format!("The client of `{}`.", api.namespace);
        quote! {
            #[doc = #doc]
            pub #field: super::#module::Client
        }
    });
    let cores = used
        .iter()
        .filter_map(|i| cap.apis.get(*i))
        .enumerate()
        .map(|(k, api)| {
            let f = ident(&api.module);
            quote! { #k => __rt::Some(self.#f.core()), }
        });
    quote! {
        /// The upstream clients this adapter forwards to, one per consumed API.
        #[derive(Debug, Clone)]
        pub struct Upstreams {
            #(#fields,)*
        }

        impl __rt::Upstreams for Upstreams {
            fn core(&self, api: usize) -> ::core::option::Option<&__rt::Core> {
                match api {
                    #(#cores)*
                    _ => __rt::None,
                }
            }
        }
    }
}

/// The field type of an exposed input.
fn field_type(i: &ir::ExposedInput) -> TokenStream {
    let base = if i.location == Location::Body {
        quote! { __rt::serde_json::Value }
    } else {
        quote! { ::std::string::String }
    };
    if i.required || i.location == Location::Path {
        base
    } else {
        quote! { ::core::option::Option<#base> }
    }
}

/// Generates the module body of a REST adapter.
pub fn generate(
    a: &ir::RestAdapter,
    cap: &ir::Capability,
    settings: &Settings,
    openapi: &str,
    sink: &mut Sink,
) -> TokenStream {
    let rt = &settings.runtime;
    let used = used_apis(cap, a);
    let upstreams = upstreams_struct(cap, &used);
    let mut inputs_structs = Vec::new();
    let mut methods = Vec::new();
    let mut arms = Vec::new();
    let mut handlers = Vec::new();
    let mut must_implement = Vec::new();
    let mut forward_routes = Vec::new();
    let mut route_specs = Vec::new();

    for op in &a.operations {
        if let Some(why) = &op.unsupported {
            sink.error(
                op.pos,
                &op.yaml_path,
                format!("exposed operation `{}`: {why}", op.name),
                "this construct is read but not generated yet; use `call` + `with`, or remove it",
            );
            continue;
        }
        let input_ty = format_ident!("{}Input", camel(&op.fn_name));
        let fields = op.inputs.iter().map(|i| {
            let f = ident(&i.rust_name);
            let ty = field_type(i);
            let doc = i
                .description
                .clone()
                .unwrap_or_else(|| format!("`{}` ({}).", i.name, i.location.as_str()));
            quote! { #[doc = #doc] pub #f: #ty }
        });
        let input_doc = format!(
            "The inputs of `{} {}` (`{}`).",
            op.method, op.route, op.name
        );
        inputs_structs.push(quote! {
            #[doc = #input_doc]
            #[derive(Debug, Clone)]
            pub struct #input_ty { #(#fields,)* }
        });

        // Reading a request into the input struct: a table the runtime
        // reads, then one expression per field.
        let route_params: Vec<&ir::ExposedInput> = op
            .inputs
            .iter()
            .filter(|i| i.location == Location::Path)
            .collect();
        let reads = op.inputs.iter().map(|i| {
            let name = &i.name;
            let required = i.required;
            let value = op
                .values
                .iter()
                .find(|(n, _)| *n == i.name)
                .map(|(_, v)| v.as_str());
            let read = match (i.location, value) {
                (Location::Body, Some(path)) if path.trim_start().starts_with('$') => {
                    quote! { BodyPath(#path) }
                }
                (_, Some(fixed)) if !fixed.trim_start().starts_with('$') => {
                    quote! { Fixed(#fixed) }
                }
                _ => match i.location {
                    Location::Path => {
                        let idx = route_params
                            .iter()
                            .position(|p| p.name == i.name)
                            .unwrap_or_default();
                        quote! { Path(#idx) }
                    }
                    Location::Query | Location::Template => quote! { Query },
                    Location::Header | Location::Cookie => quote! { Header },
                    Location::Body if i.name == "body" => quote! { Body },
                    Location::Body => quote! { BodyField },
                },
            };
            quote! { __rt::InputRead::new(#name, __rt::Read::#read, #required) }
        });
        let fields = op.inputs.iter().map(|i| {
            let f = ident(&i.rust_name);
            let take = match (
                i.location == Location::Body,
                i.required || i.location == Location::Path,
            ) {
                (true, true) => quote! { json },
                (true, false) => quote! { opt_json },
                (false, true) => quote! { text },
                (false, false) => quote! { opt_text },
            };
            quote! { #f: v.#take() }
        });
        let trusted = &op.trusted_headers;
        let route_index = route_specs.len();
        let plan = plain_call(cap, &used, op);
        let call = plan.unwrap_or_else(|| quote! { __rt::None });
        let axum_route = route_for_axum(&op.route);
        let route_text = format!("{} {axum_route}", op.method);
        route_specs.push(quote! {
            __rt::RouteSpec {
                route: #route_text,
                inputs: &[#(#reads),*],
                trusted: &[#(#trusted),*],
                call: #call,
            }
        });
        let method_ident = ident(&op.fn_name);
        let route_index = proc_macro2::Literal::usize_unsuffixed(route_index);
        arms.push(quote! {
            #route_index => h.#method_ident(#input_ty { #(#fields,)* }, forwarded),
        });

        let summary = op
            .description
            .clone()
            .unwrap_or_else(|| format!("`{}`.", op.name));
        let target = op.call.and_then(|c| {
            Some((
                cap.apis.get(c.api)?,
                cap.apis.get(c.api)?.operations.get(c.op)?,
            ))
        });
        let doc = match target {
            Some((api, t)) => format!(
                "{summary}\n\nServes `{} {}`. By default it forwards to `{}.{}` (`{} {}`) with the caller's \
                 cookies and trusted headers, and streams the answer back.",
                op.method, op.route, api.namespace, t.name, t.method, t.path_text
            ),
            None => format!(
                "{summary}\n\nServes `{} {}`. The spec gives no `call`: implement it.",
                op.method, op.route
            ),
        };
        let sig = quote! {
            fn #method_ident(&self, input: #input_ty, forwarded: __rt::HeaderMap) -> HandlerFuture<'_>
        };
        match target {
            None if op.steps.is_some() => {
                let orch = op.steps.as_ref().map(|o| {
                    super::steps::block(rt, cap, o, &|module| {
                        quote! { self.upstreams().#module.core().with_headers(forwarded.clone()) }
                    })
                });
                let inserts = op.inputs.iter().map(|i| {
                    let f = ident(&i.rust_name);
                    let name = &i.name;
                    if i.required || i.location == Location::Path {
                        quote! { params.insert(::std::string::String::from(#name), __rt::serde_json::Value::from(input.#f)); }
                    } else {
                        quote! {
                            if let __rt::Some(v) = input.#f {
                                params.insert(::std::string::String::from(#name), __rt::serde_json::Value::from(v));
                            }
                        }
                    }
                });
                let doc = format!(
                    "{summary}\n\nServes `{} {}` by running the spec's orchestrated steps in order \
                     (each step sees the inputs and the earlier steps' outputs) and answering with \
                     their mapped outputs.",
                    op.method, op.route
                );
                methods.push(quote! {
                    #[doc = #doc]
                    #sig {
                        ::std::boxed::Box::pin(async move {
                            let mut params = __rt::serde_json::Map::new();
                            #(#inserts)*
                            match (#orch).await {
                                __rt::Ok(v) => __rt::axum::response::IntoResponse::into_response(__rt::axum::Json(v)),
                                __rt::Err(e) => e.into_response(),
                            }
                        })
                    }
                });
            }
            None if op.mock.is_some() => {
                let text = |name: &str| {
                    let arg = input_arg(op, name);
                    quote! { (#arg).into_text().unwrap_or_default() }
                };
                let value = op.mock.as_ref().map(|m| mock_expr(rt, m, &text));
                let doc = format!(
                    "{summary}\n\nServes `{} {}` with the spec's mock answer.",
                    op.method, op.route
                );
                methods.push(quote! {
                    #[doc = #doc]
                    #sig {
                        ::std::boxed::Box::pin(async move {
                            let value = #value;
                            __rt::axum::response::IntoResponse::into_response(__rt::axum::Json(value))
                        })
                    }
                });
            }
            None => {
                must_implement.push(op.fn_name.clone());
                methods.push(quote! { #[doc = #doc] #sig; });
            }
            Some(_) => {
                // Only the inputs the call reads go into its inputs.
                let pairs = op.inputs.iter().filter(|i| uses(op, &i.name) > 0).map(|i| {
                    let (name, f) = (&i.name, ident(&i.rust_name));
                    if i.required || i.location == Location::Path {
                        quote! { (#name, __rt::Some(input.#f.into())) }
                    } else {
                        quote! { (#name, input.#f.map(::core::convert::Into::into)) }
                    }
                });
                methods.push(quote! {
                    #[doc = #doc]
                    #sig {
                        let inputs = __rt::inputs([#(#pairs),*]);
                        __rt::forward_default(self.upstreams(), &ROUTES[#route_index], inputs, forwarded)
                    }
                });
            }
        }
    }

    for (n, f) in a.forwards.iter().enumerate() {
        let Some(api) = cap.apis.get(f.api) else {
            continue;
        };
        let field = ident(&api.module);
        let handler = format_ident!("forward_{n}");
        let prefix = &f.prefix;
        let trusted = &f.trusted_headers;
        let operation = format!("{}.forward", api.namespace);
        handlers.push(quote! {
            async fn #handler<H: Handlers>(
                __rt::axum::extract::State(state): __rt::axum::extract::State<::std::sync::Arc<(H, __rt::RestConfig)>>,
                req: __rt::axum::extract::Request,
            ) -> __rt::axum::response::Response {
                __rt::forward_path(state.0.upstreams().#field.core(), #operation, #prefix, req, &[#(#trusted),*], state.1.body_limit).await
            }
        });
        let mut paths = vec![f.prefix.clone()];
        if f.wildcard {
            paths.push(format!("{}{{*path}}", f.prefix));
        }
        for p in paths {
            forward_routes.push(quote! {
                .route(#p, __rt::axum::routing::any(#handler::<H>))
            });
        }
    }
    let ns = &a.namespace;
    let unimplemented_note = if must_implement.is_empty() {
        "every operation forwards by default; implement `upstreams` and override what you need"
            .to_owned()
    } else {
        format!(
            "operations without `call` have no default and must be implemented: {}",
            must_implement.join(", ")
        )
    };
    let on_unimplemented = format!("`{{Self}}` does not implement the REST adapter `{ns}`");
    let trait_doc = format!(
        "The operations of the REST adapter `{ns}`. Every method has a default that forwards to the consumed \
         operation its `call` names (\"proxy, then customise\"): implement [`Handlers::upstreams`] and override \
         only what you need. A method returns a boxed future, [`HandlerFuture`]: an override is \
         `fn op(&self, input: OpInput, forwarded: HeaderMap) -> HandlerFuture<'_> {{ Box::pin(async move {{ .. }}) }}`.\n\n\
         {unimplemented_note}."
    );
    let not_implemented = a
        .operations
        .iter()
        .filter(|o| must_implement.contains(&o.fn_name))
        .map(|o| {
            let m = ident(&o.fn_name);
            let input_ty = format_ident!("{}Input", camel(&o.fn_name));
            let message = format!(
                "operation `{}` has no `call` in the spec: implement `Handlers::{}`",
                o.name, o.fn_name
            );
            quote! {
                #[allow(unused_variables)]
                fn #m(&self, input: #input_ty, forwarded: __rt::HeaderMap) -> HandlerFuture<'_> {
                    ::std::boxed::Box::pin(async move { __rt::problem(__rt::http::StatusCode::NOT_IMPLEMENTED, #message) })
                }
            }
        });
    let forwarder_doc = if must_implement.is_empty() {
        "Forwards every operation as the spec says."
    } else {
        "Forwards every operation as the spec says; those without `call` answer 501 Not Implemented."
    };
    let forwarder = quote! {
        #[doc = #forwarder_doc]
        #[derive(Debug, Clone)]
        pub struct Forwarder {
            /// The upstream clients.
            pub upstreams: Upstreams,
        }

        impl Handlers for Forwarder {
            fn upstreams(&self) -> &Upstreams {
                &self.upstreams
            }
            fn __forwards_every_call(&self) -> bool {
                true
            }
            #(#not_implemented)*
        }
    };
    let names = a.operations.iter().map(|o| &o.name);
    let routes_len = route_specs.len();
    let port = super::port_const(a.port);
    let build = quote! {
        let state = ::std::sync::Arc::new((handlers, config));
        let router = __rt::routes(&ROUTES, dispatch::<H>)
            #(#forward_routes)*
            .route("/openapi.json", __rt::axum::routing::get(|| async {
                ([(__rt::http::header::CONTENT_TYPE, "application/json")], OPENAPI)
            }))
            .fallback(__rt::not_found)
            .method_not_allowed_fallback(__rt::method_not_allowed)
            .with_state(::std::sync::Arc::clone(&state));
    };
    // Inbound oauth2 is reported as not generated by validation.
    let auth = a
        .auth
        .as_ref()
        .filter(|x| super::inbound_auth(settings, x, &quote! {}).is_some());
    let router = match auth {
        // With forwards, the router has wildcard routes the lean path does
        // not know: no lean path then.
        None if a.forwards.is_empty() => quote! {
            /// The axum router of this adapter, with `GET /openapi.json`, JSON
            /// problem answers for unknown paths (404) and methods (405), and the
            /// body limit of `config` (413).
            pub fn router<H: Handlers>(handlers: H, config: __rt::RestConfig) -> __rt::axum::Router {
                lean_router(handlers, config).0
            }

            /// [`router`] and the lean path of the same handlers: the generated
            /// routes served on hand-written HTTP/1 by `listen::serve_lean`,
            /// which hands every other request to the router (`None` when a
            /// route's path is not made of whole segments).
            pub fn lean_router<H: Handlers>(
                handlers: H,
                config: __rt::RestConfig,
            ) -> (__rt::axum::Router, ::core::option::Option<#rt::listen::Lean>) {
                #build
                // The generated `Forwarder` forwards every call by default: the
                // lean path may then send a body on without parsing it.
                let forwarder = state
                    .0
                    .__forwards_every_call()
                    .then(|| state.0.upstreams() as &(dyn __rt::Upstreams + ::core::marker::Sync));
                let lean = #rt::listen::Lean::new(
                    &ROUTES,
                    &["/openapi.json"],
                    ::std::sync::Arc::clone(&state),
                    dispatch::<H>,
                    forwarder,
                );
                (router, lean)
            }
        },
        None => quote! {
            /// The axum router of this adapter, with `GET /openapi.json`, JSON
            /// problem answers for unknown paths (404) and methods (405), and the
            /// body limit of `config` (413).
            pub fn router<H: Handlers>(handlers: H, config: __rt::RestConfig) -> __rt::axum::Router {
                #build
                router
            }
        },
        Some(auth) => {
            let binds = super::client::bind_specs(cap, settings);
            let binds_len = binds.len();
            let inbound = super::inbound_auth(settings, auth, &quote! { &config.binds });
            quote! {
                /// The bound variables of the capability (for inbound authentication).
                static BINDS: [__rt::BindSpec; #binds_len] = [#(#binds),*];

                /// The axum router of this adapter, with `GET /openapi.json`, JSON
                /// problem answers for unknown paths (404) and methods (405), and the
                /// body limit of `config` (413). Every route requires the spec's
                /// `authentication` (401 otherwise), its secrets resolved from
                /// `config.binds` or the environment: a missing one is an error naming it.
                pub fn router<H: Handlers>(handlers: H, config: __rt::RestConfig) -> ::core::result::Result<__rt::axum::Router, #rt::Error> {
                    let auth = #inbound;
                    #build
                    __rt::Ok(#rt::inbound::require(router, auth))
                }
            }
        }
    };
    quote! {
        /// The adapter's namespace as written in the spec.
        pub const NAMESPACE: &str = #ns;
        pub use #rt::rest::HandlerFuture;
        #port
        /// The exposed operations, in spec order.
        pub const OPERATIONS: &[&str] = &[#(#names),*];
        /// The OpenAPI 3.1 document of this adapter (served at `/openapi.json`).
        pub const OPENAPI: &str = #openapi;

        #upstreams
        #(#inputs_structs)*

        /// How each operation reads its inputs, and what it forwards to.
        static ROUTES: [__rt::RouteSpec; #routes_len] = [#(#route_specs),*];

        #[doc = #trait_doc]
        #[diagnostic::on_unimplemented(message = #on_unimplemented, note = #unimplemented_note)]
        pub trait Handlers: ::core::marker::Send + ::core::marker::Sync + 'static {
            /// The clients the default methods forward to.
            fn upstreams(&self) -> &Upstreams;
            /// Whether every method with a `call` is its default (only the
            /// generated [`Forwarder`] says so): the lean path then sends a
            /// body the call passes on unchanged without parsing it.
            #[doc(hidden)]
            fn __forwards_every_call(&self) -> bool {
                false
            }
            #(#methods)*
        }

        #forwarder

        #router


        /// Calls the handler of the operation at index `op` of [`ROUTES`]
        /// with its typed input, built from the values the runtime read
        /// (`rest::read_inputs`).
        fn dispatch<H: Handlers>(
            h: &H,
            mut v: __rt::Values,
            forwarded: __rt::HeaderMap,
            op: usize,
        ) -> HandlerFuture<'_> {
            match op {
                #(#arms)*
                _ => ::std::boxed::Box::pin(async {
                    __rt::problem(__rt::http::StatusCode::NOT_FOUND, "no such operation")
                }),
            }
        }

        #(#handlers)*
    }
}

/// The `Arg` of exposed input `name` for a mock answer (`Missing` when the
/// operation does not declare it).
fn input_arg(op: &ir::RestOp, name: &str) -> TokenStream {
    let Some(i) = op.inputs.iter().find(|i| i.name == name) else {
        return quote! { __rt::Arg::Missing };
    };
    let f = ident(&i.rust_name);
    // An input read once is moved into its argument; one read several times
    // is cloned.
    let value = if uses(op, name) > 1 {
        quote! { input.#f.clone() }
    } else {
        quote! { input.#f }
    };
    let opt = !(i.required || i.location == Location::Path);
    match (i.location == Location::Body, opt) {
        (true, false) => quote! { __rt::Arg::json(__rt::Some(#value)) },
        (true, true) => quote! { __rt::Arg::json(#value) },
        (false, false) => quote! { __rt::Arg::text(__rt::Some(#value)) },
        (false, true) => quote! { __rt::Arg::text(#value) },
    }
}

/// How many times an operation's default body reads exposed input `name`.
fn uses(op: &ir::RestOp, name: &str) -> usize {
    op.bindings
        .iter()
        .map(|b| match &b.source {
            Source::Body => usize::from(name == "body"),
            Source::PathParam(n) | Source::Query(n) | Source::Header(n) | Source::Argument(n) => {
                usize::from(n == name)
            }
            Source::Template(parts) => parts
                .iter()
                .filter(|p| matches!(p, ir::TemplatePart::Input(n) if n == name))
                .count(),
            Source::Literal(_) => 0,
        })
        .sum::<usize>()
        + op.mock.as_ref().map_or(0, |m| mock_uses(m, name))
}

fn mock_uses(mock: &ir::Mock, name: &str) -> usize {
    match mock {
        ir::Mock::Literal(_) => 0,
        ir::Mock::Template { parts, .. } => parts
            .iter()
            .filter(|p| matches!(p, ir::TemplatePart::Input(n) if n == name))
            .count(),
        ir::Mock::Object(fields) => fields.iter().map(|(_, m)| mock_uses(m, name)).sum(),
    }
}

/// An expression building a mock answer; `text` reads an input's text.
pub(crate) fn mock_expr(
    rt: &syn::Path,
    mock: &ir::Mock,
    text: &dyn Fn(&str) -> TokenStream,
) -> TokenStream {
    match mock {
        ir::Mock::Literal(v) => {
            let json = v.to_string();
            quote! { __rt::serde_json::from_str::<__rt::serde_json::Value>(#json).unwrap_or_default() }
        }
        ir::Mock::Template { parts, ty } => {
            let ty = ty.as_str();
            let pushes = parts.iter().map(|p| match p {
                ir::TemplatePart::Text(t) => quote! { s.push_str(#t); },
                ir::TemplatePart::Input(name) => {
                    let value = text(name);
                    quote! { s.push_str(&#value); }
                }
                ir::TemplatePart::Bind(_) => quote! {},
            });
            quote! {
                {
                    let mut s = ::std::string::String::new();
                    #(#pushes)*
                    #rt::mapping::coerce_text(s, #ty)
                }
            }
        }
        ir::Mock::Object(fields) => {
            let inserts = fields.iter().map(|(k, m)| {
                let value = mock_expr(rt, m, text);
                quote! { m.insert(::std::string::String::from(#k), #value); }
            });
            quote! {
                {
                    let mut m = __rt::serde_json::Map::new();
                    #(#inserts)*
                    __rt::serde_json::Value::Object(m)
                }
            }
        }
    }
}

/// The route with its placeholders renamed by position (`{p0}`, `{p1}`):
/// axum refuses two routes that name one segment differently, and the
/// handlers read path parameters by position anyway.
fn route_for_axum(route: &str) -> String {
    let mut n = 0;
    crate::validate::template::split(route, true, false)
        .into_iter()
        .map(|p| match p {
            crate::validate::template::Part::Text(t) => t.to_owned(),
            crate::validate::template::Part::Var(_) => {
                let s = format!("{{p{n}}}");
                n += 1;
                s
            }
        })
        .collect()
}

/// The `CallPlan` of an operation whose default forwards to the consumed
/// operation its `call` names.
fn plain_call(cap: &ir::Capability, used: &[usize], op: &ir::RestOp) -> Option<TokenStream> {
    let c = op.call?;
    let api = cap.apis.get(c.api)?;
    let target = api.operations.get(c.op)?;
    let upstream = used.iter().position(|u| *u == c.api).unwrap_or_default();
    let input_of = |src: &Source| -> Option<String> {
        let name = match src {
            Source::Body => "body",
            Source::PathParam(n) | Source::Query(n) | Source::Header(n) | Source::Argument(n) => {
                n.as_str()
            }
            Source::Literal(_) | Source::Template(_) => return None,
        };
        op.inputs
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.name.clone())
    };
    let exposed = super::plan::Exposed {
        bindings: &op.bindings,
        mapping: op.output_mapping.as_deref(),
        input_of: &input_of,
    };
    Some(super::plan::call_plan(upstream, c.op, target, &exposed))
}
