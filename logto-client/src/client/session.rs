//! Calls of a session (a client that keeps cookies) on the direct path: the
//! session's jar and redirects, as reqwest's layers do them for our reqwest
//! clients, without their three URL parses per call.
//!
//! reqwest (0.13) wraps each request in a redirect layer (tower-http's
//! `FollowRedirect` with reqwest's policy: at most 10 redirects, a `Referer`,
//! credentials dropped when a redirect changes origin) around a cookie layer
//! (the jar's cookies for a request that has no `Cookie` header of its own;
//! every answer's `Set-Cookie` into the jar). Profiled behind the MCP
//! adapter, whose sessions keep cookies, those layers were a third of a
//! `tools/call`'s instructions (issue 9): each parses the request URL again,
//! IDNA included.
//!
//! Here each hop on the session's upstream (the base URL's origin) goes on
//! hyper's client like any direct call; the jar is read and filled around
//! it, and a redirect is followed by the same rules: 301 and 302 turn a
//! `POST` into a body-less `GET`, 303 turns anything but `HEAD` into one
//! (payload headers dropped with the body), 307 and 308 send the same
//! request again; the 11th redirect is an error, as is one to a scheme
//! other than `http`/`https`; a `Location` that does not resolve leaves the
//! 3xx as the answer. A redirect that leaves the origin is sent by reqwest
//! from there (without the credentials, as reqwest would, and with the
//! origin alone as `Referer`, where reqwest would send the whole URL), and
//! reqwest follows any further redirects, the ones already followed counted
//! against its limit ([`redirect_policy`]).

use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION,
    PROXY_AUTHORIZATION, REFERER, SET_COOKIE, TRANSFER_ENCODING, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use reqwest::Url;
use reqwest::cookie::CookieStore as _;
use tokio::time::Instant;

use super::direct::Direct;
use super::{Answer, Call, Core};
use crate::error::TransportError;

/// reqwest's default limit: the 11th redirect of one call is an error.
const MAX_REDIRECTS: usize = 10;

/// The most URLs [`Urls`] keeps.
pub(super) const MAX_URLS: usize = 256;

/// A client's session URLs by request target, shared by its sessions. A
/// session needs each call's URL (its jar matches cookies by it), and
/// building one sets the call's path on the base URL, which parses it: 2.3k
/// of a `tools/call`'s 75k user-space instructions (issue 9). One target
/// always gives the same URL (the base is the client's), so each is built
/// once; past [`MAX_URLS`] targets (paths with ids in them), the others are
/// built every time. Its `Debug` shows how many it holds, never a URL (the
/// query may carry an API key).
#[derive(Default)]
pub(super) struct Urls(std::sync::Mutex<std::collections::HashMap<Bytes, Url>>);

impl std::fmt::Debug for Urls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.0.lock().map(|urls| urls.len()).unwrap_or(0);
        f.debug_tuple("Urls").field(&held).finish()
    }
}

impl Urls {
    /// The URL of request `target`, `build` giving it when it is not held.
    pub(super) fn get(&self, target: &Bytes, build: impl FnOnce() -> Url) -> Url {
        if let Some(url) = self
            .0
            .lock()
            .ok()
            .and_then(|urls| urls.get(target).cloned())
        {
            return url;
        }
        let url = build();
        if let Ok(mut urls) = self.0.lock()
            && urls.len() < MAX_URLS
        {
            urls.insert(target.clone(), url.clone());
        }
        url
    }
}

tokio::task_local! {
    /// The redirects a call followed here before reqwest took it over.
    static FOLLOWED: usize;
}

/// The redirect policy of our reqwest clients that keep cookies: reqwest's
/// default (at most [`MAX_REDIRECTS`]), counting the redirects this path
/// followed before it handed the call to reqwest, so that a chain is held to
/// one limit whichever stack follows it.
pub(super) fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let before = FOLLOWED.try_with(|n| *n).unwrap_or(0);
        if attempt.previous().len() + before > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// Sends `call` for a session whose cookies are in `jar`, following
