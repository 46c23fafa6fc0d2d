//! The lean path: a generated REST adapter's own routes served on
//! hand-written HTTP/1 (httparse, hyper's parser) in the connection's task,
//! without hyper's server, axum's router or a `Request` (issue 9: those cost
//! more than the proxying itself).
//!
//! A connection starts here. A request the lean path serves is parsed once,
//! routed on its method and raw path the way axum routes it (a literal
//! segment before a parameter), read into the same [`Incoming`] the axum
//! route reads, and handed to the same handlers; their `Response` is written
//! as hyper writes it ([`super::respond`]). Anything else moves the
//! connection, with the bytes read so far, to hyper and the adapter's axum
//! router for good: a path or method no generated route serves (404, 405,
//! `/openapi.json`), `HEAD`, HTTP/1.0, a request hyper would refuse or frame
//! differently (over the limits, `Transfer-Encoding`, `Connection`,
//! `Upgrade`, `Expect`, a length not plain digits or given twice, a body over
//! the limit, a header value that is not ASCII, a target with bytes a URI
//! does not take raw). So every answer the lean path does not write itself
//! comes from the same code as before, with the same limits.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::AsyncReadExt as _;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::HttpLimits;
use crate::plan::Upstreams;
use crate::rest::{Dispatch, HandlerFuture, Read, RouteSpec, Shared, Values, values_read};
use crate::server::{Incoming, LeanBody, forwarded_headers, forwarded_names};

/// The read buffer's size (hyper's first read buffer is 8 KiB too).
const READ_BUF: usize = 8192;

/// Headers a request may have on the lean path (hyper's default limit;
/// more go to hyper, which answers 431).
const MAX_HEADERS: usize = 100;

/// The generated routes of a REST adapter and its handlers, served on the
/// lean path by [`super::serve_lean`].
#[derive(Clone)]
pub struct Lean(Arc<Inner>);

impl std::fmt::Debug for Lean {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lean")
            .field("routes", &self.0.patterns.len())
            .finish_non_exhaustive()
    }
}

struct Inner {
    routes: &'static [RouteSpec],
    patterns: Vec<Pattern>,
    /// The paths of routes without parameters, sorted, with their path id:
    /// such a path, when it is the request's, is the route axum picks (a
    /// literal wins at every segment), found without matching every route.
    literal: Vec<(&'static str, usize)>,
    /// Paths the adapter's router serves besides `routes` (`/openapi.json`).
    others: &'static [&'static str],
    handle: Box<dyn Handle>,
    /// Requests served on the lean path so far.
    served: AtomicU64,
}

/// The adapter's handlers, whatever their type.
trait Handle: Send + Sync {
    fn call(&self, values: Values, forwarded: HeaderMap, op: usize) -> HandlerFuture<'_>;
    fn body_limit(&self) -> usize;
}

struct Handlers<H> {
    shared: Shared<H>,
    dispatch: Dispatch<H>,
}

impl<H: Send + Sync + 'static> Handle for Handlers<H> {
    fn call(&self, values: Values, forwarded: HeaderMap, op: usize) -> HandlerFuture<'_> {
        (self.dispatch)(&self.shared.0, values, forwarded, op)
    }

    fn body_limit(&self) -> usize {
        self.shared.1.body_limit
    }
}

/// One route, as axum's router sees it.
struct Pattern {
    /// Its index in the adapter's routes.
    op: usize,
    method: &'static str,
    segments: Vec<Segment>,
    /// The index of the first pattern with the same path (one axum route).
    path_id: usize,
    /// Whether an input is read from a header: the caller's headers are then
    /// all read into a map, as axum gives them.
    reads_headers: bool,
    /// Whether an input is the whole body (`Read::Body`): the default
    /// handler may then send the body as it came (`rest::forward_default`).
    reads_body: bool,
    /// The input whose value may be a stand-in for the body, with the
    /// generated `Forwarder` only (`rest::values_read`).
    stand_in: Option<usize>,
    /// The headers forwarded besides `Cookie` (`server::forwarded_names`):
    /// with `Cookie`, the ones kept when the route reads no header.
    trusted: Vec<HeaderName>,
}

