//! Consumed `outputRawFormat`s other than JSON, converted to JSON before any
//! mapping, as the reference engine converts them (REFERENCE-ENGINE.md 2.7):
//!
//! - `xml`: the root element is dropped; child elements become fields,
//!   repeated ones an array; attributes are fields too; text is a string
//!   (an element with attributes and text keeps its text under `""`);
//! - `csv`, `tsv`, `psv`: an array of row objects keyed by the header row,
//!   every value a string;
//! - `yaml`: the document as JSON (plain scalars typed as YAML 1.2 core).

use serde_json::{Map, Value};

/// The formats [`to_json`] converts.
pub const FORMATS: [&str; 6] = ["json", "xml", "csv", "tsv", "psv", "yaml"];

/// Converts an answer in `format` to JSON.
pub fn to_json(format: &str, body: &[u8]) -> Result<Value, String> {
    match format {
        "json" => serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}")),
        "xml" => xml(body),
        "csv" => delimited(body, b','),
        "tsv" => delimited(body, b'\t'),
        "psv" => delimited(body, b'|'),
        "yaml" => yaml(body),
        other => Err(format!("the output format `{other}` is not converted")),
    }
}

/// An element being read: its fields (attributes and children) and text.
#[derive(Default)]
struct Element {
    name: String,
    fields: Map<String, Value>,
    /// Fields seen more than once: their value is the array of them all.
    repeated: std::collections::HashSet<String>,
    text: String,
}

impl Element {
    fn add(&mut self, name: String, value: Value) {
        match self.fields.get_mut(&name) {
            None => {
                self.fields.insert(name, value);
            }
            Some(Value::Array(items)) if self.repeated.contains(&name) => items.push(value),
            Some(existing) => {
                let first = std::mem::take(existing);
                *existing = Value::Array(vec![first, value]);
                self.repeated.insert(name);
            }
        }
    }

    fn finish(mut self) -> Value {
        let text = self.text.trim();
        if self.fields.is_empty() {
            return Value::String(text.to_owned());
        }
        if !text.is_empty() {
            self.fields.insert(String::new(), Value::String(text.to_owned()));
        }
        Value::Object(self.fields)
    }
}

fn xml(body: &[u8]) -> Result<Value, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    let err = |e: &dyn std::fmt::Display| format!("invalid XML: {e}");
    let open = |e: &quick_xml::events::BytesStart<'_>| -> Result<Element, String> {
        let mut el = Element {
            name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
            ..Element::default()
        };
        for a in e.attributes() {
            let a = a.map_err(|e| err(&e))?;
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value = a.unescape_value().map_err(|e| err(&e))?.into_owned();
            el.add(key, Value::String(value));
        }
        Ok(el)
    };
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| err(&e))? {
            Event::Start(e) => stack.push(open(&e)?),
            Event::Empty(e) => {
                let el = open(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.add(el.name.clone(), el.finish()),
                    None => return Ok(el.finish()),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err("invalid XML: unbalanced end tag".into());
                };
                match stack.last_mut() {
                    Some(parent) => parent.add(el.name.clone(), el.finish()),
                    // The root element is dropped: its content is the answer.
                    None => return Ok(el.finish()),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    let text = t.decode().map_err(|e| err(&e))?;
                    el.text.push_str(&quick_xml::escape::unescape(&text).map_err(|e| err(&e))?);
                }
            }
            Event::CData(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(el) = stack.last_mut() {
                    let name = r.decode().map_err(|e| err(&e))?;
                    let text = quick_xml::escape::unescape(&format!("&{name};"))
                        .map_err(|e| err(&e))?
                        .into_owned();
                    el.text.push_str(&text);
                }
            }
            Event::Eof => return Err("invalid XML: no root element".into()),
            _ => {}
        }
        buf.clear();
    }
}

fn delimited(body: &[u8], delimiter: u8) -> Result<Value, String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| format!("invalid delimited text: {e}"))?
        .clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("invalid delimited text: {e}"))?;
        let row: Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_owned(), Value::String(v.to_owned())))
            .collect();
        rows.push(Value::Object(row));
    }
    Ok(Value::Array(rows))
}

