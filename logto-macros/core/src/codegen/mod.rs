//! Code generation from the IR. One module per concern; this one assembles
//! them into the modules named after each namespace.

pub mod client;
pub mod mcp;
pub mod openapi;
pub mod rest;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::{Diagnostics, Sink};
use crate::ir;
use crate::names::ident;

/// Choices that do not come from the spec.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The path generated code uses to reach the runtime crate.
    pub runtime: syn::Path,
    /// The file name shown in generated docs.
    pub source_name: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            runtime: syn::parse_quote!(::logto_client),
            source_name: "capability.yaml".into(),
        }
    }
}

/// Generates every module of a capability.
pub fn generate(cap: &ir::Capability, settings: &Settings) -> Result<TokenStream, Diagnostics> {
    let mut sink = Sink::new(settings.source_name.clone());
    let apis: Vec<TokenStream> = cap
        .apis
        .iter()
        .map(|api| api_module(api, cap, settings, &mut sink))
        .collect();
    let rest: Vec<TokenStream> = cap
        .rest
        .iter()
        .map(|a| {
            let module = ident(&a.module);
            let doc = format!(
                "The REST adapter `{}` of `{}`{}.",
                a.namespace,
                settings.source_name,
                a.description
                    .as_deref()
                    .map(|d| format!(": {}", d.trim_end_matches('.')))
                    .unwrap_or_default()
            );
            let openapi = openapi::document(cap, a).to_string();
            let body = rest::generate(a, cap, settings, &openapi, &mut sink);
            quote! {
                #[doc = #doc]
                #[allow(clippy::all)]
                pub mod #module {
                    #body
                }
            }
        })
        .collect();
    let mcp: Vec<TokenStream> = cap
        .mcp
        .iter()
        .map(|a| {
            let module = ident(&a.module);
            let doc = format!(
                "The MCP adapter `{}` of `{}`{}.",
                a.namespace,
                settings.source_name,
                a.description
                    .as_deref()
                    .map(|d| format!(": {}", d.trim_end_matches('.')))
                    .unwrap_or_default()
            );
            let body = mcp::generate(a, cap, settings, &mut sink);
            quote! {
                #[doc = #doc]
                #[allow(clippy::all)]
                pub mod #module {
                    #body
                }
            }
        })
        .collect();
    for (pos, path, what) in &cap.unsupported {
        sink.error(
            *pos,
            path,
            what.clone(),
            "this construct is read but not generated yet; remove it, or ask for it to be supported",
        );
    }
    if sink.has_errors() {
        return Err(sink.finish());
    }
    Ok(quote! {
        #(#apis)*
        #(#rest)*
        #(#mcp)*
    })
}

pub(crate) fn port_const(port: Option<u16>) -> TokenStream {
    match port {
        Some(p) => quote! {
            /// The port the spec asks this adapter to listen on.
            pub const PORT: u16 = #p;
        },
        None => quote! {},
    }
}

fn api_module(
    api: &ir::Api,
    cap: &ir::Capability,
    settings: &Settings,
    sink: &mut Sink,
) -> TokenStream {
    let module = ident(&api.module);
    let doc = format!(
        "The consumed API `{}` of `{}`{}.",
        api.namespace,
        settings.source_name,
        api.description
            .as_deref()
            .map(|d| format!(": {}", d.trim_end_matches('.')))
            .unwrap_or_default()
    );
    let ns = &api.namespace;
    let base = &api.base_uri_text;
    let names = api.operations.iter().map(|o| &o.name);
    let client = client::generate(api, cap, settings, sink);
    quote! {
        #[doc = #doc]
        #[allow(clippy::all)]
        pub mod #module {
            /// The namespace as written in the spec.
            pub const NAMESPACE: &str = #ns;
            /// The base URI as written in the spec.
            pub const BASE_URI: &str = #base;
            /// The consumed operations, in spec order.
            pub const OPERATIONS: &[&str] = &[#(#names),*];

            #client
        }
    }
}
