//! The resolved form of a capability: every `call` points at its consumed
//! operation, every placeholder and `with` value has a source, every name has
//! its Rust identifier. Code generation reads only this.

use crate::yaml::Pos;

/// A whole capability, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Capability {
    /// `info.label`.
    pub label: Option<String>,
    /// `info.description`.
    pub description: Option<String>,
    /// Every bound variable.
    pub binds: Vec<BindVar>,
    /// Consumed APIs (imports resolved).
    pub apis: Vec<Api>,
    /// REST adapters.
    pub rest: Vec<RestAdapter>,
    /// MCP adapters.
    pub mcp: Vec<McpAdapter>,
    /// Skill adapters.
    pub skills: Vec<SkillAdapter>,
    /// The control adapter, if any.
    pub control: Option<ControlAdapter>,
    /// The `naftiko` version the spec declares.
    pub version: String,
    /// Every file read (the capability and its imports), for rebuild tracking.
    pub files: Vec<String>,
    /// Constructs the spec uses that code generation does not support yet
    /// (SEMANTICS.md decision 18): where, YAML path, what.
    pub unsupported: Vec<(Pos, String, String)>,
}

/// A bound variable: `{{namespace.VAR}}` or `{{VAR}}` in templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindVar {
    /// The bind's namespace (`env`).
    pub namespace: Option<String>,
    /// The variable (`LOGTO_API_KEY`).
    pub var: String,
    /// The key read from the source (the environment variable's name).
    pub source_key: String,
    /// The source file, when the bind has a `location`.
    pub location: Option<String>,
    /// Where a template first uses it (`file:line:col`), for error messages.
    pub used_at: Option<String>,
}

/// A piece of a template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A bound variable, by its index in [`Capability::binds`].
    Bind(usize),
    /// A configuration variable of the base URI (a builder setter).
    Var(String),
}

/// A string made of literal text and variables.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template(pub Vec<Piece>);

impl Template {
    /// A template that is only literal text.
    pub fn literal(text: &str) -> Self {
        Self(vec![Piece::Text(text.to_owned())])
    }

    /// The bound variables this template needs.
    pub fn binds(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().filter_map(|p| match p {
            Piece::Bind(i) => Some(*i),
            _ => None,
        })
    }
}

/// A consumed HTTP API and its operations.
#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    /// The namespace as written (`logto-experience`).
    pub namespace: String,
    /// The Rust module name (`logto_experience`).
    pub module: String,
    /// Description.
    pub description: Option<String>,
    /// The base URI as written.
    pub base_uri_text: String,
    /// The base URI as a template of configuration variables.
    pub base_uri: Template,
    /// Configuration variables of the base URI, in order (`tenant_id`).
    pub base_vars: Vec<String>,
    /// Authentication.
    pub auth: Option<Auth>,
    /// Parameters sent with every request.
    pub fixed_params: Vec<FixedParam>,
    /// The operations.
    pub operations: Vec<ConsumedOp>,
}

/// How requests to a consumed API authenticate.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: Template,
    },
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// User.
        username: Template,
        /// Password.
        password: Template,
    },
    /// An API key in a header or the query.
    ApiKey {
        /// Header or query parameter name.
        name: String,
        /// The key.
        value: Template,
        /// `true` for a query parameter, `false` for a header.
        in_query: bool,
    },
    /// HTTP digest authentication (RFC 7616).
    Digest {
        /// User.
        username: Template,
        /// Password.
        password: Template,
    },
    /// OAuth 2.0: client credentials on consumed APIs (the client id and
    /// secret are required there); token validation when inbound.
    OAuth2 {
        /// `tokenEndpoint`.
        token_endpoint: Option<Template>,
        /// `authorizationServerUri`.
        issuer: Option<Template>,
        /// `clientId`.
        client_id: Option<Template>,
        /// `clientSecret`.
        client_secret: Option<Template>,
        /// `scopes`, space-separated.
        scopes: Option<String>,
        /// `audience`.
        audience: Option<String>,
        /// `resource`.
        resource: Option<String>,
        /// Where the spec declares it, and its YAML path (inbound token
        /// checks need logto-client's `jwt` feature: the error points here).
        at: (Pos, String),
    },
}

/// A parameter with a fixed value, sent with every request of an API.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedParam {
    /// Name.
    pub name: String,
    /// Where it goes.
    pub location: Location,
    /// Value.
    pub value: Template,
}

/// Where a consumed input goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A path segment.
    Path,
    /// A query parameter.
    Query,
    /// A header.
    Header,
    /// A cookie.
    Cookie,
    /// (Part of) the JSON body.
    Body,
    /// Only fills `{{name}}` in the operation's fixed parameter values.
    Template,
}

