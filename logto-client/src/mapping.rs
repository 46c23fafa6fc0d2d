//! Output mappings: RFC 9535 JSONPath over a response body.

use serde_json::Value;
use serde_json_path::JsonPath;

/// Applies `path` to `value`: `$.` and `$` pass it through; one match gives
/// that value, several an array of them, none `null`.
pub fn apply(path: &str, value: Value) -> Result<Value, String> {
    let path = path.trim();
    if matches!(path, "$." | "$") {
        return Ok(value);
    }
    let compiled = JsonPath::parse(path).map_err(|e| format!("invalid JSONPath `{path}`: {e}"))?;
    let nodes = compiled.query(&value).all();
    Ok(match nodes.as_slice() {
        [] => Value::Null,
        [one] => (*one).clone(),
        many => Value::Array(many.iter().map(|v| (*v).clone()).collect()),
    })
}

/// Shapes an answer as the spec's output parameters say. `spec` is the JSON
/// the generator emits: `{"path": P}` (a JSONPath, see [`apply`]),
/// `{"const": V}`, `{"object": {"base": P?, "fields": {name: spec}}}` (fields
/// read from the value at `base`), `{"array": {"base": P?, "item": spec}}`
/// (each element shaped by `item`).
///
/// A bare JSONPath (`$.data.name`) is accepted too, as `{"path": ...}`.
pub fn shape(spec: &str, value: Value) -> Result<Value, String> {
    if spec.trim_start().starts_with('$') {
        return apply(spec, value);
    }
    let spec: Value =
        serde_json::from_str(spec).map_err(|e| format!("invalid output shape: {e}"))?;
    apply_shape(&spec, value)
}

fn apply_shape(spec: &Value, value: Value) -> Result<Value, String> {
    let based = |s: &Value, v: Value| match s.get("base").and_then(Value::as_str) {
        Some(p) => apply(p, v),
        None => Ok(v),
    };
    if let Some(p) = spec.get("path").and_then(Value::as_str) {
        return apply(p, value);
    }
    if let Some(c) = spec.get("const") {
        return Ok(c.clone());
    }
    if let Some(o) = spec.get("object") {
        let ctx = based(o, value)?;
        let mut out = serde_json::Map::new();
        if let Some(fields) = o.get("fields").and_then(Value::as_object) {
            for (name, field) in fields {
                out.insert(name.clone(), apply_shape(field, ctx.clone())?);
            }
        }
        return Ok(Value::Object(out));
    }
    if let Some(a) = spec.get("array") {
        let item = a.get("item").cloned().unwrap_or(Value::Null);
        return match based(a, value)? {
            Value::Array(items) => items
                .into_iter()
                .map(|i| apply_shape(&item, i))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Null => Ok(Value::Array(Vec::new())),
            one => Ok(Value::Array(vec![apply_shape(&item, one)?])),
        };
    }
    Err(format!("invalid output shape: {spec}"))
}

/// Mock text coerced to its declared JSON type (`"42"` as an `integer` is
/// `42`); text that does not parse as the type stays text.
pub fn coerce_text(text: String, ty: &str) -> Value {
    match ty {
        "integer" => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(text)),
        "number" => match text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            Some(n) => Value::Number(n),
            None => Value::String(text),
        },
        "boolean" => text
            .parse::<bool>()
            .map(Value::Bool)
            .unwrap_or(Value::String(text)),
        "object" | "array" => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        _ => Value::String(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_and_paths() {
        let v = json!({"items": [{"id": 1}, {"id": 2}], "one": {"x": true}});
        assert_eq!(apply("$.", v.clone()), Ok(v.clone()));
        assert_eq!(apply("$.one.x", v.clone()), Ok(json!(true)));
        assert_eq!(apply("$.items[*].id", v.clone()), Ok(json!([1, 2])));
        assert_eq!(apply("$.missing", v), Ok(Value::Null));
    }

    #[test]
    fn shapes_reshape_objects_and_arrays() {
        let v = json!({"data": [{"imo_number": "1", "vessel_name": "A"}, {"imo_number": "2", "vessel_name": "B"}]});
        let spec = json!({"array": {"base": "$.data", "item": {"object": {"fields": {
            "imo": {"path": "$.imo_number"}, "name": {"path": "$.vessel_name"}, "kind": {"const": "ship"}
        }}}}});
        assert_eq!(
            shape(&spec.to_string(), v),
            Ok(
                json!([{"imo": "1", "name": "A", "kind": "ship"}, {"imo": "2", "name": "B", "kind": "ship"}])
            )
        );
        assert_eq!(shape(r#"{"path": "$.a"}"#, json!({"a": 1})), Ok(json!(1)));
        assert!(shape("{}", json!(1)).is_err());
    }

    #[test]
    fn mock_text_takes_its_declared_type() {
        assert_eq!(coerce_text("42".into(), "integer"), json!(42));
        assert_eq!(coerce_text("4.5".into(), "number"), json!(4.5));
        assert_eq!(coerce_text("true".into(), "boolean"), json!(true));
        assert_eq!(coerce_text("x".into(), "integer"), json!("x"));
        assert_eq!(coerce_text("IMO-1".into(), "string"), json!("IMO-1"));
    }
}
