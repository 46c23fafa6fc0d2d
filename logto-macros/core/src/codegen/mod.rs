//! Code generation from the IR. One module per concern; this one assembles
//! them into the modules named after each namespace.

pub mod client;
pub mod mcp;
pub mod openapi;
mod plan;
pub mod rest;
pub mod serve;
pub mod steps;

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
    let mut modules = Vec::new();
    for api in &cap.apis {
        let body = api_items(api, cap, settings, &mut sink);
        let doc = module_doc(
            "consumed API",
            &api.namespace,
            api.description.as_deref(),
            settings,
        );
        modules.push(module(&api.module, &doc, body, settings));
    }
    for a in &cap.rest {
        let openapi = openapi::document(cap, a).to_string();
        let body = rest::generate(a, cap, settings, &openapi, &mut sink);
        let doc = module_doc(
            "REST adapter",
            &a.namespace,
            a.description.as_deref(),
            settings,
        );
        modules.push(module(&a.module, &doc, body, settings));
    }
    for a in &cap.mcp {
        let body = mcp::generate(a, cap, settings, &mut sink);
        let doc = module_doc(
            "MCP adapter",
            &a.namespace,
            a.description.as_deref(),
            settings,
        );
        modules.push(module(&a.module, &doc, body, settings));
    }
    for a in &cap.skills {
        let body = serve::skill_items(a, settings);
        let doc = module_doc(
            "skill adapter",
            &a.namespace,
            a.description.as_deref(),
            settings,
        );
        modules.push(module(&a.module, &doc, body, settings));
    }
    modules.push(serve::module(cap, settings));
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
    Ok(quote! { #(#modules)* })
}

/// The doc line of a generated module.
fn module_doc(
    kind: &str,
    namespace: &str,
    description: Option<&str>,
    settings: &Settings,
) -> String {
    let what = description
        .map(|d| format!(": {}", d.trim_end_matches('.')))
        .unwrap_or_default();
    format!(
        "The {kind} `{namespace}` of `{}`{what}.",
        settings.source_name
    )
}

/// A public module named after a namespace; generated code is not linted.
/// `__rt` names the runtime's `__private` module inside it, so that the
/// static tables stay short.
fn module(name: &str, doc: &str, body: TokenStream, settings: &Settings) -> TokenStream {
    let module = ident(name);
    let rt = &settings.runtime;
    quote! {
        #[doc = #doc]
        #[allow(clippy::all)]
        pub mod #module {
            #[allow(unused_imports)]
            use #rt::__private as __rt;

            #body
        }
    }
}

/// The compile error of a construct whose runtime support is an optional
/// feature of logto-client (`avro`, `protobuf`, `jwt`): where the spec asks
/// for it, what it is, and the line to add. The runtime's `__<feature>_supported!`
/// raises it in builds without the feature.
pub(crate) fn missing_feature(
    settings: &Settings,
    pos: crate::yaml::Pos,
    path: &str,
    what: &str,
    feature: &str,
) -> String {
    format!(
        "{}:{}:{}: error: {what}, and this build of logto-client has no `{feature}` feature (at {path})\n  \
         help: turn the feature on where you depend on logto-client: logto-client = {{ ..., features = [\"{feature}\"] }}",
        settings.source_name, pos.line, pos.col
    )
}

/// `__rt::Some(value)` or `__rt::None`, for the generated tables.
pub(crate) fn opt<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(v) => quote! { __rt::Some(#v) },
        None => quote! { __rt::None },
    }
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

/// The items of a consumed API's module: constants and the client.
fn api_items(
    api: &ir::Api,
    cap: &ir::Capability,
    settings: &Settings,
    sink: &mut Sink,
) -> TokenStream {
    let ns = &api.namespace;
    let base = &api.base_uri_text;
    let names = api.operations.iter().map(|o| &o.name);
    let client = client::generate(api, cap, settings, sink);
    quote! {
        /// The namespace as written in the spec.
        pub const NAMESPACE: &str = #ns;
        /// The base URI as written in the spec.
        pub const BASE_URI: &str = #base;
        /// The consumed operations, in spec order.
        pub const OPERATIONS: &[&str] = &[#(#names),*];

        #client
    }
}

/// The `InboundAuth` an adapter's spec `authentication` asks callers for,
/// its secrets resolved from `BINDS` and `values` (a map of bound values in
/// scope); `None` for what inbound checks do not cover (oauth2 without an
/// authorization server, reported by validation).
pub(crate) fn inbound_auth(
    settings: &Settings,
    auth: &ir::Auth,
    values: &TokenStream,
) -> Option<TokenStream> {
    let rt = &settings.runtime;
    let secret = |t: &ir::Template| {
        let pieces = client::pieces(t);
        quote! { #rt::mcp::resolve_token(#pieces, &BINDS, __rt::None, #values)? }
    };
    Some(match auth {
        ir::Auth::Bearer { token } => {
            let t = secret(token);
            quote! { #rt::inbound::InboundAuth::Bearer(#t) }
        }
        ir::Auth::Basic { username, password } => {
            let (u, p) = (secret(username), secret(password));
            quote! { #rt::inbound::InboundAuth::Basic { username: #u, password: #p } }
        }
        ir::Auth::Digest { username, password } => {
            let (u, p) = (secret(username), secret(password));
            quote! {
                #rt::inbound::InboundAuth::Digest(::std::sync::Arc::new(
                    #rt::inbound::digest::DigestGuard::new(#u, #p),
                ))
            }
        }
        ir::Auth::ApiKey {
            name,
            value,
            in_query,
        } => {
            let v = secret(value);
            quote! { #rt::inbound::InboundAuth::ApiKey { name: #name, value: #v, in_query: #in_query } }
        }
        ir::Auth::OAuth2 {
            issuer: Some(issuer),
            audience,
            resource,
            scopes,
            at: (pos, path),
            ..
        } => {
            // Checking JWTs needs ring, logto-client's `jwt` feature: without
            // it the runtime's macro puts a compile error here instead.
            let missing = missing_feature(
                settings,
                *pos,
                path,
                "inbound `oauth2` checks JWT access tokens",
                "jwt",
            );
            let issuer = secret(issuer);
            let audience = match resource.as_ref().or(audience.as_ref()) {
                Some(a) => quote! { __rt::Some(::std::string::String::from(#a)) },
                None => quote! { __rt::None },
            };
            let scopes = scopes.as_deref().unwrap_or_default().split_whitespace();
            quote! {
                #rt::__jwt_supported!(
                    #missing,
                    #rt::inbound::InboundAuth::OAuth2(#rt::inbound::jwt::JwtValidator::new(
                        #issuer.expose().to_owned(),
                        #audience,
                        ::std::vec![#(::std::string::String::from(#scopes)),*],
                    ))
                )
            }
        }
        ir::Auth::OAuth2 { issuer: None, .. } => return None,
    })
}
