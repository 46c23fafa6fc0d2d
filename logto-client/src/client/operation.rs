//! The static description of a consumed operation ([`OpSpec`]) and the one
//! function that turns it and its arguments into a [`Call`]
//! ([`Core::prepare`]).
//!
//! Generated code emits one `OpSpec` per operation and a thin typed method
//! that hands its arguments over as [`Arg`]s; the REST adapter, the MCP
//! adapter and orchestrated steps build the same `Arg`s from their own
//! inputs. Everything per call happens here, compiled once.

use http::Method;
use serde_json::{Map, Value};

use super::{Call, Core, FixedPlace, FixedSpec};
use crate::error::Error;
use crate::response::ResponseValue;

/// The JSON type of a consumed input: what its argument is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Text as it is.
    String,
    /// An integer (text input is parsed).
    Integer,
    /// A number (text input is parsed).
    Number,
    /// `true` or `false` (text input is parsed).
    Boolean,
    /// An object or array, sent as JSON.
    Json,
}

/// Where a consumed input goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// A path segment (its `{name}` in [`OpSpec::path`]).
    Path,
    /// A query parameter.
    Query,
    /// A header.
    Header,
    /// A cookie.
    Cookie,
    /// The body (placed by the operation's [`BodySpec`]).
    Body,
    /// Only a `{{name}}` in the operation's fixed values.
    Template,
}

/// One input of a consumed operation.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    /// The name the spec gives it (and the API expects).
    pub name: &'static str,
    /// Where it goes.
    pub at: At,
    /// Its type.
    pub ty: Ty,
    /// Whether a call without it is refused.
    pub required: bool,
}

impl InputSpec {
    /// An input (a `const fn`, so generated tables stay one line each).
    pub const fn new(name: &'static str, at: At, ty: Ty, required: bool) -> Self {
        Self {
            name,
            at,
            ty,
            required,
        }
    }
}

/// How an operation's body is made from its `in: body` inputs.
#[derive(Debug, Clone, Copy)]
pub enum BodySpec {
    /// No body.
    None,
    /// The input at this index is the whole JSON body.
    Whole(usize),
    /// A JSON object of these inputs, by name.
    Merged(&'static [usize]),
    /// A text template over the body inputs, with its content type.
    Text {
        /// The content type.
        content_type: &'static str,
        /// The template.
        template: &'static str,
    },
    /// `application/x-www-form-urlencoded` fields: name and value template.
    Form(&'static [(&'static str, &'static str)]),
    /// `multipart/form-data` parts: name, value template, file name,
    /// content type.
    Multipart(
        &'static [(
            &'static str,
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
        )],
    ),
    /// A JSON template over the body inputs.
    Json(&'static str),
}

/// How an operation's answer becomes its value.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// The output mapping (see [`crate::mapping::shape`]).
    pub mapping: Option<&'static str>,
    /// `outputRawFormat` when it is not JSON.
    pub raw_format: Option<&'static str>,
    /// `outputSchema` of a raw format.
    pub raw_schema: Option<&'static str>,
}

impl Output {
    /// JSON answers, passed through.
    pub const JSON: Output = Output::new(None, None, None);

    /// An output (a `const fn`, for generated tables).
    pub const fn new(
        mapping: Option<&'static str>,
        raw_format: Option<&'static str>,
        raw_schema: Option<&'static str>,
    ) -> Self {
        Self {
            mapping,
            raw_format,
            raw_schema,
        }
    }
}

/// Everything about a consumed operation that does not change per call.
#[derive(Debug)]
pub struct OpSpec {
    /// `namespace.operation`, for errors and traces.
    pub operation: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path after the base URL: literal text (already encoded) and
    /// `{name}` placeholders, each filled with its input as one segment.
    pub path: &'static str,
    /// The inputs, in spec order (the order of a call's arguments).
    pub inputs: &'static [InputSpec],
    /// Parameters sent with every call; their value templates may read the
    /// operation's `in: template` inputs by name.
    pub fixed: &'static [FixedSpec],
    /// The body.
    pub body: BodySpec,
    /// How the answer becomes the call's value.
    pub output: Output,
}

