//! From the spec model to the IR: resolve every reference, and report every
//! reference that does not resolve, all at once.

mod bindings;
mod consumes;
mod control;
mod exposes;
mod skill;
mod steps;
pub mod template;

use std::collections::HashMap;

use crate::diagnostics::{Sink, help_with_suggestion};
use crate::ir::{self, JsonType, Location};
use crate::spec::{self, Spanned};
use crate::yaml::Pos;
use template::{Part, path_vars, split};

/// HTTP methods a consumed or exposed operation may use.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// An imported fragment, read by the caller (the core does no I/O).
pub struct Fragment {
    /// The file name shown in diagnostics.
    pub file: String,
    /// Its consumes entries, already read.
    pub consumes: Vec<spec::Consumes>,
}

/// Resolves `doc` into the IR. `import` is asked for each `import` entry's
/// `location` and returns the fragment or a reason it could not be read.
pub fn resolve(
    sink: &mut Sink,
    doc: &spec::Document,
    import: &mut dyn FnMut(&mut Sink, &spec::Import) -> Option<Fragment>,
) -> ir::Capability {
    let mut cx = Cx {
        fragment: doc.capability.is_none(),
        binds: Vec::new(),
        apis: Vec::new(),
        files: vec![sink.file().to_owned()],
        later: Vec::new(),
    };
    let cap = doc.capability.as_ref();
    let bind_specs = doc
        .binds
        .iter()
        .chain(cap.map(|c| c.binds.as_slice()).unwrap_or_default());
    for b in bind_specs {
        for (var, key) in &b.keys {
            cx.binds.push(ir::BindVar {
                namespace: b.namespace.as_ref().map(|n| n.value.clone()),
                var: var.value.clone(),
                source_key: key.value.clone(),
                location: b.location.as_ref().map(|l| l.value.clone()),
                used_at: None,
            });
        }
    }

    // Consumed APIs, imports included, with where each was written.
    let mut apis: Vec<(spec::HttpApi, Option<String>)> = Vec::new();
    let consumes = cap
        .map(|c| c.consumes.as_slice())
        .unwrap_or_default()
        .iter()
        .chain(&doc.fragment_consumes);
    for c in consumes {
        match c {
            spec::Consumes::Http(api) => apis.push((api.clone(), None)),
            spec::Consumes::Import(imp) => {
                let Some(fragment) = import(sink, imp) else {
                    continue;
                };
                cx.files.push(fragment.file.clone());
                let found = fragment.consumes.iter().find_map(|c| match c {
                    spec::Consumes::Http(api)
                        if api.namespace.as_ref().map(|n| n.value.as_str())
                            == Some(imp.import.value.as_str()) =>
                    {
                        Some(api.clone())
                    }
                    _ => None,
                });
                match found {
                    Some(api) => apis.push((api, imp.alias.as_ref().map(|a| a.value.clone()))),
                    None => {
                        let names: Vec<&str> = fragment
                            .consumes
                            .iter()
                            .filter_map(|c| match c {
                                spec::Consumes::Http(a) => {
                                    a.namespace.as_ref().map(|n| n.value.as_str())
                                }
                                spec::Consumes::Import(_) => None,
                            })
                            .collect();
                        sink.error(
                            imp.import.pos,
                            &imp.import.path,
                            format!(
                                "`{}` declares no namespace `{}`",
                                fragment.file, imp.import.value
                            ),
                            help_with_suggestion(&imp.import.value, &names, "namespace"),
                        );
                    }
                }
            }
        }
    }
    let mut seen_ns: HashMap<String, (Pos, String)> = HashMap::new();
    for (api, alias) in &apis {
        let Some(ns) = api.namespace.as_ref() else {
            continue;
        };
        let name = alias.clone().unwrap_or_else(|| ns.value.clone());
        if let Some((pos, _)) = seen_ns.get(&name) {
            sink.error(
                ns.pos,
                &ns.path,
                format!(
                    "namespace `{name}` is consumed twice (first at line {})",
                    pos.line
                ),
                "give each consumed API its own namespace",
            );
            continue;
        }
        seen_ns.insert(name.clone(), (ns.pos, ns.path.clone()));
        if let Some(resolved) = cx.api(sink, api, name) {
            cx.apis.push(resolved);
        }
    }

    let mut rest = Vec::new();
    let mut mcp = Vec::new();
    let mut skills = Vec::new();
    let mut control = None;
    let mut later = std::mem::take(&mut cx.later);
    let aggregates = cap.map(|c| c.aggregates.as_slice()).unwrap_or_default();
    for a in aggregates {
        // Functions are generated where a `ref` reaches them; one no tool or
        // operation uses is still checked.
        for f in &a.functions {
            if let Some(c) = &f.call {
                cx.call(sink, c);
            }
            if let Some(s) = script_step(&f.steps) {
                later.push((f.pos, f.path.clone(), s));
            }
        }
    }
    let exposes = cap.map(|c| c.exposes.as_slice()).unwrap_or_default();
    check_references(sink, aggregates, exposes);
    for (i, e) in cap
        .map(|c| c.exposes.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        match e {
            spec::Exposes::Rest(a) => {
                rest.push(cx.rest(sink, a, i, aggregates, &mut later));
            }
            spec::Exposes::Mcp(a) => {
                mcp.push(cx.mcp(sink, a, i, aggregates, &mut later));
            }
            spec::Exposes::Skill(a) => skills.push(skill::adapter(sink, a, i, exposes)),
            spec::Exposes::Control(a) => {
                if control.is_some() {
                    sink.error(
                        a.pos,
                        &a.path,
                        "a capability has at most one control adapter",
                        "keep one `type: control` entry",
                    );
                } else {
                    control = cx.control(sink, a, &mut later);
                }
            }
            spec::Exposes::Other { kind } => {
                later.push((
                    kind.pos,
                    kind.path.clone(),
                    format!("`exposes` of type `{}` is not generated", kind.value),
                ));
            }
        }
    }
    check_module_names(sink, &cx.apis, &rest, &mcp, &skills);
    ir::Capability {
        label: doc.label.as_ref().map(|l| l.value.clone()),
        description: doc.description.as_ref().map(|d| d.value.clone()),
        binds: cx.binds,
        apis: cx.apis,
        rest,
        mcp,
        skills,
        control,
        version: doc
            .version
            .as_ref()
            .map_or_else(String::new, |v| v.value.clone()),
        files: cx.files,
        unsupported: later,
    }
}

