//! Orchestrated `steps` (SEMANTICS.md decision 17): the per-request context
//! that later steps read, `with` values resolved against it, `lookup` steps
//! and the `mappings` that build the answer.
//!
//! The context is a JSON object: the exposed inputs (REST inputs, MCP tool
//! arguments) by name, then each step's output under the step's name. A
//! `call` step's `with` sees all of it (`{{imo}}`, `{{get-ship.owner}}`); a
//! mapping reads `$.<step>.<path>`.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::client::{Arg, ArgError};
use crate::client::{Call, Core};
use crate::error::Error;

/// Why an orchestration stopped.
#[derive(Debug)]
pub enum StepError {
    /// The caller's inputs cannot feed a step (REST 400, MCP invalid params).
    Input(String),
    /// A step's upstream call failed (its answer or transport error).
    Upstream(Error),
}

impl From<ArgError> for StepError {
    fn from(e: ArgError) -> Self {
        StepError::Input(e.0)
    }
}

impl From<Error> for StepError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidRequest { message, .. } => StepError::Input(message),
            other => StepError::Upstream(other),
        }
    }
}

impl StepError {
    /// The REST answer: 400 for inputs, the upstream's own answer or 502/504.
    pub fn into_response(self) -> axum::response::Response {
        match self {
            StepError::Input(message) => {
                crate::server::problem(http::StatusCode::BAD_REQUEST, message)
            }
            StepError::Upstream(e) => crate::server::error_response(e),
        }
    }

    /// The MCP error of a resource read: invalid params for inputs,
    /// internal error naming the upstream failure otherwise.
    #[cfg(any(feature = "mcp", logto_cli))]
    pub fn into_error_data(self) -> rmcp::ErrorData {
        match self {
            StepError::Input(message) => rmcp::ErrorData::invalid_params(message, None),
            StepError::Upstream(e) => rmcp::ErrorData::internal_error(e.to_string(), None),
        }
    }

    /// The MCP answer: invalid params for inputs, a tool error otherwise.
    #[cfg(any(feature = "mcp", logto_cli))]
    pub fn into_tool_result(self) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        match self {
            StepError::Input(message) => Err(rmcp::ErrorData::invalid_params(message, None)),
            StepError::Upstream(e) => Ok(crate::mcp::failure(&e).into()),
        }
    }
}

