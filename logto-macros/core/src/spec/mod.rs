//! The typed model of a Naftiko capability document (1.0.0-alpha1/2/3), every
//! field with the position it was written at.
//!
//! Reading is lenient where the meaning is clear (the Logto file puts `type`
//! and `required` on consumed inputs, and object mappings without
//! `properties`) and strict where a mistake would silently change behaviour
//! (misspelt keys, duplicate keys, wrong types). See SEMANTICS.md.

mod extra;
mod reader;

pub use extra::{
    Aggregate, ControlAdapter, Function, McpResource, Prompt, Skill, SkillAdapter, SkillTool,
};

use reader::Obj;
pub use reader::{Spanned, index, join};

use crate::diagnostics::Sink;
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
    /// `ref: aggregate.function` instead of `call`.
    pub reference: Option<Spanned<String>>,
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
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
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
    /// `ref: aggregate.function` instead of `call`.
    pub reference: Option<Spanned<String>>,
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

const ROOT_KEYS: &[&str] = &[
    "naftiko",
    "info",
    "binds",
    "capability",
    "consumes",
    "externalRefs",
];
const INFO_KEYS: &[&str] = &[
    "label",
    "description",
    "tags",
    "created",
    "modified",
    "name",
    "version",
    "personas",
    "stakeholders",
    "display",
    "related",
    "contact",
    "license",
];
const BIND_KEYS: &[&str] = &["namespace", "keys", "description", "location"];
const CAPABILITY_KEYS: &[&str] = &[
    "consumes",
    "exposes",
    "aggregates",
    "binds",
    "orchestration",
    "governance",
];
const CONSUMES_KEYS: &[&str] = &[
    "type",
    "namespace",
    "baseUri",
    "description",
    "authentication",
    "inputParameters",
    "resources",
    "import",
    "location",
    "as",
    "label",
];
const AUTH_KEYS: &[&str] = &[
    "type",
    "token",
    "username",
    "password",
    "key",
    "value",
    "placement",
    "headers",
    "in",
    "name",
    "authorizationServerUri",
    "resource",
    "tokenUrl",
    "clientId",
    "clientSecret",
    "scopes",
    "scope",
];
const RESOURCE_KEYS: &[&str] = &[
    "name",
    "path",
    "description",
    "label",
    "inputParameters",
    "operations",
];
const OPERATION_KEYS: &[&str] = &[
    "name",
    "method",
    "description",
    "label",
    "path",
    "inputParameters",
    "body",
    "outputRawFormat",
    "outputMediaType",
    "outputParameters",
    "outputSchema",
    "maxBinarySize",
];
const PARAM_KEYS: &[&str] = &[
    "name",
    "in",
    "type",
    "required",
    "description",
    "value",
    "pattern",
    "default",
];
const BODY_KEYS: &[&str] = &["type", "data"];
const OUTPUT_KEYS: &[&str] = &[
    "name",
    "type",
    "value",
    "mapping",
    "const",
    "properties",
    "items",
    "description",
];
const EXPOSES_KEYS: &[&str] = &[
    "type",
    "namespace",
    "port",
    "address",
    "description",
    "transport",
    "tools",
    "resources",
    "prompts",
    "authentication",
    "skills",
    "skill",
    "observability",
    "management",
    "groups",
    "label",
];
const REST_RESOURCE_KEYS: &[&str] = &[
    "path",
    "name",
    "description",
    "label",
    "operations",
    "forward",
    "inputParameters",
    "uri",
    "mimeType",
    "call",
    "with",
];
const REST_OPERATION_KEYS: &[&str] = &[
    "method",
    "name",
    "description",
    "label",
    "call",
    "with",
    "inputParameters",
    "outputParameters",
    "steps",
    "mappings",
    "ref",
    "path",
];
const FORWARD_KEYS: &[&str] = &["targetNamespace", "trustedHeaders"];
const TOOL_KEYS: &[&str] = &[
    "name",
    "label",
    "description",
    "hints",
    "inputParameters",
    "call",
    "with",
    "steps",
    "mappings",
    "outputParameters",
    "ref",
    "inputSchema",
];
const HINT_KEYS: &[&str] = &["readOnly", "destructive", "idempotent", "openWorld"];
const STEP_KEYS: &[&str] = &[
    "name",
    "type",
    "call",
    "with",
    "index",
    "match",
    "lookupValue",
    "outputParameters",
    "forEach",
    "description",
    "language",
    "location",
    "file",
    "condition",
    "dependencies",
];

