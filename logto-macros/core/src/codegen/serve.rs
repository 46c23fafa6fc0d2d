//! The `capability` module of an expansion: one call that serves every
//! exposed adapter (REST, MCP over HTTP or stdio, skill) at its spec address
//! and port, with consumed base URLs and binds from a `ServeConfig`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Settings;
use crate::ir;
use crate::names::ident;

/// The body of a skill adapter's module.
pub fn skill_items(a: &ir::SkillAdapter, settings: &Settings) -> TokenStream {
    let rt = &settings.runtime;
    let ns = &a.namespace;
    let catalog = a.catalog.to_string();
    let port = super::port_const(a.port);
    let names = a
        .catalog
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("name").and_then(|n| n.as_str()));
    quote! {
        /// The adapter's namespace as written in the spec.
        pub const NAMESPACE: &str = #ns;
        #port
        /// The skills, in spec order.
        pub const SKILLS: &[&str] = &[#(#names),*];
        /// The catalog served (generated from the spec).
        #[doc(hidden)]
        pub const CATALOG: &str = #catalog;

        /// The axum router: `GET /skills`, `/skills/{name}`, `/skills/{name}/download`,
        /// `/skills/{name}/contents` and `/skills/{name}/contents/{file}`.
        pub fn router() -> __rt::axum::Router {
            #rt::skill::router(CATALOG)
        }
    }
}

