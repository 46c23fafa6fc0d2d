//! The typed model of a Naftiko capability document (1.0.0-alpha1/2/3), every
//! field with the position it was written at.
//!
//! Reading is lenient where the meaning is clear (the Logto file puts `type`
//! and `required` on consumed inputs, and object mappings without
//! `properties`) and strict where a mistake would silently change behaviour
//! (misspelt keys, duplicate keys, wrong types). See SEMANTICS.md.

mod extra;
mod read;
mod reader;

pub use extra::{
    Aggregate, ControlAdapter, Function, McpResource, Prompt, Skill, SkillAdapter, SkillTool,
};

pub use reader::{Spanned, index, join};

use crate::yaml::{Node, Pos};

/// The versions of the format this generator reads (alpha3 is alpha2's schema
/// under a new version string).
pub const SUPPORTED_VERSIONS: [&str; 3] = ["1.0.0-alpha1", "1.0.0-alpha2", "1.0.0-alpha3"];

/// A whole document: a capability, or a shared `consumes` fragment.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The `naftiko` version string.
    pub version: Option<Spanned<String>>,
    /// `info.label`, used in generated docs.
    pub label: Option<Spanned<String>>,
    /// `info.description`.
    pub description: Option<Spanned<String>>,
    /// Root `binds`.
    pub binds: Vec<Bind>,
    /// The `capability` object, if the document has one.
    pub capability: Option<Capability>,
    /// Root `consumes` (a fragment meant for `import`).
    pub fragment_consumes: Vec<Consumes>,
}

/// `binds[]`: where bound variables come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Bind {
    /// The bind's namespace (`env` for Logto).
    pub namespace: Option<Spanned<String>>,
    /// Where the values live; absent means the process environment.
    pub location: Option<Spanned<String>>,
    /// `VAR: source-key` pairs.
    pub keys: Vec<(Spanned<String>, Spanned<String>)>,
    /// Where the bind starts.
    pub pos: Pos,
}

/// The `capability` object.
#[derive(Debug, Clone, PartialEq)]
pub struct Capability {
    /// `capability.binds` (resolved like root binds).
    pub binds: Vec<Bind>,
    /// The consumed APIs.
    pub consumes: Vec<Consumes>,
    /// The exposed adapters.
    pub exposes: Vec<Exposes>,
    /// Aggregates and their functions (validated, not generated yet).
    pub aggregates: Vec<Aggregate>,
}

/// One `consumes` entry.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // read once per document; boxing buys nothing
pub enum Consumes {
    /// An inline HTTP API.
    Http(HttpApi),
    /// `{location, import, as}`: a namespace taken from a fragment file.
    Import(Import),
}

/// An import of a consumes fragment.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// The file, relative to the importing document.
    pub location: Option<Spanned<String>>,
    /// The namespace imported.
    pub import: Spanned<String>,
    /// The name it takes here (defaults to `import`).
    pub alias: Option<Spanned<String>>,
}

/// A consumed HTTP API.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpApi {
    /// Its namespace, used by `call: namespace.operation`.
    pub namespace: Option<Spanned<String>>,
    /// `type` (only `http` is known).
    pub kind: Option<Spanned<String>>,
    /// The base URI, possibly with `[var]` / `{{var}}` placeholders.
    pub base_uri: Option<Spanned<String>>,
    /// Description, for docs.
    pub description: Option<Spanned<String>>,
    /// Authentication sent with every request.
    pub authentication: Option<Authentication>,
    /// Parameters sent with every request (headers, query).
    pub input_parameters: Vec<Param>,
    /// Resources with their operations.
    pub resources: Vec<Resource>,
    /// The file this API was read from (differs from the capability's for imports).
    pub file: String,
    /// Where the entry starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// `authentication` of a consumed API or an exposed adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct Authentication {
    /// `bearer`, `basic`, `apikey`, `digest`, `oauth2`, ...
    pub kind: Option<Spanned<String>>,
    /// Bearer token template.
    pub token: Option<Spanned<String>>,
    /// Basic/digest user.
    pub username: Option<Spanned<String>>,
    /// Basic/digest password.
    pub password: Option<Spanned<String>>,
    /// API key name (header or query parameter).
    pub key: Option<Spanned<String>>,
    /// API key value template.
    pub value: Option<Spanned<String>>,
    /// `header` or `query` for API keys.
    pub placement: Option<Spanned<String>>,
    /// OAuth 2.0 `clientId`.
    pub client_id: Option<Spanned<String>>,
    /// OAuth 2.0 `clientSecret`.
    pub client_secret: Option<Spanned<String>>,
    /// OAuth 2.0 `tokenEndpoint` (or `tokenUrl`).
    pub token_endpoint: Option<Spanned<String>>,
    /// OAuth 2.0 `authorizationServerUri`.
    pub authorization_server: Option<Spanned<String>>,
    /// OAuth 2.0 `scopes`, space-separated.
    pub scopes: Option<Spanned<String>>,
    /// OAuth 2.0 `audience`.
    pub audience: Option<Spanned<String>>,
    /// OAuth 2.0 `resource`.
    pub resource: Option<Spanned<String>>,
    /// OAuth 2.0 `tokenValidation` (`jwks` or `introspection`).
    pub token_validation: Option<Spanned<String>>,
    /// Where the object starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// A consumed resource: a path and its operations.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Name (documentation only; `call` does not use it).
    pub name: Option<Spanned<String>>,
    /// Path relative to the base URI, with `{x}` / `{{x}}` placeholders.
    pub path: Option<Spanned<String>>,
    /// Parameters shared by the resource's operations.
    pub input_parameters: Vec<Param>,
    /// The operations.
    pub operations: Vec<Operation>,
}

