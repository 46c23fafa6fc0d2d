//! The engine under every generated client: configuration (base URL, bound
//! variables, auth), request building and sending, response decoding.
//!
//! Generated code describes an API once as a static [`ApiSpec`] and each call
//! as a [`Call`]; this module does the rest, so the generated code stays small
//! and readable.

mod affine;
mod answer;
mod builder;
mod call;
#[cfg(feature = "native-tls")]
mod connect;
mod direct;
mod oauth2;
mod operation;
mod session;
mod spec;
mod tls;
mod wire;

pub(crate) use affine::scope as affine_scope;
pub use answer::Answer;
pub use builder::{CoreBuilder, DEFAULT_ANSWER_LIMIT, DEFAULT_TIMEOUT};
pub use call::{Call, CallBody};
pub use operation::{Arg, ArgError, At, BodySpec, InputSpec, OpSpec, Output, Ty};
pub use spec::{ApiSpec, AuthSpec, BindSpec, FixedPlace, FixedSpec, Piece};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
pub(crate) use wire::Fields;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, COOKIE, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use tracing::Instrument;

use crate::digest_auth;
use crate::error::{Error, TransportError};
use crate::mapping;
use crate::response::ResponseValue;
use crate::secret::Secret;
#[derive(Debug, Clone)]
struct Shared {
    /// `false` when the user gave their own reqwest client.
    own_http: bool,
    /// Digest credentials, when the API uses digest authentication.
    digest: Option<(Secret, Secret)>,
    /// OAuth 2.0 client credentials and their token cache (shared by the
    /// sessions made from one client).
    oauth2: Option<Arc<oauth2::OAuth2>>,
    /// The last digest challenge, answered straight away by later calls.
    challenge: Arc<std::sync::Mutex<Option<digest_auth::Challenge>>>,
    cookie_store: bool,
    binds: Vec<Option<Secret>>,
    vars: BTreeMap<String, String>,
    spec: &'static ApiSpec,
    http: reqwest::Client,
    /// The direct path, when calls skip reqwest (see [`direct`]).
    direct: Option<direct::Direct>,
    base: BaseUrl,
    host: String,
    timeout: Duration,
    /// The largest answer body read or streamed through.
    answer_limit: usize,
    auth_headers: HeaderMap,
    auth_query: Vec<(&'static str, Secret)>,
    fixed_headers: HeaderMap,
    // Fixed values may hold bound variables: kept as secrets (Debug redacts).
    fixed_query: Vec<(&'static str, Secret)>,
    fixed_cookies: Vec<Secret>,
    /// Session calls' URLs, built once each (see [`session::Urls`]).
    urls: Arc<session::Urls>,
}

/// The base URL as built, which a bound variable may be part of
/// (`https://{{PROJECT}}.example.com`, `/bot{{TOKEN}}`).
#[derive(Clone)]
struct BaseUrl {
    /// Without its trailing `/`.
    text: String,
    /// `text` parsed once: each call only sets its path (no URL parsing or
    /// IDNA on the request path).
    url: reqwest::Url,
    /// The path without its trailing `/`, which call paths follow.
    path: String,
    /// The spec's base URI when a bound value is in `text`: all `Debug`
    /// shows then.
    written: Option<&'static str>,
}

/// A bound value is a secret like any other: a base URL built with one
/// shows as the spec writes it.
impl std::fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BaseUrl")
            .field(&self.written.unwrap_or(&self.text))
            .finish()
    }
}

/// A built client: cheap to clone, safe to share between tasks.
#[derive(Debug, Clone)]
pub struct Core {
    shared: Arc<Shared>,
    extra_headers: HeaderMap,
    /// This session's cookies (see [`SessionCookies`]); `None` when cookies
    /// are not kept, or kept by a reqwest client the user gave.
    jar: Option<Arc<reqwest::cookie::Jar>>,
}

/// A session's cookie jar (cheap to clone).
pub type CookieJar = Arc<reqwest::cookie::Jar>;

tokio::task_local! {
    /// The jar of the session whose request is being sent.
    static SESSION_JAR: Arc<reqwest::cookie::Jar>;
}

