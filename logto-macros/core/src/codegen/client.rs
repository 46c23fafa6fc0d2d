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
const BUILDER_METHODS: [&str; 8] = [
    "base_url",
    "bind",
    "root_certificate_pem",
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
pub(crate) fn bind_specs(cap: &ir::Capability, settings: &Settings) -> Vec<TokenStream> {
    cap.binds
        .iter()
        .map(|b| {
            let namespace = super::opt(b.namespace.as_deref());
            let var = &b.var;
            let key = &b.source_key;
            let location = super::opt(b.location.as_deref());
            let used_at = b.used_at.clone().unwrap_or_else(|| settings.source_name.clone());
            quote! {
                __rt::BindSpec { namespace: #namespace, var: #var, source_key: #key, location: #location, used_at: #used_at }
            }
        })
        .collect()
}

pub(crate) fn pieces(template: &ir::Template) -> TokenStream {
    let items = template.0.iter().map(|p| match p {
        Piece::Text(t) => quote! { __rt::Piece::Text(#t) },
        Piece::Var(v) => quote! { __rt::Piece::Var(#v) },
        Piece::Bind(i) => quote! { __rt::Piece::Bind(#i) },
    });
    quote! { &[#(#items),*] }
}

/// The Rust type of an argument: JSON values are borrowed.
fn arg_type(input: &ir::Input) -> TokenStream {
    let base = match input.ty {
        JsonType::String => quote! { &str },
        JsonType::Integer => quote! { i64 },
        JsonType::Number => quote! { f64 },
        JsonType::Boolean => quote! { bool },
        JsonType::Object | JsonType::Array => quote! { &__rt::serde_json::Value },
    };
    if input.required {
        base
    } else {
        quote! { ::core::option::Option<#base> }
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
    let base = pieces(&api.base_uri);
    let binds = bind_specs(cap, settings);
    let auth = match &api.auth {
        None => quote! { __rt::None },
        Some(ir::Auth::Bearer { token }) => {
            let token = pieces(token);
            quote! { __rt::Some(__rt::AuthSpec::Bearer { token: #token }) }
        }
        Some(ir::Auth::Basic { username, password }) => {
            let (u, p) = (pieces(username), pieces(password));
            quote! { __rt::Some(__rt::AuthSpec::Basic { username: #u, password: #p }) }
        }
        Some(ir::Auth::ApiKey {
            name,
            value,
            in_query,
        }) => {
            let value = pieces(value);
            quote! { __rt::Some(__rt::AuthSpec::ApiKey { name: #name, value: #value, in_query: #in_query }) }
        }
        Some(ir::Auth::Digest { username, password }) => {
            let (u, p) = (pieces(username), pieces(password));
            quote! { __rt::Some(__rt::AuthSpec::Digest { username: #u, password: #p }) }
        }
        Some(ir::Auth::OAuth2 {
            token_endpoint,
            issuer,
            client_id,
            client_secret,
            scopes,
            audience,
            resource,
            ..
        }) => {
            let opt_pieces = |t: &Option<ir::Template>| match t {
                Some(t) => {
                    let p = pieces(t);
                    quote! { __rt::Some(#p) }
                }
                None => quote! { __rt::None },
            };
            let (endpoint, issuer) = (opt_pieces(token_endpoint), opt_pieces(issuer));
            let empty = ir::Template::default();
            let id = pieces(client_id.as_ref().unwrap_or(&empty));
            let secret = pieces(client_secret.as_ref().unwrap_or(&empty));
            let (scopes, audience, resource) = (
                super::opt(scopes.as_deref()),
                super::opt(audience.as_deref()),
                super::opt(resource.as_deref()),
            );
            quote! {
                __rt::Some(__rt::AuthSpec::OAuth2 {
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
        let value = pieces(&f.value);
        Some(quote! { __rt::FixedSpec { name: #name, place: __rt::FixedPlace::#place, value: #value } })
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
    let ops: Vec<TokenStream> = api.operations.iter().map(operation).collect();
    let op_names = api.operations.iter().map(spec_name);
    let specs: Vec<TokenStream> = api
        .operations
        .iter()
        .map(|op| op_spec(api, op, settings, sink))
        .collect();
    let client_doc = format!(
        "A client for the consumed API `{ns}`: one `async fn` per operation.\n\n\
         Cheap to clone and safe to share. With the default settings it keeps a cookie store, \
         so one `Client` is one session.\n\n\
         Each method answers a 2xx JSON body as it came (or through the operation's output \
         mapping), an empty body as `null` and other content as a JSON string; any other \
         status is [`Error::Response`]({}::Error::Response).",
        quote!(#rt).to_string().replace(' ', "")
    );
    quote! {
        #[doc(hidden)]
        pub static SPEC: __rt::ApiSpec = __rt::ApiSpec {
            namespace: #ns,
            base_uri: #base,
            base_uri_text: #base_text,
            binds: &[#(#binds),*],
            auth: #auth,
            fixed: &[#(#fixed),*],
            operations: &[#(&#op_names),*],
        };

        /// What every operation method of [`Client`] answers.
        pub type Answer = ::core::result::Result<#rt::ResponseValue<__rt::serde_json::Value>, #rt::Error>;

        #(#specs)*

        #[doc = #client_doc]
        #[derive(Debug, Clone)]
        pub struct Client {
            core: __rt::Core,
        }

        #[doc = #builder_doc]
        #[derive(Debug, Default)]
        pub struct ClientBuilder {
            inner: __rt::CoreBuilder,
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
            /// Trusts the certificates of this PEM document for `https://`
            /// upstreams, besides the system's roots (not with `http_client`).
            pub fn root_certificate_pem(mut self, pem: impl ::core::convert::Into<::std::vec::Vec<u8>>) -> Self {
                self.inner = self.inner.root_certificate_pem(pem);
                self
            }
            /// Uses this reqwest client (with its own cookie store and settings).
            pub fn http_client(mut self, client: __rt::reqwest::Client) -> Self {
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
                __rt::Ok(Client { core: self.inner.build(&SPEC)? })
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
            pub fn with_headers(&self, headers: __rt::http::HeaderMap) -> Self {
                Self { core: self.core.with_headers(headers) }
            }

            /// The runtime under this client (for servers that stream answers).
            pub fn core(&self) -> &__rt::Core {
                &self.core
            }

            /// The same client with a new, empty cookie jar: one more session.
            pub fn fresh_session(&self) -> ::core::result::Result<Self, #rt::Error> {
                __rt::Ok(Self { core: self.core.fresh_session()? })
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

/// The name of an operation's static `OpSpec` in its API's module
/// (`OP_GET_ITEM`): what the REST and MCP adapters and steps call.
pub fn spec_name(op: &ir::ConsumedOp) -> syn::Ident {
    format_ident!("OP_{}", method_name(op).to_uppercase())
}

/// The `Ty` of a consumed input.
fn ty(p: &TokenStream, t: JsonType) -> TokenStream {
    match t {
        JsonType::String => quote! { #p::Ty::String },
        JsonType::Integer => quote! { #p::Ty::Integer },
        JsonType::Number => quote! { #p::Ty::Number },
        JsonType::Boolean => quote! { #p::Ty::Boolean },
        JsonType::Object | JsonType::Array => quote! { #p::Ty::Json },
    }
}

/// The `OpSpec` static of an operation: its method, path, inputs, fixed
/// values, body and output, interpreted by `Core::prepare`.
fn op_spec(
    api: &ir::Api,
    op: &ir::ConsumedOp,
    settings: &Settings,
    sink: &mut Sink,
) -> TokenStream {
    // `__rt` is the runtime's `__private`, imported by every module.
    let p = quote! { __rt };
    let rt = &settings.runtime;
    let full = format!("{}.{}", api.namespace, op.name);
    let method = format_ident!("{}", op.method);
    let index = |name: &str| op.inputs.iter().position(|i| i.name == name);
    let path: String = op
        .path
        .iter()
        .filter_map(|part| match part {
            PathPart::Text(t) => Some(t.clone()),
            PathPart::Param(name) => index(name).map(|_| format!("{{{name}}}")),
        })
        .collect();
    let inputs = op.inputs.iter().map(|i| {
        let name = &i.name;
        let at = match i.location {
            Location::Path => quote! { Path },
            Location::Query => quote! { Query },
            Location::Header => quote! { Header },
            Location::Cookie => quote! { Cookie },
            Location::Body => quote! { Body },
            Location::Template => quote! { Template },
        };
        let t = ty(&p, i.ty);
        let required = i.required;
        quote! { #p::InputSpec::new(#name, #p::At::#at, #t, #required) }
    });
    let mut fixed = Vec::new();
    for f in &op.fixed {
        let place = match f.location {
            Location::Query => quote! { Query },
            Location::Header => quote! { Header },
            Location::Cookie => quote! { Cookie },
            Location::Path | Location::Body | Location::Template => {
                let what = format!(
                    "operation `{}`: a fixed `in: {}` value for `{}`",
                    op.name,
                    f.location.as_str(),
                    f.name
                );
                unsupported(sink, settings, &api.namespace, &what);
                continue;
            }
        };
        let (name, value) = (&f.name, pieces(&f.value));
        fixed.push(
            quote! { #p::FixedSpec { name: #name, place: #p::FixedPlace::#place, value: #value } },
        );
    }
    let body = match &op.body {
        BodyPlan::None => quote! { #p::BodySpec::None },
        BodyPlan::Whole(name) => match index(name) {
            Some(i) => {
                let i = proc_macro2::Literal::usize_unsuffixed(i);
                quote! { #p::BodySpec::Whole(#i) }
            }
            None => quote! { #p::BodySpec::None },
        },
        BodyPlan::Merged(names) => {
            let fields = names
                .iter()
                .filter_map(|n| index(n))
                .map(proc_macro2::Literal::usize_unsuffixed);
            quote! { #p::BodySpec::Merged(&[#(#fields),*]) }
        }
        BodyPlan::Text {
            content_type,
            template,
        } => quote! { #p::BodySpec::Text { content_type: #content_type, template: #template } },
        BodyPlan::Form(fields) => {
            let fields = fields.iter().map(|(k, v)| quote! { (#k, #v) });
            quote! { #p::BodySpec::Form(&[#(#fields),*]) }
        }
        BodyPlan::Multipart(parts) => {
            let parts = parts.iter().map(|part| {
                let (name, value) = (&part.name, &part.value);
                let filename = super::opt(part.filename.as_deref());
                let ct = super::opt(part.content_type.as_deref());
                quote! { (#name, #value, #filename, #ct) }
            });
            quote! { #p::BodySpec::Multipart(&[#(#parts),*]) }
        }
        BodyPlan::Template { content_type, data } => {
            if content_type != "application/json" {
                let what = format!("operation `{}`: a `{content_type}` body template", op.name);
                unsupported(sink, settings, &api.namespace, &what);
            }
            let text = data.to_string();
            quote! { #p::BodySpec::Json(#text) }
        }
    };
    let output = match (&op.output_mapping, &op.raw_format) {
        (None, None) => quote! { #p::Output::JSON },
        (mapping, format) => {
            let mapping = super::opt(mapping.as_deref());
            let raw_format = super::opt(format.as_deref());
            let raw_schema = super::opt(format.as_ref().and(op.output_schema.as_deref()));
            quote! { #p::Output::new(#mapping, #raw_format, #raw_schema) }
        }
    };
    // A compile error naming the feature where the spec asks for it, raised
    // by the runtime's macro when the build lacks the feature.
    let feature = match op.raw_format.as_deref() {
        Some(format) if crate::FEATURE_FORMATS.contains(&format) => {
            let check = format_ident!("__{format}_supported");
            let at = super::missing_feature(
                settings,
                op.pos,
                &format!(
                    "capability.consumes[{}].{}.outputRawFormat",
                    api.namespace, op.name
                ),
                &format!("`{full}` answers in `outputRawFormat: {format}`"),
                format,
            );
            quote! { #rt::#check!(#at); }
        }
        _ => quote! {},
    };
    let spec = spec_name(op);
    let doc = format!(
        "What `{full}` sends (`{} {}`): [`Client`]'s method prepares and sends it; \
         an overriding REST handler can prepare it with `Core::prepare` and forward it.",
        op.method, op.path_text
    );
    quote! {
        #feature
        #[doc = #doc]
        pub static #spec: #p::OpSpec = #p::OpSpec {
            operation: #full,
            method: #p::http::Method::#method,
            path: #path,
            inputs: &[#(#inputs),*],
            fixed: &[#(#fixed),*],
            body: #body,
            output: #output,
        };
    }
}

/// The typed method of an operation: its arguments, as `Arg`s, to
/// `Core::run` with the operation's `OpSpec`.
fn operation(op: &ir::ConsumedOp) -> TokenStream {
    let method_ident = ident(&method_name(op));
    let spec = spec_name(op);
    let args = op.inputs.iter().map(|i| {
        let name = ident(&i.rust_name);
        let ty = arg_type(i);
        quote! { #name: #ty }
    });
    let arg_names = op.inputs.iter().map(|i| ident(&i.rust_name));
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
    if op.output_mapping.is_some() {
        doc.push_str("\n\nA 2xx JSON body comes back through the output mapping.");
    }
    quote! {
        #[doc = #doc]
        pub async fn #method_ident(&self, #(#args),*) -> Answer {
            self.core.run(&#spec, ::std::vec![#(#arg_names.into()),*]).await
        }
    }
}