impl Location {
    /// The word used in specs.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
            Location::Body => "body",
            Location::Template => "template",
        }
    }
}

/// A JSON type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// `string` (the default).
    String,
    /// `number`.
    Number,
    /// `integer`.
    Integer,
    /// `boolean`.
    Boolean,
    /// `object`.
    Object,
    /// `array`.
    Array,
}

impl JsonType {
    /// Parses a spec `type`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "string" => Self::String,
            "number" => Self::Number,
            "integer" => Self::Integer,
            "boolean" => Self::Boolean,
            "object" => Self::Object,
            "array" => Self::Array,
            _ => return None,
        })
    }

    /// The JSON Schema name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
            Self::Object => "object",
            Self::Array => "array",
        }
    }
}

/// An input of a consumed operation that the caller supplies.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// Name as written (`connectorId`).
    pub name: String,
    /// Rust argument name (`connector_id`).
    pub rust_name: String,
    /// Where it goes.
    pub location: Location,
    /// Its type.
    pub ty: JsonType,
    /// Whether it must be given.
    pub required: bool,
    /// Description.
    pub description: Option<String>,
}

/// A part of a consumed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    /// Literal text.
    Text(String),
    /// A placeholder, by input name.
    Param(String),
}

/// How the request body is built.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyPlan {
    /// No body.
    None,
    /// One `in: body` input is the whole body.
    Whole(String),
    /// Several `in: body` inputs merged into one JSON object.
    Merged(Vec<String>),
    /// A `body:` written as text (`body: |`), its `{{name}}`s filled with
    /// the inputs' text (arrays and objects as JSON), sent as that text.
    Text {
        /// The content type sent.
        content_type: String,
        /// The template.
        template: String,
    },
    /// A form (`type: formUrlEncoded` or `form` with a map): each field's
    /// template filled as text, sent `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
    /// `type: multipartForm`: parts of name, value template, file name and
    /// content type, sent `multipart/form-data`.
    Multipart(Vec<MultipartPart>),
    /// A `body:` template (`json` only for now), with `{{name}}` inputs.
    Template {
        /// The content type sent.
        content_type: String,
        /// The template, as JSON.
        data: serde_json::Value,
    },
}

/// A consumed operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumedOp {
    /// Name as written.
    pub name: String,
    /// Rust method name.
    pub fn_name: String,
    /// Description.
    pub description: Option<String>,
    /// Upper-case HTTP method.
    pub method: String,
    /// The path as written.
    pub path_text: String,
    /// The path, split into text and placeholders.
    pub path: Vec<PathPart>,
    /// Caller-supplied inputs: path ones first (in path order), then query,
    /// header, cookie, then body.
    pub inputs: Vec<Input>,
    /// How the body is built.
    pub body: BodyPlan,
    /// Parameters of this operation with a fixed `value`.
    pub fixed: Vec<FixedParam>,
    /// The output mapping (JSONPath); `None` or `$.` passes JSON through.
    pub output_mapping: Option<String>,
    /// `outputRawFormat` when it is not JSON: answers are converted first.
    pub raw_format: Option<String>,
    /// `outputSchema`: the HTML tables' CSS selector, the Markdown sections'
    /// heading prefix.
    pub output_schema: Option<String>,
    /// Where the operation is written.
    pub pos: Pos,
}

/// Orchestrated `steps` (SEMANTICS.md decision 17): run in order, each
/// seeing the exposed inputs and the earlier steps' outputs by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Orchestration {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// `mappings`: output (dots nest) ← `$.<step>.<path>`. Empty: the last
    /// step's output is the answer.
    pub mappings: Vec<(String, String)>,
    /// Declared types of the orchestrated outputs, for coercion.
    pub output_types: Vec<(String, JsonType)>,
}

/// One orchestration step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Calls a consumed operation; its answer is the step's output.
    Call {
        /// Step name (the context key of its output).
        name: String,
        /// The operation.
        call: CallRef,
        /// `with` entries: consumed input name and value.
        with: Vec<(String, StepWith)>,
    },
    /// Finds entries of an earlier step's output.
    Lookup {
        /// Step name.
        name: String,
        /// The step whose output is searched.
        index: String,
        /// The field compared.
        key: String,
        /// `$.<step>.<path>` or a template: the value(s) looked up.
        value: String,
        /// The fields a match keeps.
        outputs: Vec<String>,
    },
}

