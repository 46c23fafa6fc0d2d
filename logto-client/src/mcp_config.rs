//! The MCP adapters' settings, which exist in every build: the serving
//! itself (rmcp) is behind logto-client's `mcp` feature, and a program that
//! names these types compiles either way.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::client::{BindSpec, Piece};
use crate::error::Error;
use crate::secret::Secret;

/// Default limit on live MCP sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 1000;
/// Default idle time after which a session is closed.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(300);

/// Settings of the streamable HTTP transport.
#[derive(Debug, Clone)]
pub struct McpHttpConfig {
    /// `Host` values accepted (rmcp's DNS-rebinding guard). Loopback only by
    /// default; add the names a deployment is reached by.
    pub allowed_hosts: Vec<String>,
    /// The bearer token clients must send; when unset, the spec's inbound
    /// `authentication` (if any) decides.
    pub bearer_token: Option<Secret>,
    /// Values of bound variables (`VAR` or `namespace.VAR`), as given to a
    /// client builder with `.bind(..)`: the spec's inbound token template
    /// reads them before the environment.
    pub binds: BTreeMap<String, Secret>,
    /// The most MCP sessions kept at once; past it, `initialize` gets a
    /// JSON-RPC error (HTTP 503) until one closes or expires.
    pub max_sessions: usize,
    /// A session without a request for this long is closed.
    pub session_idle: Duration,
    /// Answer a session's `tools/call` without rmcp's per-request service
    /// (on by default): the same tool code and the same answer bytes, about
    /// a third less CPU per call. Only requests rmcp would hand to the tool
    /// unchanged are answered so; the rest, and every request when this is
    /// `false`, go through rmcp.
    pub direct_tool_calls: bool,
}

impl Default for McpHttpConfig {
    fn default() -> Self {
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            bearer_token: None,
            binds: BTreeMap::new(),
            max_sessions: DEFAULT_MAX_SESSIONS,
            session_idle: DEFAULT_SESSION_IDLE,
            direct_tool_calls: true,
        }
    }
}

/// The inbound bearer token: `given`, or the spec's template with its bound
/// variables read from `values`, then the environment.
pub fn resolve_token(
    pieces: &'static [Piece],
    binds: &'static [BindSpec],
    given: Option<&Secret>,
    values: &BTreeMap<String, Secret>,
) -> Result<Secret, Error> {
    if let Some(t) = given {
        return Ok(t.clone());
    }
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(v) => {
                return Err(Error::Config {
                    message: format!("the inbound token uses `{v}`, which is not a bound variable"),
                });
            }
            Piece::Bind(i) => {
                let b = binds.get(*i).ok_or_else(|| Error::Config {
                    message: format!("bind #{i} is not declared"),
                })?;
                let given = b
                    .namespace
                    .and_then(|ns| values.get(&format!("{ns}.{}", b.var)))
                    .or_else(|| values.get(b.var));
                match given {
                    Some(v) => out.push_str(v.expose()),
                    None => {
                        let value = std::env::var(b.source_key).map_err(|_| Error::Config {
                            message: format!(
                                "bound variable `{}` of the MCP adapter's authentication is not set: set the environment variable `{}` or give it in `McpHttpConfig::binds` (used at {})",
                                b.var, b.source_key, b.used_at
                            ),
                        })?;
                        out.push_str(&value);
                    }
                }
            }
        }
    }
    Ok(Secret::new(out))
}
