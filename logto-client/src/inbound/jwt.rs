//! Inbound `oauth2`: bearer tokens that are JWTs signed by the spec's
//! authorization server (RFC 9068 style), checked against its published
//! keys (JWKS, found through RFC 8414 / OpenID Connect metadata): signature
//! (RS256, ES256), `iss`, `aud` (the spec's `resource` or `audience`),
//! `exp`/`nbf`, and the spec's `scopes`. Signatures are verified with ring.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

/// How long fetched keys are used before being fetched again.
const KEYS_TTL: Duration = Duration::from_secs(300);
/// Clock skew accepted on `exp` and `nbf`.
const LEEWAY: u64 = 60;

/// Why a token is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Missing, malformed, badly signed, expired or for someone else: 401.
    InvalidToken(String),
    /// Valid, without a required scope: 403.
    InsufficientScope(String),
}

/// Validates the tokens of one authorization server.
#[derive(Debug)]
pub struct JwtValidator {
    /// `authorizationServerUri`: the expected `iss`.
    pub issuer: String,
    /// The expected `aud` (`resource`, or `audience`).
    pub audience: Option<String>,
    /// Scopes every token must carry.
    pub scopes: Vec<String>,
    http: reqwest::Client,
    keys: tokio::sync::Mutex<Option<(Vec<Value>, Instant)>>,
}

fn b64(part: &str) -> Result<Vec<u8>, Refusal> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| Refusal::InvalidToken("the token is not base64url".into()))
}

fn json(part: &str) -> Result<Value, Refusal> {
    serde_json::from_slice(&b64(part)?)
        .map_err(|_| Refusal::InvalidToken("the token is not a JWT".into()))
}

impl JwtValidator {
    /// A validator for `issuer`'s tokens.
    pub fn new(issuer: String, audience: Option<String>, scopes: Vec<String>) -> Arc<Self> {
        Arc::new(Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            audience,
            scopes,
            http: reqwest::Client::new(),
            keys: tokio::sync::Mutex::new(None),
        })
    }

    /// The issuer's signing keys, from cache unless `refresh`.
    async fn keys(&self, refresh: bool) -> Result<Vec<Value>, Refusal> {
        let mut cache = self.keys.lock().await;
        if let Some((keys, at)) = cache.as_ref()
            && !refresh
            && at.elapsed() < KEYS_TTL
        {
            return Ok(keys.clone());
        }
        let unavailable = |why: &str| {
            Refusal::InvalidToken(format!(
                "the authorization server's keys are unavailable: {why}"
            ))
        };
        let mut jwks_uri = None;
        for well_known in ["oauth-authorization-server", "openid-configuration"] {
            let url = format!("{}/.well-known/{well_known}", self.issuer);
            if let Ok(r) = self.http.get(&url).send().await
                && r.status().is_success()
                && let Ok(meta) = r.json::<Value>().await
                && let Some(u) = meta.get("jwks_uri").and_then(Value::as_str)
            {
                jwks_uri = Some(u.to_owned());
                break;
            }
        }
        let uri = jwks_uri.ok_or_else(|| unavailable("no `jwks_uri` in its metadata"))?;
        let set: Value = self
            .http
            .get(&uri)
            .send()
            .await
            .map_err(|_| unavailable("the JWKS cannot be fetched"))?
            .json()
            .await
            .map_err(|_| unavailable("the JWKS is not JSON"))?;
        let keys = set
            .get("keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        *cache = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }

    /// Validates `token`: its claims when it is acceptable.
    pub async fn validate(&self, token: &str) -> Result<Value, Refusal> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::InvalidToken("the token is not a JWT".into()));
        };
        let header = json(h)?;
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kid = header.get("kid").and_then(Value::as_str);
        let signed = format!("{h}.{p}");
        let sig = b64(sig)?;
        let find = |keys: &[Value]| {
            keys.iter()
                .find(|k| kid.is_none_or(|id| k.get("kid").and_then(Value::as_str) == Some(id)))
                .cloned()
        };
        // An unknown key id may be a rotated key: fetch once more.
        let key = match find(&self.keys(false).await?) {
            Some(k) => k,
            None => find(&self.keys(true).await?).ok_or_else(|| {
                Refusal::InvalidToken("the token's signing key is not published".into())
            })?,
        };
        verify(alg, &key, signed.as_bytes(), &sig)?;
        let claims = json(p)?;
        self.check_claims(&claims)?;
        Ok(claims)
    }

    fn check_claims(&self, claims: &Value) -> Result<(), Refusal> {
        let invalid = |why: String| Err(Refusal::InvalidToken(why));
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if iss.trim_end_matches('/') != self.issuer {
            return invalid(format!("the token was not issued by {}", self.issuer));
        }
        if let Some(expected) = &self.audience {
            let ok = match claims.get("aud") {
                Some(Value::String(a)) => a == expected,
                Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(expected)),
                _ => false,
            };
            if !ok {
                return invalid(format!("the token is not for {expected}"));
            }
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        match claims.get("exp").and_then(Value::as_u64) {
            Some(exp) if exp + LEEWAY >= now => {}
            Some(_) => return invalid("the token has expired".into()),
            None => return invalid("the token has no `exp`".into()),
        }
        if claims
            .get("nbf")
            .and_then(Value::as_u64)
            .is_some_and(|nbf| nbf > now + LEEWAY)
        {
            return invalid("the token is not valid yet".into());
        }
        let granted: Vec<&str> = match (claims.get("scope"), claims.get("scp")) {
            (Some(Value::String(s)), _) => s.split_whitespace().collect(),
            (_, Some(Value::Array(list))) => list.iter().filter_map(Value::as_str).collect(),
            (_, Some(Value::String(s))) => s.split_whitespace().collect(),
            _ => Vec::new(),
        };
        if let Some(missing) = self.scopes.iter().find(|s| !granted.contains(&s.as_str())) {
            return Err(Refusal::InsufficientScope(missing.clone()));
        }
        Ok(())
    }
}

/// Verifies a JWS signature with a JWK (RS256 or ES256).
fn verify(alg: &str, jwk: &Value, signed: &[u8], sig: &[u8]) -> Result<(), Refusal> {
    let field = |name: &str| -> Result<Vec<u8>, Refusal> {
        b64(jwk.get(name).and_then(Value::as_str).unwrap_or_default())
    };
    let bad = || Refusal::InvalidToken("the token's signature is invalid".into());
    match (alg, jwk.get("kty").and_then(Value::as_str)) {
        ("RS256", Some("RSA")) => {
            let key = RsaPublicKeyComponents {
                n: field("n")?,
                e: field("e")?,
            };
            key.verify(&signature::RSA_PKCS1_2048_8192_SHA256, signed, sig)
                .map_err(|_| bad())
        }
        ("ES256", Some("EC")) => {
            let mut point = vec![4u8];
            point.extend(field("x")?);
            point.extend(field("y")?);
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(signed, sig)
                .map_err(|_| bad())
        }
        _ => Err(Refusal::InvalidToken(format!(
            "tokens signed with `{alg}` are not accepted (RS256 and ES256 are)"
        ))),
    }
}