/// The `capability` module.
pub fn module(cap: &ir::Capability, settings: &Settings) -> TokenStream {
    let rt = &settings.runtime;
    let binds = super::client::bind_specs(cap, settings);
    let binds_len = binds.len();
    // One client per consumed API and cookie policy: REST adapters forward
    // each caller's cookies (no jar); MCP sessions keep a jar each.
    let mut clients = Vec::new();
    let mut rest_apis: Vec<usize> = Vec::new();
    let mut mcp_apis: Vec<usize> = Vec::new();
    for a in &cap.rest {
        rest_apis.extend(super::rest::used_apis(cap, a));
    }
    for a in cap.mcp.iter() {
        mcp_apis.extend(super::mcp::used_apis(cap, a));
    }
    for (apis, jar, prefix) in [
        (&mut rest_apis, false, "rest"),
        (&mut mcp_apis, true, "mcp"),
    ] {
        apis.sort_unstable();
        apis.dedup();
        for i in apis.iter() {
            let Some(api) = cap.apis.get(*i) else {
                continue;
            };
            let module = ident(&api.module);
            let var = format_ident!("{prefix}_{}", api.module);
            let ns = &api.namespace;
            clients.push(quote! {
                let #var = {
                    let mut b = super::#module::Client::builder()
                        .timeout(config.timeout)
                        .answer_limit(config.answer_limit)
                        .cookie_store(#jar);
                    if let __rt::Some(url) = config.upstreams.get(#ns) {
                        b = b.base_url(url.as_str());
                    }
                    for pem in &config.upstream_ca {
                        b = b.root_certificate_pem(pem.as_slice());
                    }
                    for (name, value) in &binds {
                        b = b.bind(name.as_str(), value.expose());
                    }
                    b.build()?
                };
            });
        }
    }
    let upstreams = |adapter_module: &syn::Ident, used: Vec<usize>, prefix: &str| {
        let fields = used.iter().filter_map(|i| cap.apis.get(*i)).map(|api| {
            let f = ident(&api.module);
            let var = format_ident!("{prefix}_{}", api.module);
            quote! { #f: #var.clone() }
        });
        quote! { super::#adapter_module::Upstreams { #(#fields,)* } }
    };
    let mut adapters = Vec::new();
    for a in &cap.rest {
        let m = ident(&a.module);
        let ups = upstreams(&m, super::rest::used_apis(cap, a), "rest");
        let ns = &a.namespace;
        let (addr, port) = (super::opt(a.address.as_deref()), super::opt(a.port));
        let call = quote! { super::#m::router(super::#m::Forwarder { upstreams: #ups }, rest_config.clone()) };
        let guarded = a
            .auth
            .as_ref()
            .is_some_and(|x| super::inbound_auth(settings, x, &quote! {}).is_some());
        let router = if guarded {
            quote! { #call? }
        } else {
            call
        };
        adapters.push(quote! {
            adapters.push(#rt::serve::Adapter {
                namespace: #ns,
                kind: "rest",
                addr: config.addr(#ns, #addr, #port)?,
                router: #router,
                path: "",
            });
        });
    }
    let mut stdio = quote! { __rt::None };
    for a in &cap.mcp {
        let m = ident(&a.module);
        let ups = upstreams(&m, super::mcp::used_apis(cap, a), "mcp");
        let ns = &a.namespace;
        if a.stdio {
            stdio = quote! { __rt::Some(super::#m::try_serve_stdio(#ups)?) };
            continue;
        }
        let (addr, port) = (super::opt(a.address.as_deref()), super::opt(a.port));
        adapters.push(quote! {
            // The router first: a build without the `mcp` feature says so
            // before anything else is asked of the configuration.
            adapters.push(#rt::serve::Adapter {
                router: super::#m::try_router(#ups, &config.mcp(&binds))?,
                namespace: #ns,
                kind: "mcp",
                addr: config.addr(#ns, #addr, #port)?,
                path: "/mcp",
            });
        });
    }
    for a in &cap.skills {
        let m = ident(&a.module);
        let ns = &a.namespace;
        let (addr, port) = (super::opt(a.address.as_deref()), super::opt(a.port));
        adapters.push(quote! {
            adapters.push(#rt::serve::Adapter {
                namespace: #ns,
                kind: "skill",
                addr: config.addr(#ns, #addr, #port)?,
                router: super::#m::router(),
                path: "",
            });
        });
    }
    let control = match &cap.control {
        None => quote! {},
        Some(c) => {
            let ns = &c.namespace;
            let (addr, port) = (super::opt(c.address.as_deref()), super::opt(c.port));
            let (health, info, metrics, traces, buffer) =
                (c.health, c.info, c.metrics, c.traces, c.buffer);
            let unsupported = c.unsupported.iter().map(|(r, w)| quote! { (#r, #w) });
            let notes = &c.notes;
            let notes_len = notes.len();
            let label = super::opt(cap.label.as_deref());
            let version = &cap.version;
            let guard = c
                .auth
                .as_ref()
                .and_then(|a| super::inbound_auth(settings, a, &quote! { &binds }))
                .map(|auth| quote! { let router = #rt::inbound::require(router, #auth); });
            let _ = buffer;
            quote! {
                let notes: [&str; #notes_len] = [#(#notes),*];
                for note in notes {
                    ::std::eprintln!("control adapter `{}`: {note}", #ns);
                }
                let mut infos: ::std::vec::Vec<#rt::control::AdapterInfo> = adapters
                    .iter()
                    .map(|a| #rt::control::AdapterInfo { kind: a.kind, namespace: a.namespace, port: a.addr.port() })
                    .collect();
                for a in &mut adapters {
                    let router = ::core::mem::take(&mut a.router);
                    a.router = #rt::control::observe(router, observer.clone(), a.namespace);
                }
                let addr = config.addr(#ns, #addr, #port)?;
                infos.push(#rt::control::AdapterInfo { kind: "control", namespace: #ns, port: addr.port() });
                let spec = #rt::control::ControlSpec {
                    health: #health,
                    info: #info,
                    metrics: #metrics,
                    traces: #traces,
                    unsupported: &[#(#unsupported),*],
                    label: #label,
                    spec_version: #version,
                };
                let router = #rt::control::router(spec, observer, infos);
                #guard
                adapters.push(#rt::serve::Adapter { namespace: #ns, kind: "control", addr, router, path: "" });
            }
        }
    };
    let observer = match &cap.control {
        Some(c) => {
            let buffer = c.buffer;
            quote! { let observer = #rt::control::Observer::new(#buffer); }
        }
        None => quote! {},
    };
    // Clients are built only when there is a stdio adapter to serve.
    let stdio_body = if cap.mcp.iter().any(|a| a.stdio) {
        quote! {
            let binds = config.bind_values(&BINDS)?;
            #(#clients)*
            __rt::Ok(#stdio)
        }
    } else {
        quote! {
            let _ = config;
            __rt::Ok(__rt::None)
        }
    };
    let doc = format!(
        "Serves the whole capability `{}` as the reference engine does: every exposed adapter at its \
         spec address and port (each overridable), consumed base URLs and bound variables from a \
         [`ServeConfig`]({}::serve::ServeConfig) or the environment.",
        settings.source_name,
        quote!(#rt).to_string().replace(' ', "")
    );
    quote! {
        #[doc = #doc]
        #[allow(clippy::all, unused_mut, unused_variables)]
        pub mod capability {
            #[allow(unused_imports)]
            use #rt::__private as __rt;

            /// The bound variables of the capability.
            static BINDS: [__rt::BindSpec; #binds_len] = [#(#binds),*];

            /// The adapters served over HTTP, configured by `config` (an MCP
            /// adapter with `transport: stdio` is served by [`serve`] on
            /// stdin/stdout instead).
            pub fn adapters(config: &#rt::serve::ServeConfig) -> ::core::result::Result<::std::vec::Vec<#rt::serve::Adapter>, #rt::Error> {
                let binds = config.bind_values(&BINDS)?;
                let mut rest_config = config.rest.clone();
                rest_config.binds = binds.clone();
                #(#clients)*
                let mut adapters: ::std::vec::Vec<#rt::serve::Adapter> = ::std::vec::Vec::new();
                #(#adapters)*
                #observer
                #control
                __rt::Ok(adapters)
            }

            /// The MCP adapter with `transport: stdio`, if the spec has one:
            /// it serves one session on stdin/stdout.
            pub fn stdio(config: &#rt::serve::ServeConfig) -> ::core::result::Result<::core::option::Option<#rt::serve::Stdio>, #rt::Error> {
                #stdio_body
            }

            /// Serves every adapter until Ctrl-C or SIGTERM; in-flight
            /// requests then get `config.grace` to finish.
            // A boxed future rather than an `async fn`: as `async fn`s, these
            // two were code-generated in a user's binary even when nothing
            // called them (`-Z print-mono-items`), with the whole server
            // stack they reach: 550 more functions for the Logto capability,
            // 2.2 s instead of 1.3-1.8 s for a first build of a crate using
            // it. (The client's `async fn` methods are not: measured.)
            pub fn serve(config: #rt::serve::ServeConfig) -> #rt::serve::Serving<::std::io::Result<()>> {
                ::std::boxed::Box::pin(async move {
                    let built = adapters(&config).map_err(::std::io::Error::other)?;
                    let stdio = stdio(&config).map_err(::std::io::Error::other)?;
                    #rt::serve::run(built, stdio, &config).await
                })
            }

            /// The `main` of a binary serving this capability, configured by
            /// its command-line options (see `ServeConfig::from_args`).
            pub fn main() -> #rt::serve::Serving<::std::process::ExitCode> {
                ::std::boxed::Box::pin(#rt::serve::main(adapters, stdio))
            }
        }
    }
}