enum Segment {
    Literal(&'static str),
    Param,
}

impl Pattern {
    /// What `forwarded_headers` picks from a request's headers, read from
    /// `kept` (ranges of `raw`; all of them cookies or trusted, see
    /// [`Inner::parse`]) without the map of them it reads: the cookies in
    /// the caller's order, then each trusted name's values in its order.
    fn forwarded(&self, kept: &[(Range<usize>, Range<usize>)], raw: &Bytes) -> HeaderMap {
        let mut out = HeaderMap::with_capacity(kept.len());
        let mut add = |name: &HeaderName| {
            for (n, value) in kept {
                let named = raw
                    .get(n.clone())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.as_str().as_bytes()));
                if let (true, Ok(value)) = (
                    named,
                    HeaderValue::from_maybe_shared(raw.slice(value.clone())),
                ) {
                    out.append(name.clone(), value);
                }
            }
        };
        add(&http::header::COOKIE);
        for name in &self.trusted {
            add(name);
        }
        out
    }

    fn has_params(&self) -> bool {
        self.segments.iter().any(|s| matches!(s, Segment::Param))
    }

    /// Whether a path, split at its slashes (raw, as the caller wrote it), is
    /// this route's.
    fn matches(&self, parts: &[&str]) -> bool {
        self.segments.len() == parts.len()
            && self
                .segments
                .iter()
                .zip(parts)
                .all(|(segment, part)| match segment {
                    Segment::Literal(text) => part == text,
                    Segment::Param => !part.is_empty(),
                })
    }

    /// Whether axum's router tries this route before `other` (both matching
    /// one path): at the first segment where they differ, a literal wins.
    fn before(&self, other: &Pattern) -> bool {
        for (a, b) in self.segments.iter().zip(&other.segments) {
            match (a, b) {
                (Segment::Literal(_), Segment::Param) => return true,
                (Segment::Param, Segment::Literal(_)) => return false,
                _ => {}
            }
        }
        false
    }

    /// The path parameters in a path split at its slashes, percent-decoded
    /// as axum decodes them (none at all when one is not UTF-8 once decoded:
    /// axum's extractor fails then, and the route reads no parameter).
    fn params(&self, parts: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            if let Segment::Param = segment {
                match percent_encoding::percent_decode_str(part).decode_utf8() {
                    Ok(v) => out.push(v.into_owned()),
                    Err(_) => return Vec::new(),
                }
            }
        }
        out
    }
}

/// Most segments a path served on the lean path has (longer go to hyper).
const MAX_SEGMENTS: usize = 16;

/// `path` split at its slashes, once for all the routes it is matched
/// against; `None` past [`MAX_SEGMENTS`].
fn split(path: &str) -> Option<([&str; MAX_SEGMENTS], usize)> {
    let mut parts = [""; MAX_SEGMENTS];
    let mut n = 0;
    let mut start = 0;
    for end in memchr::memchr_iter(b'/', path.as_bytes()).chain([path.len()]) {
        *parts.get_mut(n)? = path.get(start..end)?;
        n += 1;
        start = end + 1;
    }
    Some((parts, n))
}

/// A request head the lean path serves, as offsets into the bytes read.
struct Head {
    pattern: usize,
    head_len: usize,
    body_len: usize,
    path: Range<usize>,
    query: Option<Range<usize>>,
    /// The headers (name, value) the route reads: all of them when an
    /// input reads one, else those `server::forwarded_headers` forwards.
    headers: Vec<(Range<usize>, Range<usize>)>,
}

enum Step {
    /// The head is not complete yet.
    More,
    /// Not for the lean path: hyper takes the connection.
    HandOff,
    Serve(Head),
}

