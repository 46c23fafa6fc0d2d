//! One request as generated code describes it.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use serde_json::Value;

use crate::encode;
use crate::error::Error;

/// The body of a call.
#[derive(Debug, Clone, Default)]
pub enum CallBody {
    /// No body.
    #[default]
    None,
    /// JSON.
    Json(Value),
    /// Text or bytes with a content type.
    Bytes(&'static str, Bytes),
    /// Bytes sent as they are (their `Content-Type`, if any, is in the
    /// call's headers): a proxied caller's body.
    Raw(Bytes),
    /// JSON text exactly as serde_json writes the value it parses to, sent
    /// as `Json` would send that value: the REST adapter's lean path passes
    /// a caller's body so when it is already in that form
    /// (`formats::json_is_as_written`), rather than parse and write it
    /// again.
    JsonText(Bytes),
}

impl CallBody {
    /// The bytes sent, and into `headers` the `Content-Type` they need, as
    /// reqwest's `.json()` and `.header()` would set it: JSON gets
    /// `application/json` unless the call has a type; text or bytes append
    /// theirs. Both HTTP stacks send what this returns.
    pub(crate) fn encode(&self, headers: &mut HeaderMap) -> Bytes {
        match self {
            CallBody::None => Bytes::new(),
            CallBody::Json(v) => {
                json_type(headers);
                // The same bytes as `v.to_string()`, without going through
                // `fmt` for every piece (a JSON value always serializes).
                Bytes::from(serde_json::to_vec(v).unwrap_or_default())
            }
            CallBody::JsonText(text) => {
                json_type(headers);
                text.clone()
            }
            CallBody::Bytes(ct, b) => {
                if let Ok(v) = HeaderValue::from_str(ct) {
                    headers.append(CONTENT_TYPE, v);
                }
                b.clone()
            }
            CallBody::Raw(b) => b.clone(),
        }
    }
}

/// JSON's `Content-Type`, unless the call has one.
fn json_type(headers: &mut HeaderMap) {
    headers
        .entry(CONTENT_TYPE)
        .or_insert_with(|| HeaderValue::from_static("application/json"));
}

/// One request, as generated code describes it.
#[derive(Debug, Clone)]
pub struct Call {
    /// `namespace.operation`, for errors and traces.
    pub operation: &'static str,
    /// HTTP method.
    pub method: Method,
    /// The path after the base URL, already encoded.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Headers.
    pub headers: HeaderMap,
    /// Cookies (`name=value`, sent as given).
    pub cookies: Vec<String>,
    /// The body.
    pub body: CallBody,
    /// Output shape (see [`crate::mapping::shape`]); `None` passes the JSON through.
    pub mapping: Option<&'static str>,
    /// The consumed operation's `outputRawFormat` when it is not JSON
    /// (`xml`, `csv`, `yaml`...): answers are converted to JSON first.
    pub raw_format: Option<&'static str>,
    /// The consumed operation's `outputSchema` (an HTML table selector, a
    /// Markdown heading prefix).
    pub raw_schema: Option<&'static str>,
    /// The answer's head is kept as it came, without a header map
    /// ([`crate::client::Answer::headers`] is then empty): set by the REST
    /// adapter's lean path, which writes it back as it came (issue 9).
    pub(crate) raw_head: bool,
}

impl Call {
    /// A call with no parameters yet.
    pub fn new(operation: &'static str, method: Method) -> Self {
        Self {
            operation,
            method,
            path: String::new(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            cookies: Vec::new(),
            body: CallBody::None,
            mapping: None,
            raw_format: None,
            raw_schema: None,
            raw_head: false,
        }
    }

    /// Appends literal path text.
    pub fn path_text(&mut self, text: &str) {
        self.path.push_str(text);
    }

    /// Appends one path parameter, encoded as exactly one segment.
    pub fn path_param(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let seg = encode::path_segment(value).map_err(|why| Error::InvalidRequest {
            operation: self.operation,
            message: format!("path parameter `{name}` {why}"),
        })?;
        self.path.push_str(&seg);
        Ok(())
    }

    /// Adds a query parameter.
    pub fn query(&mut self, name: &str, value: impl ToString) {
        self.query.push((name.to_owned(), value.to_string()));
    }

    /// Adds a header; CR/LF and other bytes a header cannot carry are refused.
    pub fn header(&mut self, name: &'static str, value: impl ToString) -> Result<(), Error> {
        let header =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::InvalidRequest {
                operation: self.operation,
                message: format!("`{name}` is not a valid header name"),
            })?;
        let v = HeaderValue::from_str(&value.to_string()).map_err(|_| Error::InvalidRequest {
            operation: self.operation,
            message: format!("header `{name}` contains characters a header cannot carry (CR, LF or control characters)"),
        })?;
        self.headers.append(header, v);
        Ok(())
    }

    /// Adds a cookie (value sent as given).
    pub fn cookie(&mut self, name: &str, value: impl ToString) -> Result<(), Error> {
        let value = value.to_string();
        if value.contains([';', '\r', '\n']) {
            return Err(Error::InvalidRequest {
                operation: self.operation,
                message: format!("cookie `{name}` contains `;`, CR or LF"),
            });
        }
        self.cookies.push(format!("{name}={value}"));
        Ok(())
    }

    /// Sets a body of text with its content type.
    pub fn text(&mut self, content_type: &'static str, text: String) {
        self.body = CallBody::Bytes(content_type, Bytes::from(text));
    }

    /// Sets a JSON body.
    pub fn json(&mut self, body: Value) {
        self.body = CallBody::Json(body);
    }
}
