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

/// Mock text coerced to its declared JSON type (`"42"` as an `integer` is
/// `42`); text that does not parse as the type stays text.
pub fn coerce_text(text: String, ty: &str) -> Value {
    match ty {
        "integer" => text.parse::<i64>().map(Value::from).unwrap_or(Value::String(text)),
        "number" => match text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            Some(n) => Value::Number(n),
            None => Value::String(text),
        },
        "boolean" => text.parse::<bool>().map(Value::Bool).unwrap_or(Value::String(text)),
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
    fn mock_text_takes_its_declared_type() {
        assert_eq!(coerce_text("42".into(), "integer"), json!(42));
        assert_eq!(coerce_text("4.5".into(), "number"), json!(4.5));
        assert_eq!(coerce_text("true".into(), "boolean"), json!(true));
        assert_eq!(coerce_text("x".into(), "integer"), json!("x"));
        assert_eq!(coerce_text("IMO-1".into(), "string"), json!("IMO-1"));
    }
}
