//! How generated code describes a consumed API: static, per API.

/// A piece of a template in a spec: literal text, a configuration variable
/// of the base URI, or a bound variable (index into [`ApiSpec::binds`]).
#[derive(Debug, Clone, Copy)]
pub enum Piece {
    /// Literal text.
    Text(&'static str),
    /// A base URI variable, set with its builder setter.
    Var(&'static str),
    /// A bound variable.
    Bind(usize),
}

/// A bound variable as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct BindSpec {
    /// The bind's namespace (`env`), if any.
    pub namespace: Option<&'static str>,
    /// The variable (`LOGTO_API_KEY`).
    pub var: &'static str,
    /// The key in the source: the environment variable's name.
    pub source_key: &'static str,
    /// A file the spec names as the source (not read: pass such values with
    /// `.bind()`).
    pub location: Option<&'static str>,
    /// Where the spec uses it, for error messages (`file:line:col`).
    pub used_at: &'static str,
}

/// How a consumed API authenticates.
#[derive(Debug, Clone, Copy)]
pub enum AuthSpec {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token template.
        token: &'static [Piece],
    },
    /// `Authorization: Basic ...`.
    Basic {
        /// User template.
        username: &'static [Piece],
        /// Password template.
        password: &'static [Piece],
    },
    /// An API key in a header or the query.
    ApiKey {
        /// Header or query parameter name.
        name: &'static str,
        /// Key template.
        value: &'static [Piece],
        /// `true` for a query parameter.
        in_query: bool,
    },
    /// HTTP Digest (RFC 7616), answering the server's challenge.
    Digest {
        /// User template.
        username: &'static [Piece],
        /// Password template.
        password: &'static [Piece],
    },
    /// OAuth 2.0 client credentials: a bearer token from the token endpoint.
    OAuth2 {
        /// `tokenEndpoint`, if given.
        token_endpoint: Option<&'static [Piece]>,
        /// `authorizationServerUri`: its metadata names the token endpoint.
        issuer: Option<&'static [Piece]>,
        /// `clientId`.
        client_id: &'static [Piece],
        /// `clientSecret`.
        client_secret: &'static [Piece],
        /// `scopes`, space-separated.
        scopes: Option<&'static str>,
        /// `audience`.
        audience: Option<&'static str>,
        /// `resource` (RFC 8707).
        resource: Option<&'static str>,
    },
}

/// Where a fixed parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixedPlace {
    /// A header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

/// A parameter sent with every request of an API.
#[derive(Debug, Clone, Copy)]
pub struct FixedSpec {
    /// Name.
    pub name: &'static str,
    /// Where it goes.
    pub place: FixedPlace,
    /// Value template.
    pub value: &'static [Piece],
}

/// Everything about a consumed API that does not change per call.
#[derive(Debug)]
pub struct ApiSpec {
    /// The namespace (`logto-experience`).
    pub namespace: &'static str,
    /// The base URI template.
    pub base_uri: &'static [Piece],
    /// The base URI as written, for messages.
    pub base_uri_text: &'static str,
    /// The bound variables.
    pub binds: &'static [BindSpec],
    /// Authentication.
    pub auth: Option<AuthSpec>,
    /// Parameters sent with every request.
    pub fixed: &'static [FixedSpec],
    /// The operations, in spec order (what adapters' call plans name by
    /// index).
    pub operations: &'static [&'static super::OpSpec],
}

#[cfg(test)]
impl ApiSpec {
    /// The API `t` at `http://127.0.0.1:9` with these operations and nothing
    /// else (no binds, auth or fixed values): the runtime's unit tests' spec.
    pub(crate) const fn for_tests(operations: &'static [&'static super::OpSpec]) -> Self {
        Self {
            namespace: "t",
            base_uri: &[Piece::Text("http://127.0.0.1:9")],
            base_uri_text: "http://127.0.0.1:9",
            binds: &[],
            auth: None,
            fixed: &[],
            operations,
        }
    }
}