/// How deep a YAML answer may nest, and how many nodes it may expand to
/// (aliases are not expanded: an alias becomes `null`).
const YAML_MAX_DEPTH: usize = 256;

fn yaml(body: &[u8]) -> Result<Value, String> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    let text = std::str::from_utf8(body).map_err(|e| format!("invalid YAML: {e}"))?;
    enum Open {
        Seq(Vec<Value>),
        Map(Map<String, Value>, Option<String>),
    }
    let mut stack: Vec<Open> = Vec::new();
    for item in Parser::new_from_str(text) {
        let (event, _) = item.map_err(|e| format!("invalid YAML: {e}"))?;
        let done = match event {
            Event::Scalar(s, style, _, _) => {
                if matches!(style, ScalarStyle::Plain) {
                    plain_scalar(&s)
                } else {
                    Value::String(s.into_owned())
                }
            }
            Event::Alias(_) => Value::Null,
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= YAML_MAX_DEPTH {
                    return Err("invalid YAML: nested too deep".into());
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Open::Seq(Vec::new())
                } else {
                    Open::Map(Map::new(), None)
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(items)) => Value::Array(items),
                Some(Open::Map(map, _)) => Value::Object(map),
                None => return Err("invalid YAML: unbalanced".into()),
            },
            Event::DocumentEnd if stack.is_empty() => continue,
            _ => continue,
        };
        match stack.last_mut() {
            None => return Ok(done),
            Some(Open::Seq(items)) => items.push(done),
            Some(Open::Map(map, key)) => match key.take() {
                None => {
                    *key = Some(match done {
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
                }
                Some(k) => {
                    map.insert(k, done);
                }
            },
        }
    }
    Ok(Value::Null)
}

/// A plain YAML scalar typed as the YAML 1.2 core schema says.
fn plain_scalar(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return Value::from(i);
    }
    if s.contains(['.', 'e', 'E'])
        && let Some(n) = s.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xml_drops_the_root_and_repeats_become_arrays() {
        let two = b"<vessels><vessel code=\"A\"><name>Old &amp; Faithful</name></vessel>\
                    <vessel code=\"B\"><name>Iron</name><tag/></vessel></vessels>";
        assert_eq!(
            to_json("xml", two),
            Ok(json!({"vessel": [
                {"code": "A", "name": "Old & Faithful"},
                {"code": "B", "name": "Iron", "tag": ""}
            ]}))
        );
        let one = b"<?xml version=\"1.0\"?>\n<vessels>\n  <vessel><name>X</name></vessel>\n</vessels>";
        assert_eq!(to_json("xml", one), Ok(json!({"vessel": {"name": "X"}})));
        let three = b"<r><i>1</i><i>2</i><i>3</i></r>";
        assert_eq!(to_json("xml", three), Ok(json!({"i": ["1", "2", "3"]})));
        assert!(to_json("xml", b"<a><b></a>").is_err());
    }

    #[test]
    fn delimited_rows_are_objects_of_strings() {
        assert_eq!(
            to_json("csv", b"id,name\n1,Widget\n2,\"Gad, get\"\n"),
            Ok(json!([{"id": "1", "name": "Widget"}, {"id": "2", "name": "Gad, get"}]))
        );
        assert_eq!(to_json("tsv", b"a\tb\nx\ty\n"), Ok(json!([{"a": "x", "b": "y"}])));
        assert_eq!(to_json("psv", b"a|b\nx|y\n"), Ok(json!([{"a": "x", "b": "y"}])));
    }

    #[test]
    fn yaml_becomes_typed_json() {
        assert_eq!(
            to_json("yaml", b"users:\n  - id: 1\n    name: Ann\n    admin: true\n    score: 1.5\n    note: '7'\n"),
            Ok(json!({"users": [{"id": 1, "name": "Ann", "admin": true, "score": 1.5, "note": "7"}]}))
        );
        assert!(to_json("yaml", b"a: [").is_err());
    }
}
