//! Skill adapters (`exposes: type: skill`): the catalog the adapter serves,
//! checked and built at compile time (REFERENCE-ENGINE.md 2.11).

use serde_json::{Map, Value, json};

use crate::diagnostics::Sink;
use crate::ir;
use crate::names::snake;
use crate::spec;

/// Skill fields served as they are written, when present.
const METADATA: [&str; 7] = [
    "license",
    "compatibility",
    "argument-hint",
    "allowed-tools",
    "user-invocable",
    "disable-model-invocation",
    "metadata",
];

/// Builds a skill adapter. Unknown `from` sources are reported by
/// `check_references`; a tool with both or neither of `from` and
/// `instruction`, or an instruction without the skill's `location`, here.
pub(super) fn adapter(
    sink: &mut Sink,
    a: &spec::SkillAdapter,
    index: usize,
    exposes: &[spec::Exposes],
) -> ir::SkillAdapter {
    let namespace = a
        .namespace
        .as_ref()
        .map_or_else(|| format!("skill-{index}"), |n| n.value.clone());
    let mode = |ns: &str| -> &'static str {
        exposes
            .iter()
            .find_map(|e| match e {
                spec::Exposes::Rest(r) if r.namespace.as_ref().is_some_and(|n| n.value == ns) => {
                    Some("rest")
                }
                spec::Exposes::Mcp(m) if m.namespace.as_ref().is_some_and(|n| n.value == ns) => {
                    Some("mcp")
                }
                _ => None,
            })
            .unwrap_or("unknown")
    };
    let mut catalog = Vec::new();
    for skill in &a.skills {
        let Some(name) = &skill.name else {
            sink.error(
                skill.pos,
                &skill.path,
                "a skill has no `name`",
                "add `name: <skill>`",
            );
            continue;
        };
        let description = skill.raw.get("description").cloned().unwrap_or(Value::Null);
        let mut detail = Map::new();
        detail.insert("name".into(), json!(name.value));
        detail.insert("description".into(), description.clone());
        for key in METADATA {
            if let Some(v) = skill.raw.get(key) {
                detail.insert(key.into(), v.clone());
            }
        }
        let mut tools = Vec::new();
        for t in &skill.tools {
            let tool_name = t.name.as_ref().map(|n| n.value.clone());
            let mut entry = Map::new();
            entry.insert("name".into(), json!(tool_name));
            entry.insert(
                "description".into(),
                json!(t.description.as_ref().map(|d| &d.value)),
            );
            match (&t.source_namespace, &t.instruction) {
                (Some(source), None) => {
                    entry.insert("type".into(), json!("derived"));
                    entry.insert(
                        "invocationRef".into(),
                        json!({
                            "targetNamespace": source.value,
                            "action": t.action.as_ref().map(|a| &a.value),
                            "mode": mode(&source.value),
                        }),
                    );
                }
                (None, Some(instruction)) => {
                    if skill.location.is_none() {
                        sink.error(
                            instruction.pos,
                            &instruction.path,
                            format!(
                                "skill tool `{}` uses an `instruction` but skill `{}` has no `location`",
                                tool_name.as_deref().unwrap_or("?"),
                                name.value
                            ),
                            "add `location: file:///path/to/skill-dir` to the skill",
                        );
                    }
                    entry.insert("type".into(), json!("instruction"));
                    entry.insert("instruction".into(), json!(instruction.value));
                }
                (Some(_), Some(_)) => sink.error(
                    t.pos,
                    &t.path,
                    "a skill tool has both `from` and `instruction`",
                    "keep one of them",
                ),
                (None, None) => sink.error(
                    t.pos,
                    &t.path,
                    "a skill tool has neither `from` nor `instruction`",
                    "add `from: {sourceNamespace: <adapter>, action: <tool>}`",
                ),
            }
            tools.push(Value::Object(entry));
        }
        detail.insert("tools".into(), Value::Array(tools));
        let mut summary = Map::new();
        summary.insert("name".into(), json!(name.value));
        summary.insert("description".into(), description);
        if let Some(l) = skill.raw.get("license") {
            summary.insert("license".into(), l.clone());
        }
        summary.insert(
            "tools".into(),
            json!(
                skill
                    .tools
                    .iter()
                    .map(|t| t.name.as_ref().map(|n| &n.value))
                    .collect::<Vec<_>>()
            ),
        );
        catalog.push(json!({
            "name": name.value,
            "summary": summary,
            "detail": detail,
            "location": skill.location.as_ref().map(|l| &l.value),
        }));
    }
    ir::SkillAdapter {
        module: snake(&namespace),
        namespace,
        port: a.port.as_ref().map(|p| p.value),
        address: a.address.as_ref().map(|p| p.value.clone()),
        description: a.description.as_ref().map(|d| d.value.clone()),
        catalog: Value::Array(catalog),
    }
}
