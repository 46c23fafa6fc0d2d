//! Building a [`Core`]: base URL, bound variables, auth, the HTTP client.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

use super::{ApiSpec, AuthSpec, Core, FixedPlace, Piece, Shared};
use crate::error::Error;
use crate::secret::Secret;

/// Builds a [`Core`]; generated builders wrap it with typed setters.
#[derive(Debug, Default)]
pub struct CoreBuilder {
    base_url: Option<String>,
    vars: BTreeMap<String, String>,
    binds: BTreeMap<String, Secret>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    cookie_store: Option<bool>,
    answer_limit: Option<usize>,
    roots: Vec<Vec<u8>>,
}

/// The default largest upstream answer read or passed through (16 MiB).
pub const DEFAULT_ANSWER_LIMIT: usize = 16 * 1024 * 1024;

/// The default time a call may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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

    /// Trusts the certificates of this PEM document (a private CA's, or a
    /// self-signed upstream's) besides the system's roots, for `https://`
    /// upstreams. Applies to the HTTP client this builder makes: with
    /// [`Self::http_client`], give them to that client instead (building
    /// fails otherwise). Checked when the client is built.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.roots.push(pem.into());
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
    /// off so that callers never share a jar. Without a cookie store,
    /// redirects are not followed (the 3xx and its `Set-Cookie` are the
    /// caller's). Either way, calls to a plain-HTTP base URL go straight to
    /// hyper's client.
    pub fn cookie_store(mut self, enabled: bool) -> Self {
        self.cookie_store = Some(enabled);
        self
    }

    /// The largest upstream answer body accepted (default 16 MiB): a larger
    /// one is an error (a server answers 502, or cuts a streamed answer).
    pub fn answer_limit(mut self, bytes: usize) -> Self {
        self.answer_limit = Some(bytes);
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
        // A base URL built with a bound value is a secret: messages show the
        // spec's template instead.
        let bound =
            self.base_url.is_none() && spec.base_uri.iter().any(|p| matches!(p, Piece::Bind(_)));
        let shown = if bound { spec.base_uri_text } else { &base };
        let parsed = reqwest::Url::parse(&base).map_err(|e| Error::Config {
            message: format!("invalid base URL `{shown}`: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::Config {
                message: format!(
                    "invalid base URL `{shown}`: it must be an http(s) URL with a host"
                ),
            });
        }
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let host = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        // Errors name the host: as written when a bound value is in it.
        let host = match written_host(spec.base_uri_text) {
            Some(written) if bound && written.contains("{{") => written.to_owned(),
            _ => host,
        };
        let base = base.trim_end_matches('/').to_owned();
        let mut base_url = parsed.clone();
        base_url.set_query(None);
        base_url.set_fragment(None);

        let mut auth_headers = HeaderMap::new();
        let mut digest = None;
        let mut oauth2 = None;
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
            Some(AuthSpec::OAuth2 {
                token_endpoint,
                issuer,
                client_id,
                client_secret,
                scopes,
                audience,
                resource,
            }) => {
                let opt =
                    |p: Option<&'static [Piece]>| p.map(|p| render(p, &self.vars)).transpose();
                oauth2 = Some(Arc::new(super::oauth2::OAuth2::new(
                    opt(token_endpoint)?,
                    opt(issuer)?,
                    Secret::new(render(client_id, &self.vars)?),
                    Secret::new(render(client_secret, &self.vars)?),
                    scopes.map(str::to_owned),
                    audience.map(str::to_owned),
                    resource.map(str::to_owned),
                )));
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
        let cookie_store = self.cookie_store.unwrap_or(true);
        let (http, tls) = match &self.http {
            Some(_) if !self.roots.is_empty() => {
                return Err(Error::Config {
                    message: "a root certificate was given with a reqwest client of your own: \
                              add it to that client (reqwest's `tls_certs_merge`), which makes \
                              the connections"
                        .to_owned(),
                });
            }
            Some(c) => (c.clone(), None),
            None => {
                let tls = super::tls::Tls::new(&self.roots)?;
                (http_client(cookie_store, timeout, &tls)?, tls.connector())
            }
        };
        let own_http = self.http.is_none();
        let retrying_auth = digest.is_some() || oauth2.is_some();
        let direct = super::direct::eligible(own_http, &parsed, retrying_auth, tls.is_some())
            .then(|| super::direct::direct(&base_url, tls))
            .flatten();
        Ok(Core {
            shared: Arc::new(Shared {
                own_http,
                digest,
                oauth2,
                challenge: Arc::default(),
                cookie_store,
                binds,
                vars: self.vars,
                spec,
                http,
                direct,
                base: super::BaseUrl {
                    text: base,
                    path: base_url.path().trim_end_matches('/').to_owned(),
                    url: base_url,
                    written: bound.then_some(spec.base_uri_text),
                },
                host,
                timeout,
                answer_limit: self.answer_limit.unwrap_or(DEFAULT_ANSWER_LIMIT),
                auth_headers,
                auth_query,
                fixed_headers,
                fixed_query,
                fixed_cookies,
                urls: Arc::default(),
            }),
            extra_headers: HeaderMap::new(),
            jar: session_jar(own_http, cookie_store),
        })
    }
}