/// redirects, all under `deadline`.
pub(super) async fn send(
    core: &Core,
    direct: &Direct,
    jar: &reqwest::cookie::Jar,
    call: &Call,
    deadline: Instant,
) -> Result<Answer, TransportError> {
    // The target written out when it can be (see `Core::written_target`):
    // then its URL may be held already, and it need not be parsed back.
    let written = core.written_target(call);
    let mut url = match &written {
        Some(target) => core.shared.urls.get(target, || core.target_url(call)),
        None => core.target_url(call),
    };
    let (headers, body) = core.direct_parts(call);
    let first = Outgoing {
        method: call.method.clone(),
        headers,
        body,
    };
    let mut answer = hop(core, direct, jar, &url, written, first, deadline).await?;
    if !is_redirect(answer.status()) {
        return Ok(answer);
    }
    // A redirect (rare): the request's parts once more, to send on.
    let (headers, body) = core.direct_parts(call);
    let mut next = Outgoing {
        method: call.method.clone(),
        headers,
        body,
    };
    let mut followed = 0;
    while let Some(location) = next.redirected(&answer, &url) {
        followed += 1;
        if followed > MAX_REDIRECTS {
            return Err(TransportError::redirect("too many redirects"));
        }
        if !matches!(location.scheme(), "http" | "https") {
            return Err(TransportError::redirect(format!(
                "a redirect to a `{}:` URL",
                location.scheme()
            )));
        }
        // Its connection goes (unread, it is not reused) before the next.
        drop(answer);
        // In reqwest's order (a removal moves the map's last entry into its
        // place, so the order shows on the wire): credentials out, then the
        // `Referer` in.
        let mut headers = next.headers.clone();
        let leaves = !same_origin(&location, &url);
        if leaves {
            for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION, WWW_AUTHENTICATE] {
                headers.remove(name);
            }
            headers.remove("cookie2");
        }
        if let Some(referer) = referer(&location, &url, leaves) {
            headers.insert(REFERER, referer);
        }
        if leaves {
            let req = Outgoing { headers, ..next };
            return elsewhere(core, req, location, followed, deadline).await;
        }
        url = location;
        let req = Outgoing {
            method: next.method.clone(),
            headers,
            body: next.body.clone(),
        };
        answer = hop(core, direct, jar, &url, None, req, deadline).await?;
    }
    Ok(answer)
}

/// One request of a session on the direct path: the jar's cookies in, its
/// answer's `Set-Cookie` into the jar. `target`: `url`'s request target,
/// when already written.
async fn hop(
    core: &Core,
    direct: &Direct,
    jar: &reqwest::cookie::Jar,
    url: &Url,
    target: Option<Bytes>,
    req: Outgoing,
    deadline: Instant,
) -> Result<Answer, TransportError> {
    let Outgoing {
        method,
        mut headers,
        body,
    } = req;
    if !headers.contains_key(COOKIE)
        && let Some(cookies) = jar.cookies(url)
    {
        headers.insert(COOKIE, cookies);
    }
    let target = match target {
        Some(target) => target,
        None => super::url_target(url)?,
    };
    let answer = core
        .send_direct(direct, (method, target, headers, body), deadline, false)
        .await?;
    let mut set = answer.headers().get_all(SET_COOKIE).iter().peekable();
    if set.peek().is_some() {
        jar.set_cookies(&mut set, url);
    }
    Ok(answer)
}

/// A hop that left the upstream's origin, the call's `followed`-th
/// redirect, and the rest of its redirects: reqwest's (the session's jar is
/// the one it reads: see `in_session`), within the one limit.
async fn elsewhere(
    core: &Core,
    next: Outgoing,
    url: Url,
    followed: usize,
    deadline: Instant,
) -> Result<Answer, TransportError> {
    let left = deadline.saturating_duration_since(Instant::now());
    let mut req = core
        .shared
        .http
        .request(next.method, url)
        .headers(next.headers)
        .timeout(left);
    if !next.body.is_empty() {
        req = req.body(next.body);
    }
    let resp = FOLLOWED.scope(followed, req.send()).await?;
    Ok(Answer::from_reqwest(resp))
}