struct Cx {
    /// A fragment checked on its own: its binds are declared by whoever
    /// imports it, so unknown `{{VAR}}`s become environment binds.
    fragment: bool,
    binds: Vec<ir::BindVar>,
    apis: Vec<ir::Api>,
    files: Vec<String>,
    /// Constructs read but not generated yet, found while resolving.
    later: Vec<(Pos, String, String)>,
}

fn check_module_names(
    sink: &mut Sink,
    apis: &[ir::Api],
    rest: &[ir::RestAdapter],
    mcp: &[ir::McpAdapter],
    skills: &[ir::SkillAdapter],
) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    // The module that serves the whole capability.
    seen.insert("capability", "(the generated `capability` module)");
    let all = apis
        .iter()
        .map(|a| (a.module.as_str(), a.namespace.as_str()))
        .chain(
            rest.iter()
                .map(|a| (a.module.as_str(), a.namespace.as_str())),
        )
        .chain(
            mcp.iter()
                .map(|a| (a.module.as_str(), a.namespace.as_str())),
        )
        .chain(
            skills
                .iter()
                .map(|a| (a.module.as_str(), a.namespace.as_str())),
        );
    for (module, ns) in all {
        if let Some(other) = seen.insert(module, ns)
            && other != ns
        {
            sink.error(
                Pos { line: 1, col: 1 },
                "capability",
                format!("namespaces `{other}` and `{ns}` both become the Rust module `{module}`"),
                "rename one of them so that their snake_case forms differ",
            );
        }
    }
}

fn method(sink: &mut Sink, m: &Spanned<String>) -> Option<String> {
    let upper = m.value.to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        Some(upper)
    } else {
        sink.error(
            m.pos,
            &m.path,
            format!("`{}` is not an HTTP method", m.value),
            help_with_suggestion(&upper, &METHODS, "method"),
        );
        None
    }
}