/// The cookie jar of a new session: one when the client is ours and keeps
/// cookies (a reqwest client given with `.http_client` keeps its own).
pub(super) fn session_jar(own_http: bool, cookie_store: bool) -> Option<Arc<reqwest::cookie::Jar>> {
    (own_http && cookie_store).then(Arc::default)
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

/// A reqwest client of our own, with `tls` (the connector the direct path
/// shares, or reqwest's own TLS given the extra roots; see [`super::tls`]).
/// With `cookie_store`, its
/// cookies come from the jar of the session that sends each request
/// ([`super::SessionCookies`]): one client and connection pool serve every
/// session made from it. Without, it follows no redirects: the jar that
/// would keep a redirect's `Set-Cookie` is the caller's, so the 3xx goes back
/// to the caller (a proxy's behaviour, and what hyper's client does for
/// such clients' plain-HTTP calls, see [`super::direct`]).
pub(super) fn http_client(
    cookie_store: bool,
    timeout: Duration,
    tls: &super::tls::Tls,
) -> Result<reqwest::Client, Error> {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        // reqwest's default retry policy (for HTTP/2 refusals, which HTTP/1
        // never sends) clones every request's headers in case it retries.
        .retry(reqwest::retry::never().max_retries_per_request(0));
    let builder = if cookie_store {
        builder
            .cookie_provider(Arc::new(super::SessionCookies))
            .redirect(super::session::redirect_policy())
    } else {
        builder.redirect(reqwest::redirect::Policy::none())
    };
    tls.configure(builder).build().map_err(|e| Error::Config {
        message: format!("cannot build the HTTP client: {e}"),
    })
}

/// The host (and port) of a base URI as the spec writes it, template
/// placeholders and all: what follows the scheme, up to the path, without
/// userinfo.
fn written_host(base_uri: &str) -> Option<&str> {
    let rest = base_uri.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(
        authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host),
    )
}

#[cfg(test)]
mod tests {
    use super::written_host;

    #[test]
    fn the_written_host_keeps_placeholders_and_drops_the_rest() {
        for (base, host) in [
            (
                "https://{{PROJECT}}.supabase.co/auth/v1",
                Some("{{PROJECT}}.supabase.co"),
            ),
            ("http://[host]/base", Some("[host]")),
            (
                "http://user:{{PASS}}@api.test:8080?x#y",
                Some("api.test:8080"),
            ),
            ("http://api.test", Some("api.test")),
            ("api.test/path", None),
        ] {
            assert_eq!(written_host(base), host, "{base}");
        }
    }
}
