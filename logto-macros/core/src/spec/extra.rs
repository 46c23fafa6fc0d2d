//! The parts of the format that are read and validated but not generated
//! yet: aggregates and their functions, MCP resources and prompts, `skill`
//! and `control` adapters. Typed like the rest, so that misspellings and
//! broken references are reported with their line.

use super::reader::{Obj, Spanned};
use super::{
    Mapping, Output, Param, Step, read_exposed_outputs, read_mappings, read_params, read_steps,
    read_with,
};
use crate::diagnostics::Sink;
use crate::yaml::{Node, Pos};

/// `capability.aggregates[]`: functions that tools and operations reach
/// through `ref: namespace.function`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// Namespace used by `ref`.
    pub namespace: Option<Spanned<String>>,
    /// Label.
    pub label: Option<Spanned<String>>,
    /// The functions.
    pub functions: Vec<Function>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// An aggregate function.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Name used by `ref`.
    pub name: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// The consumed operation called.
    pub call: Option<Spanned<String>>,
    /// Values for its inputs.
    pub with: Vec<(Spanned<String>, Node)>,
    /// Inputs.
    pub input_parameters: Vec<Param>,
    /// Outputs.
    pub output_parameters: Vec<Output>,
    /// Orchestration steps.
    pub steps: Vec<Step>,
    /// How the orchestrated answer is built from the steps' outputs.
    pub mappings: Vec<Mapping>,
    /// `semantics.safe`: no side effects (derives `readOnly` and `destructive` hints).
    pub safe: Option<bool>,
    /// `semantics.idempotent` (copied to the `idempotent` hint).
    pub idempotent: Option<bool>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// An MCP resource (`exposes[].resources[]` of an MCP adapter).