fn location(sink: &mut Sink, p: &spec::Param) -> Option<Location> {
    let Some(l) = &p.location else {
        return Some(Location::Query);
    };
    Some(match l.value.as_str() {
        "path" => Location::Path,
        "query" => Location::Query,
        "header" => Location::Header,
        "cookie" => Location::Cookie,
        "body" => Location::Body,
        other => {
            let known = ["path", "query", "header", "cookie", "body"];
            sink.error(
                l.pos,
                &l.path,
                format!("`in: {other}` is not a parameter location"),
                help_with_suggestion(other, &known, "location"),
            );
            return None;
        }
    })
}

fn json_type(sink: &mut Sink, ty: Option<&Spanned<String>>, default: JsonType) -> JsonType {
    let Some(t) = ty else { return default };
    match JsonType::parse(&t.value) {
        Some(j) => j,
        None => {
            let known = ["string", "number", "integer", "boolean", "object", "array"];
            sink.error(
                t.pos,
                &t.path,
                format!("`{}` is not a JSON type", t.value),
                help_with_suggestion(&t.value, &known, "type"),
            );
            default
        }
    }
}

/// The shape of an answer (SEMANTICS.md decision 12) as the JSON the
/// runtime's `mapping::shape` reads: `{"path": P}`, `{"const": V}`,
/// `{"object": {"base": P?, "fields": {...}}}`, `{"array": {"base": P?, "item": S}}`.
/// `None` passes the body through unchanged (`$.`, `$`, or no outputs): the
/// REST adapter then streams it without parsing. One output is the answer;
/// several named outputs make an object.
fn mapping(sink: &mut Sink, outputs: &[spec::Output]) -> Option<String> {
    let shape = match outputs {
        [] => return None,
        [one] => shape_of(sink, one),
        many => serde_json::json!({"object": {"fields": many
            .iter()
            .filter_map(|o| Some((o.name.as_ref()?.value.clone(), shape_of(sink, o))))
            .collect::<serde_json::Map<_, _>>()}}),
    };
    if shape == serde_json::json!({"path": "$"}) {
        return None;
    }
    Some(shape.to_string())
}

fn shape_of(sink: &mut Sink, o: &spec::Output) -> serde_json::Value {
    use serde_json::json;
    if let Some(c) = &o.constant {
        let ty =
            o.ty.as_ref()
                .and_then(|t| JsonType::parse(&t.value))
                .unwrap_or(JsonType::String);
        return json!({"const": coerce(c.to_json(), ty)});
    }
    let base = o.mapping.as_ref().and_then(|m| jsonpath(sink, m));
    if !o.properties.is_empty() {
        let fields: serde_json::Map<String, serde_json::Value> = o
            .properties
            .iter()
            .map(|(name, p)| (name.value.clone(), shape_of(sink, p)))
            .collect();
        return json!({"object": {"base": base, "fields": fields}});
    }
    if let Some(item) = &o.items {
        return json!({"array": {"base": base, "item": shape_of(sink, item)}});
    }
    json!({"path": base.unwrap_or_else(|| "$".to_owned())})
}

/// A mapping's JSONPath, checked (RFC 9535); `$.` and `$` are the root.
fn jsonpath(sink: &mut Sink, m: &Spanned<String>) -> Option<String> {
    let text = m.value.trim();
    if matches!(text, "$." | "$") {
        return Some("$".to_owned());
    }
    if let Err(e) = serde_json_path::JsonPath::parse(text) {
        sink.error(
            m.pos,
            &m.path,
            format!("`{text}` is not a valid JSONPath: {e}"),
            "write an RFC 9535 path such as `$.data.items`, or `$.` to pass the body through",
        );
        return None;
    }
    Some(text.to_owned())
}

/// `name`, or `name_2`, `name_3`... if taken; records the result.
fn unique(taken: &mut Vec<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}_{n}");
        n += 1;
    }
    taken.push(candidate.clone());
    candidate
}