impl Lean {
    /// The lean path for `routes`, served by `dispatch` on `shared` (what
    /// the adapter's axum routes are built from: see `rest::routes`);
    /// `others` are the paths its router serves besides them. `None` when
    /// a route's path is not made of whole literal and `{param}` segments
    /// (the matching here would not be axum's).
    ///
    /// `forwarder`: the handlers' upstreams when they are the generated
    /// `Forwarder`, whose methods with a `call` are all the default
    /// (`rest::forward_default`). A body they send on unchanged and as
    /// serde_json would write it is then not parsed at all, only checked
    /// (`rest::values_read`). Handlers of one's own get every value.
    pub fn new<H: Send + Sync + 'static>(
        routes: &'static [RouteSpec],
        others: &'static [&'static str],
        shared: Shared<H>,
        dispatch: Dispatch<H>,
        forwarder: Option<&(dyn Upstreams + Sync)>,
    ) -> Option<Self> {
        let mut patterns: Vec<Pattern> = Vec::with_capacity(routes.len());
        let mut paths: Vec<&'static str> = Vec::with_capacity(routes.len());
        for (op, spec) in routes.iter().enumerate() {
            let (method, path) = spec.route.split_once(' ').unwrap_or(("GET", spec.route));
            // The routes `rest::routes` skips are not served here either.
            let routed = http::Method::from_bytes(method.as_bytes())
                .ok()
                .and_then(|m| axum::routing::MethodFilter::try_from(m).ok())
                .is_some();
            if !routed {
                continue;
            }
            let mut segments = Vec::new();
            for part in path.split('/') {
                let param = part.len() >= 2 && part.starts_with('{') && part.ends_with('}');
                let inner = part
                    .get(1..part.len().saturating_sub(1))
                    .unwrap_or_default();
                if param && !inner.contains(['{', '}', '*']) {
                    segments.push(Segment::Param);
                } else if part.contains(['{', '}', '*']) {
                    return None;
                } else {
                    segments.push(Segment::Literal(part));
                }
            }
            let path_id = match paths.iter().position(|p| *p == path) {
                Some(i) => i,
                None => {
                    paths.push(path);
                    paths.len() - 1
                }
            };
            patterns.push(Pattern {
                op,
                method,
                segments,
                path_id,
                reads_headers: spec.inputs.iter().any(|i| matches!(i.read, Read::Header)),
                reads_body: spec.inputs.iter().any(|i| matches!(i.read, Read::Body)),
                stand_in: forwarder.and_then(|u| crate::rest::body_sent_only_whole(spec, u)),
                trusted: forwarded_names(spec.trusted).collect(),
            });
        }
        let mut literal: Vec<(&'static str, usize)> = patterns
            .iter()
            .filter(|p| !p.has_params())
            .filter_map(|p| Some((*paths.get(p.path_id)?, p.path_id)))
            .collect();
        literal.sort_unstable();
        literal.dedup();
        Some(Self(Arc::new(Inner {
            routes,
            patterns,
            literal,
            others,
            handle: Box::new(Handlers { shared, dispatch }),
            served: AtomicU64::new(0),
        })))
    }

    /// How many requests the lean path has served (the others went to
    /// hyper and the router).
    pub fn served(&self) -> u64 {
        self.0.served.load(Ordering::Relaxed)
    }

    /// Serves `io` until it closes, times out, `halt` says stop (between
    /// requests), or a request is not for the lean path: then the connection
    /// and the bytes read from it of that request (and any after it) come
    /// back, for hyper.
    pub(super) async fn serve(
        &self,
        mut io: TcpStream,
        limits: &HttpLimits,
        halt: &mut watch::Receiver<bool>,
    ) -> Option<(TcpStream, Bytes)> {
        let inner = &*self.0;
        let mut buf = BytesMut::with_capacity(READ_BUF);
        let mut out = Vec::with_capacity(READ_BUF);
        // One timer for the connection, set again for each head it waits for
        // (hyper's header read timeout: the connection is closed).
        let timer = tokio::time::sleep(limits.header_read_timeout);
        tokio::pin!(timer);
        loop {
            // Stopping: no request after the one answered (hyper's graceful
            // shutdown drops pipelined requests the same way).
            // (Its only change is to `true`; reading the version takes no
            // lock, as `borrow` would on every request.)
            if halt.has_changed().unwrap_or(true) {
                return None;
            }
            let mut scanned = 0;
            let mut armed = false;
            let head = loop {
                // A head ends with a line feed: look again only when one came.
                if buf
                    .get(scanned..)
                    .is_some_and(|new| memchr::memchr(b'\n', new).is_some())
                {
                    match inner.parse(&buf, limits.max_uri_bytes) {
                        Step::Serve(head) => break head,
                        Step::HandOff => return Some((io, buf.freeze())),
                        Step::More => {}
                    }
                }
                scanned = buf.len();
                if buf.len() > limits.max_head_bytes {
                    return Some((io, buf.freeze()));
                }
                let idle = buf.is_empty();
                if !armed {
                    timer
                        .as_mut()
                        .reset(Instant::now() + limits.header_read_timeout);
                    armed = true;
                }
                if buf.capacity() - buf.len() < READ_BUF / 2 {
                    buf.reserve(READ_BUF);
                }
                let read = tokio::select! {
                    biased;
                    read = io.read_buf(&mut buf) => read,
                    () = &mut timer => return None,
                    _ = halt.changed(), if idle => return None,
                };
                match read {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            };
            let whole = head.head_len + head.body_len;
            while buf.len() < whole {
                buf.reserve(whole - buf.len());
                match io.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
            let raw = buf.split_to(whole).freeze();
            inner.served.fetch_add(1, Ordering::Relaxed);
            let resp = inner.answer(head, raw).await;
            if !super::respond::respond(&mut io, &mut out, resp).await {
                return None;
            }
        }
    }
}

impl Inner {
    /// The route of `method` and `path`: the pattern axum's router would
    /// pick, `None` when that route has no such method or the path is
    /// another of the router's.
    fn find(&self, method: &str, path: &str) -> Option<usize> {
        if self.others.contains(&path) {
            return None;
        }
        let best = match self.literal.binary_search_by(|(p, _)| (*p).cmp(path)) {
            Ok(i) => self.literal.get(i)?.1,
            Err(_) => self.matching(path)?,
        };
        self.patterns
            .iter()
            .position(|p| p.path_id == best && p.method == method)
    }

    /// The path id of the route axum picks for `path` among those with
    /// parameters too.
    fn matching(&self, path: &str) -> Option<usize> {
        let (parts, n) = split(path)?;
        let parts = parts.get(..n)?;
        let mut best: Option<&Pattern> = None;
        for p in &self.patterns {
            if p.matches(parts) && best.is_none_or(|b| p.before(b)) {
                best = Some(p);
            }
        }
        Some(best?.path_id)
    }

    /// Reads a request head at the start of `buf`.
    fn parse(&self, buf: &[u8], max_uri: usize) -> Step {
        // Left uninitialised: 100 empty headers would be written first.
        let mut slots = [const { std::mem::MaybeUninit::uninit() }; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .parse_request_with_uninit_headers(&mut req, buf, &mut slots);
        let head_len = match parsed {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Step::More,
            Err(_) => return Step::HandOff,
        };
        let (Some(method), Some(target), Some(1)) = (req.method, req.path, req.version) else {
            return Step::HandOff;
        };
        // hyper answers HEAD without a body and frames CONNECT apart.
        if method == "HEAD" || method == "CONNECT" {
            return Step::HandOff;
        }
        if target.len() > max_uri || !target.starts_with('/') || !target.bytes().all(plain) {
            return Step::HandOff;
        }
        let (path, query) = match memchr::memchr(b'?', target.as_bytes()) {
            Some(at) => (target.get(..at).unwrap_or_default(), target.get(at + 1..)),
            None => (target, None),
        };
        let Some((pattern, p)) = self
            .find(method, path)
            .and_then(|i| Some((i, self.patterns.get(i)?)))
        else {
            return Step::HandOff;
        };
        let at = |s: &[u8]| {
            let start = s.as_ptr().addr() - buf.as_ptr().addr();
            start..start + s.len()
        };
        let mut body_len = None;
        let mut kept = Vec::new();
        for h in req.headers.iter() {
            let name = h.name;
            if !h.value.is_ascii() {
                return Step::HandOff;
            }
            if name.eq_ignore_ascii_case("content-length") {
                let (None, Some(n)) = (
                    body_len,
                    digits(h.value).and_then(|n| usize::try_from(n).ok()),
                ) else {
                    return Step::HandOff;
                };
                body_len = Some(n);
            } else if ["transfer-encoding", "connection", "upgrade", "expect"]
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n))
            {
                return Step::HandOff;
            }
            let forwarded = || {
                name.eq_ignore_ascii_case("cookie")
                    || p.trusted
                        .iter()
                        .any(|t| name.eq_ignore_ascii_case(t.as_str()))
            };
            if p.reads_headers || forwarded() {
                kept.push((at(name.as_bytes()), at(h.value)));
            }
        }
        let body_len = body_len.unwrap_or(0);
        if body_len > self.handle.body_limit() {
            return Step::HandOff;
        }
        Step::Serve(Head {
            pattern,
            head_len,
            body_len,
            path: at(path.as_bytes()),
            query: query.map(|q| at(q.as_bytes())),
            headers: kept,
        })
    }

    /// The handler's answer to a request (`raw`: its head and body).
    async fn answer(&self, head: Head, raw: Bytes) -> Response {
        let (Some(p), Some(path)) = (
            self.patterns.get(head.pattern),
            raw.get(head.path.clone())
                .and_then(|s| std::str::from_utf8(s).ok()),
        ) else {
            return crate::server::problem(http::StatusCode::NOT_FOUND, "no such operation");
        };
        let Some(route) = self.routes.get(p.op) else {
            return crate::server::problem(http::StatusCode::NOT_FOUND, "no such operation");
        };
        let (headers, forwarded) = if p.reads_headers {
            let mut headers = HeaderMap::new();
            for (name, value) in head.headers {
                let name = raw.get(name).and_then(|n| HeaderName::from_bytes(n).ok());
                let value = HeaderValue::from_maybe_shared(raw.slice(value)).ok();
                if let (Some(name), Some(value)) = (name, value) {
                    headers.append(name, value);
                }
            }
            // What goes upstream is picked as on the axum route.
            let forwarded = forwarded_headers(&headers, route.trusted);
            (headers, forwarded)
        } else {
            (HeaderMap::new(), p.forwarded(&head.headers, &raw))
        };
        let query = head
            .query
            .and_then(|r| raw.get(r))
            .and_then(|q| std::str::from_utf8(q).ok());
        let body = raw.slice(head.head_len..);
        let params = if p.has_params() {
            split(path)
                .and_then(|(parts, n)| Some(p.params(parts.get(..n)?)))
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let incoming = Incoming::new(params, query, headers, body);
        let values = values_read(&incoming, route, p.stand_in);
        let body = p.reads_body.then(|| incoming.body.clone());
        drop(incoming);
        match values {
            Ok((values, stood_in)) => {
                let body = body.map(|b| {
                    if stood_in {
                        LeanBody::StoodIn(b)
                    } else {
                        LeanBody::Read(b)
                    }
                });
                crate::server::in_lean_call(body, || self.handle.call(values, forwarded, p.op))
                    .await
            }
            Err(resp) => resp,
        }
    }
}

/// A `Content-Length` value: digits only (as hyper reads one).
pub(super) fn digits(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// A byte a request target may have as it is on the lean path: unreserved,
/// sub-delims, `:`, `@`, `/`, `?` and `%` (others go to hyper, whose URI
/// parser decides).
fn plain(b: u8) -> bool {
    PLAIN.get(usize::from(b)).copied().unwrap_or(false)
}

/// [`plain`]'s bytes, as a table (a lookup per byte of every target).
// Evaluated at compile time: an index out of bounds fails the build.
#[allow(clippy::indexing_slicing)]
static PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    let others = b"-._~!$&'()*+,;=:@/?%";
    let mut i = 0;
    while i < others.len() {
        table[others[i] as usize] = true;
        i += 1;
    }
    table
};

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use crate::rest::InputRead;
    use crate::server::RestConfig;

    static ROUTES: [RouteSpec; 6] = [
        route("GET /v1/items/{p0}", &[]),
        route("GET /v1/items/special", &[]),
        route("DELETE /v1/items/{p0}", &[]),
        route("POST /v1/{p0}/tags", &[]),
        route(
            "GET /v1/search",
            &[InputRead::new("X-Tag", Read::Header, false)],
        ),
        route("CONNECT /v1/tunnel", &[]),
    ];

    const fn route(route: &'static str, inputs: &'static [InputRead]) -> RouteSpec {
        RouteSpec {
            route,
            inputs,
            trusted: &["X-Trace", "Connection", "Cookie", "x-trace"],
            call: None,
        }
    }

    fn dispatch(_: &(), _: Values, _: HeaderMap, _: usize) -> HandlerFuture<'_> {
        Box::pin(async { crate::server::problem(http::StatusCode::IM_A_TEAPOT, "test") })
    }

    fn lean() -> Lean {
        Lean::new(
            &ROUTES,
            &["/openapi.json"],
            Arc::new(((), RestConfig::default())),
            dispatch,
            None,
        )
        .unwrap()
    }

    /// The route axum's router picks for `method` and `path` among
    /// `ROUTES`, as `rest::routes` mounts them; `None`: 404 or 405.
    async fn axum_route(method: &str, path: &str) -> Option<usize> {
        use tower::ServiceExt as _;
        let mut router = axum::Router::new();
        for (op, spec) in ROUTES.iter().enumerate() {
            let (m, p) = spec.route.split_once(' ').unwrap();
            let Ok(filter) = axum::routing::MethodFilter::try_from(
                http::Method::from_bytes(m.as_bytes()).unwrap(),
            ) else {
                continue;
            };
            router = router.route(
                p,
                axum::routing::on(filter, move || async move { op.to_string() }),
            );
        }
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = router.oneshot(req).await.unwrap();
        if !resp.status().is_success() {
            return None;
        }
        let body = axum::body::to_bytes(resp.into_body(), 64).await.unwrap();
        std::str::from_utf8(&body).unwrap().parse().ok()
    }

    #[tokio::test]
    async fn routes_are_found_as_axum_finds_them() {
        let lean = lean();
        let inner = &*lean.0;
        let cases = [
            ("GET", "/v1/items/42", Some(0)),
            // A literal segment wins over a parameter, whatever the order.
            ("GET", "/v1/items/special", Some(1)),
            // Same path, another method: the route sharing it.
            ("DELETE", "/v1/items/42", Some(2)),
            // The literal route has no DELETE: 405, no falling back to the
            // parameter's route.
            ("DELETE", "/v1/items/special", None),
            ("POST", "/v1/x/tags", Some(3)),
            // `/v1/items/{p0}` matches first: 405 there, not `/v1/{p0}/tags`.
            ("POST", "/v1/items/tags", None),
            ("GET", "/v1/items/", None),    // an empty parameter
            ("GET", "/v1/items/42/", None), // a trailing slash
            ("GET", "/v1/items", None),
            ("GET", "/v1//42", None),
            ("PUT", "/v1/items/42", None),
            ("GET", "/V1/items/42", None), // paths are case-sensitive
            ("GET", "/v1/items/%73pecial", Some(0)), // raw, not decoded
        ];
        for (method, path, expected) in cases {
            let found = inner.find(method, path).map(|i| inner.patterns[i].op);
            assert_eq!(found, expected, "{method} {path}");
            assert_eq!(
                axum_route(method, path).await,
                expected,
                "axum: {method} {path}"
            );
        }
        // What the router serves besides the routes, and paths too long for
        // the lean path, go to hyper.
        assert_eq!(inner.find("GET", "/openapi.json"), None);
        assert_eq!(inner.find("GET", &"/a".repeat(MAX_SEGMENTS)), None);
        // Methods are case-sensitive (axum's would be a 405 too).
        assert_eq!(inner.find("get", "/v1/items/42"), None);
    }

    #[test]
    fn paths_split_at_every_slash() {
        let (parts, n) = split("/v1//items/").unwrap();
        assert_eq!(&parts[..n], ["", "v1", "", "items", ""]);
        let (parts, n) = split("").unwrap();
        assert_eq!(&parts[..n], [""]);
        assert!(split(&"/a".repeat(MAX_SEGMENTS)).is_none());
        assert!(split(&"/a".repeat(MAX_SEGMENTS - 1)).is_some());
    }

    #[test]
    fn parameters_are_decoded_as_axum_decodes_them() {
        let lean = lean();
        let p = &lean.0.patterns[0];
        let params = |path: &str| {
            let (parts, n) = split(path).unwrap();
            p.params(&parts[..n])
        };
        assert_eq!(params("/v1/items/a%20b%2Fc+d"), ["a b/c+d"]);
        assert_eq!(params("/v1/items/%zz"), ["%zz"]);
        // Not UTF-8 once decoded: no parameter at all (axum's extractor fails).
        assert!(params("/v1/items/%ff").is_empty());
    }

    fn step(request: &str) -> Step {
        lean().0.parse(request.as_bytes(), 8 * 1024)
    }

    #[test]
    fn requests_hyper_would_treat_differently_go_to_hyper() {
        for request in [
            "HEAD /v1/items/1 HTTP/1.1\r\nhost: x\r\n\r\n",
            "CONNECT /v1/tunnel HTTP/1.1\r\nhost: x\r\n\r\n",
            "GET /v1/items/1 HTTP/1.0\r\nhost: x\r\n\r\n",
            "GET /nope HTTP/1.1\r\nhost: x\r\n\r\n",
            "GET http://x/v1/items/1 HTTP/1.1\r\nhost: x\r\n\r\n",
            "GET /v1/items/%C3%A9\"x HTTP/1.1\r\nhost: x\r\n\r\n",
            "GET /v1/items/1#f HTTP/1.1\r\nhost: x\r\n\r\n",
            "POST /v1/a/tags HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST /v1/a/tags HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\nx",
            "POST /v1/a/tags HTTP/1.1\r\ncontent-length: +1\r\n\r\nx",
            "POST /v1/a/tags HTTP/1.1\r\ncontent-length: 1048577\r\n\r\n",
            "POST /v1/a/tags HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 1\r\n\r\n",
            "GET /v1/items/1 HTTP/1.1\r\nConnection: close\r\n\r\n",
            "GET /v1/items/1 HTTP/1.1\r\nupgrade: websocket\r\n\r\n",
            "GET /v1/items/1 HTTP/1.1\r\nx-name: caf\u{e9}\r\n\r\n",
            "GET /v1/items/1 HTTP/1.1\r\nbad header\r\n\r\n",
        ] {
            assert!(matches!(step(request), Step::HandOff), "{request:?}");
        }
        let many = format!(
            "GET /v1/items/1 HTTP/1.1\r\n{}\r\n",
            "a: b\r\n".repeat(MAX_HEADERS + 1)
        );
        assert!(matches!(step(&many), Step::HandOff));
        let long = format!("GET /v1/items/{} HTTP/1.1\r\n\r\n", "a".repeat(8 * 1024));
        assert!(matches!(step(&long), Step::HandOff));
    }

    #[test]
    fn a_served_request_is_read_as_axum_reads_it() {
        assert!(matches!(
            step("GET /v1/items/1 HTTP/1.1\r\nhost: x\r\n"),
            Step::More
        ));
        let request = "POST /v1/a%20b/tags?q=1 HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\n\
                       X-TRACE: t1\r\ncontent-length: 2\r\ncookie: b=2\r\nx-trace: t2\r\n\r\n{}";
        let Step::Serve(head) = step(request) else {
            panic!("not served");
        };
        let text = |r: &Range<usize>| &request[r.clone()];
        assert_eq!(head.head_len, request.len() - 2);
        assert_eq!(head.body_len, 2);
        assert_eq!(text(&head.path), "/v1/a%20b/tags");
        assert_eq!(head.query.as_ref().map(text), Some("q=1"));
        // No header input: only what `forwarded_headers` reads is kept (the
        // cookies and the trusted names, each once, in the caller's order).
        let kept: Vec<(&str, &str)> = head
            .headers
            .iter()
            .map(|(n, v)| (text(n), text(v)))
            .collect();
        assert_eq!(
            kept,
            [
                ("Cookie", "a=1"),
                ("X-TRACE", "t1"),
                ("cookie", "b=2"),
                ("x-trace", "t2")
            ]
        );
        // What goes upstream, read from them, is what `forwarded_headers`
        // picks from the map of all the caller's headers (a trusted name
        // given twice is passed twice, as there).
        let lean = lean();
        let pattern = &lean.0.patterns[head.pattern];
        let raw = Bytes::from(request);
        let mut all = HeaderMap::new();
        for line in request.lines().skip(1).take_while(|l| !l.is_empty()) {
            let (name, value) = line.split_once(": ").unwrap();
            all.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let expected = forwarded_headers(&all, ROUTES[pattern.op].trusted);
        let got = pattern.forwarded(&head.headers, &raw);
        let list = |m: &HeaderMap| -> Vec<(String, String)> {
            m.iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect()
        };
        assert_eq!(list(&got), list(&expected));
        assert_eq!(
            list(&got),
            [
                ("cookie", "a=1"),
                ("cookie", "b=2"),
                ("x-trace", "t1"),
                ("x-trace", "t2"),
                ("x-trace", "t1"),
                ("x-trace", "t2")
            ]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
        let Step::Serve(head) = step("GET /v1/search HTTP/1.1\r\nX-Tag: a\r\nx-other: b\r\n\r\n")
        else {
            panic!("not served");
        };
        assert_eq!(head.headers.len(), 2);
    }
}