/// A step's `with` value.
#[derive(Debug, Clone, PartialEq)]
pub enum StepWith {
    /// `P.name`: the context value `name`.
    Ref(String),
    /// A `{{...}}` template over the context and bound variables.
    Template(String),
    /// A literal.
    Literal(serde_json::Value),
}

/// Where an exposed operation's value for a consumed input comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The whole JSON request body (REST) / the `body` argument.
    Body,
    /// An exposed path segment.
    PathParam(String),
    /// An exposed query parameter.
    Query(String),
    /// An exposed header.
    Header(String),
    /// An MCP tool argument.
    Argument(String),
    /// A literal JSON value.
    Literal(serde_json::Value),
    /// A `{{...}}` template: text with exposed inputs and bound variables.
    Template(Vec<TemplatePart>),
}

/// A mock answer (SEMANTICS.md decision 17): served by an exposed
/// operation or tool that has no `call`.
#[derive(Debug, Clone, PartialEq)]
pub enum Mock {
    /// A fixed JSON value, already coerced to its declared type.
    Literal(serde_json::Value),
    /// Text with `{{input}}`s, coerced to `ty` once filled.
    Template {
        /// The pieces.
        parts: Vec<TemplatePart>,
        /// The declared type.
        ty: JsonType,
    },
    /// An object of named mocks.
    Object(Vec<(String, Mock)>),
}

/// A piece of a `with` template.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// The text of an exposed input (tool argument), by name.
    Input(String),
    /// A bound variable, by its index in [`Capability::binds`].
    Bind(usize),
}

/// A consumed input and what feeds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The consumed input's name.
    pub input: String,
    /// Its source.
    pub source: Source,
    /// `true` when the consumed operation does not declare the input: it is
    /// then sent as an extra query parameter.
    pub extra: bool,
}

/// A reference to a consumed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRef {
    /// Index in [`Capability::apis`].
    pub api: usize,
    /// Index in [`Api::operations`].
    pub op: usize,
}

/// An exposed input (declared or inferred).
#[derive(Debug, Clone, PartialEq)]
pub struct ExposedInput {
    /// Name.
    pub name: String,
    /// Rust name.
    pub rust_name: String,
    /// Where it is read from (REST) — `Body` for MCP arguments too.
    pub location: Location,
    /// Type.
    pub ty: JsonType,
    /// Required.
    pub required: bool,
    /// Description.
    pub description: Option<String>,
}

/// A REST adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct RestAdapter {
    /// Namespace.
    pub namespace: String,
    /// Rust module name.
    pub module: String,
    /// Port.
    pub port: Option<u16>,
    /// Address.
    pub address: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// What callers must present (`authentication`): bearer, basic or API key.
    pub auth: Option<Auth>,
    /// Resources proxied whole to a consumed API (`forward.targetNamespace`).
    pub forwards: Vec<ForwardRoute>,
    /// Operations, in spec order.
    pub operations: Vec<RestOp>,
}

/// An exposed REST operation.
#[derive(Debug, Clone, PartialEq)]
pub struct RestOp {
    /// Name.
    pub name: String,
    /// Rust method name.
    pub fn_name: String,
    /// Upper-case method.
    pub method: String,
    /// Route as written.
    pub route: String,
    /// Description.
    pub description: Option<String>,
    /// Exposed inputs.
    pub inputs: Vec<ExposedInput>,
    /// The consumed operation called, if any.
    pub call: Option<CallRef>,
    /// What feeds each consumed input.
    pub bindings: Vec<Binding>,
    /// Output mapping.
    pub output_mapping: Option<String>,
    /// The mock answer, when there is no `call` and the outputs give values.
    pub mock: Option<Mock>,
    /// Orchestrated steps, instead of `call`.
    pub steps: Option<Orchestration>,
    /// Headers copied from the caller (`forward.trustedHeaders`).
    pub trusted_headers: Vec<String>,
    /// Declared inputs with a `value`: input name and value. `$...` on a
    /// body input is a JSONPath into the JSON request body; any other value
    /// is fixed (the request is not read for that input).
    pub values: Vec<(String, String)>,
    /// A construct the spec uses that is not generated yet (decision 18).
    pub unsupported: Option<String>,
    /// Where it is written.
    pub pos: Pos,
    /// Its YAML path.
    pub yaml_path: String,
}

/// An MCP adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct McpAdapter {
    /// Namespace.
    pub namespace: String,
    /// Rust module name.
    pub module: String,
    /// Port.
    pub port: Option<u16>,
    /// Address.
    pub address: Option<String>,
    /// `true` for `transport: stdio`.
    pub stdio: bool,
    /// Description (server instructions).
    pub description: Option<String>,
    /// The bearer token clients must send (`authentication: bearer`).
    pub bearer_token: Option<Template>,
    /// Other inbound authentication (basic, API key) clients must present.
    pub inbound: Option<Auth>,
    /// Tools.
    pub tools: Vec<McpTool>,
    /// Resources (static URIs and URI templates).
    pub resources: Vec<McpResource>,
    /// Prompts.
    pub prompts: Vec<McpPrompt>,
}

