//! What generated REST adapters call: reading a request into inputs,
//! problem responses, and forwarding a call upstream with the caller's
//! cookies while streaming the answer back.

use std::cell::Cell;
use std::collections::HashMap;

use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

pub use crate::client::{Arg, ArgError};
use crate::client::{Call, CallBody, Core, is_json};
use crate::error::Error;
use crate::mapping;

/// Answers up to this size (with a known length) are forwarded in one piece.
const SMALL_BODY: u64 = 64 * 1024;

/// The default largest request body a REST adapter accepts (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Settings of a generated REST router.
#[derive(Debug, Clone)]
pub struct RestConfig {
    /// The largest request body accepted; larger ones get 413.
    pub body_limit: usize,
    /// Values of bound variables (`VAR` or `namespace.VAR`) for the spec's
    /// inbound `authentication`, read before the environment.
    pub binds: std::collections::BTreeMap<String, crate::secret::Secret>,
}

impl Default for RestConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            binds: std::collections::BTreeMap::new(),
        }
    }
}

/// A JSON problem response (RFC 9457) naming what is wrong.
pub fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail.into(),
    });
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

/// 404 for a path no route matches.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        format!("no route for `{}`", uri.path()),
    )
}

/// 405 for a known path with another method.
pub async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("`{}` does not accept {method}", uri.path()),
    )
}

/// A request, read: path parameters in route order, query, headers, body.
#[derive(Debug)]
pub struct Incoming {
    /// Path parameter values, in the order of the route's placeholders.
    pub path: Vec<String>,
    /// Query parameters (the last value of a repeated name wins).
    pub query: HashMap<String, String>,
    /// The caller's headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
    /// The body parsed as JSON, once, for inputs that read fields of it.
    parsed: std::sync::OnceLock<Result<Value, String>>,
}

impl Incoming {
    /// Reads `req`; 413 above `limit` bytes.
    pub async fn read(req: axum::extract::Request, limit: usize) -> Result<Self, Response> {
        use axum::extract::FromRequestParts;
        let (mut parts, body) = req.into_parts();
        let path = match axum::extract::RawPathParams::from_request_parts(&mut parts, &()).await {
            Ok(params) => params.iter().map(|(_, v)| v.to_owned()).collect(),
            Err(_) => Vec::new(),
        };
        let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
            problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than {limit} bytes"),
            )
        })?;
        Ok(Self::new(path, parts.uri.query(), parts.headers, body))
    }

    /// A request already taken apart: its path parameters (decoded, in
    /// route order), raw query, headers and body.
    pub fn new(path: Vec<String>, query: Option<&str>, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            path,
            query: query
                .map(|q| url_decode_pairs(q).into_iter().collect())
                .unwrap_or_default(),
            headers,
            body,
            parsed: std::sync::OnceLock::new(),
        }
    }

    /// The path parameter at `index` (its route name is for the message).
    pub fn path_param(&self, index: usize, name: &str) -> Result<String, Response> {
        self.path.get(index).cloned().ok_or_else(|| {
            problem(
                StatusCode::BAD_REQUEST,
                format!("missing path parameter `{name}`"),
            )
        })
    }

    /// A query parameter; `required` ones give 400 when absent.
    pub fn query_param(&self, name: &str, required: bool) -> Result<Option<String>, Response> {
        match self.query.get(name) {
            Some(v) => Ok(Some(v.clone())),
            None if required => Err(problem(
                StatusCode::BAD_REQUEST,
                format!("missing required query parameter `{name}`"),
            )),
            None => Ok(None),
        }
    }

    /// A header value; `required` ones give 400 when absent.
    pub fn header(&self, name: &str, required: bool) -> Result<Option<String>, Response> {
        match self.headers.get(name).and_then(|v| v.to_str().ok()) {
            Some(v) => Ok(Some(v.to_owned())),
            None if required => Err(problem(
                StatusCode::BAD_REQUEST,
                format!("missing required header `{name}`"),
            )),
            None => Ok(None),
        }
    }

    /// The body as JSON: 400 when it is not JSON, or absent but required.
    pub fn json_body(&self, required: bool) -> Result<Option<Value>, Response> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return if required {
                Err(problem(
                    StatusCode::BAD_REQUEST,
                    "missing required JSON request body `body`",
                ))
            } else {
                Ok(None)
            };
        }
        crate::formats::json_from_slice(&self.body)
            .map(Some)
            .map_err(|e| {
                problem(
                    StatusCode::BAD_REQUEST,
                    format!("the request body `body` is not valid JSON: {e}"),
                )
            })
    }

    /// The body as parsed JSON (`Null` when empty), parsed on first use
    /// only, however many inputs read it; 400 when it is not JSON.
    fn parsed_body(&self) -> Result<&Value, Response> {
        let parsed = self.parsed.get_or_init(|| {
            if self.body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            crate::formats::json_from_slice(&self.body).map_err(|e| e.to_string())
        });
        parsed.as_ref().map_err(|e| {
            problem(
                StatusCode::BAD_REQUEST,
                format!("the request body `body` is not valid JSON: {e}"),
            )
        })
    }

    /// The field `name` of a JSON object body (a declared `in: body` input
    /// other than `body`): 400 when the body is not JSON, or the field is
    /// absent but required.
    pub fn body_field(&self, name: &str, required: bool) -> Result<Option<Value>, Response> {
        let field = self
            .parsed_body()?
            .get(name)
            .filter(|v| !v.is_null())
            .cloned();
        match field {
            None if required => Err(problem(
                StatusCode::BAD_REQUEST,
                format!("missing required field `{name}` of the JSON request body"),
            )),
            other => Ok(other),
        }
    }

    /// Input `name` read from the JSON body at `path` (a declared input's
    /// `value: $.user.id`): the value found, `None` when nothing is (400 when
    /// required), 400 when the body is not JSON.
    pub fn body_path(
        &self,
        name: &str,
        path: &str,
        required: bool,
    ) -> Result<Option<Value>, Response> {
        let found = crate::mapping::select_path(path, self.parsed_body()?)
            .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, e))?;
        match found {
            Value::Null if required => Err(problem(
                StatusCode::BAD_REQUEST,
                format!("missing required input `{name}` (at `{path}` in the JSON request body)"),
            )),
            Value::Null => Ok(None),
            v => Ok(Some(v)),
        }
    }
}

