//! Output mappings: RFC 9535 JSONPath over a response body.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use serde_json::Value;
use serde_json_path::JsonPath;

/// Applies `path` to `value`: `$.` and `$` pass it through; one match gives
/// that value, several an array of them, none `null`.
pub fn apply(path: &str, value: Value) -> Result<Value, String> {
    Ok(match compile_path(Some(path))? {
        None => value,
        Some(p) => select(Some(&p), &value).into_owned(),
    })
}

/// [`apply`] to a borrowed value: only what `path` selects is copied.
pub fn select_path(path: &str, value: &Value) -> Result<Value, String> {
    Ok(select(compile_path(Some(path))?.as_ref(), value).into_owned())
}

/// A compiled output shape (see [`shape`]): JSONPaths parsed once, applied
/// to a borrowed answer so that only what is selected is copied.
#[derive(Debug)]
pub enum Shape {
    /// The value at a path (`None`: the whole answer).
    Path(Option<JsonPath>),
    /// A constant.
    Const(Value),
    /// An object whose fields are shaped from the value at `base`.
    Object {
        /// Where the fields are read from (`None`: the whole answer).
        base: Option<JsonPath>,
        /// Field name and shape, in spec order.
        fields: Vec<(String, Shape)>,
    },
    /// A consumed operation's named outputs: an array answer keeps its
    /// elements, each with the named fields added (shaping the array root
    /// would collapse it); any other answer is shaped by `other`.
    Augment {
        /// Field name and shape, applied to each element.
        fields: Vec<(String, Shape)>,
        /// The shape of a non-array answer.
        other: Box<Shape>,
    },
    /// An array whose elements (of the value at `base`) are each shaped.
    Array {
        /// Where the elements are (`None`: the whole answer).
        base: Option<JsonPath>,
        /// The shape of each element.
        item: Box<Shape>,
    },
}

fn compile_path(path: Option<&str>) -> Result<Option<JsonPath>, String> {
    match path.map(str::trim) {
        None | Some("$." | "$") => Ok(None),
        Some(p) => JsonPath::parse(p)
            .map(Some)
            .map_err(|e| format!("invalid JSONPath `{p}`: {e}")),
    }
}

/// The value(s) `path` selects in `value`: one match as is, several as an
/// array, none as `null`. Borrowed where nothing needs building.
fn select<'v>(path: Option<&JsonPath>, value: &'v Value) -> Cow<'v, Value> {
    let Some(path) = path else {
        return Cow::Borrowed(value);
    };
    let nodes = path.query(value).all();
    match nodes.as_slice() {
        [] => Cow::Owned(Value::Null),
        [one] => Cow::Borrowed(*one),
        many => Cow::Owned(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
    }
}

impl Shape {
    /// Compiles the JSON the generator emits: `{"path": P}`, `{"const": V}`,
    /// `{"object": {"base": P?, "fields": {name: spec}}}`,
    /// `{"array": {"base": P?, "item": spec}}`; a bare JSONPath is a path.
    pub fn compile(spec: &str) -> Result<Shape, String> {
        if spec.trim_start().starts_with('$') {
            return compile_path(Some(spec)).map(Shape::Path);
        }
        let spec: Value =
            serde_json::from_str(spec).map_err(|e| format!("invalid output shape: {e}"))?;
        Self::from_json(&spec)
    }