/// A consumed operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Name, unique in its namespace.
    pub name: Option<Spanned<String>>,
    /// HTTP method.
    pub method: Option<Spanned<String>>,
    /// Description, for docs.
    pub description: Option<Spanned<String>>,
    /// A path that overrides the resource's.
    pub path: Option<Spanned<String>>,
    /// Inputs.
    pub input_parameters: Vec<Param>,
    /// A body template.
    pub body: Option<Body>,
    /// `json`, `xml`, ...
    pub output_raw_format: Option<Spanned<String>>,
    /// `outputSchema`: an HTML table selector, a Markdown heading prefix.
    pub output_schema: Option<Spanned<String>>,
    /// Outputs.
    pub output_parameters: Vec<Output>,
    /// Where the operation starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path_in_doc: String,
}

/// An input parameter (consumed or exposed).
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Name.
    pub name: Option<Spanned<String>>,
    /// `path`, `query`, `header`, `cookie`, `body`, `environment`.
    pub location: Option<Spanned<String>>,
    /// JSON type (`string`, `object`, ...).
    pub ty: Option<Spanned<String>>,
    /// Whether the caller must give it.
    pub required: Option<Spanned<bool>>,
    /// Description, for docs and schemas.
    pub description: Option<Spanned<String>>,
    /// A fixed value or template.
    pub value: Option<Spanned<String>>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// A consumed `body:` template.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// `json`, `text`, `xml`, `formUrlEncoded`, `multipartForm`, `raw`.
    pub kind: Option<Spanned<String>>,
    /// The template data.
    pub data: Option<Node>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// An output parameter: consumed (`value`) or exposed (`mapping`), possibly
/// shaped with nested `properties` / `items`.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Name (optional for exposed outputs).
    pub name: Option<Spanned<String>>,
    /// JSON type.
    pub ty: Option<Spanned<String>>,
    /// JSONPath (`value` on consumed outputs, `mapping` on exposed ones).
    pub mapping: Option<Spanned<String>>,
    /// A constant served as given.
    pub constant: Option<Node>,
    /// `value` on an exposed output: a mock value served as given.
    pub mock: Option<Node>,
    /// Nested properties of an object.
    pub properties: Vec<(Spanned<String>, Output)>,
    /// The shape of array items.
    pub items: Option<Box<Output>>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// One `exposes` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Exposes {
    /// A REST adapter.
    Rest(RestAdapter),
    /// An MCP adapter.
    Mcp(McpAdapter),
    /// A `skill` adapter (validated, not generated yet).
    Skill(SkillAdapter),
    /// A `control` adapter (validated, not generated yet).
    Control(ControlAdapter),
    /// Any other kind: read, not generated.
    Other {
        /// The `type` written.
        kind: Spanned<String>,
    },
}

/// `exposes: type: rest`.
#[derive(Debug, Clone, PartialEq)]
pub struct RestAdapter {
    /// Namespace (`logto-experience-rest`).
    pub namespace: Option<Spanned<String>>,
    /// Port to listen on.
    pub port: Option<Spanned<u16>>,
    /// Address to bind.
    pub address: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// Resources and their operations.
    pub resources: Vec<RestResource>,
    /// Inbound authentication callers must present.
    pub authentication: Option<Authentication>,
    /// Where the adapter starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// An exposed REST resource.
#[derive(Debug, Clone, PartialEq)]
pub struct RestResource {
    /// The route, e.g. `/v1/api/experience/{connectorid}`.
    pub path: Option<Spanned<String>>,
    /// Name.
    pub name: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// Inputs shared by the operations.
    pub input_parameters: Vec<Param>,
    /// Operations.
    pub operations: Vec<RestOperation>,
    /// `forward` settings.
    pub forward: Option<Forward>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path_in_doc: String,
}

/// `forward: {targetNamespace, trustedHeaders}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    /// The consumed namespace forwarded to.
    pub target_namespace: Option<Spanned<String>>,
    /// Caller headers copied upstream.
    pub trusted_headers: Vec<Spanned<String>>,
}