fn url_decode_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// Headers that belong to one connection, never forwarded (RFC 9110 7.6.1).
/// Names, not strings: a lookup by `&str` parses the name first, on every
/// answer (about 1% of the REST adapter's CPU under load, issue 9).
static HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The caller headers that go upstream: `Cookie` (the Logto interaction
/// pair) and the trusted ones. `Authorization` only when trusted.
pub fn forwarded_headers(caller: &HeaderMap, trusted: &[&str]) -> HeaderMap {
    let mut out = HeaderMap::new();
    for v in caller.get_all(header::COOKIE) {
        out.append(header::COOKIE, v.clone());
    }
    for h in forwarded_names(trusted) {
        for v in caller.get_all(&h) {
            out.append(h.clone(), v.clone());
        }
    }
    out
}

/// The trusted header names [`forwarded_headers`] passes on besides
/// `Cookie`, in order: valid names that are neither hop-by-hop nor `Cookie`.
pub(crate) fn forwarded_names(trusted: &[&str]) -> impl Iterator<Item = HeaderName> {
    trusted
        .iter()
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
        .filter(|h| !HOP_BY_HOP.contains(h) && *h != header::COOKIE)
}

/// Maps a client error to the adapter's answer: the upstream's own error
/// response passes through; 502 unreachable, 504 timeout, 400 bad input.
pub fn error_response(e: Error) -> Response {
    match e {
        Error::Response {
            status,
            headers,
            body,
            ..
        } => passthrough(status, headers, Body::from(body)),
        Error::Transport {
            host, ref source, ..
        } if source.is_timeout() => problem(
            StatusCode::GATEWAY_TIMEOUT,
            format!("the upstream {host} did not answer in time"),
        ),
        Error::Transport { host, .. } => problem(
            StatusCode::BAD_GATEWAY,
            format!("the upstream {host} is unreachable"),
        ),
        Error::InvalidRequest { message, .. } => problem(StatusCode::BAD_REQUEST, message),
        Error::InvalidResponse { message, .. } => problem(
            StatusCode::BAD_GATEWAY,
            format!("the upstream answered badly: {message}"),
        ),
        Error::Config { message } => problem(StatusCode::INTERNAL_SERVER_ERROR, message),
    }
}

/// An upstream answer streamed through, cut (an error ends the stream, so
/// the caller's connection is closed, not the body quietly truncated) past
/// `limit` bytes. An upstream that fails mid-body cuts it the same way.
fn limited_stream(resp: crate::client::Answer, limit: usize) -> Body {
    use futures::StreamExt;
    let mut seen = 0usize;
    Body::from_stream(resp.into_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            return Err(std::io::Error::other(format!(
                "the upstream answer is larger than the limit of {limit} bytes"
            )));
        }
        Ok(chunk)
    }))
}

