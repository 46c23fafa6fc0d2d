//! How generated code serves MCP only in builds that have it.
//!
//! The `mcp` feature (rmcp and the crates under it, a fifth of a dependent
//! crate's cold build) is off by default, and a spec that exposes an MCP
//! adapter still compiles without it: the typed client and the REST adapter
//! do not need rmcp. The macro cannot see this crate's features, so it
//! writes an MCP adapter's serving code twice, and [`__mcp!`](crate::__mcp)
//! keeps the branch this build can compile. Without the feature, an
//! adapter's `router` and `serve_stdio` still exist but ask for
//! [`NeedsMcpFeature`], which nothing implements: calling them is a compile
//! error saying which feature to turn on; their `try_` forms, which the
//! `capability` module serves with, return an error naming the adapter and
//! the feature, so serving the whole capability fails at start-up.

use crate::error::Error;

/// Picks the first token group with the `mcp` feature, the second without.
#[cfg(any(feature = "mcp", logto_cli))]
#[macro_export]
#[doc(hidden)]
macro_rules! __mcp {
    ({ $($with:tt)* } { $($without:tt)* }) => { $($with)* };
}

/// Picks the first token group with the `mcp` feature, the second without.
#[cfg(not(any(feature = "mcp", logto_cli)))]
#[macro_export]
#[doc(hidden)]
macro_rules! __mcp {
    ({ $($with:tt)* } { $($without:tt)* }) => { $($without)* };
}

/// What an MCP adapter's entry points ask of their upstreams in a build
/// without the `mcp` feature: nothing implements it, so calling them is a
/// compile error with this message.
#[diagnostic::on_unimplemented(
    message = "serving an MCP adapter needs logto-client's `mcp` feature, which this build does not have",
    label = "this adapter's MCP server is not compiled in",
    note = "turn the feature on where you depend on logto-client: logto-client = {{ ..., features = [\"mcp\"] }}"
)]
pub trait NeedsMcpFeature {
    /// Never called: no type implements the trait.
    fn unavailable<T>(self) -> T;
}

/// The error of an MCP adapter's `try_router` / `try_serve_stdio` (what
/// the `capability` module serves with) in a build without the `mcp`
/// feature.
pub fn mcp_missing(namespace: &str) -> Error {
    Error::Config {
        message: format!(
            "the MCP adapter `{namespace}` needs logto-client's `mcp` feature, which this build does not have: \
             logto-client = {{ ..., features = [\"mcp\"] }}"
        ),
    }
}
