//! Plain-HTTP calls on hyper's pooled client, without reqwest's layers.
//!
//! A client without a cookie store (the REST adapters': callers' cookies
//! pass through them) whose upstream is `http://` sends its calls here. Such
//! a client needs none of what reqwest's layers do per request: no jar to
//! read or fill, no redirect to follow (clients without a cookie store
//! follow none: the 3xx and its `Set-Cookie` go back to the caller), no
//! digest or OAuth 2.0 retry, no proxy from the environment (with one set,
//! reqwest is used). Profiled behind the REST adapter, those layers and
//! their two URL parses per answer were about a sixth of its CPU per request
//! (issue 9). Everything else (HTTPS, jars, auth retries, a client the user
//! gave) stays on reqwest.

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// hyper's pooled HTTP/1 client, as reqwest configures its own: idle
/// connections kept 90 s, `TCP_NODELAY`.
pub(crate) type DirectClient = Client<HttpConnector, Full<Bytes>>;

/// The direct path of one API: its client, and the base URL's scheme and
/// authority as URI parts, parsed once (each call then writes only its path:
/// see `Core::direct_uri`).
#[derive(Debug, Clone)]
pub(crate) struct Direct {
    pub(crate) client: DirectClient,
    pub(crate) scheme: Scheme,
    pub(crate) authority: Authority,
}

/// The direct path for `base_url` (which has no query or fragment), with a
/// new client and connection pool; `None` when its origin is not a URI
/// (never for an `http://` URL with a host), and then reqwest sends.
pub(crate) fn direct(base_url: &reqwest::Url) -> Option<Direct> {
    let text = base_url.as_str();
    let origin = text.get(..text.len().checked_sub(base_url.path().len())?)?;
    let parts = http::Uri::try_from(origin).ok()?.into_parts();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Some(Direct {
        client: Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .build(connector),
        scheme: parts.scheme?,
        authority: parts.authority?,
    })
}

/// Whether a client's calls may skip reqwest: our own client, no cookie
/// store, a plain-HTTP base URL, no digest or OAuth 2.0 (they retry), and no
/// proxy configured in the environment (reqwest honours those).
pub(crate) fn eligible(
    own_http: bool,
    cookie_store: bool,
    scheme: &str,
    retrying_auth: bool,
) -> bool {
    own_http && !cookie_store && scheme == "http" && !retrying_auth && !proxy_in_env()
}

fn proxy_in_env() -> bool {
    ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
}
