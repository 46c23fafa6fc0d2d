//! Consumed `outputRawFormat`s other than JSON, converted to JSON before any
//! mapping, as the reference engine converts them (REFERENCE-ENGINE.md 2.7):
//!
//! - `xml`: the root element is dropped; child elements become fields,
//!   repeated ones an array; attributes are fields too; text is a string
//!   (an element with attributes and text keeps its text under `""`);
//! - `csv`, `tsv`, `psv`: an array of row objects keyed by the header row,
//!   every value a string;
//! - `yaml`: the document as JSON (plain scalars typed as YAML 1.2 core);
//! - `html`: `{"tables": [[row objects]]}`, the header cells giving the keys,
//!   the tables those `outputSchema` (a CSS selector) names, or all;
//! - `markdown`: `{"frontMatter", "tables", "sections": [{heading, level,
//!   content}]}`, sections kept when their heading starts with `outputSchema`;
//! - `avro` (feature `avro`): one datum decoded with the `outputSchema`
//!   schema file, or an object container file's records;
//! - `protobuf` (feature `protobuf`): one message decoded with the
//!   `outputSchema` `.proto` file.
//!
//! JSON itself is read by `json_from_slice`.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A JSON body read as `serde_json::from_slice` reads it, with its UTF-8
/// checked once for the whole body instead of once for each string in it
/// (seven times a request on Logto's password step: about 600 user-space
/// instructions, issue 9). Not UTF-8: `from_slice`'s own error.
pub(crate) fn json_from_slice<T: DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// How deep [`json_is_as_written`] follows nesting (deeper bodies are
/// written again).
const AS_WRITTEN_DEPTH: usize = 16;

/// What [`json_is_as_written`] expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (at the start, after `:`, after `,` in an array).
    Value,
    /// A value or `]` (after `[`).
    ValueOrEnd,
    /// A key (after `,` in an object).
    Key,
    /// A key or `}` (after `{`).
    KeyOrEnd,
    /// The `:` after a key.
    Colon,
    /// `,` or the end of the open container (or of the text) after a value.
    Next,
}

