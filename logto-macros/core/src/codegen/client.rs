//! The typed async client of a consumed API: a `Client`, its `ClientBuilder`
//! and one `async fn` per consumed operation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::Settings;
use crate::diagnostics::{Diagnostic, Sink};
use crate::ir::{self, BodyPlan, JsonType, Location, PathPart, Piece};
use crate::names::ident;

/// Method names of `Client` that operations must not take.
const CLIENT_METHODS: [&str; 7] = [
    "builder",
    "new",
    "with_headers",
    "core",
    "base_url",
    "fresh_session",
    "with_cookie_jar",
];
/// Method names of `ClientBuilder` that base URI variables must not take.
const BUILDER_METHODS: [&str; 7] = [
    "base_url",
    "bind",
    "http_client",
    "timeout",
    "cookie_store",
    "answer_limit",
    "build",
];

/// The Rust name of an operation's method on `Client`.
pub fn method_name(op: &ir::ConsumedOp) -> String {
    if CLIENT_METHODS.contains(&op.fn_name.as_str()) {
        format!("{}_operation", op.fn_name)
    } else {
        op.fn_name.clone()
    }
}

/// The builder setter of a base URI variable.
fn var_setter(var: &str) -> String {
    let name = crate::names::snake(var);
    if BUILDER_METHODS.contains(&name.as_str()) {
        format!("set_{name}")
    } else {
        name
    }
}

/// The `BindSpec`s of every bound variable of the capability.
pub(crate) fn bind_specs(
    rt: &syn::Path,
    cap: &ir::Capability,
    settings: &Settings,
) -> Vec<TokenStream> {
    cap.binds
        .iter()
        .map(|b| {
            let namespace = opt_str(b.namespace.as_deref());
            let var = &b.var;
            let key = &b.source_key;
            let location = opt_str(b.location.as_deref());
            let used_at = b.used_at.clone().unwrap_or_else(|| settings.source_name.clone());
            quote! {
                #rt::__private::BindSpec { namespace: #namespace, var: #var, source_key: #key, location: #location, used_at: #used_at }
            }
        })
        .collect()
}