/// A route with its placeholders blanked, so `/a/{x}` and `/a/{y}` collide.
fn normalize_route(route: &str) -> String {
    split(route, true, false)
        .into_iter()
        .map(|p| match p {
            Part::Text(t) => {
                t.trim_end_matches('/').to_owned() + if t.ends_with('/') { "/" } else { "" }
            }
            Part::Var(_) => "{}".to_owned(),
        })
        .collect::<String>()
        .trim_end_matches('/')
        .to_owned()
}

/// Every `{{name}}` inside the strings of a JSON template.
fn collect_template_vars(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => {
            for p in split(s, false, false) {
                if let Part::Var(name) = p
                    && !out.iter().any(|o| o == name)
                {
                    out.push(name.to_owned());
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_template_vars(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| collect_template_vars(i, out)),
        _ => {}
    }
}

/// A `script` step, which code generation does not support (decision 17).
fn script_step(steps: &[spec::Step]) -> Option<String> {
    steps
        .iter()
        .filter_map(|s| s.kind.as_ref())
        .find(|k| k.value == "script")
        .map(|kind| {
            format!(
                "`script` steps (line {}) are not supported: the generated code runs no scripts",
                kind.pos.line
            )
        })
}

/// The mock answer of an operation or tool without `call` whose outputs give
/// values (`value`, `const`), with `{{name}}`s naming its inputs.
fn mock(
    sink: &mut Sink,
    outputs: &[spec::Output],
    inputs: &[ir::ExposedInput],
    has_call: bool,
) -> Option<ir::Mock> {
    if has_call || !outputs.iter().any(has_mock) {
        return None;
    }
    match outputs {
        [one] if one.name.is_none() => mock_of(sink, one, inputs),
        many => Some(ir::Mock::Object(
            many.iter()
                .filter_map(|o| Some((o.name.as_ref()?.value.clone(), mock_of(sink, o, inputs)?)))
                .collect(),
        )),
    }
}

fn has_mock(o: &spec::Output) -> bool {
    o.mock.is_some() || o.constant.is_some() || o.properties.iter().any(|(_, p)| has_mock(p))
}

fn mock_of(sink: &mut Sink, o: &spec::Output, inputs: &[ir::ExposedInput]) -> Option<ir::Mock> {
    let ty =
        o.ty.as_ref()
            .and_then(|t| JsonType::parse(&t.value))
            .unwrap_or(JsonType::String);
    if let Some(node) = o.mock.as_ref().or(o.constant.as_ref()) {
        let value = node.to_json();
        if let serde_json::Value::String(text) = &value
            && text.contains("{{")
        {
            let mut parts = Vec::new();
            for part in split(text, false, false) {
                match part {
                    Part::Text(t) => parts.push(ir::TemplatePart::Text(t.to_owned())),
                    Part::Var(v) => {
                        let name = v.rsplit('.').next().unwrap_or(v);
                        if !inputs.iter().any(|i| i.name == name) {
                            let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
                            sink.error(
                                node.pos,
                                &o.path,
                                format!(
                                    "mock value `{text}` refers to `{v}`, which is not an input"
                                ),
                                help_with_suggestion(name, &names, "input"),
                            );
                            return None;
                        }
                        parts.push(ir::TemplatePart::Input(name.to_owned()));
                    }
                }
            }
            return Some(ir::Mock::Template { parts, ty });
        }
        return Some(ir::Mock::Literal(coerce(value, ty)));
    }
    if !o.properties.is_empty() {
        return Some(ir::Mock::Object(
            o.properties
                .iter()
                .filter_map(|(name, p)| Some((name.value.clone(), mock_of(sink, p, inputs)?)))
                .collect(),
        ));
    }
    Some(ir::Mock::Literal(serde_json::Value::Null))
}

/// A literal mock value as its declared type (`"42"` as a number is `42`).
fn coerce(value: serde_json::Value, ty: JsonType) -> serde_json::Value {
    use serde_json::Value as J;
    let text = match &value {
        J::String(s) => s.clone(),
        J::Number(n) => n.to_string(),
        J::Bool(b) => b.to_string(),
        _ => return value,
    };
    match ty {
        JsonType::String => J::String(text),
        JsonType::Integer => text.parse::<i64>().map(J::from).unwrap_or(value),
        JsonType::Number => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number)
            .unwrap_or(value),
        JsonType::Boolean => text.parse::<bool>().map(J::Bool).unwrap_or(value),
        JsonType::Object | JsonType::Array => value,
    }
}

/// An exposed route must be something a router can serve.
fn check_route(sink: &mut Sink, route: &Spanned<String>) {
    let text = &route.value;
    let stray = split(text, true, false)
        .iter()
        .any(|p| matches!(p, Part::Text(t) if t.contains(['{', '}', '*'])));
    let bad = if !text.starts_with('/') {
        Some("must start with `/`")
    } else if stray {
        Some("has a stray `{`, `}` or `*`")
    } else if path_vars(text)
        .iter()
        .any(|v| v.is_empty() || v.contains('/'))
    {
        Some("has an empty or malformed `{}` placeholder")
    } else if text == "/openapi.json" {
        Some("is reserved: the adapter serves its OpenAPI document there")
    } else {
        None
    };
    if let Some(why) = bad {
        sink.error(
            route.pos,
            &route.path,
            format!("route `{text}` {why}"),
            "write routes like `/v1/items/{id}`",
        );
    }
}

/// `ref: aggregate.function` and skill tools' `from` must name something
/// this capability declares.
fn check_references(sink: &mut Sink, aggregates: &[spec::Aggregate], exposes: &[spec::Exposes]) {
    let functions: Vec<String> = aggregates
        .iter()
        .flat_map(|a| {
            let ns = a.namespace.as_ref().map_or("", |n| n.value.as_str());
            a.functions
                .iter()
                .filter_map(move |f| f.name.as_ref().map(|n| format!("{ns}.{}", n.value)))
        })
        .collect();
    let function_refs: Vec<&str> = functions.iter().map(String::as_str).collect();
    let mut refs: Vec<&Spanned<String>> = Vec::new();
    // Adapter namespace → the names of its tools or operations.
    let mut actions: Vec<(&str, Vec<&str>)> = Vec::new();
    for e in exposes {
        match e {
            spec::Exposes::Rest(a) => {
                let ops = a.resources.iter().flat_map(|r| &r.operations);
                refs.extend(ops.clone().filter_map(|o| o.reference.as_ref()));
                if let Some(ns) = &a.namespace {
                    actions.push((
                        &ns.value,
                        ops.filter_map(|o| o.name.as_ref().map(|n| n.value.as_str()))
                            .collect(),
                    ));
                }
            }
            spec::Exposes::Mcp(a) => {
                refs.extend(a.tools.iter().filter_map(|t| t.reference.as_ref()));
                if let Some(ns) = &a.namespace {
                    actions.push((
                        &ns.value,
                        a.tools
                            .iter()
                            .filter_map(|t| t.name.as_ref().map(|n| n.value.as_str()))
                            .collect(),
                    ));
                }
            }
            _ => {}
        }
    }
    for r in refs {
        if !functions.contains(&r.value) {
            sink.error(
                r.pos,
                &r.path,
                format!("`ref: {}` names no aggregate function", r.value),
                help_with_suggestion(&r.value, &function_refs, "aggregate function"),
            );
        }
    }
    let namespaces: Vec<&str> = actions.iter().map(|(ns, _)| *ns).collect();
    for e in exposes {
        let spec::Exposes::Skill(a) = e else { continue };
        for tool in a.skills.iter().flat_map(|s| &s.tools) {
            let Some(source) = &tool.source_namespace else {
                continue;
            };
            match actions.iter().find(|(ns, _)| *ns == source.value) {
                None => sink.error(
                    source.pos,
                    &source.path,
                    format!(
                        "skill tool source `{}` is not an exposed adapter",
                        source.value
                    ),
                    help_with_suggestion(&source.value, &namespaces, "adapter namespace"),
                ),
                Some((_, names)) => {
                    if let Some(action) = tool
                        .action
                        .as_ref()
                        .filter(|a| !names.contains(&a.value.as_str()))
                    {
                        sink.error(
                            action.pos,
                            &action.path,
                            format!(
                                "adapter `{}` has no tool or operation `{}`",
                                source.value, action.value
                            ),
                            help_with_suggestion(&action.value, names, "tool"),
                        );
                    }
                }
            }
        }
    }
}
