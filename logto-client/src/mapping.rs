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
}