    /// The named shapes of `spec.fields`.
    fn fields(spec: &Value) -> Result<Vec<(String, Shape)>, String> {
        spec.get("fields")
            .and_then(Value::as_object)
            .map(|f| {
                f.iter()
                    .map(|(k, v)| Ok((k.clone(), Self::from_json(v)?)))
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()
            .map(Option::unwrap_or_default)
    }

    fn from_json(spec: &Value) -> Result<Shape, String> {
        let base = |s: &Value| compile_path(s.get("base").and_then(Value::as_str));
        if let Some(p) = spec.get("path") {
            return compile_path(p.as_str()).map(Shape::Path);
        }
        if let Some(c) = spec.get("const") {
            return Ok(Shape::Const(c.clone()));
        }
        if let Some(o) = spec.get("object") {
            let fields = Self::fields(o)?;
            return Ok(Shape::Object {
                base: base(o)?,
                fields,
            });
        }
        if let Some(a) = spec.get("augment") {
            let fields = Self::fields(a)?;
            let other = Self::from_json(a.get("other").unwrap_or(&Value::Null))?;
            return Ok(Shape::Augment {
                fields,
                other: Box::new(other),
            });
        }
        if let Some(a) = spec.get("array") {
            let item = Self::from_json(a.get("item").unwrap_or(&Value::Null))?;
            return Ok(Shape::Array {
                base: base(a)?,
                item: Box::new(item),
            });
        }
        Err(format!("invalid output shape: {spec}"))
    }

    /// Shapes `value`.
    pub fn apply(&self, value: &Value) -> Value {
        match self {
            Shape::Path(p) => select(p.as_ref(), value).into_owned(),
            Shape::Const(c) => c.clone(),
            Shape::Object { base, fields } => {
                let ctx = select(base.as_ref(), value);
                Value::Object(
                    fields
                        .iter()
                        .map(|(k, f)| (k.clone(), f.apply(&ctx)))
                        .collect(),
                )
            }
            Shape::Augment { fields, other } => match value {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|item| {
                            let mut obj = match item {
                                Value::Object(m) => m.clone(),
                                _ => serde_json::Map::new(),
                            };
                            for (k, f) in fields {
                                obj.insert(k.clone(), f.apply(item));
                            }
                            Value::Object(obj)
                        })
                        .collect(),
                ),
                one => other.apply(one),
            },
            Shape::Array { base, item } => match &*select(base.as_ref(), value) {
                Value::Array(items) => Value::Array(items.iter().map(|i| item.apply(i)).collect()),
                Value::Null => Value::Array(Vec::new()),
                one => Value::Array(vec![item.apply(one)]),
            },
        }
    }
}

/// Shapes an answer as the spec's output parameters say (see
/// [`Shape::compile`] for `spec`). Each spec is compiled once per process.
pub fn shape(spec: &'static str, value: Value) -> Result<Value, String> {
    static CACHE: LazyLock<RwLock<HashMap<&'static str, Arc<Shape>>>> =
        LazyLock::new(RwLock::default);
    let cached = CACHE.read().ok().and_then(|c| c.get(spec).cloned());
    let compiled = match cached {
        Some(c) => c,
        None => {
            let c = Arc::new(Shape::compile(spec)?);
            if let Ok(mut cache) = CACHE.write() {
                cache.insert(spec, Arc::clone(&c));
            }
            c
        }
    };
    Ok(match &*compiled {
        // The whole answer: no copy.
        Shape::Path(None) => value,
        other => other.apply(&value),
    })
}

/// Applies the consumed operation's shape, then the exposed one's.
pub fn shape_all(specs: [Option<&'static str>; 2], value: Value) -> Result<Value, String> {
    specs
        .into_iter()
        .flatten()
        .try_fold(value, |v, spec| shape(spec, v))
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

/// A value coerced to a declared JSON type: text parses as the type; a
/// number or boolean becomes text for `string`; anything else is kept.
pub fn coerce_value(value: Value, ty: &str) -> Value {
    match (value, ty) {
        (Value::String(s), _) => coerce_text(s, ty),
        (v @ (Value::Number(_) | Value::Bool(_)), "string") => Value::String(v.to_string()),
        (v, _) => v,
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
            Shape::compile(&spec.to_string()).map(|s| s.apply(&v)),
            Ok(
                json!([{"imo": "1", "name": "A", "kind": "ship"}, {"imo": "2", "name": "B", "kind": "ship"}])
            )
        );
        assert_eq!(shape(r#"{"path": "$.a"}"#, json!({"a": 1})), Ok(json!(1)));
        assert_eq!(
            shape("$.a", json!({"a": 2})),
            Ok(json!(2)),
            "a bare JSONPath"
        );
        assert!(shape("{}", json!(1)).is_err());
    }

    #[test]
    fn named_consumed_outputs_augment_array_elements() {
        let spec = json!({"augment": {"fields": {"imo-number": {"path": "$.imo"}}, "other": {"path": "$.imo"}}});
        let shape = Shape::compile(&spec.to_string());
        assert_eq!(
            shape
                .as_ref()
                .map(|s| s.apply(&json!([{"imo": "1", "n": "A"}, {"imo": "2"}]))),
            Ok(json!([{"imo": "1", "n": "A", "imo-number": "1"}, {"imo": "2", "imo-number": "2"}]))
        );
        assert_eq!(shape.map(|s| s.apply(&json!({"imo": "3"}))), Ok(json!("3")));
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
