//! Inbound HTTP Digest authentication (RFC 7616) for an adapter: the
//! challenge offers SHA-256 and MD5 with `qop="auth"`; nonces are stateless
//! (a timestamp and its keyed hash, valid five minutes), so any number of
//! callers and restarts need no shared table.

use std::time::{SystemTime, UNIX_EPOCH};

use subtle::ConstantTimeEq;

use crate::digest_auth::{hex_digest, params};
use crate::secret::Secret;

/// The realm of the challenges.
pub const REALM: &str = "naftiko";
/// How long a nonce is accepted, in seconds.
const NONCE_TTL: u64 = 300;

/// The expected credentials and the key that signs nonces.
#[derive(Debug)]
pub struct DigestGuard {
    username: Secret,
    password: Secret,
    key: Secret,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl DigestGuard {
    /// A guard for `username` / `password`, with a fresh nonce key.
    pub fn new(username: Secret, password: Secret) -> Self {
        let mut key = [0u8; 32];
        // A failed system RNG leaves a predictable key: nonces then only
        // lose their unforgeability, never the password check.
        let _ = getrandom::fill(&mut key);
        let key = key.iter().map(|b| format!("{b:02x}")).collect::<String>();
        Self {
            username,
            password,
            key: Secret::new(key),
        }
    }

    fn nonce_at(&self, ts: u64) -> String {
        format!(
            "{ts:x}.{}",
            hex_digest(true, &format!("{ts}:{}", self.key.expose()))
        )
    }

    fn nonce_valid(&self, nonce: &str) -> bool {
        let Some(ts) = nonce
            .split_once('.')
            .and_then(|(ts, _)| u64::from_str_radix(ts, 16).ok())
        else {
            return false;
        };
        let fresh = now().saturating_sub(ts) <= NONCE_TTL;
        fresh && bool::from(self.nonce_at(ts).as_bytes().ct_eq(nonce.as_bytes()))
    }

    /// The `WWW-Authenticate` values of a 401: SHA-256 first, then MD5.
    pub fn challenges(&self) -> Vec<String> {
        let nonce = self.nonce_at(now());
        ["SHA-256", "MD5"]
            .iter()
            .map(|alg| {
                format!(
                    "Digest realm=\"{REALM}\", qop=\"auth\", algorithm={alg}, nonce=\"{nonce}\""
                )
            })
            .collect()
    }

    /// Whether `authorization` answers a challenge of ours with the right
    /// credentials for `method` on `uri` (the request target as sent).
    pub fn accepts(&self, authorization: &str, method: &str, uri: &str) -> bool {
        let Some(rest) = authorization
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("digest"))
            .map(|(_, r)| r)
        else {
            return false;
        };
        let p = params(rest);
        let get = |k: &str| {
            p.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let (Some(user), Some(nonce), Some(d_uri), Some(response)) =
            (get("username"), get("nonce"), get("uri"), get("response"))
        else {
            return false;
        };
        let sha256 = match get("algorithm").unwrap_or("MD5") {
            a if a.eq_ignore_ascii_case("SHA-256") => true,
            a if a.eq_ignore_ascii_case("MD5") => false,
            _ => return false,
        };
        if get("realm") != Some(REALM) || d_uri != uri || !self.nonce_valid(nonce) {
            return false;
        }
        if !bool::from(user.as_bytes().ct_eq(self.username.expose().as_bytes())) {
            return false;
        }
        let ha1 = hex_digest(
            sha256,
            &format!("{user}:{REALM}:{}", self.password.expose()),
        );
        let ha2 = hex_digest(sha256, &format!("{method}:{d_uri}"));
        let expected = match get("qop") {
            Some("auth") => {
                let (Some(nc), Some(cnonce)) = (get("nc"), get("cnonce")) else {
                    return false;
                };
                hex_digest(sha256, &format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
            }
            _ => return false,
        };
        expected.as_bytes().ct_eq(response.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest_auth::parse_challenge;

    #[test]
    fn the_client_side_answers_our_challenge() {
        let guard = DigestGuard::new(Secret::new("ann"), Secret::new("pw"));
        for challenge in guard.challenges() {
            let parsed = (parse_challenge(&challenge), parse_challenge(&challenge));
            assert!(parsed.0.is_some(), "not a digest challenge: {challenge}");
            let (Some(mut c), Some(mut wrong)) = parsed else {
                continue;
            };
            let answer = c.answer("ann", "pw", "GET", "/x?y=1");
            assert!(guard.accepts(&answer, "GET", "/x?y=1"), "{challenge}");
            assert!(!guard.accepts(&answer, "POST", "/x?y=1"));
            assert!(!guard.accepts(&answer, "GET", "/other"));
            assert!(!guard.accepts(
                &wrong.answer("ann", "nope", "GET", "/x?y=1"),
                "GET",
                "/x?y=1"
            ));
        }
        assert!(!guard.nonce_valid("0.00"));
        assert!(
            !guard
                .nonce_valid(&DigestGuard::new(Secret::new("a"), Secret::new("b")).nonce_at(now()))
        );
    }
}