/// An MCP resource.
#[derive(Debug, Clone, PartialEq)]
pub struct McpResource {
    /// Name.
    pub name: String,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// MIME type.
    pub mime_type: Option<String>,
    /// The URI, or a URI template whose `{x}` each match one segment.
    pub uri: String,
    /// What serves it.
    pub source: ResourceSource,
}

/// What serves an MCP resource.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceSource {
    /// A `call` (a one-step orchestration) or `steps`, with the URI
    /// template's variables as inputs.
    Steps(Orchestration),
    /// A file (`location: file:///...`).
    File(String),
}

/// An MCP prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct McpPrompt {
    /// Name.
    pub name: String,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Arguments: name, description, required.
    pub arguments: Vec<(String, Option<String>, bool)>,
    /// Messages: role (`user`/`assistant`) and content with `{{argument}}`s.
    pub messages: Vec<(String, String)>,
    /// Or a file holding one user message (`location: file:///...`).
    pub file: Option<String>,
}

/// An MCP tool.
#[derive(Debug, Clone, PartialEq)]
pub struct McpTool {
    /// Name.
    pub name: String,
    /// Rust method name.
    pub fn_name: String,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Hints: read-only, destructive, idempotent, open-world.
    pub hints: [Option<bool>; 4],
    /// Arguments (declared or inferred).
    pub inputs: Vec<ExposedInput>,
    /// The consumed operation called.
    pub call: Option<CallRef>,
    /// What feeds each consumed input.
    pub bindings: Vec<Binding>,
    /// Output mapping.
    pub output_mapping: Option<String>,
    /// The mock answer, when there is no `call` and the outputs give values.
    pub mock: Option<Mock>,
    /// Orchestrated steps, instead of `call`.
    pub steps: Option<Orchestration>,
    /// A construct the spec uses that is not generated yet (decision 18).
    pub unsupported: Option<String>,
    /// Where it is written.
    pub pos: Pos,
    /// Its YAML path.
    pub yaml_path: String,
}

/// A skill adapter (`exposes: type: skill`): a read-only catalog of skills.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillAdapter {
    /// Namespace.
    pub namespace: String,
    /// Rust module name.
    pub module: String,
    /// Port.
    pub port: Option<u16>,
    /// Address.
    pub address: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// What the runtime serves: `[{"name", "summary", "detail", "location"}]`
    /// (`summary` for `GET /skills`, `detail` for `GET /skills/{name}`).
    pub catalog: serde_json::Value,
}

/// A resource proxied whole (`forward.targetNamespace`): every method, the
/// path below `prefix`, the query and the body go to the API's base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardRoute {
    /// The route as written (`/notion/{{path}}`).
    pub route: String,
    /// The literal part before the `{path}` variable (`/notion/`), or the
    /// whole route when it has none.
    pub prefix: String,
    /// Whether the route ends with the `{path}` variable.
    pub wildcard: bool,
    /// The consumed API, by index in [`Capability::apis`].
    pub api: usize,
    /// Caller headers copied upstream.
    pub trusted_headers: Vec<String>,
}

/// The control adapter (`exposes: type: control`): health, status,
/// metrics and recent requests of the other adapters.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlAdapter {
    /// Namespace (`control` when the spec gives none).
    pub namespace: String,
    /// Port.
    pub port: Option<u16>,
    /// Address.
    pub address: Option<String>,
    /// `management.health`.
    pub health: bool,
    /// `management.info`.
    pub info: bool,
    /// Metrics served at `/metrics`.
    pub metrics: bool,
    /// Recent requests served at `/traces`.
    pub traces: bool,
    /// How many requests `/traces` keeps.
    pub buffer: usize,
    /// Routes of features a compiled server cannot offer, with what they are.
    pub unsupported: Vec<(String, String)>,
    /// Settings read but without effect here, printed when it starts.
    pub notes: Vec<String>,
    /// What callers must present.
    pub auth: Option<Auth>,
}

/// One part of a `multipartForm` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartPart {
    /// The field name.
    pub name: String,
    /// The value, a template of the inputs.
    pub value: String,
    /// `filename`, making the part a file.
    pub filename: Option<String>,
    /// `contentType` of the part.
    pub content_type: Option<String>,
}