impl Core {
    /// The call `op` makes with `args` (one per input, in order; missing
    /// ones are [`Arg::Missing`]). An argument that does not fit its input
    /// (a required one missing, text that is not a number, a header value
    /// with CR/LF) is [`Error::InvalidRequest`] naming it.
    pub fn prepare(&self, op: &'static OpSpec, args: Vec<Arg>) -> Result<Call, Error> {
        let invalid = |e: ArgError| Error::InvalidRequest {
            operation: op.operation,
            message: e.0,
        };
        let mut values: Vec<Option<Value>> = Vec::with_capacity(args.len());
        let mut args = args.into_iter();
        for input in op.inputs {
            let arg = args.next().unwrap_or(Arg::Missing);
            let value = arg.typed(input).map_err(invalid)?;
            values.push(value);
        }
        let value = |i: usize| values.get(i).and_then(Option::as_ref);
        let mut call = Call::new(op.operation, op.method.clone());
        // `{name}` placeholders; text between them goes as it is.
        let mut rest = op.path;
        // `memchr`: `str::find` of a `char` cost 200 instructions a request
        // on a path without placeholders (issue 9).
        while let Some(open) = memchr::memchr(b'{', rest.as_bytes()) {
            let (literal, after) = rest.split_at(open);
            call.path_text(literal);
            let Some(close) = memchr::memchr(b'}', after.as_bytes()) else {
                rest = after;
                break;
            };
            let name = after.get(1..close).unwrap_or_default();
            match op.inputs.iter().position(|input| input.name == name) {
                Some(i) => {
                    if let Some(v) = value(i) {
                        call.path_param(name, &text(v))?;
                    }
                }
                None => call.path_text(after.get(..=close).unwrap_or_default()),
            }
            rest = after.get(close + 1..).unwrap_or_default();
        }
        call.path_text(rest);
        for (input, v) in op.inputs.iter().zip(&values) {
            let Some(v) = v else { continue };
            match input.at {
                At::Query => call.query(input.name, text(v)),
                At::Header => call.header(input.name, text(v))?,
                At::Cookie => call.cookie(input.name, text(v))?,
                At::Path | At::Body | At::Template => {}
            }
        }
        if !op.fixed.is_empty() {
            let texts: Vec<(&str, String)> = op
                .inputs
                .iter()
                .zip(&values)
                .filter(|(input, _)| input.at == At::Template)
                .filter_map(|(input, v)| Some((input.name, text(v.as_ref()?))))
                .collect();
            let vars: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (*n, t.as_str())).collect();
            for f in op.fixed {
                let v = self.render_with(f.value, &vars)?;
                match f.place {
                    FixedPlace::Query => call.query(f.name, v),
                    FixedPlace::Header => call.header(f.name, v)?,
                    FixedPlace::Cookie => call.cookie(f.name, v)?,
                }
            }
        }
        // Only the body plans that read inputs by name need them collected.
        let body_vars = || -> Vec<(&str, Value)> {
            op.inputs
                .iter()
                .zip(&values)
                .filter(|(input, _)| input.at == At::Body)
                .filter_map(|(input, v)| Some((input.name, v.clone()?)))
                .collect()
        };
        match op.body {
            BodySpec::None => {}
            BodySpec::Whole(i) => {
                if let Some(v) = values.get_mut(i).and_then(Option::take) {
                    call.json(v);
                }
            }
            BodySpec::Merged(fields) => {
                let mut body = Map::new();
                // The body is placed last: its values are moved, not copied.
                for i in fields {
                    let v = values.get_mut(*i).and_then(Option::take);
                    if let (Some(input), Some(v)) = (op.inputs.get(*i), v) {
                        body.insert(input.name.to_owned(), v);
                    }
                }
                call.json(Value::Object(body));
            }
            BodySpec::Text {
                content_type,
                template,
            } => {
                let text = self.render_text(template, &body_vars())?;
                call.text(content_type, text);
            }
            BodySpec::Form(fields) => {
                let text = self.render_form(fields, &body_vars())?;
                call.text("application/x-www-form-urlencoded", text);
            }
            BodySpec::Multipart(parts) => self.render_multipart(&mut call, parts, &body_vars())?,
            BodySpec::Json(template) => call.json(self.render_json(template, &body_vars())?),
        }
        call.mapping = op.output.mapping;
        call.raw_format = op.output.raw_format;
        call.raw_schema = op.output.raw_schema;
        Ok(call)
    }

    /// Prepares and sends `op` with `args`: what each generated client
    /// method does.
    pub async fn run(
        &self,
        op: &'static OpSpec,
        args: Vec<Arg>,
    ) -> Result<ResponseValue<Value>, Error> {
        let call = self.prepare(op, args)?;
        self.send(call).await
    }
}