/// Whether `body` is valid JSON and byte for byte what serde_json writes for
/// the value it parses to, so that it can be sent as it came instead of
/// parsed and written again (writing costs about 2k user-space instructions
/// a request on Logto's password step, parsing about 3k; issue 9).
///
/// On the safe side: `true` only for UTF-8 with no whitespace, strings
/// without escapes (nor the control characters that would need one),
/// integers of up to 18 digits (not `-0`), object keys in strictly
/// increasing byte order (a `Map`'s order, sorted or, with
/// `preserve_order`, as read; no key twice), and nesting up to
/// [`AS_WRITTEN_DEPTH`]. Anything else, JSON or not, is `false`: parsed,
/// and written again.
pub(crate) fn json_is_as_written(body: &[u8]) -> bool {
    if std::str::from_utf8(body).is_err() {
        return false;
    }
    // Per open container, whether it is an object (bit `depth - 1`), and
    // per open object its last key.
    let mut objects = 0u32;
    let mut last_key: [Option<&[u8]>; AS_WRITTEN_DEPTH] = [None; AS_WRITTEN_DEPTH];
    let mut depth = 0;
    let mut expect = Expect::Value;
    let mut i = 0;
    while let Some(&byte) = body.get(i) {
        let in_object = depth > 0 && objects & (1 << (depth - 1)) != 0;
        i += 1;
        expect = match (expect, byte) {
            (Expect::Value | Expect::ValueOrEnd, b'{' | b'[') => {
                if depth == AS_WRITTEN_DEPTH {
                    return false;
                }
                let object = byte == b'{';
                objects = (objects & !(1 << depth)) | (u32::from(object) << depth);
                if let Some(slot) = last_key.get_mut(depth) {
                    *slot = None;
                }
                depth += 1;
                if object {
                    Expect::KeyOrEnd
                } else {
                    Expect::ValueOrEnd
                }
            }
            (Expect::Next | Expect::ValueOrEnd, b']') if depth > 0 && !in_object => {
                depth -= 1;
                Expect::Next
            }
            (Expect::Next | Expect::KeyOrEnd, b'}') if in_object => {
                depth -= 1;
                Expect::Next
            }
            (Expect::Next, b',') if in_object => Expect::Key,
            (Expect::Next, b',') if depth > 0 => Expect::Value,
            (Expect::Colon, b':') => Expect::Value,
            (Expect::Key | Expect::KeyOrEnd | Expect::Value | Expect::ValueOrEnd, b'"') => {
                let rest = body.get(i..).unwrap_or_default();
                let Some(end) = string_end(rest) else {
                    return false;
                };
                if rest.get(end) != Some(&b'"') {
                    return false;
                }
                i += end + 1;
                if matches!(expect, Expect::Key | Expect::KeyOrEnd) {
                    let text = rest.get(..end).unwrap_or_default();
                    let Some(slot) = depth.checked_sub(1).and_then(|d| last_key.get_mut(d)) else {
                        return false;
                    };
                    if slot.is_some_and(|last| text <= last) {
                        return false;
                    }
                    *slot = Some(text);
                    Expect::Colon
                } else {
                    Expect::Next
                }
            }
            (Expect::Value | Expect::ValueOrEnd, b'-' | b'0'..=b'9') => {
                // `0`, or digits not starting with `0`; no fraction or
                // exponent (what follows must be `,`, `]`, `}` or the end).
                let start = i - 1;
                let first = if byte == b'-' {
                    i += 1;
                    body.get(i - 1).copied()
                } else {
                    Some(byte)
                };
                match first {
                    Some(b'0') => {}
                    Some(b'1'..=b'9') => {
                        while body.get(i).is_some_and(u8::is_ascii_digit) {
                            i += 1;
                        }
                    }
                    _ => return false,
                }
                let number = body.get(start..i).unwrap_or_default();
                let digits = number.len() - usize::from(byte == b'-');
                if digits > 18 || number == b"-0" {
                    return false;
                }
                Expect::Next
            }
            (Expect::Value | Expect::ValueOrEnd, b't' | b'f' | b'n') => {
                let word: &[u8] = match byte {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if !body.get(i - 1..).is_some_and(|rest| rest.starts_with(word)) {
                    return false;
                }
                i += word.len() - 1;
                Expect::Next
            }
            _ => return false,
        };
    }
    depth == 0 && expect == Expect::Next
}

/// The index of the first `"`, `\` or control character (below `0x20`) in
/// `text`, looked for eight bytes at a time, as serde_json's reader does:
/// `memchr2` costs more than the search on strings as short as a body's
/// keys (issue 9).
fn string_end(text: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // The high bit of each byte of `word` below `n` (at most `0x80`); the
    // lowest one set is exact (the borrow only runs upwards from a byte
    // below `n`).
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let mut chunks = text.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let found = below(word ^ (ONES * u64::from(b'"')), 1)
            | below(word ^ (ONES * u64::from(b'\\')), 1)
            | below(word, 0x20);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let rest = chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
    rest.map(|i| at + i)
}

/// The formats [`to_json`] converts.
pub const FORMATS: [&str; 10] = [
    "json", "xml", "csv", "tsv", "psv", "yaml", "html", "markdown", "avro", "protobuf",
];

/// Converts an answer in `format` to JSON.
pub fn to_json(format: &str, body: &[u8]) -> Result<Value, String> {
    to_json_with(format, None, body)
}

/// Converts an answer in `format` to JSON; `schema` is the operation's
/// `outputSchema` (HTML: a CSS selector of the tables to read; Markdown: the
/// prefix of the headings whose sections are kept).
pub fn to_json_with(format: &str, schema: Option<&str>, body: &[u8]) -> Result<Value, String> {
    match format {
        "avro" => avro(body, schema),
        "protobuf" => protobuf(body, schema),
        "html" => html(&String::from_utf8_lossy(body), schema),
        "markdown" => markdown(&String::from_utf8_lossy(body), schema),
        "json" => json_from_slice(body).map_err(|e| format!("invalid JSON: {e}")),
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
            self.fields
                .insert(String::new(), Value::String(text.to_owned()));
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
                    el.text
                        .push_str(&quick_xml::escape::unescape(&text).map_err(|e| err(&e))?);
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

/// Avro (`outputRawFormat: avro`): one datum decoded with the schema file
/// `outputSchema` names (as the reference engine reads it, from the working
/// directory; `file:///./x.avsc` too), or, without one, an Avro object
/// container file with its embedded schema (an array of its records).
#[cfg(feature = "avro")]
fn avro(body: &[u8], schema: Option<&str>) -> Result<Value, String> {
    use apache_avro::{Reader, Schema, reader::datum::GenericDatumReader};
    let json = |v: apache_avro::types::Value| {
        Value::try_from(v).map_err(|e| format!("Avro value without a JSON form: {e}"))
    };
    match schema.map(str::trim).filter(|s| !s.is_empty()) {
        Some(path) => {
            let path = path
                .strip_prefix("file://")
                .map_or(path, |p| p.strip_prefix("/./").unwrap_or(p));
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("the Avro schema `{path}` cannot be read: {e}"))?;
            let schema = Schema::parse_str(&text)
                .map_err(|e| format!("invalid Avro schema `{path}`: {e}"))?;
            let reader = GenericDatumReader::builder(&schema)
                .build()
                .map_err(|e| format!("Avro: {e}"))?;
            let value = reader
                .read_value(&mut &body[..])
                .map_err(|e| format!("invalid Avro data: {e}"))?;
            json(value)
        }
        None => {
            let reader = Reader::new(body).map_err(|e| {
                format!("not an Avro object container file ({e}): give the schema file in `outputSchema`")
            })?;
            let mut records = Vec::new();
            for value in reader {
                records.push(json(value.map_err(|e| format!("invalid Avro data: {e}"))?)?);
            }
            Ok(Value::Array(records))
        }
    }
}

#[cfg(not(feature = "avro"))]
fn avro(_: &[u8], _: Option<&str>) -> Result<Value, String> {
    Err("this build of logto-client has no `avro` feature".into())
}

/// Checks at compile time that Avro answers can be decoded: generated code
/// for an `outputRawFormat: avro` operation invokes it.
#[cfg(feature = "avro")]
#[macro_export]
#[doc(hidden)]
macro_rules! __avro_supported {
    ($at:literal) => {};
}

/// Checks at compile time that Avro answers can be decoded: generated code
/// for an `outputRawFormat: avro` operation invokes it.
#[cfg(not(feature = "avro"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __avro_supported {
    ($at:literal) => {
        ::core::compile_error!($at);
    };
}

/// Protocol Buffers (`outputRawFormat: protobuf`): one message decoded
/// with the `.proto` file `outputSchema` names (from the working directory,
/// its imports beside it), as its first message type, or the one named after
/// `#` (`schemas/ship.proto#fleet.Ship`); fields keep their `.proto` names.
/// Compiled schemas are kept for the process.
#[cfg(feature = "protobuf")]
fn protobuf(body: &[u8], schema: Option<&str>) -> Result<Value, String> {
    use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static COMPILED: LazyLock<Mutex<HashMap<String, MessageDescriptor>>> =
        LazyLock::new(Mutex::default);
    let spec = schema
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("a protobuf answer needs `outputSchema`: the path of its .proto file")?;
    let cached = COMPILED.lock().ok().and_then(|c| c.get(spec).cloned());
    let message = match cached {
        Some(m) => m,
        None => {
            let (file, name) = spec
                .split_once('#')
                .map_or((spec, None), |(f, n)| (f, Some(n)));
            let file = file
                .strip_prefix("file://")
                .map_or(file, |p| p.strip_prefix("/./").unwrap_or(p));
            let path = std::path::Path::new(file);
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let set = protox::compile([path], [dir])
                .map_err(|e| format!("the .proto `{file}` does not compile: {e}"))?;
            let pool = DescriptorPool::from_file_descriptor_set(set)
                .map_err(|e| format!("the .proto `{file}`: {e}"))?;
            let found = match name {
                Some(n) => pool.get_message_by_name(n),
                None => path
                    .file_name()
                    .and_then(|f| pool.get_file_by_name(&f.to_string_lossy()))
                    .and_then(|f| f.messages().next())
                    .or_else(|| pool.all_messages().next()),
            };
            let m = found.ok_or_else(|| {
                format!(
                    "the .proto `{file}` has no message `{}`",
                    name.unwrap_or("")
                )
            })?;
            if let Ok(mut c) = COMPILED.lock() {
                c.insert(spec.to_owned(), m.clone());
            }
            m
        }
    };
    let msg =
        DynamicMessage::decode(message, body).map_err(|e| format!("invalid protobuf data: {e}"))?;
    let options = SerializeOptions::new().use_proto_field_name(true);
    msg.serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| format!("protobuf message without a JSON form: {e}"))
}