fn passthrough(status: StatusCode, mut headers: HeaderMap, body: Body) -> Response {
    // A look at the few names an answer has is cheaper than eight removals
    // by hash, and most answers have none of these (issue 9).
    if headers.keys().any(|name| HOP_BY_HOP.contains(name)) {
        for name in HOP_BY_HOP.iter() {
            headers.remove(name);
        }
    }
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

tokio::task_local! {
    /// Set while the REST adapter's lean path answers a request: it writes
    /// an upstream answer's head as it came ([`RawHead`]), and it holds the
    /// request's body for a default handler that may send it as it came.
    static LEAN_CALL: LeanCall;
}

/// What the lean path hands a generated default handler it calls
/// ([`in_lean_call`], [`lean_call`]).
struct LeanCall {
    /// The request's body, when its route reads it whole (`rest::Read::Body`).
    body: Cell<Option<LeanBody>>,
}

/// The request's body on the lean path, for a default handler
/// (`rest::forward_default`).
pub(crate) enum LeanBody {
    /// The body, as it came, of the value the handler got.
    Read(Bytes),
    /// The body, as it came, of a request whose value the handler got only
    /// a stand-in for (`rest::values_read`): valid JSON as serde_json writes
    /// it, to be sent as it is.
    StoodIn(Bytes),
}

/// Calls `handler` (a request's on the lean path, with its `body` when the
/// route reads it whole) where the generated default handlers keep upstream
/// heads raw and may send the body as it came (`rest::forward_default`).
/// They decide as they are called, not when their future runs, so the scope
/// covers only the call, not every poll of what it returns.
pub(crate) fn in_lean_call<R>(body: Option<LeanBody>, handler: impl FnOnce() -> R) -> R {
    let call = LeanCall {
        body: Cell::new(body),
    };
    LEAN_CALL.sync_scope(call, handler)
}

/// `None` off the lean path; on it ([`in_lean_call`]), the request's body
/// when its route reads it whole, taken (the first caller gets it).
pub(crate) fn lean_call() -> Option<Option<LeanBody>> {
    LEAN_CALL.try_with(|call| call.body.take()).ok()
}

/// An upstream answer's head passed through as it came, carried in the
/// `Response`'s extensions, whose header map is empty: the lean path writes
/// it ([`RawHead::fields`] gives what [`passthrough`] would have put in the
/// map, in the map's order). Saves building and reading a header map per
/// request (issue 9).
#[derive(Clone)]
pub(crate) struct RawHead(crate::client::Fields);

/// The most fields [`RawHead::few`] orders on the stack.
const FEW_FIELDS: usize = 32;

impl RawHead {
    /// The fields [`passthrough`] keeps (none hop-by-hop), in the order a
    /// `HeaderMap` built from them iterates: each name where it first came,
    /// with all its values, and removals done as `HeaderMap::remove` does
    /// them (the last name takes the removed one's place).
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let fields = &self.0;
        // Not `Option`s flattened and chained: those cost 100 instructions
        // a field (issue 9).
        let (few, many, len) = match self.few() {
            Some((order, len)) => (order, Vec::new(), len),
            None => {
                let many = self.ordered();
                let len = many.len();
                ([(0, 0); FEW_FIELDS], many, len)
            }
        };
        (0..len).filter_map(move |k| {
            let i = match many.get(k) {
                Some(&i) => i,
                None => usize::from(few.get(k)?.0),
            };
            Some((fields.name(i), fields.value(i)))
        })
    }

    /// [`Self::fields`]' indexes, and how many, when no name comes twice
    /// and there are at most [`FEW_FIELDS`] (most answers): built on the
    /// stack, not in two lists (issue 9).
    fn few(&self) -> Option<([(u8, u8); FEW_FIELDS], usize)> {
        let fields = &self.0;
        let n = fields.len();
        let same = |a: &[u8], b: &[u8]| a.len() == b.len() && a.eq_ignore_ascii_case(b);
        // Each field's index, and where its name is in `HOP_BY_HOP`
        // (`u8::MAX`: not there).
        let mut entries = [(0u8, u8::MAX); FEW_FIELDS];
        for i in 0..n {
            let name = fields.name(i);
            if (0..i).any(|j| same(name, fields.name(j))) {
                return None;
            }
            let hop = hop_by_hop(name).map_or(Some(u8::MAX), |k| u8::try_from(k).ok())?;
            *entries.get_mut(i)? = (u8::try_from(i).ok()?, hop);
        }
        let len = without_hop_by_hop(entries.get_mut(..n)?, |&(_, hop)| {
            (hop != u8::MAX).then_some(usize::from(hop))
        });
        Some((entries, len))
    }

    /// The indexes of [`Self::fields`] when [`Self::few`] has none.
    fn ordered(&self) -> Vec<usize> {
        let fields = &self.0;
        let n = fields.len();
        let same = |a: &[u8], b: &[u8]| a.len() == b.len() && a.eq_ignore_ascii_case(b);
        // The first field of each name, in order (the map's entries), with
        // where its name is in `HOP_BY_HOP`.
        let mut entries: Vec<(usize, Option<usize>)> = Vec::with_capacity(n);
        for i in 0..n {
            let name = fields.name(i);
            if !entries.iter().any(|&(j, _)| same(name, fields.name(j))) {
                entries.push((i, hop_by_hop(name)));
            }
        }
        // No name repeated: each entry is one field.
        let repeated = entries.len() < n;
        let len = without_hop_by_hop(&mut entries, |&(_, hop)| hop);
        entries.truncate(len);
        if !repeated {
            entries.into_iter().map(|(i, _)| i).collect()
        } else {
            entries
                .into_iter()
                .flat_map(|(first, _)| {
                    let name = fields.name(first);
                    (first..n).filter(move |&i| same(name, fields.name(i)))
                })
                .collect()
        }
    }
}