/// Reads a document tree into the model, reporting every problem to `sink`.
pub fn read_document(sink: &mut Sink, root: &Node) -> Option<Document> {
    let obj = Obj::open(sink, root, "", "the document", ROOT_KEYS)?;
    let version = obj.str(sink, "naftiko");
    match &version {
        None => {
            let help = if obj.get("specVersion").is_some() {
                "the version key is `naftiko`, not `specVersion`: write `naftiko: 1.0.0-alpha2`"
            } else {
                "start the document with `naftiko: 1.0.0-alpha2`"
            };
            sink.error(root.pos, "", "the document has no `naftiko` version", help);
            return None;
        }
        Some(v) if !SUPPORTED_VERSIONS.contains(&v.value.as_str()) => {
            // Other versions have other schemas: reading on would report their
            // differences as mistakes, so the version error stands alone.
            sink.error(
                v.pos,
                &v.path,
                format!("unsupported naftiko version `{}`", v.value),
                format!("this generator reads {}", SUPPORTED_VERSIONS.join(", ")),
            );
            return None;
        }
        Some(_) => {}
    }
    let (label, description) = match obj.get("info") {
        Some(node) => match Obj::open(sink, node, "info", "`info`", INFO_KEYS) {
            Some(info) => (info.str(sink, "label"), info.str(sink, "description")),
            None => (None, None),
        },
        None => (None, None),
    };
    let binds = read_binds(sink, &obj);
    let capability = obj
        .get("capability")
        .and_then(|node| read_capability(sink, node));
    let fragment_consumes = read_consumes_list(sink, &obj);
    if capability.is_none() && obj.get("consumes").is_none() && !sink.has_errors() {
        sink.error(
            root.pos,
            "",
            "the document has neither `capability` nor a root `consumes` list",
            "add `capability:` with `consumes` and `exposes`",
        );
    }
    Some(Document {
        version,
        label,
        description,
        binds,
        capability,
        fragment_consumes,
    })
}

