//! HTTP Digest authentication (RFC 7616): answering a server's challenge.
//!
//! The first request goes without credentials; a `401` with
//! `WWW-Authenticate: Digest ...` gives the challenge, and the request is sent
//! again with the answer. The challenge is kept, so later requests answer it
//! straight away (with a growing nonce count) until the server asks again.

use std::fmt::Write as _;

use md5::Md5;
use sha2::{Digest as _, Sha256};

/// A server's digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    realm: String,
    nonce: String,
    opaque: Option<String>,
    /// `auth` when the server offers it (`auth-int` is not supported).
    qop_auth: bool,
    sha256: bool,
    /// Requests answered with this nonce so far.
    count: u32,
}

/// Parses a `WWW-Authenticate` value; `None` unless it is a digest
/// challenge with an algorithm this client speaks (MD5, SHA-256).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let rest = header.trim().strip_prefix("Digest")?.trim_start();
    let mut realm = None;
    let mut nonce = None;
    let mut opaque = None;
    let mut qop = None;
    let mut algorithm = None;
    for (key, value) in params(rest) {
        match key.to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value),
            "nonce" => nonce = Some(value),
            "opaque" => opaque = Some(value),
            "qop" => qop = Some(value),
            "algorithm" => algorithm = Some(value),
            _ => {}
        }
    }
    let sha256 = match algorithm.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None | Some("MD5") => false,
        Some("SHA-256") => true,
        Some(_) => return None,
    };
    Some(Challenge {
        realm: realm?,
        nonce: nonce?,
        opaque,
        qop_auth: qop.is_some_and(|q| q.split(',').any(|o| o.trim() == "auth")),
        sha256,
        count: 0,
    })
}

/// `key=value` and `key="quoted, value"` pairs.
pub(crate) fn params(mut s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches([' ', ',']);
        let Some(eq) = s.find('=') else { break };
        let key = s.get(..eq).unwrap_or_default().trim().to_owned();
        s = s.get(eq + 1..).unwrap_or_default().trim_start();
        let value;
        if let Some(quoted) = s.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            value = quoted.get(..end).unwrap_or_default().to_owned();
            s = quoted.get(end + 1..).unwrap_or_default();
        } else {
            let end = s.find(',').unwrap_or(s.len());
            value = s.get(..end).unwrap_or_default().trim().to_owned();
            s = s.get(end..).unwrap_or_default();
        }
        out.push((key, value));
    }
    out
}

pub(crate) fn hex_digest(sha256: bool, data: &str) -> String {
    let bytes: Vec<u8> = if sha256 {
        Sha256::digest(data.as_bytes()).to_vec()
    } else {
        Md5::digest(data.as_bytes()).to_vec()
    };
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn cnonce() -> String {
    let mut buf = [0u8; 12];
    // A failed system RNG still leaves a usable (if predictable) value.
    let _ = getrandom::fill(&mut buf);
    buf.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Challenge {
    /// The `Authorization` value answering this challenge for one request;
    /// `uri` is the request target (path and query).
    pub fn answer(&mut self, username: &str, password: &str, method: &str, uri: &str) -> String {
        self.count = self.count.saturating_add(1);
        self.answer_with(username, password, method, uri, &cnonce())
    }

    fn answer_with(
        &self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> String {
        let ha1 = hex_digest(
            self.sha256,
            &format!("{username}:{}:{password}", self.realm),
        );
        let ha2 = hex_digest(self.sha256, &format!("{method}:{uri}"));
        let nc = format!("{:08x}", self.count);
        let response = if self.qop_auth {
            hex_digest(
                self.sha256,
                &format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce),
            )
        } else {
            hex_digest(self.sha256, &format!("{ha1}:{}:{ha2}", self.nonce))
        };
        let mut header = format!(
            "Digest username=\"{username}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", response=\"{response}\", algorithm={}",
            self.realm,
            self.nonce,
            if self.sha256 { "SHA-256" } else { "MD5" }
        );
        if self.qop_auth {
            let _ = write!(header, ", qop=auth, nc={nc}, cnonce=\"{cnonce}\"");
        }
        if let Some(opaque) = &self.opaque {
            let _ = write!(header, ", opaque=\"{opaque}\"");
        }
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2617 section 3.5's worked example.
    #[test]
    fn rfc_2617_example() {
        let mut c = parse_challenge(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap_or_else(|| Challenge {
            realm: String::new(),
            nonce: String::new(),
            opaque: None,
            qop_auth: false,
            sha256: false,
            count: 0,
        });
        c.count = 1;
        let h = c.answer_with(
            "Mufasa",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "0a4f113b",
        );
        assert!(
            h.contains(r#"response="6629fae49393a05397450978507c4ef1""#),
            "{h}"
        );
        assert!(
            h.contains("nc=00000001") && h.contains(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#),
            "{h}"
        );
    }

    #[test]
    fn other_schemes_and_algorithms_are_not_digest_challenges() {
        assert!(parse_challenge(r#"Basic realm="x""#).is_none());
        assert!(parse_challenge(r#"Digest realm="x", nonce="n", algorithm=SHA-512-256"#).is_none());
        assert!(
            parse_challenge(r#"Digest realm="x", nonce="n", algorithm=SHA-256"#)
                .is_some_and(|c| c.sha256)
        );
    }
}