/// A `with` value as the spec writes it, resolved per request.
#[derive(Debug, Clone, Copy)]
pub enum With {
    /// `P.name` where `P` is the adapter's (or aggregate's) namespace or its
    /// kind alias: the context value `name` (left unset when absent).
    Ref(&'static str),
    /// A `{{...}}` template over the context and the bound variables.
    Template(&'static str),
    /// A literal, as JSON text.
    Literal(&'static str),
}

/// The value a `call` step sends for consumed input `name`: its `with`
/// entry resolved against the context, else the context's value of that
/// name (an exposed input or an earlier step's output). Nothing is copied
/// but the value itself.
pub fn step_input(
    context: &Map<String, Value>,
    with: &[(&'static str, With)],
    name: &str,
    core: &Core,
) -> Result<Arg, StepError> {
    let entry = with.iter().find(|(k, _)| *k == name).map(|(_, w)| w);
    Ok(match entry {
        None => Arg::json(context.get(name).cloned()),
        Some(With::Ref(from)) => Arg::json(context.get(*from).cloned()),
        Some(With::Template(t)) => Arg::Text(render(t, context, &|var| core.bind_named(var))?),
        Some(With::Literal(json)) => Arg::json(serde_json::from_str(json).ok()),
    })
}

/// Renders `{{name}}` / `{{a.b}}` over the context: strings as they are,
/// other JSON as JSON text; a bound variable by its name. A name that is
/// neither is an input error naming it.
pub fn render(
    template: &str,
    context: &Map<String, Value>,
    bind: &dyn Fn(&str) -> Option<String>,
) -> Result<String, StepError> {
    crate::template::fill(template, |name, _, out| {
        match dotted(context, name) {
            Some(Value::Null) | None => match bind(name) {
                Some(v) => out.push_str(&v),
                None if dotted(context, name).is_some() => {}
                None => return Err(StepError::Input(format!("missing input `{name}`"))),
            },
            Some(v) => crate::template::text(v, out),
        }
        Ok(())
    })
}

/// `a.b.c` in the context: `a` is a key (it may contain `-`), then fields.
fn dotted<'v>(context: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    if let Some(v) = context.get(name) {
        return Some(v);
    }
    // The longest key that is a prefix of `name` at a dot.
    let mut best: Option<(&str, &Value)> = None;
    for (k, v) in context {
        if name.len() > k.len()
            && name.starts_with(k.as_str())
            && name.as_bytes().get(k.len()) == Some(&b'.')
            && best.is_none_or(|(b, _)| k.len() > b.len())
        {
            best = Some((k, v));
        }
    }
    let (key, mut value) = best?;
    for field in name.get(key.len() + 1..)?.split('.') {
        value = value.get(field)?;
    }
    Some(value)
}

/// Sends a step's call: its 2xx answer (converted and shaped as the
/// consumed operation says) becomes the step's output.
pub async fn send(core: &Core, call: Call) -> Result<Value, StepError> {
    Ok(core.send(call).await?.into_inner())
}

/// `$.<step>.<path>` (or `$.<step>`) read from the context: the step is the
/// longest context key that starts the path; the rest is an RFC 9535
/// JSONPath applied to its output (`$.get-ship.dimensions.length`).
pub fn read_path(context: &Map<String, Value>, path: &str) -> Value {
    if path.contains("{{") {
        // A path with templates (`$.{{db}}.rows`) is filled first.
        return match render(path, context, &|_| None) {
            Ok(filled) if !filled.contains("{{") => read_path(context, &filled),
            _ => Value::Null,
        };
    }
    if !path.trim_start().starts_with('$') {
        // Not a path: a literal value.
        return Value::String(path.to_owned());
    }
    let Some(inner) = path.trim().strip_prefix("$.") else {
        return Value::Null;
    };
    let mut best: Option<(&str, &Value)> = None;
    for (k, v) in context {
        let fits = inner == k
            || (inner.starts_with(k.as_str())
                && matches!(inner.as_bytes().get(k.len()), Some(b'.' | b'[')));
        if fits && best.is_none_or(|(b, _)| k.len() > b.len()) {
            best = Some((k, v));
        }
    }
    let Some((key, value)) = best else {
        return Value::Null;
    };
    let rest = inner.get(key.len()..).unwrap_or_default();
    if rest.is_empty() {
        return value.clone();
    }
    let Ok(p) = JsonPath::parse(&format!("${rest}")) else {
        return Value::Null;
    };
    let nodes = p.query(value).all();
    match nodes.as_slice() {
        [] => Value::Null,
        [one] => (*one).clone(),
        many => Value::Array(many.iter().map(|v| (*v).clone()).collect()),
    }
}

/// A `lookup` step: for each value at `lookup_value` (one, or each element
/// of an array), the entry of step `index`'s output whose `key` field equals
/// it (compared as text), reduced to the `outputs` fields (missing ones
/// `null`). An array of values gives an array of matches; one value gives
/// the match or `null`.
pub fn lookup(
    context: &Map<String, Value>,
    index: &str,
    key: &str,
    lookup_value: &str,
    outputs: &[&str],
) -> Value {
    let table = context.get(index).cloned().unwrap_or(Value::Null);
    let entries: Vec<&Value> = match &table {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) if map.contains_key(key) => vec![&table],
        Value::Object(map) => map.values().collect(),
        _ => Vec::new(),
    };
    let wanted = if lookup_value.trim_start().starts_with('$') {
        read_path(context, lookup_value)
    } else {
        render(lookup_value, context, &|_| None)
            .map(Value::String)
            .unwrap_or(Value::Null)
    };
    let find = |v: &Value| -> Value {
        let text = as_text(v);
        entries
            .iter()
            .find(|e| e.get(key).is_some_and(|k| as_text(k) == text))
            .map_or(Value::Null, |e| {
                Value::Object(
                    outputs
                        .iter()
                        .map(|o| ((*o).to_owned(), e.get(*o).cloned().unwrap_or(Value::Null)))
                        .collect(),
                )
            })
    };
    match &wanted {
        Value::Array(values) => {
            Value::Array(values.iter().map(find).filter(|v| !v.is_null()).collect())
        }
        Value::Null => Value::Null,
        one => find(one),
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The answer built by `mappings`: each target (dots nest objects) gets the
/// value its path reads (`null` when the path finds nothing; a value that
/// is not a `$` path is taken literally).
pub fn mappings(context: &Map<String, Value>, mappings: &[(&str, &str)]) -> Value {
    let mut out = Map::new();
    for (target, path) in mappings {
        let value = read_path(context, path);
        let mut parts = target.split('.').peekable();
        let mut obj = &mut out;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                obj.insert(part.to_owned(), value);
                break;
            }
            let entry = obj
                .entry(part.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            match entry {
                Value::Object(m) => obj = m,
                _ => break,
            }
        }
    }
    Value::Object(out)
}

/// Coerces each named output to its declared type (`"42"` as a number is
/// `42`): orchestrated outputs declare `type`s the steps' answers may not
/// have.
pub fn coerce_fields(mut value: Value, types: &[(&str, &str)]) -> Value {
    if let Value::Object(map) = &mut value {
        for (name, ty) in types {
            if let Some(v) = map.get_mut(*name) {
                let taken = std::mem::take(v);
                *v = crate::mapping::coerce_value(taken, ty);
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn paths_read_step_outputs_with_dashes() {
        let c = ctx(json!({"get-ship": {"imo_number": "IMO-1", "dimensions": {"length": 5}}}));
        assert_eq!(read_path(&c, "$.get-ship.imo_number"), json!("IMO-1"));
        assert_eq!(read_path(&c, "$.get-ship.dimensions.length"), json!(5));
        assert_eq!(read_path(&c, "$.get-ship.nothing"), Value::Null);
        assert_eq!(read_path(&c, "$.other"), Value::Null);
    }

    #[test]
    fn lookup_matches_each_value() {
        let c = ctx(json!({
            "ship": {"crew": ["C1", "C3", "C9"]},
            "crew": [{"id": "C1", "n": "Ann", "x": 1}, {"id": "C3", "n": "Bo"}],
        }));
        assert_eq!(
            lookup(&c, "crew", "id", "$.ship.crew", &["n", "x"]),
            json!([{"n": "Ann", "x": 1}, {"n": "Bo", "x": null}])
        );
        let one = ctx(json!({"s": {"c": "C3"}, "crew": [{"id": "C3", "n": "Bo"}]}));
        assert_eq!(
            lookup(&one, "crew", "id", "$.s.c", &["n"]),
            json!({"n": "Bo"})
        );
    }

    #[test]
    fn mappings_nest_dotted_targets() {
        let c = ctx(json!({"v": {"from": "Oslo", "to": "Rome"}}));
        assert_eq!(
            mappings(
                &c,
                &[
                    ("route.from", "$.v.from"),
                    ("route.to", "$.v.to"),
                    ("x", "$.v.y")
                ]
            ),
            json!({"route": {"from": "Oslo", "to": "Rome"}, "x": null})
        );
    }

    #[test]
    fn templates_render_context_and_report_unknown_names() {
        let c = ctx(json!({"imo": "IMO-1", "ids": ["a"], "s": {"x": 2}}));
        let none = |_: &str| None;
        assert_eq!(
            render("{{imo}}/{{ids}}/{{s.x}}", &c, &none).ok(),
            Some("IMO-1/[\"a\"]/2".to_owned())
        );
        assert!(
            matches!(render("{{nope}}", &c, &none), Err(StepError::Input(m)) if m.contains("nope"))
        );
    }
}
