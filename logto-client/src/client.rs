//! The engine under every generated client: configuration (base URL, bound
//! variables, auth), request building and sending, response decoding.
//!
//! Generated code describes an API once as a static [`ApiSpec`] and each call
//! as a [`Call`]; this module does the rest, so the generated code stays small
//! and readable.

use std::collections::BTreeMap;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, COOKIE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use tracing::Instrument;

use crate::digest_auth;
use crate::encode;
use crate::error::Error;
use crate::mapping;
use crate::response::ResponseValue;
use crate::secret::Secret;

/// A piece of a template in a spec: literal text, a configuration variable
/// of the base URI, or a bound variable (index into [`ApiSpec::binds`]).
#[derive(Debug, Clone, Copy)]
pub enum Piece {
    /// Literal text.
    Text(&'static str),
    /// A base URI variable, set with its builder setter.
    Var(&'static str),
    /// A bound variable.
    Bind(usize),
}

/// A bound variable as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct BindSpec {
    /// The bind's namespace (`env`), if any.
    pub namespace: Option<&'static str>,
    /// The variable (`LOGTO_API_KEY`).
    pub var: &'static str,
    /// The key in the source: the environment variable's name.
    pub source_key: &'static str,
    /// A file the spec names as the source (not read: pass such values with
    /// `.bind()`).
    pub location: Option<&'static str>,
    /// Where the spec uses it, for error messages (`file:line:col`).
    pub used_at: &'static str,
}

/// How a consumed API authenticates.
#[derive(Debug, Clone, Copy)]
pub enum AuthSpec {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token template.
        token: &'static [Piece],
    },
    /// `Authorization: Basic ...`.
    Basic {
        /// User template.
        username: &'static [Piece],
        /// Password template.
        password: &'static [Piece],
    },
    /// An API key in a header or the query.
    ApiKey {
        /// Header or query parameter name.
        name: &'static str,
        /// Key template.
        value: &'static [Piece],
        /// `true` for a query parameter.
        in_query: bool,
    },
    /// HTTP Digest (RFC 7616), answering the server's challenge.
    Digest {
        /// User template.
        username: &'static [Piece],
        /// Password template.
        password: &'static [Piece],
    },
}

/// Where a fixed parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixedPlace {
    /// A header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

/// A parameter sent with every request of an API.
#[derive(Debug, Clone, Copy)]
pub struct FixedSpec {
    /// Name.
    pub name: &'static str,
    /// Where it goes.
    pub place: FixedPlace,
    /// Value template.
    pub value: &'static [Piece],
}

/// Everything about a consumed API that does not change per call.
#[derive(Debug)]
pub struct ApiSpec {
    /// The namespace (`logto-experience`).
    pub namespace: &'static str,
    /// The base URI template.
    pub base_uri: &'static [Piece],
    /// The base URI as written, for messages.
    pub base_uri_text: &'static str,
    /// The bound variables.
    pub binds: &'static [BindSpec],
    /// Authentication.
    pub auth: Option<AuthSpec>,
    /// Parameters sent with every request.
    pub fixed: &'static [FixedSpec],
}

/// Builds a [`Core`]; generated builders wrap it with typed setters.
#[derive(Debug, Default)]
pub struct CoreBuilder {
    base_url: Option<String>,
    vars: BTreeMap<String, String>,
    binds: BTreeMap<String, Secret>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    cookie_store: Option<bool>,
}

