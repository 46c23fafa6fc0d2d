//! Calls without reqwest's layers: on hyper's pooled client, or by hand on a
//! caller connection's own upstream connection ([`wire`]).
//!
//! A client of ours whose upstream is `http://`, or `https://` in builds
//! with the `native-tls` feature (on reqwest's own TLS connector for it:
//! see [`super::tls`]), sends its calls here. A
//! client without a cookie store (the REST adapters': callers' cookies pass
//! through them) needs none of what reqwest's layers do per request: no jar
//! to read or fill, no redirect to follow (such clients follow none: the 3xx
//! and its `Set-Cookie` go back to the caller), no digest or OAuth 2.0
//! retry, no proxy from the environment (with one set, reqwest is used).
//! Profiled behind the REST adapter, those layers and their two URL parses
//! per answer were about a sixth of its CPU per request (issue 9). A
//! session that keeps cookies (the MCP adapter's) has its jar and redirects
//! handled around this path by [`super::session`]. Everything else (HTTPS
//! with `rustls`, auth retries, a base URL with userinfo, a client the user
//! gave, a proxy) stays on reqwest.
//!
//! A call made for a caller connection of `listen::serve` goes on that
//! connection's own upstream connection (see [`affine`]), written and read
//! in the caller's task by [`wire`]; other calls go on hyper-util's pool.

use std::sync::Arc;

use std::time::Duration;

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::Instant;

use super::Answer;
use super::affine::{self, Parked};
use super::wire::{self, Conn};
use crate::error::TransportError;

/// What the direct path connects with: TCP, and TLS on it for `https://`
/// (see [`super::connect`]).
#[cfg(feature = "native-tls")]
type Connector = super::connect::Connector;
/// What the direct path connects with: TCP (`http://` only in this build).
#[cfg(not(feature = "native-tls"))]
type Connector = HttpConnector;

/// hyper's pooled HTTP/1 client, as reqwest configures its own: idle
/// connections kept 90 s, `TCP_NODELAY`.
pub(crate) type DirectClient = Client<Connector, Full<Bytes>>;

/// The direct path of one API: its pooled client, its connector for the
/// connections of [`affine`], and the base URL's origin, parsed once (each
/// call then writes only its request target: see `Core::direct_target`).
#[derive(Clone)]
pub(crate) struct Direct {
    client: DirectClient,
    connector: Connector,
    /// Scheme and authority alone: what the connector connects to, and
    /// what the pool's absolute URIs begin with.
    origin: Uri,
    /// The `Host` header hyper-util's client would write for `origin`.
    host: HeaderValue,
    /// Idle connections of ended caller connections (see [`affine`]).
    parked: Arc<Parked>,
}

/// Nothing of the base URL, which may hold bound variables (a host like
/// `{{PROJECT}}.example.com`, userinfo).
impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").finish_non_exhaustive()
    }
}

/// The direct path for `base_url` (which has no query or fragment), with a
/// new client and connection pool, TLS by `tls` (the connector the client's
/// reqwest stack has too); `None` when its origin is not a URI (never for an
/// `http://` URL with a host), or when it is `https://` and there is no
/// connector, and then reqwest sends.
pub(crate) fn direct(
    base_url: &reqwest::Url,
    tls: Option<super::tls::Connector>,
) -> Option<Direct> {
    let text = base_url.as_str();
    let origin = text.get(..text.len().checked_sub(base_url.path().len())?)?;
    let origin = Uri::try_from(origin).ok()?;
    let host = host_header(&origin)?;
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    #[cfg(feature = "native-tls")]
    let connector = {
        // As reqwest's connector: the TCP connector takes `https://` URIs too.
        tcp.enforce_http(false);
        super::connect::Connector::new(tcp, tls?)
    };
    #[cfg(not(feature = "native-tls"))]
    let connector = {
        let _: Option<super::tls::Connector> = tls; // none in this build
        if origin.scheme() != Some(&http::uri::Scheme::HTTP) {
            return None;
        }
        tcp
    };
    Some(Direct {
        client: Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .build(connector.clone()),
        connector,
        origin,
        host,
        parked: Arc::default(),
    })
}

/// A request's method, target (path and query, valid as a URI's: see
/// `Core::direct_target`), headers and body.
pub(crate) type Parts = (Method, Bytes, HeaderMap, Bytes);