fn read_binds(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Bind> {
    obj.list(sink, "binds")
        .into_iter()
        .filter_map(|(path, node)| {
            let b = Obj::open(sink, node, &path, "a bind", BIND_KEYS)?;
            let keys = b
                .map(sink, "keys")
                .into_iter()
                .filter_map(|(k, v)| match v.as_str() {
                    Some(text) => Some((
                        k.clone(),
                        Spanned::new(text.to_owned(), v.pos, k.path.clone()),
                    )),
                    None => {
                        sink.error(
                            v.pos,
                            &k.path,
                            "a bind key must map to a source key name",
                            "write `VAR: SOURCE_KEY`",
                        );
                        None
                    }
                })
                .collect();
            Some(Bind {
                namespace: b.str(sink, "namespace"),
                location: b.str(sink, "location"),
                keys,
                pos: b.pos(),
            })
        })
        .collect()
}

fn read_capability(sink: &mut Sink, node: &Node) -> Option<Capability> {
    let obj = Obj::open(sink, node, "capability", "`capability`", CAPABILITY_KEYS)?;
    let binds = read_binds(sink, &obj);
    let consumes = read_consumes_list(sink, &obj);
    let exposes = obj
        .list(sink, "exposes")
        .into_iter()
        .filter_map(|(path, node)| read_exposes(sink, node, &path))
        .collect();
    let aggregates = extra::read_aggregates(sink, &obj);
    Some(Capability {
        binds,
        consumes,
        exposes,
        aggregates,
    })
}

fn read_consumes_list(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Consumes> {
    obj.list(sink, "consumes")
        .into_iter()
        .filter_map(|(path, node)| read_consumes(sink, node, &path))
        .collect()
}

fn read_consumes(sink: &mut Sink, node: &Node, path: &str) -> Option<Consumes> {
    let c = Obj::open(sink, node, path, "a consumes entry", CONSUMES_KEYS)?;
    if c.get("import").is_some() {
        return Some(Consumes::Import(Import {
            location: c.str(sink, "location"),
            import: c.str(sink, "import")?,
            alias: c.str(sink, "as"),
        }));
    }
    let authentication = c
        .get("authentication")
        .and_then(|n| read_auth(sink, n, &c.at("authentication")));
    let resources = c
        .list(sink, "resources")
        .into_iter()
        .filter_map(|(path, node)| read_resource(sink, node, &path))
        .collect();
    Some(Consumes::Http(HttpApi {
        namespace: c.req_str(
            sink,
            "namespace",
            "a consumes entry",
            "add `namespace: <name>`; exposed operations reach it as `call: <name>.<operation>`",
        ),
        kind: c.str(sink, "type"),
        base_uri: c.req_str(
            sink,
            "baseUri",
            "a consumes entry",
            "add `baseUri: https://api.example.com`",
        ),
        description: c.str(sink, "description"),
        authentication,
        input_parameters: read_params(sink, &c),
        resources,
        file: sink.file().to_owned(),
        pos: c.pos(),
        path: path.to_owned(),
    }))
}

fn read_auth(sink: &mut Sink, node: &Node, path: &str) -> Option<Authentication> {
    let a = Obj::open(sink, node, path, "`authentication`", AUTH_KEYS)?;
    Some(Authentication {
        kind: a.req_str(
            sink,
            "type",
            "`authentication`",
            "add `type: bearer` (or basic, apikey, digest)",
        ),
        token: a.str(sink, "token"),
        username: a.str(sink, "username"),
        password: a.str(sink, "password"),
        key: a.str(sink, "key").or_else(|| a.str(sink, "name")),
        value: a.str(sink, "value"),
        placement: a.str(sink, "placement").or_else(|| a.str(sink, "in")),
        pos: a.pos(),
        path: path.to_owned(),
    })
}

fn read_resource(sink: &mut Sink, node: &Node, path: &str) -> Option<Resource> {
    let r = Obj::open(sink, node, path, "a consumed resource", RESOURCE_KEYS)?;
    let operations = r
        .list(sink, "operations")
        .into_iter()
        .filter_map(|(path, node)| read_operation(sink, node, &path))
        .collect();
    Some(Resource {
        name: r.str(sink, "name"),
        path: r.req_str(
            sink,
            "path",
            "a consumed resource",
            "add `path: /items/{id}`",
        ),
        input_parameters: read_params(sink, &r),
        operations,
    })
}

fn read_operation(sink: &mut Sink, node: &Node, path: &str) -> Option<Operation> {
    let o = Obj::open(sink, node, path, "a consumed operation", OPERATION_KEYS)?;
    let body = o.get("body").and_then(|n| {
        let at = o.at("body");
        if n.as_str().is_some() {
            // `body: '{{...}}'`: a raw template string.
            return Some(Body {
                kind: None,
                data: Some(n.clone()),
                pos: n.pos,
                path: at,
            });
        }
        let b = Obj::open(sink, n, &at, "`body`", BODY_KEYS)?;
        Some(Body {
            kind: b.str(sink, "type"),
            data: b.get("data").cloned(),
            pos: b.pos(),
            path: at,
        })
    });
    Some(Operation {
        name: o.req_str(
            sink,
            "name",
            "a consumed operation",
            "add `name: <operation>`",
        ),
        method: o.req_str(
            sink,
            "method",
            "a consumed operation",
            "add `method: GET` (or POST, PUT, PATCH, DELETE)",
        ),
        description: o.str(sink, "description"),
        path: o.str(sink, "path"),
        input_parameters: read_params(sink, &o),
        body,
        output_raw_format: o.str(sink, "outputRawFormat"),
        output_parameters: read_outputs(sink, &o),
        pos: o.pos(),
        path_in_doc: path.to_owned(),
    })
}

fn read_params(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Param> {
    obj.list(sink, "inputParameters")
        .into_iter()
        .filter_map(|(path, node)| {
            let p = Obj::open(sink, node, &path, "an input parameter", PARAM_KEYS)?;
            Some(Param {
                name: p.req_str(
                    sink,
                    "name",
                    "an input parameter",
                    "add `name: <parameter>`",
                ),
                location: p.str(sink, "in"),
                ty: p.str(sink, "type"),
                required: p.bool(sink, "required"),
                description: p.str(sink, "description"),
                value: p.get("value").and_then(|v| match v.as_str() {
                    Some(t) => Some(Spanned::new(t.to_owned(), v.pos, p.at("value"))),
                    None => {
                        sink.error(
                            v.pos,
                            &p.at("value"),
                            "`value` must be a string",
                            "quote the value",
                        );
                        None
                    }
                }),
                pos: p.pos(),
                path,
            })
        })
        .collect()
}

/// Consumed outputs: `value` is the JSONPath.
fn read_outputs(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Output> {
    obj.list(sink, "outputParameters")
        .into_iter()
        .filter_map(|(path, node)| read_output(sink, node, &path, true))
        .collect()
}

/// Exposed outputs: `mapping` is the JSONPath, `value` a mock value.
fn read_exposed_outputs(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Output> {
    obj.list(sink, "outputParameters")
        .into_iter()
        .filter_map(|(path, node)| read_output(sink, node, &path, false))
        .collect()
}

fn read_output(sink: &mut Sink, node: &Node, path: &str, consumed: bool) -> Option<Output> {
    let o = Obj::open(sink, node, path, "an output parameter", OUTPUT_KEYS)?;
    let properties = o
        .map(sink, "properties")
        .into_iter()
        .filter_map(|(name, node)| {
            let at = name.path.clone();
            read_output(sink, node, &at, consumed).map(|out| (name, out))
        })
        .collect();
    let items = o.get("items").and_then(|n| {
        let at = o.at("items");
        match &n.value {
            // `items: [ {name, type}, ... ]` (older form): the first entry describes items.
            crate::yaml::Value::Seq(list) => list
                .first()
                .and_then(|first| read_output(sink, first, &index(&at, 0), consumed)),
            _ => read_output(sink, n, &at, consumed),
        }
    });
    let (mapping, mock) = if consumed {
        (
            o.str(sink, "value").or_else(|| o.str(sink, "mapping")),
            None,
        )
    } else {
        (o.str(sink, "mapping"), o.get("value").cloned())
    };
    Some(Output {
        name: o.str(sink, "name"),
        ty: o.str(sink, "type"),
        mapping,
        constant: o.get("const").cloned(),
        mock,
        properties,
        items: items.map(Box::new),
        pos: o.pos(),
        path: path.to_owned(),
    })
}

fn read_with(sink: &mut Sink, obj: &Obj<'_>) -> Vec<(Spanned<String>, Node)> {
    obj.map(sink, "with")
        .into_iter()
        .map(|(k, v)| (k, v.clone()))
        .collect()
}

fn read_steps(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Step> {
    obj.list(sink, "steps")
        .into_iter()
        .filter_map(|(path, node)| {
            let s = Obj::open(sink, node, &path, "a step", STEP_KEYS)?;
            Some(Step {
                name: s.str(sink, "name"),
                kind: s.str(sink, "type"),
                call: s.str(sink, "call"),
                pos: s.pos(),
                path,
            })
        })
        .collect()
}

fn read_exposes(sink: &mut Sink, node: &Node, path: &str) -> Option<Exposes> {
    // Skill and control adapters have keys of their own.
    let peek = match &node.value {
        crate::yaml::Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some("type"))
            .and_then(|(_, v)| v.as_str()),
        _ => None,
    };
    match peek {
        Some("skill") => return extra::read_skill_adapter(sink, node, path).map(Exposes::Skill),
        Some("control") => {
            return extra::read_control_adapter(sink, node, path).map(Exposes::Control);
        }
        _ => {}
    }
    let e = Obj::open(sink, node, path, "an exposes entry", EXPOSES_KEYS)?;
    let kind = e.req_str(
        sink,
        "type",
        "an exposes entry",
        "add `type: rest` or `type: mcp`",
    )?;
    match kind.value.as_str() {
        "rest" => {
            let resources = e
                .list(sink, "resources")
                .into_iter()
                .filter_map(|(path, node)| read_rest_resource(sink, node, &path))
                .collect();
            Some(Exposes::Rest(RestAdapter {
                namespace: e.str(sink, "namespace"),
                port: e.port(sink, "port"),
                address: e.str(sink, "address"),
                description: e.str(sink, "description"),
                resources,
                authentication: e
                    .get("authentication")
                    .and_then(|n| read_auth(sink, n, &e.at("authentication"))),
                pos: e.pos(),
                path: path.to_owned(),
            }))
        }
        "mcp" => {
            let tools = e
                .list(sink, "tools")
                .into_iter()
                .filter_map(|(path, node)| read_tool(sink, node, &path))
                .collect();
            let (resources, prompts) = extra::read_mcp_extras(sink, &e);
            Some(Exposes::Mcp(McpAdapter {
                namespace: e.str(sink, "namespace"),
                port: e.port(sink, "port"),
                address: e.str(sink, "address"),
                transport: e.str(sink, "transport"),
                description: e.str(sink, "description"),
                tools,
                authentication: e
                    .get("authentication")
                    .and_then(|n| read_auth(sink, n, &e.at("authentication"))),
                resources,
                prompts,
                pos: e.pos(),
                path: path.to_owned(),
            }))
        }
        _ => Some(Exposes::Other { kind }),
    }
}

fn read_rest_resource(sink: &mut Sink, node: &Node, path: &str) -> Option<RestResource> {
    let r = Obj::open(sink, node, path, "an exposed resource", REST_RESOURCE_KEYS)?;
    let operations = r
        .list(sink, "operations")
        .into_iter()
        .filter_map(|(path, node)| {
            let o = Obj::open(
                sink,
                node,
                &path,
                "an exposed operation",
                REST_OPERATION_KEYS,
            )?;
            Some(RestOperation {
                method: o.req_str(
                    sink,
                    "method",
                    "an exposed operation",
                    "add `method: GET` (or POST, PUT, ...)",
                ),
                name: o.str(sink, "name"),
                description: o.str(sink, "description"),
                call: o.str(sink, "call"),
                with: read_with(sink, &o),
                input_parameters: read_params(sink, &o),
                output_parameters: read_exposed_outputs(sink, &o),
                steps: read_steps(sink, &o),
                reference: o.str(sink, "ref"),
                pos: o.pos(),
                path,
            })
        })
        .collect();
    let forward = r.get("forward").and_then(|n| {
        let f = Obj::open(sink, n, &r.at("forward"), "`forward`", FORWARD_KEYS)?;
        let trusted_headers = f
            .list(sink, "trustedHeaders")
            .into_iter()
            .filter_map(|(p, n)| n.as_str().map(|t| Spanned::new(t.to_owned(), n.pos, p)))
            .collect();
        Some(Forward {
            target_namespace: f.str(sink, "targetNamespace"),
            trusted_headers,
        })
    });
    Some(RestResource {
        path: r.req_str(sink, "path", "an exposed resource", "add `path: /v1/items`"),
        name: r.str(sink, "name"),
        description: r.str(sink, "description"),
        input_parameters: read_params(sink, &r),
        operations,
        forward,
        pos: r.pos(),
        path_in_doc: path.to_owned(),
    })
}

fn read_tool(sink: &mut Sink, node: &Node, path: &str) -> Option<Tool> {
    let t = Obj::open(sink, node, path, "an MCP tool", TOOL_KEYS)?;
    let hints = match t.get("hints") {
        Some(n) => match Obj::open(sink, n, &t.at("hints"), "`hints`", HINT_KEYS) {
            Some(h) => Hints {
                read_only: h.bool(sink, "readOnly").map(|b| b.value),
                destructive: h.bool(sink, "destructive").map(|b| b.value),
                idempotent: h.bool(sink, "idempotent").map(|b| b.value),
                open_world: h.bool(sink, "openWorld").map(|b| b.value),
            },
            None => Hints::default(),
        },
        None => Hints::default(),
    };
    let reference = t.str(sink, "ref");
    let name = if reference.is_some() {
        // A tool that points at an aggregate function takes its name from it.
        t.str(sink, "name")
    } else {
        t.req_str(sink, "name", "an MCP tool", "add `name: <tool-name>`")
    };
    Some(Tool {
        name,
        reference,
        label: t.str(sink, "label"),
        description: t.str(sink, "description"),
        hints,
        input_parameters: read_params(sink, &t),
        call: t.str(sink, "call"),
        with: read_with(sink, &t),
        output_parameters: read_exposed_outputs(sink, &t),
        steps: read_steps(sink, &t),
        pos: t.pos(),
        path: path.to_owned(),
    })
}
