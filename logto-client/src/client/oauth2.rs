//! OAuth 2.0 client credentials (RFC 6749 4.4) for consumed APIs: the token
//! is fetched on first use, cached, refreshed shortly before it expires, one
//! fetch at a time however many calls wait for it; a `401` answer forgets it
//! once and the call is retried with a fresh one.

use std::time::{Duration, Instant};

use http::header::{ACCEPT, HeaderValue};
use serde_json::Value;

use crate::error::Error;
use crate::secret::Secret;

/// How long before its expiry a token is replaced.
const REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// Settings and cache of one client's OAuth 2.0 credentials.
#[derive(Debug)]
pub(crate) struct OAuth2 {
    /// The token endpoint, when the spec gives it.
    pub(crate) token_endpoint: Option<String>,
    /// The authorization server, whose metadata names the token endpoint
    /// (RFC 8414, then OpenID Connect discovery).
    pub(crate) issuer: Option<String>,
    pub(crate) client_id: Secret,
    pub(crate) client_secret: Secret,
    pub(crate) scopes: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) resource: Option<String>,
    cache: tokio::sync::Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    endpoint: Option<String>,
    token: Option<(Secret, Option<Instant>)>,
    /// Bumped for each token fetched, so a `401` forgets only the token it
    /// was answered to.
    generation: u64,
}

/// A token, and which fetch it came from.
pub(crate) struct Token {
    pub(crate) value: Secret,
    pub(crate) generation: u64,
}

impl OAuth2 {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        token_endpoint: Option<String>,
        issuer: Option<String>,
        client_id: Secret,
        client_secret: Secret,
        scopes: Option<String>,
        audience: Option<String>,
        resource: Option<String>,
    ) -> Self {
        Self {
            token_endpoint,
            issuer,
            client_id,
            client_secret,
            scopes,
            audience,
            resource,
            cache: tokio::sync::Mutex::new(Cache::default()),
        }
    }

    /// A token valid for a while: the cached one, or a new one (the lock
    /// is held while fetching, so concurrent calls wait for one fetch).
    pub(crate) async fn token(
        &self,
        http: &reqwest::Client,
        operation: &'static str,
    ) -> Result<Token, Error> {
        let mut cache = self.cache.lock().await;
        if let Some((value, expiry)) = &cache.token
            && expiry.is_none_or(|e| Instant::now() + REFRESH_MARGIN < e)
        {
            return Ok(Token {
                value: value.clone(),
                generation: cache.generation,
            });
        }
        let endpoint = match &cache.endpoint {
            Some(e) => e.clone(),
            None => {
                let e = self.endpoint(http, operation).await?;
                cache.endpoint = Some(e.clone());
                e
            }
        };
        let (value, expires_in) = self.fetch(http, &endpoint, operation).await?;
        cache.generation += 1;
        cache.token = Some((
            value.clone(),
            expires_in.map(|s| Instant::now() + Duration::from_secs(s)),
        ));
        Ok(Token {
            value,
            generation: cache.generation,
        })
    }

    /// Forgets the token of `generation` (a newer one is kept).
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut cache = self.cache.lock().await;
        if cache.generation == generation {
            cache.token = None;
        }
    }

    async fn endpoint(
        &self,
        http: &reqwest::Client,
        operation: &'static str,
    ) -> Result<String, Error> {
        if let Some(e) = &self.token_endpoint {
            return Ok(e.clone());
        }
        let Some(issuer) = &self.issuer else {
            return Err(Error::Config {
                message: "oauth2 authentication needs `tokenEndpoint` or `authorizationServerUri`"
                    .into(),
            });
        };
        let issuer = issuer.trim_end_matches('/');
        for well_known in ["oauth-authorization-server", "openid-configuration"] {
            let url = format!("{issuer}/.well-known/{well_known}");
            let Ok(resp) = http
                .get(&url)
                .header(ACCEPT, "application/json")
                .send()
                .await
            else {
                continue;
            };
            if !resp.status().is_success() {
                continue;
            }
            if let Ok(meta) = resp.json::<Value>().await
                && let Some(e) = meta.get("token_endpoint").and_then(Value::as_str)
            {
                return Ok(e.to_owned());
            }
        }
        Err(Error::InvalidResponse {
            operation,
            status: http::StatusCode::BAD_GATEWAY,
            message: format!("the authorization server {issuer} publishes no token endpoint"),
            body: bytes::Bytes::new(),
        })
    }

    /// `POST grant_type=client_credentials` with the client's credentials
    /// in HTTP basic authentication (RFC 6749 2.3.1).
    async fn fetch(
        &self,
        http: &reqwest::Client,
        endpoint: &str,
        operation: &'static str,
    ) -> Result<(Secret, Option<u64>), Error> {
        use crate::encode::form_component as enc;
        let mut form = String::from("grant_type=client_credentials");
        for (k, v) in [
            ("scope", &self.scopes),
            ("audience", &self.audience),
            ("resource", &self.resource),
        ] {
            if let Some(v) = v {
                form.push_str(&format!("&{k}={}", enc(v)));
            }
        }
        let resp = http
            .post(endpoint)
            .basic_auth(
                enc(self.client_id.expose()),
                Some(enc(self.client_secret.expose())),
            )
            .header(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .header(ACCEPT, "application/json")
            .body(form)
            .send()
            .await
            .map_err(|e| Error::Transport {
                operation,
                host: reqwest::Url::parse(endpoint)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default(),
                source: e.into(),
            })?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let token = body.get("access_token").and_then(Value::as_str);
        match token {
            Some(t) if status.is_success() => Ok((
                Secret::new(t),
                body.get("expires_in").and_then(|e| {
                    e.as_u64()
                        .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
                }),
            )),
            _ => Err(Error::InvalidResponse {
                operation,
                status,
                message: format!(
                    "the token endpoint answered {status} without an access token{}",
                    body.get("error")
                        .and_then(Value::as_str)
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ),
                body: bytes::Bytes::new(),
            }),
        }
    }
}