#[cfg(not(feature = "protobuf"))]
fn protobuf(_: &[u8], _: Option<&str>) -> Result<Value, String> {
    Err("this build of logto-client has no `protobuf` feature".into())
}

/// Checks at compile time that protobuf answers can be decoded.
#[cfg(feature = "protobuf")]
#[macro_export]
#[doc(hidden)]
macro_rules! __protobuf_supported {
    ($at:literal) => {};
}

/// Checks at compile time that protobuf answers can be decoded.
#[cfg(not(feature = "protobuf"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __protobuf_supported {
    ($at:literal) => {
        ::core::compile_error!($at);
    };
}

/// Header cells and rows of strings as row objects (missing cells `""`).
fn table_rows(headers: &[String], rows: &[Vec<String>]) -> Value {
    Value::Array(
        rows.iter()
            .map(|row| {
                Value::Object(
                    headers
                        .iter()
                        .enumerate()
                        .map(|(i, h)| {
                            (
                                h.clone(),
                                Value::String(row.get(i).cloned().unwrap_or_default()),
                            )
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

fn html(text: &str, selector: Option<&str>) -> Result<Value, String> {
    let dom =
        tl::parse(text, tl::ParserOptions::default()).map_err(|e| format!("invalid HTML: {e}"))?;
    let parser = dom.parser();
    let tag_name = |h: &tl::NodeHandle| {
        h.get(parser)
            .and_then(|n| n.as_tag())
            .map(|t| t.name().as_utf8_str().to_ascii_lowercase())
    };
    let cell_text = |h: &tl::NodeHandle| {
        let raw = h
            .get(parser)
            .map(|n| n.inner_text(parser).into_owned())
            .unwrap_or_default();
        let decoded = quick_xml::escape::unescape(&raw)
            .map(|c| c.into_owned())
            .unwrap_or(raw);
        decoded.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let within = |h: &tl::NodeHandle, sel: &str| -> Vec<tl::NodeHandle> {
        h.get(parser)
            .and_then(|n| n.as_tag())
            .and_then(|t| t.query_selector(parser, sel))
            .map(Iterator::collect)
            .unwrap_or_default()
    };
    let tables: Vec<tl::NodeHandle> = match selector.map(str::trim).filter(|s| !s.is_empty()) {
        None => dom
            .query_selector("table")
            .map(Iterator::collect)
            .unwrap_or_default(),
        Some(sel) => {
            let scoped: Vec<tl::NodeHandle> = dom
                .query_selector(sel)
                .ok_or_else(|| format!("`{sel}` is not a CSS selector this converter reads"))?
                .collect();
            scoped
                .iter()
                .flat_map(|h| {
                    if tag_name(h).as_deref() == Some("table") {
                        vec![*h]
                    } else {
                        within(h, "table")
                    }
                })
                .collect()
        }
    };
    let mut out = Vec::new();
    for table in &tables {
        let rows = within(table, "tr");
        let headers: Vec<String> = rows
            .iter()
            .map(|r| within(r, "th"))
            .find(|th| !th.is_empty())
            .unwrap_or_default()
            .iter()
            .map(cell_text)
            .collect();
        if headers.iter().all(String::is_empty) {
            continue;
        }
        let body: Vec<Vec<String>> = rows
            .iter()
            .filter(|r| within(r, "th").is_empty())
            .map(|r| within(r, "td").iter().map(cell_text).collect::<Vec<_>>())
            .filter(|cells| !cells.is_empty())
            .collect();
        out.push(table_rows(&headers, &body));
    }
    Ok(serde_json::json!({ "tables": out }))
}

fn markdown(text: &str, section_filter: Option<&str>) -> Result<Value, String> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let text = text.replace("\r\n", "\n");
    let (front, body) = match text
        .strip_prefix("---\n")
        .and_then(|r| r.split_once("\n---\n"))
    {
        Some((yaml_block, body)) => {
            let fm = match yaml(yaml_block.trim().as_bytes())? {
                v @ Value::Object(_) => v,
                _ => Value::Object(Map::new()),
            };
            (fm, body.to_owned())
        }
        None => (Value::Object(Map::new()), text.clone()),
    };
    let filter = section_filter.map(str::trim).filter(|f| !f.is_empty());
    let mut tables = Vec::new();
    let mut sections = Vec::new();
    // The current section: heading, level and the texts of its blocks.
    let mut section: Option<(String, u64, Vec<String>)> = None;
    let close = |section: &mut Option<(String, u64, Vec<String>)>, sections: &mut Vec<Value>| {
        if let Some((heading, level, blocks)) = section.take()
            && filter.is_none_or(|f| heading.starts_with(f))
        {
            sections.push(serde_json::json!({
                "heading": heading, "level": level, "content": blocks.join("\n").trim(),
            }));
        }
    };
    let mut depth = 0usize;
    let mut buf = String::new();
    let (mut in_heading, mut in_table, mut in_head) = (false, false, false);
    let mut heading_level = 0u64;
    let (mut headers, mut row, mut rows): (Vec<String>, Vec<String>, Vec<Vec<String>>) =
        (Vec::new(), Vec::new(), Vec::new());
    for event in Parser::new_ext(&body, Options::ENABLE_TABLES) {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    buf.clear();
                }
                depth += 1;
                match tag {
                    Tag::Heading { level, .. } if depth == 1 => {
                        in_heading = true;
                        heading_level = level as u64;
                    }
                    Tag::Table(_) if depth == 1 => {
                        in_table = true;
                        headers.clear();
                        rows.clear();
                    }
                    Tag::TableHead => in_head = true,
                    Tag::TableRow => row.clear(),
                    Tag::TableCell => buf.clear(),
                    _ => {}
                }
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                match end {
                    TagEnd::TableCell => {
                        let cell = buf.trim().to_owned();
                        if in_head {
                            headers.push(cell);
                        } else {
                            row.push(cell);
                        }
                        buf.clear();
                    }
                    TagEnd::TableHead => in_head = false,
                    TagEnd::TableRow => rows.push(std::mem::take(&mut row)),
                    _ => {}
                }
                if depth == 0 {
                    if in_heading {
                        close(&mut section, &mut sections);
                        section = Some((buf.trim().to_owned(), heading_level, Vec::new()));
                        in_heading = false;
                    } else if in_table {
                        if !headers.iter().all(String::is_empty) {
                            tables.push(table_rows(&headers, &rows));
                        }
                        in_table = false;
                    } else if let Some((_, _, blocks)) = section.as_mut() {
                        let t = buf.trim();
                        if !t.is_empty() {
                            blocks.push(t.to_owned());
                        }
                    }
                    buf.clear();
                }
            }
            Event::Text(t) | Event::Code(t) => buf.push_str(&t),
            Event::SoftBreak => buf.push(' '),
            Event::HardBreak => buf.push('\n'),
            _ => {}
        }
    }
    close(&mut section, &mut sections);
    Ok(serde_json::json!({"frontMatter": front, "tables": tables, "sections": sections}))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    /// `json_from_slice` reads what `serde_json::from_slice` reads, and
    /// fails where it fails with the same message (invalid UTF-8 too).
    #[test]
    fn json_is_read_as_serde_json_reads_it() {
        let texts: [&[u8]; 7] = [
            br#"{"a": [1, 2.5, "x\u00e9 \u00e9"], "b": null}"#,
            "\"é 中 😀\"".as_bytes(),
            b"[1,",
            b"{\"a\":\"\xff\"}",
            b"\"\xc3\"",
            b"  ",
            b"{\"a\": tru}",
        ];
        for text in texts {
            let ours: serde_json::Result<Value> = json_from_slice(text);
            let theirs: serde_json::Result<Value> = serde_json::from_slice(text);
            assert_eq!(
                ours.map_err(|e| e.to_string()),
                theirs.map_err(|e| e.to_string()),
                "{text:?}"
            );
        }
    }

    /// The eight-at-a-time search finds the first `"`, `\` or control
    /// character wherever it is, after any other bytes (UTF-8's high ones,
    /// and those one off each: `!`, `]`, `[`, space, DEL).
    #[test]
    fn the_first_quote_backslash_or_control_is_found() {
        for len in 0..40 {
            for at in 0..=len {
                for filler in [b'a', 0xc3, 0x80, 0xff, b' ', b'!', b']', b'#', b'[', 0x7f] {
                    for found in [b'"', b'\\', 0x00, 0x01, b'\n', 0x1f] {
                        let mut text = vec![filler; len];
                        if at < len {
                            text[at] = found;
                            // A second one later must not win.
                            if at + 1 < len {
                                text[len - 1] = b'"';
                            }
                        }
                        let naive = text
                            .iter()
                            .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
                        assert_eq!(string_end(&text), naive, "{text:?}");
                    }
                }
            }
        }
    }

    /// A tiny deterministic generator for the property tests below.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len() as u64) as usize]
        }
    }

    /// JSON text of any form: spaces, escapes, floats, keys in any order
    /// and repeated, deep nesting.
    fn any_json(rng: &mut Lcg, depth: u32, out: &mut String) {
        let space = |rng: &mut Lcg, out: &mut String| {
            if rng.below(8) == 0 {
                out.push_str(rng.pick(&[" ", "\n", "\t ", "\r\n"]));
            }
        };
        space(rng, out);
        let leaf = depth > 18 || rng.below(2) == 0;
        match if leaf { rng.below(3) } else { 3 + rng.below(2) } {
            0 => out.push_str(rng.pick(&[
                "0",
                "-0",
                "7",
                "-12",
                "1.5",
                "1e3",
                "2E-2",
                "-0.0",
                "100000000000000000",
                "999999999999999999",
                "1000000000000000000",
                "-999999999999999999",
                "18446744073709551615",
                "123456789012345678901234",
                "1.0",
            ])),
            1 => out.push_str(rng.pick(&["true", "false", "null"])),
            2 => {
                out.push('"');
                out.push_str(rng.pick(&[
                    "", "a", "b", "ab", "é", "\\\"", "\\u00e9", "\\n", "\\/", "x y", "\u{7f}", "😀",
                ]));
                out.push('"');
            }
            3 => {
                out.push('[');
                for n in 0..rng.below(4) {
                    if n > 0 {
                        out.push(',');
                    }
                    any_json(rng, depth + 1, out);
                }
                out.push(']');
            }
            _ => {
                out.push('{');
                for n in 0..rng.below(5) {
                    if n > 0 {
                        out.push(',');
                    }
                    space(rng, out);
                    out.push('"');
                    out.push_str(rng.pick(&["", "a", "b", "ab", "B", "é", "a\\u0062", "\\\"q"]));
                    out.push('"');
                    space(rng, out);
                    out.push(':');
                    any_json(rng, depth + 1, out);
                }
                out.push('}');
            }
        }
        space(rng, out);
    }

    /// A value whose text the check must keep: no float, integers of up to
    /// 18 digits, no string that needs an escape, nesting up to 16.
    fn plain(value: &Value, depth: usize) -> bool {
        let text = |s: &str| !s.contains(|c: char| c == '"' || c == '\\' || c < ' ');
        match value {
            Value::Number(n) => {
                n.as_i64().is_some_and(|n| n.unsigned_abs() < 10u64.pow(18))
                    || n.as_u64().is_some_and(|n| n < 10u64.pow(18))
            }
            Value::String(s) => text(s),
            Value::Array(items) => depth <= 16 && items.iter().all(|v| plain(v, depth + 1)),
            Value::Object(map) => {
                depth <= 16 && map.iter().all(|(k, v)| text(k) && plain(v, depth + 1))
            }
            Value::Bool(_) | Value::Null => true,
        }
    }

    /// `text` with one flaw: a byte dropped, added or changed (one a JSON
    /// text has a meaning for, a control character or a UTF-8 fragment), a
    /// piece repeated, or the end cut off.
    fn flaw(rng: &mut Lcg, text: &[u8]) -> Vec<u8> {
        const BYTES: &[u8] = b"{}[],:\"\\ 0123456789-.eE+tfnrulas\x01\x1f\x7f\xc3\xa9\xff";
        let mut below = |n: usize| rng.below(n as u64) as usize;
        let mut out = text.to_vec();
        let at = below(text.len() + 1);
        let byte = BYTES[below(BYTES.len())];
        match below(5) {
            0 if at < out.len() => {
                out.remove(at);
            }
            1 => out.insert(at, byte),
            2 if at < out.len() => out[at] = byte,
            3 => {
                let end = (at + 1 + below(6)).min(text.len());
                out.splice(at..at, text[at.min(end)..end].iter().copied());
            }
            _ => out.truncate(at),
        }
        out
    }

    /// `true` means serde_json writes the parsed value back byte for byte,
    /// on any JSON text; and the texts serde_json writes itself for values
    /// without escapes, floats or deep nesting are all found `true`.
    #[test]
    fn json_is_as_written_only_when_serde_json_writes_it_so() {
        let mut rng = Lcg(9);
        let (mut kept, mut written_again) = (0, 0);
        let (mut flawed_kept, mut flawed_refused) = (0, 0);
        for _ in 0..10_000 {
            let mut text = String::new();
            any_json(&mut rng, 0, &mut text);
            let Ok(value) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let written = serde_json::to_string(&value).unwrap();
            if json_is_as_written(text.as_bytes()) {
                assert_eq!(written, text);
                kept += 1;
            } else {
                written_again += 1;
            }
            // serde_json's own text of the value is kept unless the value
            // has what the check leaves to be written again.
            let plain = plain(&value, 1);
            assert_eq!(json_is_as_written(written.as_bytes()), plain, "{written}");
            // serde_json's text with one flaw, JSON or not: `true` only
            // when serde_json reads it and writes it back as it is.
            for _ in 0..4 {
                let flawed = flaw(&mut rng, written.as_bytes());
                if json_is_as_written(&flawed) {
                    let text = String::from_utf8_lossy(&flawed).into_owned();
                    let value: Value = serde_json::from_slice(&flawed).expect(&text);
                    assert_eq!(serde_json::to_vec(&value).unwrap(), flawed);
                    flawed_kept += 1;
                } else {
                    flawed_refused += 1;
                }
            }
        }
        // Both answers were given often.
        assert!(
            kept > 2_000 && written_again > 2_000,
            "{kept} {written_again}"
        );
        assert!(
            flawed_kept > 2_000 && flawed_refused > 10_000,
            "{flawed_kept} {flawed_refused}"
        );
        let logto = br#"{"identifier":{"type":"username","value":"demo"},"password":"demo-password-0123456789abcdefghij"}"#;
        // Keys compare within their own object only; strings in an array
        // are no keys, also where an object was open at that depth before.
        for text in [
            &logto[..],
            br#"{"b":{"a":1},"c":[{"b":2},{"a":3}]}"#,
            br#"[{"a":1},["b","b","a"]]"#,
        ] {
            assert!(
                json_is_as_written(text),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        for text in [
            &br#"{"a":{"d":1,"c":2}}"#[..],
            br#"{"b":1,"a":2}"#,
            br#"{"a":1,"a":1}"#,
            br#"{"a": 1}"#,
            br#"{"a":"\u0062"}"#,
            b"1.5",
            b"-0",
            b"1000000000000000000",
            // Not JSON at all.
            b"",
            b"{",
            b"}",
            br#"{"a":1}}"#,
            br#"{"a":1,}"#,
            br#"[1,]"#,
            br#"[,1]"#,
            br#"{"a"}"#,
            br#"{"a":}"#,
            br#"{"a"1}"#,
            br#"{1:1}"#,
            br#"["a":1]"#,
            br#"{"a":1]"#,
            br#"[1}"#,
            b"01",
            b"-",
            b"1-",
            b"--1",
            b"tru",
            b"nul",
            b"truex",
            b"[true false]",
            b"1 2",
            br#""a"b""#,
            b"\"a\x01\"",
            b"\"a\n\"",
            b"\"\xc3\"",
            b"\"\xff\"",
            b"\"\xed\xa0\x80\"",
        ] {
            assert!(
                !json_is_as_written(text),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        let deep = format!("{}{}", "[".repeat(17), "]".repeat(17));
        assert!(!json_is_as_written(deep.as_bytes()));
        let deep = format!("{}{}", "[".repeat(16), "]".repeat(16));
        assert!(json_is_as_written(deep.as_bytes()));
    }

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
        let one =
            b"<?xml version=\"1.0\"?>\n<vessels>\n  <vessel><name>X</name></vessel>\n</vessels>";
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
        assert_eq!(
            to_json("tsv", b"a\tb\nx\ty\n"),
            Ok(json!([{"a": "x", "b": "y"}]))
        );
        assert_eq!(
            to_json("psv", b"a|b\nx|y\n"),
            Ok(json!([{"a": "x", "b": "y"}]))
        );
    }

    #[test]
    fn html_tables_become_row_objects() {
        let page = b"<html><body><p>x</p><table id=\"p\"><thead><tr><th>Name</th><th>Price</th></tr></thead>\
                     <tbody><tr><td>Widget</td><td>$99</td></tr><tr><td>Gadget &amp; co</td></tr></tbody></table>\
                     <div class=\"other\"><table><tr><th>A</th></tr><tr><td>1</td></tr></table></div></body></html>";
        assert_eq!(
            to_json("html", page),
            Ok(json!({"tables": [
                [{"Name": "Widget", "Price": "$99"}, {"Name": "Gadget & co", "Price": ""}],
                [{"A": "1"}]
            ]}))
        );
        assert_eq!(
            to_json_with("html", Some("div.other"), page),
            Ok(json!({"tables": [[{"A": "1"}]]}))
        );
    }

    #[test]
    fn markdown_gives_front_matter_tables_and_sections() {
        let doc = b"---\ntitle: Fleet\nships: 2\n---\n# Ships\nTwo ships,\nboth `active`.\n\n| Name | Flag |\n|---|---|\n| Star | NO |\n\n## Crew\nAnn.\n";
        assert_eq!(
            to_json("markdown", doc),
            Ok(json!({
                "frontMatter": {"title": "Fleet", "ships": 2},
                "tables": [[{"Name": "Star", "Flag": "NO"}]],
                "sections": [
                    {"heading": "Ships", "level": 1, "content": "Two ships, both active."},
                    {"heading": "Crew", "level": 2, "content": "Ann."}
                ]
            }))
        );
        assert_eq!(
            to_json_with("markdown", Some("Cr"), doc).map(|v| v.get("sections").cloned()),
            Ok(Some(
                json!([{"heading": "Crew", "level": 2, "content": "Ann."}])
            ))
        );
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