/// Drops the hop-by-hop `entries` (`hop`: where an entry's name is in
/// [`HOP_BY_HOP`]) as [`passthrough`] removes them from its map: in
/// `HOP_BY_HOP`'s order, the last entry taking a removed one's place. The
/// entries kept are the first ones of the length returned.
fn without_hop_by_hop<T>(entries: &mut [T], hop: impl Fn(&T) -> Option<usize>) -> usize {
    let mut len = entries.len();
    if entries.iter().all(|e| hop(e).is_none()) {
        return len;
    }
    for k in 0..HOP_BY_HOP.len() {
        let at = entries
            .get(..len)
            .and_then(|kept| kept.iter().position(|e| hop(e) == Some(k)));
        if let Some(at) = at {
            len -= 1;
            entries.swap(at, len);
        }
    }
    len
}

/// Where `name` (any case) is in [`HOP_BY_HOP`].
fn hop_by_hop(name: &[u8]) -> Option<usize> {
    // The lengths of those names: most others are ruled out by theirs.
    if !matches!(name.len(), 2 | 7 | 10 | 16..=19) {
        return None;
    }
    HOP_BY_HOP.iter().position(|h| {
        let h = h.as_str().as_bytes();
        h.len() == name.len() && h.eq_ignore_ascii_case(name)
    })
}

/// [`passthrough`] for a head kept raw (see [`RawHead`]).
fn passed_raw(status: StatusCode, fields: crate::client::Fields, body: Bytes) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.extensions_mut().insert(RawHead(fields));
    resp
}