/// The cookie store of our reqwest clients: it reads and fills the jar of the
/// session sending the request (set around each send), so that sessions share
/// one client and connection pool, and a session costs one jar, not a client.
/// reqwest applies it on redirects too.
#[derive(Debug)]
pub(crate) struct SessionCookies;

impl reqwest::cookie::CookieStore for SessionCookies {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &reqwest::Url) {
        let _ = SESSION_JAR.try_with(|jar| jar.set_cookies(headers, url));
    }

    fn cookies(&self, url: &reqwest::Url) -> Option<HeaderValue> {
        SESSION_JAR.try_with(|jar| jar.cookies(url)).ok().flatten()
    }
}

impl Core {
    /// A copy that adds `headers` to every call (e.g. the caller's `Cookie`).
    pub fn with_headers(&self, headers: HeaderMap) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            extra_headers: headers,
            jar: self.jar.clone(),
        }
    }

    /// The same client with a new, empty cookie jar: one more session. It
    /// shares the client's connection pool and settings, so it costs the jar
    /// alone. (A reqwest client given with `.http_client` is shared as it is,
    /// its own cookie store included.)
    pub fn fresh_session(&self) -> Result<Self, Error> {
        Ok(Self {
            shared: Arc::clone(&self.shared),
            extra_headers: self.extra_headers.clone(),
            jar: builder::session_jar(self.shared.own_http, self.shared.cookie_store),
        })
    }

    /// The same client whose calls keep cookies in `jar` (when the client
    /// keeps cookies in jars of its own: see [`Self::fresh_session`]).
    pub fn with_cookie_jar(&self, jar: &CookieJar) -> Self {
        let mut out = self.clone();
        if out.jar.is_some() {
            out.jar = Some(Arc::clone(jar));
        }
        out
    }

    /// The base URL calls go to (no trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.shared.base.text
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

    /// The value of the bound variable `name` (`VAR` or `namespace.VAR`), if
    /// it is declared and set.
    pub fn bind_named(&self, name: &str) -> Option<String> {
        let s = &self.shared;
        s.spec.binds.iter().enumerate().find_map(|(i, b)| {
            let qualified = b.namespace.is_some_and(|ns| {
                name.strip_prefix(ns)
                    .and_then(|r| r.strip_prefix('.'))
                    .is_some_and(|v| v == b.var)
            });
            (b.var == name || qualified)
                .then(|| s.binds.get(i).and_then(Option::as_ref))
                .flatten()
                .map(|v| v.expose().to_owned())
        })
    }

    /// Fills a text body template (`body: |` in the spec): `{{name}}` takes
    /// the input's text (strings as they are, other JSON as JSON), or a bound
    /// variable's value; an input that was not given renders as JSON `null`.
    pub fn render_text(&self, template: &str, vars: &[(&str, Value)]) -> Result<String, Error> {
        crate::template::fill(template, |name, _, out| {
            match vars.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => crate::template::text(v, out),
                None => match self.bind_named(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str("null"),
                },
            }
            Ok(())
        })
    }

    /// Fills a form body (`type: formUrlEncoded`): each field's template as
    /// text, `application/x-www-form-urlencoded`. A field that is exactly one
    /// `{{input}}` not given is left out.
    pub fn render_form(
        &self,
        fields: &[(&str, &str)],
        vars: &[(&str, Value)],
    ) -> Result<String, Error> {
        let mut out = String::new();
        for (name, template) in fields {
            if single_missing(template, vars) {
                continue;
            }
            let value = self.render_text(template, vars)?;
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&crate::encode::form_component(name));
            out.push('=');
            out.push_str(&crate::encode::form_component(&value));
        }
        Ok(out)
    }

    /// Fills a `multipartForm` body: parts of name, value template, file
    /// name and content type (RFC 7578), set on `call` with its boundary.
    /// A part whose value is exactly one `{{input}}` not given is left out.
    pub fn render_multipart(
        &self,
        call: &mut Call,
        parts: &[(&str, &str, Option<&str>, Option<&str>)],
        vars: &[(&str, Value)],
    ) -> Result<(), Error> {
        let mut random = [0u8; 12];
        getrandom::fill(&mut random).map_err(|e| Error::Config {
            message: format!("no randomness for a multipart boundary: {e}"),
        })?;
        let boundary: String = std::iter::once("naftiko-".to_owned())
            .chain(random.iter().map(|b| format!("{b:02x}")))
            .collect();
        // Quotes and line breaks in names are escaped as HTML forms do.
        let quoted = |s: &str| {
            s.replace('"', "%22")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        };
        let mut body = Vec::new();
        for (name, template, filename, content_type) in parts {
            if single_missing(template, vars) {
                continue;
            }
            let value = self.render_text(template, vars)?;
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let mut disposition =
                format!("Content-Disposition: form-data; name=\"{}\"", quoted(name));
            if let Some(f) = filename {
                disposition.push_str(&format!("; filename=\"{}\"", quoted(f)));
            }
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(b"\r\n");
            if let Some(ct) = content_type {
                body.extend_from_slice(format!("Content-Type: {}\r\n", quoted(ct)).as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(value.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let ct = HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
            .map_err(|_| Error::Config {
                message: "invalid multipart boundary".into(),
            })?;
        call.headers.insert(CONTENT_TYPE, ct);
        call.body = CallBody::Raw(Bytes::from(body));
        Ok(())
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

    /// The API's operation at `index` (spec order).
    pub fn operation(&self, index: usize) -> Option<&'static OpSpec> {
        self.shared.spec.operations.get(index).copied()
    }

    /// The call's path after the base URL's, with the `/` between them.
    fn full_path(&self, call: &Call) -> String {
        let base = &self.shared.base.path;
        let sep = if call.path.starts_with('/') || call.path.is_empty() {
            ""
        } else {
            "/"
        };
        let mut path = String::with_capacity(base.len() + sep.len() + call.path.len());
        path.push_str(base);
        path.push_str(sep);
        path.push_str(&call.path);
        path
    }

    /// The query pairs of a call: fixed, auth, the call's own.
    fn query_pairs<'a>(&'a self, call: &'a Call) -> impl Iterator<Item = (&'a str, &'a str)> {
        let s = &self.shared;
        s.fixed_query
            .iter()
            .map(|(k, v)| (*k, v.expose()))
            .chain(s.auth_query.iter().map(|(k, v)| (*k, v.expose())))
            .chain(call.query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// A call's URL: base path, call path, fixed, auth and call query.
    fn target_url(&self, call: &Call) -> reqwest::Url {
        let mut url = self.shared.base.url.clone();
        url.set_path(&self.full_path(call));
        let mut query = self.query_pairs(call).peekable();
        if query.peek().is_some() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// The request target (path and query) of a call on the direct path:
    /// the one [`Self::target_url`] gives, written out when the URL parser
    /// would leave its path as it is (see [`plain_path`]), else taken from
    /// the parsed URL.
    fn direct_target(&self, call: &Call) -> Result<Bytes, TransportError> {
        match self.written_target(call) {
            Some(target) => Ok(target),
            None => url_target(&self.target_url(call)),
        }
    }

    /// A call's request target written out instead of parsed twice (by the
    /// URL parser, then as a URI); `None` for a path the parser would
    /// rewrite. Valid as a URI's path and query by construction (a plain
    /// path, a form-encoded query), so not parsed as one (issue 9).
    fn written_target(&self, call: &Call) -> Option<Bytes> {
        let mut target = self.full_path(call);
        if !plain_path(&target) {
            return None;
        }
        let mut query = self.query_pairs(call).peekable();
        if query.peek().is_some() {
            // The serializer the URL's `query_pairs_mut` uses.
            target.push('?');
            let start = target.len();
            target = form_urlencoded::Serializer::for_suffix(target, start)
                .extend_pairs(query)
                .finish();
        }
        // The text is moved, not copied.
        Some(Bytes::from(target))
    }

    /// A call's headers: fixed, forwarded, the call's own, auth, cookies.
    fn target_headers(&self, call: &Call) -> HeaderMap {
        let s = &self.shared;
        // Sized for all of them and the few the body and the connection
        // add (`Content-Type`, `Accept`, `Host`), so it never grows on the
        // way (issue 9); the same map as a clone of the fixed headers.
        let mut headers = HeaderMap::with_capacity(
            s.fixed_headers.len()
                + self.extra_headers.len()
                + call.headers.len()
                + s.auth_headers.len()
                + 4,
        );
        for (k, v) in &s.fixed_headers {
            headers.append(k, v.clone());
        }
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
        headers
    }

    /// Builds the reqwest request for a call.
    fn request(&self, call: &Call) -> reqwest::RequestBuilder {
        let url = self.target_url(call);
        let mut headers = self.target_headers(call);
        let body = call.body.encode(&mut headers);
        let req = self
            .shared
            .http
            .request(call.method.clone(), url)
            .timeout(self.shared.timeout)
            .headers(headers);
        if matches!(call.body, CallBody::None) {
            req
        } else {
            req.body(body)
        }
    }

    /// Sends a call without reqwest (see [`direct`]): the same request
    /// reqwest would send (its `Accept: */*` included), under the same
    /// deadline for the answer's head and body; a session's with its jar
    /// and redirects (see [`session`]).
    async fn execute_direct(
        &self,
        direct: &direct::Direct,
        call: &Call,
    ) -> Result<Answer, TransportError> {
        let deadline = tokio::time::Instant::now() + self.shared.timeout;
        if let Some(jar) = &self.jar {
            // Boxed: this future is built and moved on every call, and a
            // session's is twice the size of the rest of it (issue 9).
            return Box::pin(session::send(self, direct, jar, call, deadline)).await;
        }
        self.send_call_direct(direct, call, deadline).await
    }

    /// A call sent on the direct path outside a session, its answer due by
    /// `deadline`: its target, headers and body built now, the future
    /// returned (`execute_direct`'s, and `send_raw_direct`'s own).
    fn send_call_direct<'a>(
        &'a self,
        direct: &'a direct::Direct,
        call: &Call,
        deadline: tokio::time::Instant,
    ) -> impl std::future::Future<Output = Result<Answer, TransportError>> + Send + use<'a> {
        use futures::future::Either;
        match self.direct_target(call) {
            Ok(target) => {
                let (headers, body) = self.direct_parts(call);
                let sending = (call.method.clone(), target, headers, body);
                Either::Left(self.send_direct(direct, sending, deadline, call.raw_head))
            }
            Err(e) => Either::Right(std::future::ready(Err(e))),
        }
    }

    /// A call's headers and encoded body for the direct path: what
    /// [`Self::request`] gives reqwest, with the `Accept: */*` reqwest adds.
    fn direct_parts(&self, call: &Call) -> (HeaderMap, Bytes) {
        let mut headers = self.target_headers(call);
        let body = call.body.encode(&mut headers);
        headers
            .entry(http::header::ACCEPT)
            .or_insert_with(|| HeaderValue::from_static("*/*"));
        (headers, body)
    }

    /// Sends one request on the direct path, its answer due by `deadline`.
    /// (Not an `async fn`, which would hold its arguments twice; issue 9.)
    fn send_direct(
        &self,
        direct: &direct::Direct,
        request: direct::Parts,
        deadline: tokio::time::Instant,
        raw: bool,
    ) -> impl std::future::Future<Output = Result<Answer, TransportError>> + Send {
        let timeout = self.shared.timeout;
        // A combinator, not an `async` block: one would hold the timed
        // future twice, as what it captured and as what it awaits.
        futures::FutureExt::map(
            tokio::time::timeout_at(deadline, direct.send(request, deadline, timeout, raw)),
            move |sent| sent.unwrap_or_else(|_| Err(TransportError::timed_out(timeout))),
        )
    }

    /// Runs `send` with this session's jar as the one [`SessionCookies`] reads.
    /// (Not an `async fn`: one would hold `send` twice, as its argument and
    /// inside the future it awaits, and every call would copy both.)
    fn in_session<F: std::future::Future>(
        &self,
        send: F,
    ) -> impl std::future::Future<Output = F::Output> {
        use futures::future::Either;
        match &self.jar {
            Some(jar) => Either::Left(SESSION_JAR.scope(Arc::clone(jar), send)),
            None => Either::Right(send),
        }
    }

    /// The span of one upstream call (`send_raw`).
    fn call_span(call: &Call) -> tracing::Span {
        tracing::info_span!(
            "naftiko.call",
            operation = call.operation,
            method = %call.method,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        )
    }

    /// [`Self::send_raw`] as one shallow future, in its most common case: the
    /// direct path, no session jar, no OAuth 2.0, its span off. `None`
    /// otherwise. What `send_raw` nests (its span, the session scope,
    /// `execute`, `execute_direct`) is built and moved on every call: about
    /// 3.7 kB copied a request, for layers that do nothing here (issue 9).
    pub(crate) fn send_raw_direct<'a>(
        &'a self,
        call: &Call,
    ) -> Option<impl std::future::Future<Output = Result<Answer, Error>> + Send + 'a> {
        use futures::future::FutureExt as _;
        let direct = self.shared.direct.as_ref()?;
        if self.jar.is_some()
            || self.shared.oauth2.is_some()
            || !Self::call_span(call).is_disabled()
        {
            return None;
        }
        let operation = call.operation;
        let deadline = tokio::time::Instant::now() + self.shared.timeout;
        Some(
            self.send_call_direct(direct, call, deadline)
                .map(move |sent| sent.map_err(|e| self.call_failed(operation, e))),
        )
    }

    /// A failed call's warning (in its span, when that is on) and error.
    fn call_failed(&self, operation: &'static str, e: TransportError) -> Error {
        tracing::warn!(
            timeout = e.is_timeout(),
            connect = e.is_connect(),
            "upstream call failed"
        );
        self.transport_error(operation, e)
    }

    /// Sends a call and returns the raw response (any status), for servers
    /// that stream it through.
    pub async fn send_raw(&self, call: &Call) -> Result<Answer, Error> {
        let span = Self::call_span(call);
        // No clock read when the span is off (`RUST_LOG=warn`): two per call
        // were measurable under load on this machine's clock (issue 9).
        let started = (!span.is_disabled()).then(Instant::now);
        let record = |status: Option<StatusCode>| {
            if let Some(started) = started {
                span.record("duration_ms", started.elapsed().as_millis() as u64);
                if let Some(status) = status {
                    span.record("status", status.as_u16());
                }
            }
        };
        if let Some(oauth2) = &self.shared.oauth2 {
            // Boxed: its token fetch makes this future about 1.6 kB, which
            // every other call would otherwise carry (and copy) too.
            let result = Box::pin(self.in_session(self.execute_oauth2(oauth2, call)))
                .instrument(span.clone())
                .await;
            record(result.as_ref().ok().map(Answer::status));
            return result;
        }
        let result = self
            .in_session(self.execute(call))
            .instrument(span.clone())
            .await;
        match result {
            Ok(resp) => {
                record(Some(resp.status()));
                Ok(resp)
            }
            Err(e) => {
                record(None);
                let _enter = span.enter();
                Err(self.call_failed(call.operation, e))
            }
        }
    }

    /// Sends the request with the OAuth 2.0 token; a `401` forgets the token
    /// and the request is sent once more with a fresh one.
    async fn execute_oauth2(&self, oauth2: &oauth2::OAuth2, call: &Call) -> Result<Answer, Error> {
        let http = &self.shared.http;
        let mut retried = false;
        loop {
            let token = oauth2.token(http, call.operation).await?;
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.value.expose()))
                .map_err(|_| Error::InvalidResponse {
                    operation: call.operation,
                    status: StatusCode::BAD_GATEWAY,
                    message: "the token endpoint issued a token a header cannot carry".into(),
                    body: Bytes::new(),
                })?;
            value.set_sensitive(true);
            let resp = self
                .request(call)
                .header(http::header::AUTHORIZATION, value)
                .send()
                .await
                .map_err(|e| {
                    tracing::warn!(
                        timeout = e.is_timeout(),
                        connect = e.is_connect(),
                        "upstream call failed"
                    );
                    self.transport_error(call.operation, e)
                })?;
            if resp.status() != StatusCode::UNAUTHORIZED || retried {
                return Ok(Answer::from_reqwest(resp));
            }
            oauth2.invalidate(token.generation).await;
            retried = true;
        }
    }

    /// Sends the request, answering a digest challenge when the API uses
    /// digest authentication (one retry after a `401`).
    async fn execute(&self, call: &Call) -> Result<Answer, TransportError> {
        if let Some(direct) = &self.shared.direct {
            return self.execute_direct(direct, call).await;
        }
        let Some((user, password)) = &self.shared.digest else {
            return Ok(Answer::from_reqwest(self.request(call).send().await?));
        };
        let mut answered = false;
        loop {
            let mut req = self.request(call).build()?;
            let target = request_target(req.url());
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
                return Ok(Answer::from_reqwest(resp));
            }
            let fresh = resp
                .headers()
                .get_all(http::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(digest_auth::parse_challenge);
            let Some(fresh) = fresh else {
                return Ok(Answer::from_reqwest(resp));
            };
            if let Ok(mut c) = self.shared.challenge.lock() {
                *c = Some(fresh);
            }
            answered = true;
        }
    }

    /// An error for a request or body read that failed, naming the upstream
    /// host (the URL, which may carry an API key, is dropped).
    pub fn transport_error(&self, operation: &'static str, e: impl Into<TransportError>) -> Error {
        Error::Transport {
            operation,
            host: self.shared.host.clone(),
            source: e.into(),
        }
    }

    /// The largest answer body accepted.
    pub fn answer_limit(&self) -> usize {
        self.shared.answer_limit
    }

    /// The error for an answer over [`Self::answer_limit`].
    pub fn answer_too_large(&self, operation: &'static str, status: StatusCode) -> Error {
        Error::InvalidResponse {
            operation,
            status,
            message: format!(
                "the answer is larger than the limit of {} bytes",
                self.shared.answer_limit
            ),
            body: Bytes::new(),
        }
    }

    /// Reads a whole answer: status, headers (moved out, not copied) and
    /// body, refusing one over the answer limit (up front when its length is
    /// announced, else as soon as it is exceeded).
    ///
    /// (Not an `async fn`, which would hold the answer twice; issue 9.)
    #[allow(clippy::manual_async_fn)] // see above
    pub fn read(
        &self,
        operation: &'static str,
        mut resp: Answer,
    ) -> impl std::future::Future<Output = Result<(StatusCode, HeaderMap, Bytes), Error>> + Send + '_
    {
        async move {
            let headers = resp.take_headers();
            let body = self.read_body(operation, &mut resp).await?;
            Ok((resp.status(), headers, body))
        }
    }

    /// Reads an answer's body whole, refusing one over the answer limit
    /// (up front when its length is announced, else as soon as it is
    /// exceeded); its headers stay as they are.
    pub(crate) async fn read_body(
        &self,
        operation: &'static str,
        resp: &mut Answer,
    ) -> Result<Bytes, Error> {
        let status = resp.status();
        let limit = self.shared.answer_limit;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(self.answer_too_large(operation, status));
        }
        // Piece by piece (a small future: no collecting adapter to carry),
        // and a body that arrives in one piece, as small answers do, is
        // returned as it is, without a copy.
        let mut first = Bytes::new();
        let mut more: Option<bytes::BytesMut> = None;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.transport_error(operation, e))?
        {
            let held = more.as_ref().map_or(first.len(), bytes::BytesMut::len);
            if held + chunk.len() > limit {
                return Err(self.answer_too_large(operation, status));
            }
            match &mut more {
                Some(body) => body.extend_from_slice(&chunk),
                None if first.is_empty() => first = chunk,
                None => {
                    let mut body = bytes::BytesMut::with_capacity(first.len() + chunk.len());
                    body.extend_from_slice(&first);
                    body.extend_from_slice(&chunk);
                    more = Some(body);
                }
            }
        }
        Ok(more.map_or(first, bytes::BytesMut::freeze))
    }

    /// Sends a call and decodes the answer: 2xx JSON through the mapping,
    /// empty → `null`, other content → a JSON string; non-2xx → [`Error::Response`].
    pub async fn send(&self, call: Call) -> Result<ResponseValue<Value>, Error> {
        let resp = self.send_raw(&call).await?;
        let (status, headers, body) = self.read(call.operation, resp).await?;
        if !status.is_success() {
            return Err(Error::Response {
                operation: call.operation,
                status,
                headers,
                body,
            });
        }
        let value = match call.raw_format {
            Some(format) if !body.is_empty() => {
                crate::formats::to_json_with(format, call.raw_schema, &body).map_err(|message| {
                    Error::InvalidResponse {
                        operation: call.operation,
                        status,
                        message,
                        body: body.clone(),
                    }
                })?
            }
            _ => decode(call.operation, status, &headers, body)?,
        };
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

/// `true` when `template` is exactly one `{{name}}` that `vars` lacks.
fn single_missing(template: &str, vars: &[(&str, Value)]) -> bool {
    let t = template.trim();
    t.strip_prefix("{{")
        .and_then(|r| r.strip_suffix("}}"))
        .filter(|name| !name.contains("{{"))
        .is_some_and(|name| !vars.iter().any(|(n, _)| *n == name.trim()))
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
        return crate::formats::json_from_slice(&body).map_err(|e| Error::InvalidResponse {
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

/// A URL's request target: its path and query, as an HTTP/1 request line
/// and a digest response carry it.
fn request_target(url: &reqwest::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// A URL's request target, checked as a URI's path and query.
fn url_target(url: &reqwest::Url) -> Result<Bytes, TransportError> {
    let target = Bytes::from(request_target(url));
    http::uri::PathAndQuery::from_maybe_shared(target.clone())
        .map_err(TransportError::invalid_url)?;
    Ok(target)
}

/// Whether the URL parser would keep `path` byte for byte: it starts with
/// `/`, holds only characters a path never has encoded or rewritten
/// (unreserved, sub-delimiters, `:`, `@`, `/`, and `%` as the call's own
/// encoding left it), and no segment could be a dot segment (`.`, `..`, or
/// their `%2e` spellings, which the parser resolves). Anything else takes
/// the parser's path.
fn plain_path(path: &str) -> bool {
    let path = path.as_bytes();
    // One pass: every segment follows a `/` (the path starts with one).
    path.first() == Some(&b'/')
        && path.iter().enumerate().all(|(i, &b)| {
            PATH_BYTE.get(usize::from(b)).copied().unwrap_or(false)
                && (b != b'/' || {
                    let seg = path.get(i + 1..).unwrap_or_default();
                    seg.first() != Some(&b'.')
                        && !seg.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(b"%2e"))
                })
        })
}

/// The bytes [`plain_path`] lets through, by value: a table rather than a
/// `match` of ranges, which cost 15 instructions a byte (issue 9).
// Evaluated at compile time: an index out of bounds fails the build.
#[allow(clippy::indexing_slicing)]
static PATH_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'('..=b',' | b';' | b'=' | b':' | b'@' | b'/' | b'%');
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    static SPEC: ApiSpec = ApiSpec::for_tests(&[]);

    /// A session's URL held for a request target is the one built for it,
    /// whichever call asks, and what is held never shows in `Debug`.
    #[test]
    fn session_urls_are_built_once_per_target() {
        let core = CoreBuilder::default()
            .base_url("http://127.0.0.1:9/api/")
            .build(&SPEC)
            .unwrap();
        let call = |path: &str, query: &[(&str, &str)]| {
            let mut call = Call::new("t", http::Method::GET);
            call.path_text(path);
            for (k, v) in query {
                call.query(k, v);
            }
            call
        };
        let calls = [
            call("/a", &[]),
            call("/b", &[]),
            call("/a", &[("q", "1")]),
            call("/a", &[("q", "2 3"), ("key", "held-secret")]),
        ];
        for _ in 0..2 {
            for c in &calls {
                let target = core.written_target(c).unwrap();
                let url = core.shared.urls.get(&target, || core.target_url(c));
                assert_eq!(url, core.target_url(c));
                assert_eq!(url_target(&url).unwrap(), target);
            }
        }
        let shown = format!("{core:?}");
        assert!(shown.contains("Urls(4)"), "{shown}");
        assert!(!shown.contains("held-secret"), "{shown}");
        // Past the limit, URLs are built, not held.
        for i in 0..2 * session::MAX_URLS {
            let c = call(&format!("/items/{i}"), &[]);
            let target = core.written_target(&c).unwrap();
            assert_eq!(
                core.shared.urls.get(&target, || core.target_url(&c)),
                core.target_url(&c)
            );
        }
        assert!(format!("{core:?}").contains(&format!("Urls({})", session::MAX_URLS)));
    }

    /// The direct path writes out the URI the URL parser gives, byte for
    /// byte (its request target, and the pool's absolute URI from it), and
    /// leaves every path the parser would rewrite to it. `https://` base
    /// URLs go direct in builds with `native-tls` (whose connector both
    /// stacks share), else through reqwest.
    #[test]
    fn direct_uris_are_the_url_parsers() {
        let mut bases = vec![
            "http://127.0.0.1:9",
            "http://example.com/api/v1/",
            "http://[::1]:8080/x",
        ];
        // (call path, query pairs, whether the direct path writes it out; the
        // empty path is written out only after a base path)
        type Case = (
            &'static str,
            &'static [(&'static str, &'static str)],
            Option<bool>,
        );
        let calls: [Case; 9] = [
            ("", &[], None),
            ("/items/a%20b", &[], Some(true)),
            ("items/x", &[("q", "a b&c=é+"), ("n", "1")], Some(true)),
            ("/x/!$&'()*+,;=:@~_-", &[("", "")], Some(true)),
            ("/a/../b", &[], Some(false)),
            ("/a/%2E%2e/b", &[], Some(false)),
            ("/.well-known/x", &[], Some(false)),
            ("/a b/{c}", &[], Some(false)),
            ("/ü\\x?#", &[], Some(false)),
        ];
        if [
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ]
        .iter()
        .any(|k| std::env::var_os(k).is_some())
        {
            return; // no direct path with a proxy in the environment
        }
        let https = CoreBuilder::default()
            .base_url("https://example.com:8443/api/")
            .build(&SPEC)
            .unwrap();
        assert_eq!(https.shared.direct.is_some(), cfg!(feature = "native-tls"));
        if cfg!(feature = "native-tls") {
            bases.push("https://example.com:8443/api/");
        }
        // reqwest sends a base URL's userinfo as basic auth; hyper would not.
        let with_userinfo = CoreBuilder::default()
            .base_url("http://user:pw@example.com/api/v1/")
            .cookie_store(false)
            .build(&SPEC)
            .unwrap();
        assert!(with_userinfo.shared.direct.is_none());
        for base in bases {
            let core = CoreBuilder::default()
                .base_url(base)
                .cookie_store(false)
                .build(&SPEC)
                .unwrap();
            let direct = core
                .shared
                .direct
                .as_ref()
                .expect("an http:// base URL goes direct");
            for (path, query, written) in calls {
                let mut call = Call::new("t.op", http::Method::GET);
                call.path = path.to_owned();
                call.query = query
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect();
                let parsed = http::Uri::try_from(core.target_url(&call).as_str()).unwrap();
                if let Some(written) = written {
                    assert_eq!(
                        core.written_target(&call).is_some(),
                        written,
                        "{base} {path}: which way it takes"
                    );
                }
                let target = core.direct_target(&call).unwrap();
                assert_eq!(
                    Some(&target[..]),
                    parsed.path_and_query().map(|p| p.as_str().as_bytes()),
                    "{base} {path}"
                );
                let uri = direct.absolute(target).unwrap();
                assert_eq!(uri, parsed, "{base} {path}");
                assert_eq!(uri.to_string(), parsed.to_string(), "{base} {path}");
            }
        }
    }
}