pub(crate) fn pieces(rt: &syn::Path, template: &ir::Template) -> TokenStream {
    let items = template.0.iter().map(|p| match p {
        Piece::Text(t) => quote! { #rt::__private::Piece::Text(#t) },
        Piece::Var(v) => quote! { #rt::__private::Piece::Var(#v) },
        Piece::Bind(i) => quote! { #rt::__private::Piece::Bind(#i) },
    });
    quote! { &[#(#items),*] }
}

fn opt_str(value: Option<&str>) -> TokenStream {
    match value {
        Some(v) => quote! { ::core::option::Option::Some(#v) },
        None => quote! { ::core::option::Option::None },
    }
}

/// The Rust type of an argument. `owned` JSON values are taken by value
/// (the hidden `_request` functions), so servers can move a body in.
fn arg_type(rt: &syn::Path, input: &ir::Input, owned: bool) -> TokenStream {
    let base = match (input.ty, owned) {
        (JsonType::String, _) => quote! { &str },
        (JsonType::Integer, _) => quote! { i64 },
        (JsonType::Number, _) => quote! { f64 },
        (JsonType::Boolean, _) => quote! { bool },
        (JsonType::Object | JsonType::Array, false) => {
            quote! { &#rt::__private::serde_json::Value }
        }
        (JsonType::Object | JsonType::Array, true) => quote! { #rt::__private::serde_json::Value },
    };
    if input.required {
        base
    } else {
        quote! { ::core::option::Option<#base> }
    }
}

/// An expression turning argument `v` (owned) into a JSON value.
fn to_json(rt: &syn::Path, input: &ir::Input, v: &TokenStream) -> TokenStream {
    match input.ty {
        JsonType::Object | JsonType::Array => quote! { #v },
        _ => quote! { #rt::__private::serde_json::json!(#v) },
    }
}

/// An expression turning argument `v` into text (path, query, header).
fn to_text(input: &ir::Input, v: &TokenStream) -> TokenStream {
    match input.ty {
        JsonType::String => quote! { #v },
        _ => quote! { &(#v).to_string() },
    }
}

/// Generates the client items of `api` (placed inside its module).
pub fn generate(
    api: &ir::Api,
    cap: &ir::Capability,
    settings: &Settings,
    sink: &mut Sink,
) -> TokenStream {
    let rt = &settings.runtime;
    let ns = &api.namespace;
    let base_text = &api.base_uri_text;
    let base = pieces(rt, &api.base_uri);
    let binds = bind_specs(rt, cap, settings);
    let auth = match &api.auth {
        None => quote! { ::core::option::Option::None },
        Some(ir::Auth::Bearer { token }) => {
            let token = pieces(rt, token);
            quote! { ::core::option::Option::Some(#rt::__private::AuthSpec::Bearer { token: #token }) }
        }
        Some(ir::Auth::Basic { username, password }) => {
            let (u, p) = (pieces(rt, username), pieces(rt, password));
            quote! { ::core::option::Option::Some(#rt::__private::AuthSpec::Basic { username: #u, password: #p }) }
        }
        Some(ir::Auth::ApiKey {
            name,
            value,
            in_query,
        }) => {
            let value = pieces(rt, value);
            quote! { ::core::option::Option::Some(#rt::__private::AuthSpec::ApiKey { name: #name, value: #value, in_query: #in_query }) }
        }
        Some(ir::Auth::Digest { username, password }) => {
            let (u, p) = (pieces(rt, username), pieces(rt, password));
            quote! { ::core::option::Option::Some(#rt::__private::AuthSpec::Digest { username: #u, password: #p }) }
        }
        Some(ir::Auth::OAuth2 {
            token_endpoint,
            issuer,
            client_id,
            client_secret,
            scopes,
            audience,
            resource,
        }) => {
            let opt_pieces = |t: &Option<ir::Template>| match t {
                Some(t) => {
                    let p = pieces(rt, t);
                    quote! { ::core::option::Option::Some(#p) }
                }
                None => quote! { ::core::option::Option::None },
            };
            let (endpoint, issuer) = (opt_pieces(token_endpoint), opt_pieces(issuer));
            let empty = ir::Template::default();
            let id = pieces(rt, client_id.as_ref().unwrap_or(&empty));
            let secret = pieces(rt, client_secret.as_ref().unwrap_or(&empty));
            let (scopes, audience, resource) = (
                opt_str(scopes.as_deref()),
                opt_str(audience.as_deref()),
                opt_str(resource.as_deref()),
            );
            quote! {
                ::core::option::Option::Some(#rt::__private::AuthSpec::OAuth2 {
                    token_endpoint: #endpoint, issuer: #issuer, client_id: #id, client_secret: #secret,
                    scopes: #scopes, audience: #audience, resource: #resource,
                })
            }
        }
    };
    let fixed = api.fixed_params.iter().filter_map(|f| {
        let place = match f.location {
            Location::Header => quote! { Header },
            Location::Query => quote! { Query },
            Location::Cookie => quote! { Cookie },
            Location::Path | Location::Body | Location::Template => {
                unsupported(sink, settings, ns, &format!("an API-wide `in: {}` parameter (`{}`) has no meaning", f.location.as_str(), f.name));
                return None;
            }
        };
        let name = &f.name;
        let value = pieces(rt, &f.value);
        Some(quote! { #rt::__private::FixedSpec { name: #name, place: #rt::__private::FixedPlace::#place, value: #value } })
    }).collect::<Vec<_>>();
    let setters = api.base_vars.iter().map(|v| {
        let setter = format_ident!("{}", var_setter(v));
        let doc = format!("Sets `{v}` in the base URI `{base_text}`.");
        quote! {
            #[doc = #doc]
            pub fn #setter(mut self, value: impl ::core::convert::Into<::std::string::String>) -> Self {
                self.inner = self.inner.var(#v, value);
                self
            }
        }
    });
    let example_setters: String = api
        .base_vars
        .iter()
        .map(|v| format!(".{}(\"...\")", var_setter(v)))
        .collect();
    let builder_doc = format!(
        "Builds a [`Client`] for `{ns}`: `Client::builder(){example_setters}.build()`.\n\n\
         The base URL is `{base_text}` unless [`ClientBuilder::base_url`] replaces it."
    );
    let ops: Vec<TokenStream> = api
        .operations
        .iter()
        .map(|op| operation(rt, api, op, settings, sink))
        .collect();
    let client_doc = format!(
        "A client for the consumed API `{ns}`: one `async fn` per operation.\n\n\
         Cheap to clone and safe to share. With the default settings it keeps a cookie store, \
         so one `Client` is one session."
    );
    quote! {
        #[doc(hidden)]
        pub static SPEC: #rt::__private::ApiSpec = #rt::__private::ApiSpec {
            namespace: #ns,
            base_uri: #base,
            base_uri_text: #base_text,
            binds: &[#(#binds),*],
            auth: #auth,
            fixed: &[#(#fixed),*],
        };

        #[doc = #client_doc]
        #[derive(Debug, Clone)]
        pub struct Client {
            core: #rt::__private::Core,
        }

        #[doc = #builder_doc]
        #[derive(Debug, Default)]
        pub struct ClientBuilder {
            inner: #rt::__private::CoreBuilder,
        }

        impl ClientBuilder {
            /// Replaces the spec's whole base URI (e.g. a local test server).
            pub fn base_url(mut self, url: impl ::core::convert::Into<::std::string::String>) -> Self {
                self.inner = self.inner.base_url(url);
                self
            }
            #(#setters)*
            /// Gives a bound variable's value (`"LOGTO_API_KEY"` or `"env.LOGTO_API_KEY"`);
            /// otherwise it is read from the environment as the spec's `binds` say.
            pub fn bind(mut self, name: impl ::core::convert::Into<::std::string::String>, value: impl ::core::convert::Into<::std::string::String>) -> Self {
                self.inner = self.inner.bind(name, value);
                self
            }
            /// Uses this reqwest client (with its own cookie store and settings).
            pub fn http_client(mut self, client: #rt::__private::reqwest::Client) -> Self {
                self.inner = self.inner.http_client(client);
                self
            }
            /// The time one call may take (default 30 s).
            pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.inner = self.inner.timeout(timeout);
                self
            }
            /// Whether the client keeps cookies between calls (default `true`).
            pub fn cookie_store(mut self, enabled: bool) -> Self {
                self.inner = self.inner.cookie_store(enabled);
                self
            }
            /// The largest answer body accepted (default 16 MiB); a larger
            /// one is an error, never a truncated value.
            pub fn answer_limit(mut self, bytes: usize) -> Self {
                self.inner = self.inner.answer_limit(bytes);
                self
            }
            /// Builds the client; fails naming the missing variable or the bad URL.
            pub fn build(self) -> ::core::result::Result<Client, #rt::Error> {
                ::core::result::Result::Ok(Client { core: self.inner.build(&SPEC)? })
            }
        }

        impl Client {
            /// Starts a [`ClientBuilder`].
            pub fn builder() -> ClientBuilder {
                ClientBuilder::default()
            }

            /// A client for `base_url` with the default settings.
            pub fn new(base_url: &str) -> ::core::result::Result<Self, #rt::Error> {
                Self::builder().base_url(base_url).build()
            }

            /// A copy that adds `headers` to every call (e.g. a caller's `Cookie`).
            pub fn with_headers(&self, headers: #rt::__private::http::HeaderMap) -> Self {
                Self { core: self.core.with_headers(headers) }
            }

            /// The runtime under this client (for servers that stream answers).
            pub fn core(&self) -> &#rt::__private::Core {
                &self.core
            }

            /// The same client with a new, empty cookie jar: one more session.
            pub fn fresh_session(&self) -> ::core::result::Result<Self, #rt::Error> {
                ::core::result::Result::Ok(Self { core: self.core.fresh_session()? })
            }

            /// The same client keeping its cookies in `jar` (an MCP session's).
            pub fn with_cookie_jar(&self, jar: &#rt::client::CookieJar) -> Self {
                Self { core: self.core.with_cookie_jar(jar) }
            }

            /// The base URL calls go to.
            pub fn base_url(&self) -> &str {
                self.core.base_url()
            }

            #(#ops)*
        }
    }
}

fn unsupported(sink: &mut Sink, settings: &Settings, ns: &str, what: &str) {
    sink.push(Diagnostic {
        file: settings.source_name.clone(),
        pos: crate::yaml::Pos { line: 1, col: 1 },
        path: format!("capability.consumes[{ns}]"),
        message: format!("{what} (in `{ns}`)"),
        help:
            "this construct is read but not generated yet; remove it or ask for it to be supported"
                .into(),
    });
}

/// Statements pushing each given `in: body` input onto `vars` as JSON.
fn body_vars(rt: &syn::Path, op: &ir::ConsumedOp) -> Vec<TokenStream> {
    op.inputs
        .iter()
        .filter(|i| i.location == Location::Body)
        .map(|i| {
            let name = &i.name;
            let v = ident(&i.rust_name);
            let value = quote! { value };
            let json = to_json(rt, i, &value);
            if i.required {
                quote! { { let value = #v; vars.push((#name, #json)); } }
            } else {
                quote! { if let ::core::option::Option::Some(value) = #v { vars.push((#name, #json)); } }
            }
        })
        .collect()
}

fn operation(
    rt: &syn::Path,
    api: &ir::Api,
    op: &ir::ConsumedOp,
    settings: &Settings,
    sink: &mut Sink,
) -> TokenStream {
    let method_ident = ident(&method_name(op));
    let request_ident = format_ident!("{}_request", method_name(op));
    let full = format!("{}.{}", api.namespace, op.name);
    let method = format_ident!("{}", op.method);
    let args = op.inputs.iter().map(|i| {
        let name = ident(&i.rust_name);
        let ty = arg_type(rt, i, false);
        quote! { #name: #ty }
    });
    let args2 = op.inputs.iter().map(|i| {
        let name = ident(&i.rust_name);
        let ty = arg_type(rt, i, true);
        quote! { #name: #ty }
    });
    // The public method borrows JSON values; the `_request` function owns them.
    let arg_names = op.inputs.iter().map(|i| {
        let name = ident(&i.rust_name);
        match (i.ty, i.required) {
            (JsonType::Object | JsonType::Array, true) => quote! { #name.clone() },
            (JsonType::Object | JsonType::Array, false) => quote! { #name.cloned() },
            _ => quote! { #name },
        }
    });
    let input = |name: &str| op.inputs.iter().find(|i| i.name == name);

    let mut steps = Vec::new();
    for part in &op.path {
        match part {
            PathPart::Text(t) => steps.push(quote! { call.path_text(#t); }),
            PathPart::Param(p) => {
                if let Some(i) = input(p) {
                    let v = ident(&i.rust_name);
                    let text = to_text(i, &quote! { #v });
                    steps.push(quote! { call.path_param(#p, #text)?; });
                }
            }
        }
    }
    for i in op.inputs.iter().filter(|i| {
        matches!(
            i.location,
            Location::Query | Location::Header | Location::Cookie
        )
    }) {
        let name = &i.name;
        let v = ident(&i.rust_name);
        let value = quote! { value };
        let text = to_text(i, &value);
        let add = match i.location {
            Location::Query => quote! { call.query(#name, #text); },
            Location::Header => quote! { call.header(#name, #text)?; },
            _ => quote! { call.cookie(#name, #text)?; },
        };
        steps.push(if i.required {
            quote! { { let value = #v; #add } }
        } else {
            quote! { if let ::core::option::Option::Some(value) = #v { #add } }
        });
    }
    let template_vars: Vec<TokenStream> = op
        .inputs
        .iter()
        .filter(|i| i.location == Location::Template)
        .map(|i| {
            let name = &i.name;
            let v = ident(&i.rust_name);
            quote! { (#name, #v) }
        })
        .collect();
    for f in &op.fixed {
        let name = &f.name;
        let value = pieces(rt, &f.value);
        let add = match f.location {
            Location::Query => quote! { call.query(#name, &value); },
            Location::Header => quote! { call.header(#name, &value)?; },
            Location::Cookie => quote! { call.cookie(#name, &value)?; },
            Location::Path | Location::Body | Location::Template => {
                unsupported(
                    sink,
                    settings,
                    &api.namespace,
                    &format!(
                        "operation `{}`: a fixed `in: {}` value for `{}`",
                        op.name,
                        f.location.as_str(),
                        f.name
                    ),
                );
                continue;
            }
        };
        steps.push(
            quote! { { let value = core.render_with(#value, &[#(#template_vars),*])?; #add } },
        );
    }
    match &op.body {
        BodyPlan::None => {}
        BodyPlan::Whole(name) => {
            if let Some(i) = input(name) {
                let v = ident(&i.rust_name);
                let value = quote! { value };
                let json = to_json(rt, i, &value);
                steps.push(if i.required {
                    quote! { { let value = #v; call.json(#json); } }
                } else {
                    quote! { if let ::core::option::Option::Some(value) = #v { call.json(#json); } }
                });
            }
        }
        BodyPlan::Merged(names) => {
            let inserts = names.iter().filter_map(|n| input(n)).map(|i| {
                let name = &i.name;
                let v = ident(&i.rust_name);
                let value = quote! { value };
                let json = to_json(rt, i, &value);
                if i.required {
                    quote! { { let value = #v; body.insert(#name.to_owned(), #json); } }
                } else {
                    quote! { if let ::core::option::Option::Some(value) = #v { body.insert(#name.to_owned(), #json); } }
                }
            });
            steps.push(quote! {
                let mut body = #rt::__private::serde_json::Map::new();
                #(#inserts)*
                call.json(#rt::__private::serde_json::Value::Object(body));
            });
        }
        BodyPlan::Text {
            content_type,
            template,
        } => {
            let vars = body_vars(rt, op);
            steps.push(quote! {
                let mut vars: ::std::vec::Vec<(&str, #rt::__private::serde_json::Value)> = ::std::vec::Vec::new();
                #(#vars)*
                call.text(#content_type, core.render_text(#template, &vars)?);
            });
        }
        BodyPlan::Form(fields) => {
            let vars = body_vars(rt, op);
            let fields = fields.iter().map(|(k, v)| quote! { (#k, #v) });
            steps.push(quote! {
                let mut vars: ::std::vec::Vec<(&str, #rt::__private::serde_json::Value)> = ::std::vec::Vec::new();
                #(#vars)*
                call.text("application/x-www-form-urlencoded", core.render_form(&[#(#fields),*], &vars)?);
            });
        }
        BodyPlan::Multipart(parts) => {
            let vars = body_vars(rt, op);
            let parts = parts.iter().map(|p| {
                let (name, value) = (&p.name, &p.value);
                let filename = opt_str(p.filename.as_deref());
                let ct = opt_str(p.content_type.as_deref());
                quote! { (#name, #value, #filename, #ct) }
            });
            steps.push(quote! {
                let mut vars: ::std::vec::Vec<(&str, #rt::__private::serde_json::Value)> = ::std::vec::Vec::new();
                #(#vars)*
                core.render_multipart(&mut call, &[#(#parts),*], &vars)?;
            });
        }
        BodyPlan::Template { content_type, data } => {
            if content_type != "application/json" {
                unsupported(
                    sink,
                    settings,
                    &api.namespace,
                    &format!("operation `{}`: a `{content_type}` body template", op.name),
                );
            } else {
                let text = data.to_string();
                let vars = op.inputs.iter().filter(|i| i.location == Location::Body).map(|i| {
                    let name = &i.name;
                    let v = ident(&i.rust_name);
                    let value = quote! { value };
                    let json = to_json(rt, i, &value);
                    if i.required {
                        quote! { { let value = #v; vars.push((#name, #json)); } }
                    } else {
                        quote! { if let ::core::option::Option::Some(value) = #v { vars.push((#name, #json)); } }
                    }
                });
                steps.push(quote! {
                    let mut vars: ::std::vec::Vec<(&str, #rt::__private::serde_json::Value)> = ::std::vec::Vec::new();
                    #(#vars)*
                    call.json(core.render_json(#text, &vars)?);
                });
            }
        }
    }
    let mut mapping = match &op.output_mapping {
        Some(m) => quote! { call.mapping = ::core::option::Option::Some(#m); },
        None => quote! {},
    };
    if let Some(f) = &op.raw_format {
        // A compile error naming the feature when the runtime lacks it.
        if f == "avro" {
            mapping.extend(quote! { #rt::__avro_supported!(); });
        }
        if f == "protobuf" {
            mapping.extend(quote! { #rt::__protobuf_supported!(); });
        }
        mapping.extend(quote! { call.raw_format = ::core::option::Option::Some(#f); });
        if let Some(schema) = &op.output_schema {
            mapping.extend(quote! { call.raw_schema = ::core::option::Option::Some(#schema); });
        }
    }

    let summary = op
        .description
        .clone()
        .unwrap_or_else(|| format!("Calls `{}`.", op.name));
    let mut doc = format!(
        "{summary}\n\nSends a `{}` request to `{}`.",
        op.method, op.path_text
    );
    if !op.inputs.is_empty() {
        doc.push_str("\n\n# Arguments\n");
        for i in &op.inputs {
            let what = i
                .description
                .clone()
                .unwrap_or_else(|| format!("The `{}` {} parameter.", i.name, i.location.as_str()));
            let opt = if i.required { "" } else { " (optional)" };
            doc.push_str(&format!(
                "* `{}`: {what}{opt} (`{}` in {})\n",
                i.rust_name,
                i.name,
                i.location.as_str()
            ));
        }
    }
    doc.push_str(&format!(
        "\n\nThe `{}` operation of `{}`. A 2xx JSON body comes back {}; an empty body as `null`; \
         other content as a JSON string. Any other status is [`Error::Response`]({}::Error::Response).",
        op.name,
        settings.source_name,
        if op.output_mapping.is_some() { "through the output mapping" } else { "unchanged" },
        quote!(#rt).to_string().replace(' ', "")
    ));
    let request_doc = format!("The request `{}` sends, without sending it.", method_ident);
    quote! {
        #[doc = #doc]
        pub async fn #method_ident(&self, #(#args),*) -> ::core::result::Result<#rt::ResponseValue<#rt::__private::serde_json::Value>, #rt::Error> {
            let call = Self::#request_ident(&self.core, #(#arg_names),*)?;
            self.core.send(call).await
        }

        #[doc = #request_doc]
        #[doc(hidden)]
        #[allow(unused_variables)]
        pub fn #request_ident(core: &#rt::__private::Core, #(#args2),*) -> ::core::result::Result<#rt::__private::Call, #rt::Error> {
            let mut call = #rt::__private::Call::new(#full, #rt::__private::http::Method::#method);
            #(#steps)*
            #mapping
            ::core::result::Result::Ok(call)
        }
    }
}
