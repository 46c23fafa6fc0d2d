//! MCP resources and prompts of a generated MCP adapter (REFERENCE-ENGINE.md
//! 2.8): `resources/list` (static URIs), `resources/templates/list`
//! (`{x}` templates), `resources/read`, `prompts/list` and `prompts/get`
//! (`{{argument}}` filled once, unknown placeholders kept).

use rmcp::ErrorData;
use rmcp::model::{
    GetPromptResult, JsonObject, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, Prompt, PromptArgument, PromptMessage, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, Role,
};
use serde_json::{Map, Value};

/// A resource as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSpec {
    /// Name.
    pub name: &'static str,
    /// Title (`label`).
    pub title: Option<&'static str>,
    /// Description.
    pub description: Option<&'static str>,
    /// MIME type.
    pub mime_type: Option<&'static str>,
    /// URI, or URI template (`data://users/{id}/profile`).
    pub uri: &'static str,
}

impl ResourceSpec {
    fn is_template(&self) -> bool {
        self.uri.contains('{')
    }
}

/// A prompt as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct PromptSpec {
    /// Name.
    pub name: &'static str,
    /// Title (`label`).
    pub title: Option<&'static str>,
    /// Description.
    pub description: Option<&'static str>,
    /// Arguments: name, description, required.
    pub arguments: &'static [(&'static str, Option<&'static str>, bool)],
    /// Messages: role and content.
    pub messages: &'static [(&'static str, &'static str)],
    /// Or a file holding one user message.
    pub file: Option<&'static str>,
}

/// Sets the optional title, description and MIME type of a `Resource` or
/// `ResourceTemplate` (both have the same builder methods).
macro_rules! described {
    ($item:expr, $spec:expr) => {{
        let mut item = $item;
        if let Some(t) = $spec.title {
            item = item.with_title(t);
        }
        if let Some(d) = $spec.description {
            item = item.with_description(d);
        }
        if let Some(m) = $spec.mime_type {
            item = item.with_mime_type(m);
        }
        item
    }};
}

/// `resources/list`: the resources with a fixed URI.
pub fn list_resources(specs: &[ResourceSpec]) -> ListResourcesResult {
    ListResourcesResult::with_all_items(
        specs
            .iter()
            .filter(|s| !s.is_template())
            .map(|s| described!(Resource::new(s.uri, s.name), s))
            .collect(),
    )
}

/// `resources/templates/list`: the resources with a URI template.
pub fn list_templates(specs: &[ResourceSpec]) -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(
        specs
            .iter()
            .filter(|s| s.is_template())
            .map(|s| described!(ResourceTemplate::new(s.uri, s.name), s))
            .collect(),
    )
}

/// Which resource `uri` names, and the values of its template's variables
/// (each matches one non-empty segment, no `/`); unknown URIs are invalid
/// params naming them.
pub fn find_resource(
    specs: &[ResourceSpec],
    uri: &str,
) -> Result<(usize, Map<String, Value>), ErrorData> {
    if let Some(i) = specs.iter().position(|s| !s.is_template() && s.uri == uri) {
        return Ok((i, Map::new()));
    }
    for (i, s) in specs.iter().enumerate().filter(|(_, s)| s.is_template()) {
        if let Some(vars) = match_template(s.uri, uri) {
            return Ok((i, vars));
        }
    }
    Err(ErrorData::invalid_params(
        format!("no resource has the URI `{uri}`"),
        None,
    ))
}

fn match_template(template: &str, uri: &str) -> Option<Map<String, Value>> {
    let mut vars = Map::new();
    let mut rest = uri;
    let mut t = template;
    while let Some(open) = t.find('{') {
        let literal = t.get(..open)?;
        rest = rest.strip_prefix(literal)?;
        let close = t.get(open..)?.find('}')? + open;
        let name = t.get(open + 1..close)?;
        t = t.get(close + 1..)?;
        // The value runs to the next literal character (or the end), one segment.
        let end = match t.chars().next() {
            Some(c) => rest.find(c)?,
            None => rest.len(),
        };
        let value = rest.get(..end)?;
        if value.is_empty() || value.contains('/') {
            return None;
        }
        vars.insert(name.to_owned(), Value::String(value.to_owned()));
        rest = rest.get(end..)?;
    }
    (rest == t).then_some(vars)
}

/// A resource's contents: text as it is, other JSON as JSON text.
pub fn contents(uri: &str, mime_type: Option<&str>, value: Value) -> ReadResourceResult {
    let (text, default_mime) = match value {
        Value::String(s) => (s, "text/plain"),
        other => (other.to_string(), "application/json"),
    };
    ReadResourceResult::new(vec![ResourceContents::TextResourceContents {
        uri: uri.to_owned(),
        mime_type: Some(mime_type.unwrap_or(default_mime).to_owned()),
        text,
        meta: None,
    }])
}