/// Sends `call` with the caller's forwarded headers and answers with the
/// upstream's status, headers (`Set-Cookie` included) and body. With no
/// mapping the body streams through unparsed; otherwise 2xx JSON is mapped.
///
/// Not an `async fn`: one would keep its arguments twice in its future, as
/// arguments and as the locals they move into (the call alone is 312 bytes,
/// and the future is copied as it is boxed; issue 9).
pub fn forward(
    core: &Core,
    call: Call,
    forwarded: HeaderMap,
    exposed_mapping: Option<&'static str>,
) -> impl Future<Output = Response> + Send {
    forward_with(core, call, forwarded, exposed_mapping, false)
}

/// [`forward`]; `raw`: an answer passed through as it is keeps its head
/// raw, and the `Response` carries it as a [`RawHead`] (its header map
/// empty), for the lean path to write.
pub(crate) fn forward_with(
    core: &Core,
    mut call: Call,
    forwarded: HeaderMap,
    exposed_mapping: Option<&'static str>,
    raw: bool,
) -> impl Future<Output = Response> + Send {
    let shapes = [call.mapping.take(), exposed_mapping];
    call.raw_head = raw && call.raw_format.is_none() && shapes.iter().all(Option::is_none);
    let core = core.with_headers(forwarded);
    async move {
        let sent = match core.send_raw_direct(&call) {
            Some(sending) => sending.await,
            // Boxed: it is the larger future, and the rarer case.
            None => Box::pin(core.send_raw(&call)).await,
        };
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) => return error_response(e),
        };
        let status = resp.status();
        let raw_format = call.raw_format.filter(|_| status.is_success());
        let mapped = raw_format.is_some()
            || (shapes.iter().any(Option::is_some)
                && status.is_success()
                && is_json(resp.headers()));
        if !mapped {
            // Small answers of known length are read whole, so the caller gets
            // headers and body in one write; others stream through as they come.
            if resp.content_length().is_some_and(|n| n <= SMALL_BODY) {
                let body = match core.read_body(call.operation, &mut resp).await {
                    Ok(body) => body,
                    Err(e) => return error_response(e),
                };
                return match resp.take_fields() {
                    Some(fields) => passed_raw(status, fields, body),
                    None => passthrough(status, resp.take_headers(), Body::from(body)),
                };
            }
            if resp
                .content_length()
                .is_some_and(|n| n > core.answer_limit() as u64)
            {
                return error_response(core.answer_too_large(call.operation, status));
            }
            let headers = resp.take_headers();
            return passthrough(status, headers, limited_stream(resp, core.answer_limit()));
        }
        let (status, mut headers, body) = match core.read(call.operation, resp).await {
            Ok(answer) => answer,
            Err(e) => return error_response(e),
        };
        let value = match raw_format {
            Some(format) => crate::formats::to_json_with(format, call.raw_schema, &body),
            None => {
                crate::formats::json_from_slice(&body).map_err(|e| format!("invalid JSON: {e}"))
            }
        };
        let value: Value = match value {
            Ok(v) => v,
            Err(e) => {
                return problem(
                    StatusCode::BAD_GATEWAY,
                    format!("the upstream's answer is not what the spec says: {e}"),
                );
            }
        };
        let value = match mapping::shape_all(shapes, value) {
            Ok(v) => v,
            Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e),
        };
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // `to_vec` writes the same bytes as `Display`, without going through
        // `fmt` for every piece.
        let body = serde_json::to_vec(&value).unwrap_or_default();
        passthrough(status, headers, Body::from(body))
    }
}