/// The default time a call may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Installs ring as the process-wide rustls crypto provider.
///
/// reqwest is built here without a provider of its own (ring is the only TLS
/// stack, and it builds in seconds), so `reqwest::Client::builder().build()`
/// panics until one is installed. Generated clients call this themselves;
/// call it before building a `reqwest::Client` of your own to pass to
/// `.http_client(...)`. Calling it again, or after another provider was
/// installed, does nothing.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl CoreBuilder {
    /// Replaces the spec's whole `baseUri`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets a base URI variable (`tenant_id`).
    pub fn var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.insert(name.to_owned(), value.into());
        self
    }

    /// Gives a bound variable's value (instead of the environment).
    pub fn bind(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.binds.insert(name.into(), Secret::new(value));
        self
    }

    /// Uses this reqwest client (its cookie store, proxies, TLS settings).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The time a call may take (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Whether the client keeps cookies between calls (default: yes, so one
    /// client is one session). Servers that forward callers' cookies turn it
    /// off so that callers never share a jar.
    pub fn cookie_store(mut self, enabled: bool) -> Self {
        self.cookie_store = Some(enabled);
        self
    }

    /// Resolves the base URL, the bound variables and auth.
    pub fn build(self, spec: &'static ApiSpec) -> Result<Core, Error> {
        let mut binds: Vec<Option<Secret>> = Vec::with_capacity(spec.binds.len());
        for b in spec.binds {
            let given = b
                .namespace
                .and_then(|ns| self.binds.get(&format!("{ns}.{}", b.var)))
                .or_else(|| self.binds.get(b.var))
                .cloned();
            let value = match given {
                Some(v) => Some(v),
                None if b.location.is_none() => std::env::var(b.source_key).ok().map(Secret::new),
                None => None,
            };
            binds.push(value);
        }
        let need = |i: usize| -> Result<&Secret, Error> {
            let b = spec.binds.get(i).ok_or_else(|| Error::Config {
                message: format!("bind #{i} is not declared"),
            })?;
            binds.get(i).and_then(Option::as_ref).ok_or_else(|| Error::Config {
                message: match b.location {
                    None => format!(
                        "bound variable `{}` is not set: set the environment variable `{}` or call `.bind(\"{}\", ...)` (used at {})",
                        b.var, b.source_key, b.var, b.used_at
                    ),
                    Some(loc) => format!(
                        "bound variable `{}` comes from `{loc}`, which this client does not read: call `.bind(\"{}\", ...)` (used at {})",
                        b.var, b.var, b.used_at
                    ),
                },
            })
        };
        let render = |pieces: &[Piece], vars: &BTreeMap<String, String>| -> Result<String, Error> {
            let mut out = String::new();
            for p in pieces {
                match p {
                    Piece::Text(t) => out.push_str(t),
                    Piece::Bind(i) => out.push_str(need(*i)?.expose()),
                    Piece::Var(v) => out.push_str(vars.get(*v).ok_or_else(|| Error::Config {
                        message: format!(
                            "the base URI `{}` needs `{v}`: call `.{v}(...)` or give the whole URL with `.base_url(...)`",
                            spec.base_uri_text
                        ),
                    })?),
                }
            }
            Ok(out)
        };
        let base = match &self.base_url {
            Some(url) => url.clone(),
            None => render(spec.base_uri, &self.vars)?,
        };
        let parsed = reqwest::Url::parse(&base).map_err(|e| Error::Config {
            message: format!("invalid base URL `{base}`: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::Config {
                message: format!(
                    "invalid base URL `{base}`: it must be an http(s) URL with a host"
                ),
            });
        }
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let host = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        let base = base.trim_end_matches('/').to_owned();

        let mut auth_headers = HeaderMap::new();
        let mut digest = None;
        let mut auth_query = Vec::new();
        match spec.auth {
            None => {}
            Some(AuthSpec::Bearer { token }) => {
                let token = render(token, &self.vars)?;
                auth_headers.insert(
                    http::header::AUTHORIZATION,
                    sensitive(&format!("Bearer {token}"), "the bearer token")?,
                );
            }
            Some(AuthSpec::Basic { username, password }) => {
                use base64::Engine as _;
                let pair = format!(
                    "{}:{}",
                    render(username, &self.vars)?,
                    render(password, &self.vars)?
                );
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                auth_headers.insert(
                    http::header::AUTHORIZATION,
                    sensitive(&format!("Basic {encoded}"), "the basic credentials")?,
                );
            }
            Some(AuthSpec::ApiKey {
                name,
                value,
                in_query,
            }) => {
                let value = render(value, &self.vars)?;
                if in_query {
                    auth_query.push((name, Secret::new(value)));
                } else {
                    let header =
                        HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::Config {
                            message: format!(
                                "API key header name `{name}` is not a valid header name"
                            ),
                        })?;
                    auth_headers.insert(header, sensitive(&value, "the API key")?);
                }
            }
            Some(AuthSpec::Digest { username, password }) => {
                digest = Some((
                    Secret::new(render(username, &self.vars)?),
                    Secret::new(render(password, &self.vars)?),
                ));
            }
        }
        let mut fixed_headers = HeaderMap::new();
        let mut fixed_query = Vec::new();
        let mut fixed_cookies = Vec::new();
        for f in spec.fixed {
            let value = render(f.value, &self.vars)?;
            match f.place {
                FixedPlace::Header => {
                    let name =
                        HeaderName::from_bytes(f.name.as_bytes()).map_err(|_| Error::Config {
                            message: format!("`{}` is not a valid header name", f.name),
                        })?;
                    fixed_headers.insert(name, sensitive(&value, f.name)?);
                }
                FixedPlace::Query => fixed_query.push((f.name, Secret::new(value))),
                FixedPlace::Cookie => {
                    fixed_cookies.push(Secret::new(format!("{}={value}", f.name)))
                }
            }
        }

        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let http = match &self.http {
            Some(c) => c.clone(),
            None => http_client(self.cookie_store.unwrap_or(true), timeout)?,
        };
        let own_http = self.http.is_none();
        Ok(Core {
            shared: Arc::new(Shared {
                own_http,
                digest,
                challenge: Arc::default(),
                cookie_store: self.cookie_store.unwrap_or(true),
                binds,
                vars: self.vars,
                spec,
                http,
                base,
                host,
                timeout,
                auth_headers,
                auth_query,
                fixed_headers,
                fixed_query,
                fixed_cookies,
            }),
            extra_headers: HeaderMap::new(),
        })
    }
}