impl Direct {
    /// Sends a request for `target` (path and query) and reads its answer's
    /// head: on the caller connection's own upstream connection when it can
    /// lend one (see [`affine`]) and [`wire`] can send the request, else on
    /// the pool. The answer's body is read under `deadline` (the client's
    /// `timeout`); the caller bounds this call by it too.
    ///
    /// Not an `async fn`, which would hold its arguments twice (issue 9).
    pub(crate) fn send(
        &self,
        (method, target, mut headers, body): Parts,
        deadline: Instant,
        timeout: Duration,
        raw: bool,
    ) -> impl Future<Output = Result<Answer, TransportError>> + Send + '_ {
        // What hyper-util's client adds before it sends on a connection
        // (the pool adds the same when it is missing).
        headers
            .entry(http::header::HOST)
            .or_insert_with(|| self.host.clone());
        async move {
            if let Some(mut lease) = affine::lend(&self.parked) {
                let Some(bytes) = wire::encode(&method, &target, &headers, &body) else {
                    // Not a request for this path: the connection stays idle.
                    lease.give_back();
                    return self
                        .pooled(method, target, headers, body, deadline, timeout)
                        .await;
                };
                let (mut conn, mut reused) = match lease.take() {
                    Some(conn) => (conn, true),
                    None => (self.connect().await?, false),
                };
                while let Err(e) = conn.write(&bytes).await {
                    // A used connection that failed as the request went out
                    // (closed by the upstream just then): as the pool does,
                    // once more on a new connection.
                    if !reused {
                        return Err(TransportError::wire_io(e));
                    }
                    conn = self.connect().await?;
                    reused = false;
                }
                let head = conn.read_head(&method, raw).await?;
                lease.hold(conn);
                return Ok(Answer::wire(head, lease, deadline, timeout));
            }
            self.pooled(method, target, headers, body, deadline, timeout)
                .await
        }
    }

    /// Sends on hyper-util's pool, which takes the absolute URI. Boxed:
    /// [`Self::send`]'s future, which every call on the caller connection's
    /// own connection builds and moves, would otherwise hold room for this
    /// rarer one (584 of its 1,336 bytes; issue 9).
    fn pooled(
        &self,
        method: Method,
        target: Bytes,
        headers: HeaderMap,
        body: Bytes,
        deadline: Instant,
        timeout: Duration,
    ) -> futures::future::BoxFuture<'_, Result<Answer, TransportError>> {
        Box::pin(async move {
            let mut req = Request::new(Full::new(body));
            *req.method_mut() = method;
            *req.uri_mut() = self.absolute(target)?;
            *req.headers_mut() = headers;
            let resp = self
                .client
                .request(req)
                .await
                .map_err(TransportError::hyper_client)?;
            Ok(Answer::direct(resp, deadline, timeout))
        })
    }

    /// The absolute URI of a request target: the origin, then the target.
    pub(crate) fn absolute(&self, target: Bytes) -> Result<Uri, TransportError> {
        let mut parts = self.origin.clone().into_parts();
        let target =
            PathAndQuery::from_maybe_shared(target).map_err(TransportError::invalid_url)?;
        parts.path_and_query = Some(target);
        Uri::from_parts(parts).map_err(TransportError::invalid_url)
    }

    /// A new connection to the upstream (TCP, and TLS for `https://`).
    async fn connect(&self) -> Result<Conn, TransportError> {
        use tower::ServiceExt as _;
        let io = self
            .connector
            .clone()
            .oneshot(self.origin.clone())
            .await
            .map_err(TransportError::connect)?;
        // The connector's I/O for hyper's pool is wrapped in `TokioIo`.
        Ok(Conn::new(io.into_inner()))
    }
}

/// The `Host` header for `uri`, as hyper-util's client writes it: the host,
/// and the port when it is not the scheme's; never the userinfo a base URL
/// may carry.
fn host_header(uri: &Uri) -> Option<HeaderValue> {
    let host = uri.host()?;
    let default = if uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
        443
    } else {
        80
    };
    match uri.port_u16() {
        Some(port) if port != default => HeaderValue::from_str(&format!("{host}:{port}")).ok(),
        _ => HeaderValue::from_str(host).ok(),
    }
}

/// Whether a client's calls may skip reqwest: our own client, a plain-HTTP
/// base URL, or an HTTPS one when there is a TLS connector to share
/// (`tls`), without userinfo (reqwest turns it into basic auth), no digest or
/// OAuth 2.0 (they retry), and no proxy for the scheme configured in the
/// environment (reqwest honours those). Sessions that keep cookies qualify
/// too: see `client::session`.
pub(crate) fn eligible(
    own_http: bool,
    base_url: &reqwest::Url,
    retrying_auth: bool,
    tls: bool,
) -> bool {
    let scheme = base_url.scheme();
    own_http
        && (scheme == "http" || (scheme == "https" && tls))
        && base_url.username().is_empty()
        && base_url.password().is_none()
        && !retrying_auth
        && !proxy_in_env(scheme)
}

/// Whether the environment names a proxy reqwest would use for `scheme`.
fn proxy_in_env(scheme: &str) -> bool {
    let own: &[&str] = if scheme == "https" {
        &["https_proxy", "HTTPS_PROXY"]
    } else {
        &["http_proxy", "HTTP_PROXY"]
    };
    own.iter()
        .chain(&["all_proxy", "ALL_PROXY"])
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_host_header_is_hyper_utils() {
        for (origin, host) in [
            ("http://upstream.test", "upstream.test"),
            ("http://upstream.test:80", "upstream.test"),
            ("http://127.0.0.1:8080", "127.0.0.1:8080"),
            ("http://[::1]:8080", "[::1]:8080"),
            (
                "http://user:secret@upstream.test:8080",
                "upstream.test:8080",
            ),
            ("https://upstream.test", "upstream.test"),
            ("https://upstream.test:443", "upstream.test"),
            ("https://upstream.test:80", "upstream.test:80"),
            ("http://upstream.test:443", "upstream.test:443"),
        ] {
            let uri = Uri::try_from(origin).unwrap();
            assert_eq!(host_header(&uri).unwrap(), host, "{origin}");
        }
    }
}