/// A request's method, headers and body; for a redirect, as the redirects
/// so far left them.
struct Outgoing {
    method: Method,
    headers: HeaderMap,
    body: Bytes,
}

impl Outgoing {
    /// The URL `answer` (to a request for `url`) redirects to, with the
    /// method, body and payload headers changed as its status says; `None`
    /// when it is not a redirect to follow.
    fn redirected(&mut self, answer: &Answer, url: &Url) -> Option<Url> {
        let status = answer.status();
        let location = answer
            .headers()
            .get(LOCATION)
            .and_then(|l| std::str::from_utf8(l.as_bytes()).ok())
            .and_then(|l| url.join(l).ok())
            // tower-http resolves to a URI: a URL that is not one stops.
            .filter(|u| http::Uri::try_from(u.as_str()).is_ok())?;
        match status {
            StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => {
                if self.method == Method::POST {
                    self.method = Method::GET;
                    self.drop_payload();
                }
            }
            StatusCode::SEE_OTHER => {
                if self.method != Method::HEAD {
                    self.method = Method::GET;
                }
                self.drop_payload();
            }
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => {}
            _ => return None,
        }
        Some(location)
    }

    fn drop_payload(&mut self) {
        self.body = Bytes::new();
        for name in [
            CONTENT_TYPE,
            CONTENT_LENGTH,
            CONTENT_ENCODING,
            TRANSFER_ENCODING,
        ] {
            self.headers.remove(name);
        }
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// Whether a redirect from `previous` to `next` keeps the credentials
/// (reqwest's test: same host, port and scheme).
fn same_origin(next: &Url, previous: &Url) -> bool {
    next.host_str() == previous.host_str()
        && next.port_or_known_default() == previous.port_or_known_default()
        && next.scheme() == previous.scheme()
}

/// The `Referer` of a redirect: reqwest's (the previous URL without its
/// userinfo and fragment, none from `https` to `http`), except that a
/// redirect to another origin gets the previous origin alone, as browsers
/// send it by default: the previous URL may hold an API key in its query or
/// a bound value in its path, which reqwest would hand to the other origin.
fn referer(next: &Url, previous: &Url, leaves: bool) -> Option<HeaderValue> {
    if next.scheme() == "http" && previous.scheme() == "https" {
        return None;
    }
    let mut referer = previous.clone();
    let _ = referer.set_username("");
    let _ = referer.set_password(None);
    referer.set_fragment(None);
    if leaves {
        referer.set_path("/");
        referer.set_query(None);
    }
    HeaderValue::from_str(referer.as_str()).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_referer_has_no_userinfo_and_is_not_sent_to_plain_http_from_https() {
        let from = Url::parse("http://u:p@a.test:8080/x?q=1#f").unwrap();
        let to = Url::parse("http://a.test:8080/y").unwrap();
        assert_eq!(
            referer(&to, &from, false).unwrap(),
            "http://a.test:8080/x?q=1"
        );
        let from = Url::parse("https://a.test/x").unwrap();
        assert_eq!(referer(&to, &from, true), None);
    }

    #[test]
    fn another_origin_gets_only_the_origin_as_referer() {
        let from = Url::parse("http://a.test:8080/key/s3cret?api_key=s3cret").unwrap();
        let to = Url::parse("http://b.test/y").unwrap();
        assert_eq!(referer(&to, &from, true).unwrap(), "http://a.test:8080/");
    }

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        let a = Url::parse("http://a.test/x").unwrap();
        for (other, same) in [
            ("http://a.test:80/y", true),
            ("http://a.test:81/x", false),
            ("https://a.test/x", false),
            ("http://b.test/x", false),
        ] {
            assert_eq!(
                same_origin(&Url::parse(other).unwrap(), &a),
                same,
                "{other}"
            );
        }
    }
}