/// A header value marked sensitive (hyper then keeps it out of its logs).
fn sensitive(value: &str, what: &str) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(value).map_err(|_| Error::Config {
        message: format!(
            "{what} contains characters a header cannot carry (CR, LF or non-visible ASCII)"
        ),
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// A reqwest client of our own (ring TLS, optional cookie jar).
fn http_client(cookie_store: bool, timeout: Duration) -> Result<reqwest::Client, Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .cookie_store(cookie_store)
        .timeout(timeout)
        .build()
        .map_err(|e| Error::Config {
            message: format!("cannot build the HTTP client: {e}"),
        })
}

#[derive(Debug, Clone)]
struct Shared {
    /// `false` when the user gave their own reqwest client.
    own_http: bool,
    /// Digest credentials, when the API uses digest authentication.
    digest: Option<(Secret, Secret)>,
    /// The last digest challenge, answered straight away by later calls.
    challenge: Arc<std::sync::Mutex<Option<digest_auth::Challenge>>>,
    cookie_store: bool,
    binds: Vec<Option<Secret>>,
    vars: BTreeMap<String, String>,
    spec: &'static ApiSpec,
    http: reqwest::Client,
    base: String,
    host: String,
    timeout: Duration,
    auth_headers: HeaderMap,
    auth_query: Vec<(&'static str, Secret)>,
    fixed_headers: HeaderMap,
    // Fixed values may hold bound variables: kept as secrets (Debug redacts).
    fixed_query: Vec<(&'static str, Secret)>,
    fixed_cookies: Vec<Secret>,
}

/// A built client: cheap to clone, safe to share between tasks.
#[derive(Debug, Clone)]
pub struct Core {
    shared: Arc<Shared>,
    extra_headers: HeaderMap,
}

/// The body of a call.
#[derive(Debug, Clone, Default)]
pub enum CallBody {
    /// No body.
    #[default]
    None,
    /// JSON.
    Json(Value),
    /// Text or bytes with a content type.
    Bytes(&'static str, Bytes),
}

/// One request, as generated code describes it.
#[derive(Debug, Clone)]
pub struct Call {
    /// `namespace.operation`, for errors and traces.
    pub operation: &'static str,
    /// HTTP method.
    pub method: Method,
    /// The path after the base URL, already encoded.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Headers.
    pub headers: HeaderMap,
    /// Cookies (`name=value`, sent as given).
    pub cookies: Vec<String>,
    /// The body.
    pub body: CallBody,
    /// Output shape (see [`mapping::shape`]); `None` passes the JSON through.
    pub mapping: Option<&'static str>,
}

impl Call {
    /// A call with no parameters yet.
    pub fn new(operation: &'static str, method: Method) -> Self {
        Self {
            operation,
            method,
            path: String::new(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            cookies: Vec::new(),
            body: CallBody::None,
            mapping: None,
        }
    }

    /// Appends literal path text.
    pub fn path_text(&mut self, text: &str) {
        self.path.push_str(text);
    }

    /// Appends one path parameter, encoded as exactly one segment.
    pub fn path_param(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let seg = encode::path_segment(value).map_err(|why| Error::InvalidRequest {
            operation: self.operation,
            message: format!("path parameter `{name}` {why}"),
        })?;
        self.path.push_str(&seg);
        Ok(())
    }

    /// Adds a query parameter.
    pub fn query(&mut self, name: &str, value: impl ToString) {
        self.query.push((name.to_owned(), value.to_string()));
    }

    /// Adds a header; CR/LF and other bytes a header cannot carry are refused.
    pub fn header(&mut self, name: &'static str, value: impl ToString) -> Result<(), Error> {
        let header =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::InvalidRequest {
                operation: self.operation,
                message: format!("`{name}` is not a valid header name"),
            })?;
        let v = HeaderValue::from_str(&value.to_string()).map_err(|_| Error::InvalidRequest {
            operation: self.operation,
            message: format!("header `{name}` contains characters a header cannot carry (CR, LF or control characters)"),
        })?;
        self.headers.append(header, v);
        Ok(())
    }

    /// Adds a cookie (value sent as given).
    pub fn cookie(&mut self, name: &str, value: impl ToString) -> Result<(), Error> {
        let value = value.to_string();
        if value.contains([';', '\r', '\n']) {
            return Err(Error::InvalidRequest {
                operation: self.operation,
                message: format!("cookie `{name}` contains `;`, CR or LF"),
            });
        }
        self.cookies.push(format!("{name}={value}"));
        Ok(())
    }

    /// Sets a JSON body.
    pub fn json(&mut self, body: Value) {
        self.body = CallBody::Json(body);
    }
}

impl Core {
    /// A copy that adds `headers` to every call (e.g. the caller's `Cookie`).
    pub fn with_headers(&self, headers: HeaderMap) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            extra_headers: headers,
        }
    }

    /// The same client with a new, empty cookie jar: one more session. (A
    /// reqwest client given with `.http_client` is shared as it is.)
    pub fn fresh_session(&self) -> Result<Self, Error> {
        if !self.shared.own_http {
            return Ok(self.clone());
        }
        let mut shared = (*self.shared).clone();
        shared.http = http_client(shared.cookie_store, shared.timeout)?;
        Ok(Self {
            shared: Arc::new(shared),
            extra_headers: self.extra_headers.clone(),
        })
    }

    /// The base URL calls go to (no trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.shared.base
    }

    /// The upstream host (and port), for messages.
    pub fn host(&self) -> &str {
        &self.shared.host
    }

    /// The value of bound variable `index` (for `with` templates).
    pub fn bind_value(&self, index: usize) -> Result<String, Error> {
        match self.shared.binds.get(index).and_then(Option::as_ref) {
            Some(v) => Ok(v.expose().to_owned()),
            None => {
                let var = self.shared.spec.binds.get(index).map_or("?", |b| b.var);
                Err(Error::Config {
                    message: format!("bound variable `{var}` is not set"),
                })
            }
        }
    }

    /// Renders a template of the spec (bound and base URI variables).
    pub fn render(&self, pieces: &'static [Piece]) -> Result<String, Error> {
        self.render_with(pieces, &[])
    }

    /// Renders a template whose `{{name}}`s may also be call inputs.
    pub fn render_with(
        &self,
        pieces: &'static [Piece],
        inputs: &[(&str, &str)],
    ) -> Result<String, Error> {
        let s = &self.shared;
        let mut out = String::new();
        for p in pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(v) => {
                    let value = inputs
                        .iter()
                        .find(|(n, _)| n == v)
                        .map(|(_, value)| *value)
                        .or_else(|| s.vars.get(*v).map(String::as_str))
                        .unwrap_or_default();
                    out.push_str(value);
                }
                Piece::Bind(i) => match s.binds.get(*i).and_then(Option::as_ref) {
                    Some(v) => out.push_str(v.expose()),
                    None => {
                        let var = s.spec.binds.get(*i).map_or("?", |b| b.var);
                        return Err(Error::Config {
                            message: format!("bound variable `{var}` is not set"),
                        });
                    }
                },
            }
        }
        Ok(out)
    }

    /// Fills a JSON body template: a string that is exactly `{{name}}` takes
    /// the value (any JSON type); `{{name}}` inside longer text is replaced by
    /// its text; bound variables are filled too.
    pub fn render_json(&self, template: &str, vars: &[(&str, Value)]) -> Result<Value, Error> {
        let parsed: Value = serde_json::from_str(template).map_err(|e| Error::Config {
            message: format!("body template is not JSON: {e}"),
        })?;
        Ok(self.fill(parsed, vars))
    }

    fn fill(&self, v: Value, vars: &[(&str, Value)]) -> Value {
        match v {
            Value::String(s) => {
                let trimmed = s.trim();
                if let Some(name) = trimmed
                    .strip_prefix("{{")
                    .and_then(|r| r.strip_suffix("}}"))
                {
                    let name = name.trim();
                    if !name.contains("{{")
                        && let Some((_, value)) = vars.iter().find(|(n, _)| *n == name)
                    {
                        return value.clone();
                    }
                }
                let mut out = s.clone();
                for (name, value) in vars {
                    let text = match value {
                        Value::String(t) => t.clone(),
                        other => other.to_string(),
                    };
                    out = out.replace(&format!("{{{{{name}}}}}"), &text);
                }
                for (i, b) in self.shared.spec.binds.iter().enumerate() {
                    if let Some(Some(secret)) = self.shared.binds.get(i) {
                        out = out.replace(&format!("{{{{{}}}}}", b.var), secret.expose());
                        if let Some(ns) = b.namespace {
                            out = out.replace(&format!("{{{{{ns}.{}}}}}", b.var), secret.expose());
                        }
                    }
                }
                Value::String(out)
            }
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|i| self.fill(i, vars)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, self.fill(v, vars)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// The namespace of the API.
    pub fn namespace(&self) -> &'static str {
        self.shared.spec.namespace
    }

    /// Builds the reqwest request for a call.
    fn request(&self, call: &Call) -> reqwest::RequestBuilder {
        let s = &self.shared;
        let path = if call.path.starts_with('/') || call.path.is_empty() {
            call.path.clone()
        } else {
            format!("/{}", call.path)
        };
        let mut req = s
            .http
            .request(call.method.clone(), format!("{}{}", s.base, path))
            .timeout(s.timeout);
        let query: Vec<(&str, &str)> = s
            .fixed_query
            .iter()
            .map(|(k, v)| (*k, v.expose()))
            .chain(s.auth_query.iter().map(|(k, v)| (*k, v.expose())))
            .chain(call.query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .collect();
        if !query.is_empty() {
            req = req.query(&query);
        }
        let mut headers = s.fixed_headers.clone();
        for (k, v) in &self.extra_headers {
            headers.append(k, v.clone());
        }
        for (k, v) in &call.headers {
            headers.append(k, v.clone());
        }
        for (k, v) in &s.auth_headers {
            headers.insert(k, v.clone());
        }
        let cookies: Vec<&str> = s
            .fixed_cookies
            .iter()
            .map(Secret::expose)
            .chain(call.cookies.iter().map(String::as_str))
            .collect();
        if !cookies.is_empty() {
            let mut all = cookies.join("; ");
            if let Some(existing) = headers.get(COOKIE).and_then(|v| v.to_str().ok()) {
                all = format!("{existing}; {all}");
            }
            if let Ok(v) = HeaderValue::from_str(&all) {
                headers.insert(COOKIE, v);
            }
        }
        req = req.headers(headers);
        match &call.body {
            CallBody::None => req,
            CallBody::Json(v) => req.json(v),
            CallBody::Bytes(ct, b) => req.header(CONTENT_TYPE, *ct).body(b.clone()),
        }
    }

    /// Sends a call and returns the raw response (any status), for servers
    /// that stream it through.
    pub async fn send_raw(&self, call: &Call) -> Result<reqwest::Response, Error> {
        let span = tracing::info_span!(
            "naftiko.call",
            operation = call.operation,
            method = %call.method,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = self.execute(call).instrument(span.clone()).await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        match result {
            Ok(resp) => {
                span.record("status", resp.status().as_u16());
                Ok(resp)
            }
            Err(e) => {
                let _enter = span.enter();
                tracing::warn!(
                    timeout = e.is_timeout(),
                    connect = e.is_connect(),
                    "upstream call failed"
                );
                Err(Error::Transport {
                    operation: call.operation,
                    host: self.shared.host.clone(),
                    source: e.without_url(),
                })
            }
        }
    }

    /// Sends the request, answering a digest challenge when the API uses
    /// digest authentication (one retry after a `401`).
    async fn execute(&self, call: &Call) -> Result<reqwest::Response, reqwest::Error> {
        let Some((user, password)) = &self.shared.digest else {
            return self.request(call).send().await;
        };
        let mut answered = false;
        loop {
            let mut req = self.request(call).build()?;
            let target = match req.url().query() {
                Some(q) => format!("{}?{q}", req.url().path()),
                None => req.url().path().to_owned(),
            };
            let answer = self.shared.challenge.lock().ok().and_then(|mut c| {
                c.as_mut().map(|c| {
                    c.answer(
                        user.expose(),
                        password.expose(),
                        call.method.as_str(),
                        &target,
                    )
                })
            });
            if let Some(value) = answer
                .as_deref()
                .and_then(|a| HeaderValue::from_str(a).ok())
            {
                let mut value = value;
                value.set_sensitive(true);
                req.headers_mut().insert(http::header::AUTHORIZATION, value);
            }
            let resp = self.shared.http.execute(req).await?;
            if resp.status() != StatusCode::UNAUTHORIZED || answered {
                return Ok(resp);
            }
            let fresh = resp
                .headers()
                .get_all(http::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(digest_auth::parse_challenge);
            let Some(fresh) = fresh else {
                return Ok(resp);
            };
            if let Ok(mut c) = self.shared.challenge.lock() {
                *c = Some(fresh);
            }
            answered = true;
        }
    }

    /// Sends a call and decodes the answer: 2xx JSON through the mapping,
    /// empty → `null`, other content → a JSON string; non-2xx → [`Error::Response`].
    pub async fn send(&self, call: Call) -> Result<ResponseValue<Value>, Error> {
        let resp = self.send_raw(&call).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| Error::Transport {
            operation: call.operation,
            host: self.shared.host.clone(),
            source: e.without_url(),
        })?;
        if !status.is_success() {
            return Err(Error::Response {
                operation: call.operation,
                status,
                headers,
                body,
            });
        }
        let value = decode(call.operation, status, &headers, body)?;
        let value = match call.mapping {
            None => value,
            Some(path) => {
                mapping::shape(path, value).map_err(|message| Error::InvalidResponse {
                    operation: call.operation,
                    status,
                    message,
                    body: Bytes::new(),
                })?
            }
        };
        Ok(ResponseValue::new(value, status, headers))
    }
}

/// `true` for `application/json` and `application/*+json`.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|ct| {
            ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json"))
        })
}

fn decode(
    operation: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Value, Error> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    if is_json(headers) {
        return serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
            operation,
            status,
            message: format!("the body is not valid JSON: {e}"),
            body,
        });
    }
    match std::str::from_utf8(&body) {
        Ok(text) => Ok(Value::String(text.to_owned())),
        Err(_) => Err(Error::InvalidResponse {
            operation,
            status,
            message: "the body is neither JSON nor UTF-8 text".into(),
            body,
        }),
    }
}