/// An input's text (path, query, header, cookie, template): strings as they
/// are, integers as digits, other numbers as Rust prints an `f64`, the rest
/// as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string())
        }
        other => other.to_string(),
    }
}

/// A value on its way from an exposed input to a consumed argument.
#[derive(Debug, Clone)]
pub enum Arg {
    /// Not given.
    Missing,
    /// Text (path segments, query values, headers, string literals).
    Text(String),
    /// JSON (bodies, tool arguments, non-string literals).
    Json(Value),
}

impl Arg {
    /// From an optional text input.
    pub fn text(v: Option<String>) -> Self {
        v.map_or(Arg::Missing, Arg::Text)
    }

    /// From an optional JSON input (`null` counts as missing).
    pub fn json(v: Option<Value>) -> Self {
        match v {
            None | Some(Value::Null) => Arg::Missing,
            Some(v) => Arg::Json(v),
        }
    }

    fn missing(name: &str) -> ArgError {
        ArgError(format!("missing required input `{name}`"))
    }

    /// As text (a JSON value as its JSON text): what a `string` input, an
    /// extra query parameter or a mock's `{{input}}` gets.
    pub fn into_text(self) -> Option<String> {
        match self {
            Arg::Missing => None,
            Arg::Text(t) | Arg::Json(Value::String(t)) => Some(t),
            Arg::Json(v) => Some(v.to_string()),
        }
    }

    /// As JSON (text as a JSON string), for `object`/`array` inputs.
    fn into_json(self) -> Option<Value> {
        match self {
            Arg::Missing => None,
            Arg::Text(t) => Some(Value::String(t)),
            Arg::Json(v) => Some(v),
        }
    }

    /// As `T`, parsed from text or read from JSON by `from_json`; `what`
    /// names the type in the error.
    fn parse<T: std::str::FromStr>(
        self,
        name: &str,
        what: &str,
        from_json: fn(&Value) -> Option<T>,
    ) -> Result<Option<T>, ArgError> {
        match self {
            Arg::Missing => Ok(None),
            Arg::Text(t) => parse_text(&t, name, what).map(Some),
            Arg::Json(v) => match (from_json(&v), v.as_str()) {
                (Some(x), _) => Ok(Some(x)),
                (None, Some(t)) => parse_text(t, name, what).map(Some),
                (None, None) => Err(ArgError(format!("`{name}` must be {what}, got `{v}`"))),
            },
        }
    }

    /// The argument converted to its input's type: `None` when it is
    /// missing and may be.
    fn typed(self, input: &InputSpec) -> Result<Option<Value>, ArgError> {
        let name = input.name;
        let value = match input.ty {
            Ty::String => self.into_text().map(Value::String),
            Ty::Integer => self
                .parse(name, "an integer", Value::as_i64)?
                .map(Value::from),
            Ty::Number => self
                .parse(name, "a number", Value::as_f64)?
                .map(Value::from),
            Ty::Boolean => self
                .parse(name, "true or false", Value::as_bool)?
                .map(Value::Bool),
            Ty::Json => self.into_json(),
        };
        match value {
            None if input.required => Err(Self::missing(name)),
            other => Ok(other),
        }
    }
}