/// An exposed REST operation.
#[derive(Debug, Clone, PartialEq)]
pub struct RestOperation {
    /// HTTP method.
    pub method: Option<Spanned<String>>,
    /// Name.
    pub name: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// `namespace.operation` of the consumed operation.
    pub call: Option<Spanned<String>>,
    /// Values for the consumed operation's inputs.
    pub with: Vec<(Spanned<String>, Node)>,
    /// Declared inputs.
    pub input_parameters: Vec<Param>,
    /// Output shaping.
    pub output_parameters: Vec<Output>,
    /// Orchestration steps.
    pub steps: Vec<Step>,
    /// How the orchestrated answer is built from the steps' outputs.
    pub mappings: Vec<Mapping>,
    /// `ref: aggregate.function` instead of `call`.
    pub reference: Option<Spanned<String>>,
    /// Set when the `ref` is resolved: the aggregate's namespace, which
    /// `with` values may use as a prefix. Never read from YAML.
    pub aggregate: Option<String>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// An orchestration step (validated for its `call`; generated later).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Name.
    pub name: Option<Spanned<String>>,
    /// `call`, `lookup`, `script`, ...
    pub kind: Option<Spanned<String>>,
    /// `namespace.operation` for call steps.
    pub call: Option<Spanned<String>>,
    /// Values for the call's inputs (call steps).
    pub with: Vec<(Spanned<String>, Node)>,
    /// The earlier step whose output is searched (lookup steps).
    pub index: Option<Spanned<String>>,
    /// The field compared (lookup steps).
    pub match_key: Option<Spanned<String>>,
    /// What is looked up: `$.<step>.<path>` or a template (lookup steps).
    pub lookup_value: Option<Spanned<String>>,
    /// The fields a match keeps (lookup steps).
    pub outputs: Vec<Spanned<String>>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// One entry of `mappings`: the orchestrated output `target` (dots nest)
/// takes the value at `value` (`$.<step>.<path>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// `targetName`.
    pub target: Spanned<String>,
    /// `value`.
    pub value: Spanned<String>,
}

/// `exposes: type: mcp`.
#[derive(Debug, Clone, PartialEq)]
pub struct McpAdapter {
    /// Namespace.
    pub namespace: Option<Spanned<String>>,
    /// Port.
    pub port: Option<Spanned<u16>>,
    /// Address.
    pub address: Option<Spanned<String>>,
    /// `http` or `stdio`.
    pub transport: Option<Spanned<String>>,
    /// Description (server instructions).
    pub description: Option<Spanned<String>>,
    /// Tools.
    pub tools: Vec<Tool>,
    /// Inbound authentication MCP clients must present.
    pub authentication: Option<Authentication>,
    /// MCP resources (validated, not generated yet).
    pub resources: Vec<McpResource>,
    /// MCP prompts (validated, not generated yet).
    pub prompts: Vec<Prompt>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// An MCP tool.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    /// Name.
    pub name: Option<Spanned<String>>,
    /// Title.
    pub label: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// Behaviour hints.
    pub hints: Hints,
    /// Declared inputs.
    pub input_parameters: Vec<Param>,
    /// `namespace.operation`.
    pub call: Option<Spanned<String>>,
    /// Values for the consumed operation's inputs.
    pub with: Vec<(Spanned<String>, Node)>,
    /// Output shaping.
    pub output_parameters: Vec<Output>,
    /// Steps.
    pub steps: Vec<Step>,
    /// How the orchestrated answer is built from the steps' outputs.
    pub mappings: Vec<Mapping>,
    /// `ref: aggregate.function` instead of `call`.
    pub reference: Option<Spanned<String>>,
    /// Set when the `ref` is resolved: the aggregate's namespace, which
    /// `with` values may use as a prefix. Never read from YAML.
    pub aggregate: Option<String>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// MCP tool hints.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hints {
    /// `readOnly`.
    pub read_only: Option<bool>,
    /// `destructive`.
    pub destructive: Option<bool>,
    /// `idempotent`.
    pub idempotent: Option<bool>,
    /// `openWorld`.
    pub open_world: Option<bool>,
}

pub use read::read_document;
use read::{read_exposed_outputs, read_mappings, read_params, read_steps, read_with};