#[derive(Debug, Clone, PartialEq)]
pub struct McpResource {
    /// Name.
    pub name: Option<Spanned<String>>,
    /// Title.
    pub label: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// MIME type of its contents.
    pub mime_type: Option<Spanned<String>>,
    /// URI, or URI template (`data://users/{id}`).
    pub uri: Option<Spanned<String>>,
    /// The consumed operation that serves it.
    pub call: Option<Spanned<String>>,
    /// Values for the call's inputs.
    pub with: Vec<(Spanned<String>, Node)>,
    /// Or orchestrated steps.
    pub steps: Vec<Step>,
    /// Their mappings.
    pub mappings: Vec<Mapping>,
    /// Or a file (`file:///...`).
    pub location: Option<Spanned<String>>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// An MCP prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// Name.
    pub name: Option<Spanned<String>>,
    /// Title.
    pub label: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// Arguments: name, description and whether required (default true).
    pub arguments: Vec<(Spanned<String>, Option<Spanned<String>>, bool)>,
    /// Template messages: role and content.
    pub template: Vec<(Spanned<String>, Spanned<String>)>,
    /// Or a file holding the prompt (`file:///...`).
    pub location: Option<Spanned<String>>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// `exposes: type: skill`.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillAdapter {
    /// Namespace.
    pub namespace: Option<Spanned<String>>,
    /// Port.
    pub port: Option<Spanned<u16>>,
    /// Address.
    pub address: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// The skills.
    pub skills: Vec<Skill>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// One skill and the tools it bundles.
#[derive(Debug, Clone, PartialEq)]
pub struct Skill {
    /// Name.
    pub name: Option<Spanned<String>>,
    /// The skill as written (its metadata fields are served as they are).
    pub raw: serde_json::Value,
    /// `location`: the directory of its files (`file:///...`).
    pub location: Option<Spanned<String>>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
    /// Tools: name and `from: {sourceNamespace, action}`.
    pub tools: Vec<SkillTool>,
}

/// A tool of a skill, taken from an adapter of this capability.
#[derive(Debug, Clone, PartialEq)]
pub struct SkillTool {
    /// Name.
    pub name: Option<Spanned<String>>,
    /// The exposing adapter's namespace.
    pub source_namespace: Option<Spanned<String>>,
    /// The tool or operation in it.
    pub action: Option<Spanned<String>>,
    /// Description.
    pub description: Option<Spanned<String>>,
    /// An instruction file (in the skill's `location`) instead of `from`.
    pub instruction: Option<Spanned<String>>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

/// `exposes: type: control` (health, info, scripting management).
#[derive(Debug, Clone, PartialEq)]
pub struct ControlAdapter {
    /// Namespace.
    pub namespace: Option<Spanned<String>>,
    /// Port.
    pub port: Option<Spanned<u16>>,
    /// Address.
    pub address: Option<Spanned<String>>,
    /// `management` as written.
    pub management: Option<serde_json::Value>,
    /// `observability` as written.
    pub observability: Option<serde_json::Value>,
    /// Inbound authentication.
    pub authentication: Option<super::Authentication>,
    /// Where it starts.
    pub pos: Pos,
    /// Its YAML path.
    pub path: String,
}

const AGGREGATE_KEYS: &[&str] = &[
    "namespace",
    "label",
    "functions",
    "name",
    "display",
    "flows",
    "description",
];
const FUNCTION_KEYS: &[&str] = &[
    "name",
    "description",
    "inputParameters",
    "outputParameters",
    "semantics",
    "call",
    "steps",
    "mappings",
    "with",
    "outputMediaType",
];
const SEMANTICS_KEYS: &[&str] = &["safe", "idempotent", "cacheable"];
const MCP_RESOURCE_KEYS: &[&str] = &[
    "name",
    "uri",
    "description",
    "mimeType",
    "call",
    "with",
    "steps",
    "mappings",
    "location",
    "label",
    "display",
    "binary",
];
const PROMPT_KEYS: &[&str] = &[
    "name",
    "label",
    "description",
    "arguments",
    "template",
    "location",
];
const PROMPT_ARGUMENT_KEYS: &[&str] = &["name", "label", "description", "required"];
const MESSAGE_KEYS: &[&str] = &["role", "content"];
const SKILL_ADAPTER_KEYS: &[&str] = &[
    "type",
    "namespace",
    "port",
    "address",
    "description",
    "skills",
    "skill",
    "groups",
    "label",
    "authentication",
];
const SKILL_KEYS: &[&str] = &[
    "name",
    "description",
    "tools",
    "location",
    "argument-hint",
    "allowed-tools",
    "license",
    "compatibility",
    "file",
    "metadata",
    "user-invocable",
    "disable-model-invocation",
];
const SKILL_TOOL_KEYS: &[&str] = &["name", "description", "from", "instruction"];
const FROM_KEYS: &[&str] = &["sourceNamespace", "action"];
const CONTROL_KEYS: &[&str] = &[
    "type",
    "namespace",
    "port",
    "address",
    "description",
    "management",
    "observability",
    "authentication",
    "label",
];

/// Reads `capability.aggregates`.
pub fn read_aggregates(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Aggregate> {
    obj.list(sink, "aggregates")
        .into_iter()
        .filter_map(|(path, node)| {
            let a = Obj::open(sink, node, &path, "an aggregate", AGGREGATE_KEYS)?;
            let functions = a
                .list(sink, "functions")
                .into_iter()
                .filter_map(|(fpath, fnode)| {
                    let f = Obj::open(sink, fnode, &fpath, "an aggregate function", FUNCTION_KEYS)?;
                    let semantics = f.get("semantics").and_then(|n| {
                        Obj::open(sink, n, &f.at("semantics"), "`semantics`", SEMANTICS_KEYS)
                    });
                    Some(Function {
                        name: f.req_str(
                            sink,
                            "name",
                            "an aggregate function",
                            "add `name: <function>`",
                        ),
                        description: f.str(sink, "description"),
                        call: f.str(sink, "call"),
                        with: read_with(sink, &f),
                        input_parameters: read_params(sink, &f),
                        output_parameters: read_exposed_outputs(sink, &f),
                        steps: read_steps(sink, &f),
                        mappings: read_mappings(sink, &f),
                        safe: semantics
                            .as_ref()
                            .and_then(|s| s.bool(sink, "safe"))
                            .map(|b| b.value),
                        idempotent: semantics
                            .as_ref()
                            .and_then(|s| s.bool(sink, "idempotent"))
                            .map(|b| b.value),
                        pos: f.pos(),
                        path: fpath,
                    })
                })
                .collect();
            Some(Aggregate {
                namespace: a.str(sink, "namespace"),
                label: a.str(sink, "label"),
                functions,
                pos: a.pos(),
                path,
            })
        })
        .collect()
}

/// Reads an MCP adapter's `resources` and `prompts`.
pub fn read_mcp_extras(sink: &mut Sink, e: &Obj<'_>) -> (Vec<McpResource>, Vec<Prompt>) {
    let resources = e
        .list(sink, "resources")
        .into_iter()
        .filter_map(|(path, node)| {
            let r = Obj::open(sink, node, &path, "an MCP resource", MCP_RESOURCE_KEYS)?;
            Some(McpResource {
                name: r.req_str(sink, "name", "an MCP resource", "add `name: <resource>`"),
                label: r.str(sink, "label"),
                description: r.str(sink, "description"),
                mime_type: r.str(sink, "mimeType"),
                uri: r.req_str(
                    sink,
                    "uri",
                    "an MCP resource",
                    "add `uri: data://<resource>`",
                ),
                call: r.str(sink, "call"),
                with: read_with(sink, &r),
                steps: read_steps(sink, &r),
                mappings: read_mappings(sink, &r),
                location: r.str(sink, "location"),
                pos: r.pos(),
                path,
            })
        })
        .collect();
    let prompts = e
        .list(sink, "prompts")
        .into_iter()
        .filter_map(|(path, node)| {
            let p = Obj::open(sink, node, &path, "an MCP prompt", PROMPT_KEYS)?;
            let arguments = p
                .list(sink, "arguments")
                .into_iter()
                .filter_map(|(apath, anode)| {
                    let a = Obj::open(
                        sink,
                        anode,
                        &apath,
                        "a prompt argument",
                        PROMPT_ARGUMENT_KEYS,
                    )?;
                    let name =
                        a.req_str(sink, "name", "a prompt argument", "add `name: <argument>`")?;
                    let description = a.str(sink, "description");
                    // Required unless it says otherwise (the schema's default).
                    Some((
                        name,
                        description,
                        a.bool(sink, "required").is_none_or(|r| r.value),
                    ))
                })
                .collect();
            let template = p
                .list(sink, "template")
                .into_iter()
                .filter_map(|(mpath, mnode)| {
                    let m = Obj::open(sink, mnode, &mpath, "a prompt message", MESSAGE_KEYS)?;
                    let role = m.req_str(
                        sink,
                        "role",
                        "a prompt message",
                        "add `role: user` (or assistant)",
                    )?;
                    let content =
                        m.req_str(sink, "content", "a prompt message", "add `content: <text>`")?;
                    Some((role, content))
                })
                .collect();
            Some(Prompt {
                name: p.req_str(sink, "name", "an MCP prompt", "add `name: <prompt>`"),
                label: p.str(sink, "label"),
                description: p.str(sink, "description"),
                arguments,
                template,
                location: p.str(sink, "location"),
                pos: p.pos(),
                path,
            })
        })
        .collect();
    (resources, prompts)
}

/// Reads `exposes: type: skill`.
pub fn read_skill_adapter(sink: &mut Sink, node: &Node, path: &str) -> Option<SkillAdapter> {
    let e = Obj::open(sink, node, path, "a skill adapter", SKILL_ADAPTER_KEYS)?;
    let skills = e
        .list(sink, "skills")
        .into_iter()
        .filter_map(|(spath, snode)| {
            let s = Obj::open(sink, snode, &spath, "a skill", SKILL_KEYS)?;
            let tools = s
                .list(sink, "tools")
                .into_iter()
                .filter_map(|(tpath, tnode)| {
                    let t = Obj::open(sink, tnode, &tpath, "a skill tool", SKILL_TOOL_KEYS)?;
                    let from = t
                        .get("from")
                        .and_then(|n| Obj::open(sink, n, &t.at("from"), "`from`", FROM_KEYS));
                    let (source_namespace, action) = match from {
                        Some(f) => (f.str(sink, "sourceNamespace"), f.str(sink, "action")),
                        None => (None, None),
                    };
                    Some(SkillTool {
                        name: t.str(sink, "name"),
                        source_namespace,
                        action,
                        description: t.str(sink, "description"),
                        instruction: t.str(sink, "instruction"),
                        pos: t.pos(),
                        path: tpath,
                    })
                })
                .collect();
            Some(Skill {
                name: s.str(sink, "name"),
                raw: snode.to_json(),
                location: s.str(sink, "location"),
                pos: s.pos(),
                path: spath,
                tools,
            })
        })
        .collect();
    Some(SkillAdapter {
        namespace: e.str(sink, "namespace"),
        port: e.port(sink, "port"),
        address: e.str(sink, "address"),
        description: e.str(sink, "description"),
        skills,
        pos: e.pos(),
        path: path.to_owned(),
    })
}

/// Reads `exposes: type: control`.
pub fn read_control_adapter(sink: &mut Sink, node: &Node, path: &str) -> Option<ControlAdapter> {
    let e = Obj::open(sink, node, path, "a control adapter", CONTROL_KEYS)?;
    Some(ControlAdapter {
        namespace: e.str(sink, "namespace"),
        port: e.port(sink, "port"),
        address: e.str(sink, "address"),
        management: e.get("management").map(Node::to_json),
        observability: e.get("observability").map(Node::to_json),
        authentication: e
            .get("authentication")
            .and_then(|n| super::read::read_auth(sink, n, &e.at("authentication"))),
        pos: e.pos(),
        path: path.to_owned(),
    })
}