/// Proxies a request whole (`forward.targetNamespace`): same method, the
/// path below `prefix` (raw, as the caller encoded it) appended to the API's
/// base URL, the query, the body and its `Content-Type`, the caller's
/// `Cookie` and `trusted` headers. The answer comes back as [`forward`]
/// streams it (502/504 when the upstream fails, 413 above `limit`). Path
/// segments `.` and `..` (also percent-encoded) are refused with 400: they
/// would leave the base URL's path.
pub async fn forward_path(
    core: &Core,
    operation: &'static str,
    prefix: &str,
    req: axum::extract::Request,
    trusted: &[&str],
    limit: usize,
) -> Response {
    let (parts, body) = req.into_parts();
    let rest = parts.uri.path().strip_prefix(prefix).unwrap_or_default();
    let dot = |seg: &str| {
        let decoded = percent_encoding::percent_decode_str(seg).decode_utf8_lossy();
        decoded == "." || decoded == ".."
    };
    if rest.split('/').any(dot) {
        return problem(
            StatusCode::BAD_REQUEST,
            "the forwarded path may not contain `.` or `..` segments",
        );
    }
    let body = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than {limit} bytes"),
            );
        }
    };
    let mut call = Call::new(operation, parts.method.clone());
    call.path = format!("/{rest}");
    if let Some(q) = parts.uri.query() {
        call.query = url_decode_pairs(q);
    }
    if !body.is_empty() {
        if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
            call.headers.insert(header::CONTENT_TYPE, ct.clone());
        }
        call.body = CallBody::Raw(body);
    }
    let forwarded = forwarded_headers(&parts.headers, trusted);
    forward(core, call, forwarded, None).await
}

impl From<ArgError> for Response {
    fn from(e: ArgError) -> Self {
        problem(StatusCode::BAD_REQUEST, e.0)
    }
}

#[cfg(any(feature = "mcp", logto_cli))]
impl From<ArgError> for rmcp::ErrorData {
    fn from(e: ArgError) -> Self {
        rmcp::ErrorData::invalid_params(e.0, None)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::client::Fields;

    /// A head kept raw is written in the order, and with the fields, that
    /// `passthrough` gives the header map built from it.
    #[test]
    fn a_raw_head_passes_the_fields_a_header_map_would_in_its_order() {
        let heads: [&'static [u8]; 7] = [
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Type: a\r\nContent-Length: 2\r\nDate: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\na: 3\r\nC: 4\r\nb: 5\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: 1\r\nUpgrade: x\r\nB: 2\r\nKeep-Alive: 5\r\nC: 3\r\nconnection: x\r\nD: 4\r\nTE: t\r\nE: 5\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTrailer: t\r\nTransfer-Encoding: chunked\r\nProxy-Authenticate: p\r\nProxy-Authorization: q\r\nset-cookie: 1\r\nX: y\r\nSet-Cookie: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nkeep-alive: 1\r\nKeep-Alive: 2\r\nX: 1\r\nx: 2\r\nY: 3\r\n\r\n",
        ];
        // More fields than are ordered on the stack.
        let mut long = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..40 {
            long.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
            if i == 20 {
                long.extend_from_slice(b"Connection: keep-alive\r\n");
            }
        }
        long.extend_from_slice(b"\r\n");
        let long: &'static [u8] = long.leak();
        for head in heads.into_iter().chain([long]) {
            let fields = Fields::of(head);
            let mapped = passthrough(StatusCode::OK, fields.to_map().unwrap(), Body::empty());
            let want: Vec<(String, Vec<u8>)> = mapped
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect();
            let raw = RawHead(fields);
            let got: Vec<(String, Vec<u8>)> = raw
                .fields()
                .map(|(n, v)| {
                    (
                        String::from_utf8(n.to_ascii_lowercase()).unwrap(),
                        v.to_vec(),
                    )
                })
                .collect();
            assert_eq!(got, want, "{}", String::from_utf8_lossy(head));
        }
    }

    /// [`hop_by_hop`]'s quick length check lets every hop-by-hop name by.
    #[test]
    fn every_hop_by_hop_name_is_found_in_any_case() {
        for (i, name) in HOP_BY_HOP.iter().enumerate() {
            assert_eq!(hop_by_hop(name.as_str().as_bytes()), Some(i));
            let upper = name.as_str().to_ascii_uppercase();
            assert_eq!(hop_by_hop(upper.as_bytes()), Some(i));
        }
        assert_eq!(hop_by_hop(b"set-cookie"), None);
        assert_eq!(hop_by_hop(b"content-length"), None);
    }
}