/// A path from a `file:///...` location (`file:///./x` is relative to the
/// working directory, as the reference engine reads it).
pub fn file_path(location: &str) -> std::path::PathBuf {
    match location.strip_prefix("file://") {
        Some(rest) if rest.starts_with("/./") => rest.get(1..).unwrap_or(".").into(),
        Some(rest) => rest.into(),
        None => location.into(),
    }
}

/// A resource served from a file.
pub fn file_contents(
    uri: &str,
    mime_type: Option<&str>,
    location: &str,
) -> Result<ReadResourceResult, ErrorData> {
    let text = std::fs::read_to_string(file_path(location)).map_err(|e| {
        ErrorData::internal_error(format!("resource `{uri}` cannot be read: {e}"), None)
    })?;
    Ok(contents(uri, mime_type, Value::String(text)))
}

/// `prompts/list`.
pub fn list_prompts(specs: &[PromptSpec]) -> ListPromptsResult {
    ListPromptsResult::with_all_items(
        specs
            .iter()
            .map(|p| {
                let arguments: Vec<PromptArgument> = p
                    .arguments
                    .iter()
                    .map(|(name, description, required)| {
                        let mut a = PromptArgument::new(*name).with_required(*required);
                        if let Some(d) = description {
                            a = a.with_description(*d);
                        }
                        a
                    })
                    .collect();
                let mut prompt = Prompt::new(p.name, p.description, Some(arguments));
                if let Some(t) = p.title {
                    prompt = prompt.with_title(t);
                }
                prompt
            })
            .collect(),
    )
}

/// Fills `{{name}}` with the arguments in one pass: a value holding
/// `{{...}}` is not filled again; unknown placeholders stay as written.
pub fn fill(template: &str, args: &JsonObject) -> String {
    let filled: Result<String, std::convert::Infallible> =
        crate::template::fill(template, |name, written, out| {
            match args.get(name) {
                Some(v) => crate::template::text(v, out),
                None => out.push_str(written),
            }
            Ok(())
        });
    filled.unwrap_or_default()
}

/// `prompts/get`: unknown prompts and missing required arguments are
/// invalid params naming them.
pub fn get_prompt(
    specs: &[PromptSpec],
    name: &str,
    args: Option<&JsonObject>,
) -> Result<GetPromptResult, ErrorData> {
    let Some(p) = specs.iter().find(|p| p.name == name) else {
        return Err(ErrorData::invalid_params(
            format!("no prompt is named `{name}`"),
            None,
        ));
    };
    let empty = JsonObject::new();
    let args = args.unwrap_or(&empty);
    if let Some((missing, _, _)) = p
        .arguments
        .iter()
        .find(|(n, _, required)| *required && !args.contains_key(*n))
    {
        return Err(ErrorData::invalid_params(
            format!("prompt `{name}` needs the argument `{missing}`"),
            None,
        ));
    }
    let messages = match p.file {
        Some(location) => {
            let text = std::fs::read_to_string(file_path(location)).map_err(|e| {
                ErrorData::internal_error(format!("prompt `{name}` cannot be read: {e}"), None)
            })?;
            vec![PromptMessage::new_text(Role::User, fill(&text, args))]
        }
        None => p
            .messages
            .iter()
            .map(|(role, content)| {
                let role = if *role == "assistant" {
                    Role::Assistant
                } else {
                    Role::User
                };
                PromptMessage::new_text(role, fill(content, args))
            })
            .collect(),
    };
    let mut result = GetPromptResult::new(messages);
    result.description = p.description.map(str::to_owned);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_match_one_segment_per_variable() {
        let vars = match_template("data://users/{userId}/profile", "data://users/42/profile");
        assert_eq!(vars, json!({"userId": "42"}).as_object().cloned());
        assert_eq!(
            match_template("data://users/{id}/profile", "data://users/4/2/profile"),
            None
        );
        assert_eq!(match_template("data://users/{id}", "data://users/"), None);
        assert_eq!(match_template("data://a/{x}", "data://b/1"), None);
    }

    #[test]
    fn prompts_fill_once_and_keep_unknown_placeholders() {
        let args = json!({"name": "{{format}}", "n": 2});
        let args = args.as_object().cloned().unwrap_or_default();
        assert_eq!(
            fill("Hi {{name}}, {{n}} in {{format}}", &args),
            "Hi {{format}}, 2 in {{format}}"
        );
    }
}