/// An input that cannot become its consumed argument; REST answers 400,
/// MCP answers invalid params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError(pub String);

fn parse_text<T: std::str::FromStr>(value: &str, name: &str, what: &str) -> Result<T, ArgError> {
    value
        .parse()
        .map_err(|_| ArgError(format!("`{name}` must be {what}, got `{value}`")))
}

// What a typed client method's parameters become.
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Json(Value::from(v))
    }
}

impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::Json(Value::from(v))
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Json(Value::Bool(v))
    }
}

/// A JSON argument as given (`null` included: it is sent as `null`).
impl From<&Value> for Arg {
    fn from(v: &Value) -> Self {
        Arg::Json(v.clone())
    }
}

impl From<Value> for Arg {
    fn from(v: Value) -> Self {
        Arg::Json(v)
    }
}

/// An optional argument: `None` is [`Arg::Missing`].
impl<T: Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Missing, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_the_text_a_typed_argument_had() {
        assert_eq!(text(&Value::from(7_i64)), "7");
        assert_eq!(text(&Value::from(1.5_f64)), "1.5");
        // `1.0_f64.to_string()` is "1": what the typed method sent before.
        assert_eq!(text(&Value::from(1.0_f64)), "1");
        assert_eq!(text(&Value::from("a b")), "a b");
        assert_eq!(text(&Value::Bool(true)), "true");
    }

    #[test]
    fn several_body_inputs_are_merged_into_one_object_by_name() {
        #![allow(clippy::unwrap_used)]
        static OP: OpSpec = OpSpec {
            operation: "t.create",
            method: Method::POST,
            path: "/things/{id}",
            inputs: &[
                InputSpec::new("id", At::Path, Ty::Integer, true),
                InputSpec::new("name", At::Body, Ty::String, true),
                InputSpec::new("tags", At::Body, Ty::Json, false),
                InputSpec::new("size", At::Body, Ty::Number, false),
            ],
            fixed: &[],
            body: BodySpec::Merged(&[1, 2, 3]),
            output: Output::JSON,
        };
        static SPEC: super::super::ApiSpec = super::super::ApiSpec::for_tests(&[&OP]);
        let core = super::super::CoreBuilder::default().build(&SPEC).unwrap();
        let tags = serde_json::json!(["a", 1]);
        let call = core
            .prepare(
                &OP,
                vec![7_i64.into(), "n".into(), (&tags).into(), None::<f64>.into()],
            )
            .unwrap();
        assert_eq!(call.path, "/things/7");
        match call.body {
            // `size` was not given: left out, not `null`.
            super::super::CallBody::Json(v) => {
                assert_eq!(v, serde_json::json!({"name": "n", "tags": ["a", 1]}));
            }
            other => unreachable!("a JSON body, not {other:?}"),
        }
    }

    #[test]
    fn arguments_are_converted_to_their_input_type_or_named_in_the_error() {
        let n = InputSpec::new("limit", At::Query, Ty::Integer, true);
        assert_eq!(Arg::from("12").typed(&n), Ok(Some(Value::from(12))));
        assert_eq!(
            Arg::from("twelve").typed(&n),
            Err(ArgError("`limit` must be an integer, got `twelve`".into()))
        );
        assert_eq!(
            Arg::Missing.typed(&n),
            Err(ArgError("missing required input `limit`".into()))
        );
        let optional = InputSpec::new("q", At::Query, Ty::String, false);
        assert_eq!(Arg::from(None::<&str>).typed(&optional), Ok(None));
        // A JSON `null` given for a JSON input is sent as `null`.
        let body = InputSpec::new("body", At::Body, Ty::Json, true);
        assert_eq!(Arg::from(&Value::Null).typed(&body), Ok(Some(Value::Null)));
    }
}
