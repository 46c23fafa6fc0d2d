//! The OpenAPI 3.1 document of a REST adapter.

use serde_json::{Map, Value, json};

use crate::ir::{self, Location};

/// The document, as JSON.
pub fn document(cap: &ir::Capability, a: &ir::RestAdapter) -> Value {
    let mut paths = Map::new();
    for op in &a.operations {
        // OpenAPI templates are `{x}`; specs may write `{{x}}`.
        let route = op.route.replace("{{", "{").replace("}}", "}");
        let entry = paths.entry(route).or_insert_with(|| json!({}));
        let parameters: Vec<Value> = op
            .inputs
            .iter()
            .filter(|i| i.location != Location::Body)
            .map(|i| {
                // Template inputs are read from the query.
                let place = match i.location {
                    Location::Template => "query",
                    other => other.as_str(),
                };
                let mut p = json!({
                    "name": i.name,
                    "in": place,
                    "required": i.required || i.location == Location::Path,
                    "schema": {"type": i.ty.as_str()},
                });
                if let (Some(d), Some(obj)) = (&i.description, p.as_object_mut()) {
                    obj.insert("description".into(), json!(d));
                }
                p
            })
            .collect();
        let mut operation = json!({
            "operationId": op.fn_name,
            "parameters": parameters,
            "responses": {
                "200": {"description": "The upstream's answer, passed through.", "content": {"application/json": {}}},
                "204": {"description": "No content."},
                "400": {"description": "A malformed body or a missing required input (the adapter's problem document), or the upstream's own 400, passed through.", "content": {"application/problem+json": {}, "application/json": {}}},
                "413": {"description": "The request body is larger than the adapter's limit.", "content": {"application/problem+json": {}}},
                "502": {"description": "The upstream is unreachable, or its answer is malformed or over the adapter's size limit.", "content": {"application/problem+json": {}}},
                "504": {"description": "The upstream did not answer in time.", "content": {"application/problem+json": {}}},
                "default": {"description": "The upstream's error, passed through."}
            }
        });
        if let Some(obj) = operation.as_object_mut() {
            if let Some(d) = &op.description {
                obj.insert("summary".into(), json!(d));
            }
            if let Some(body) = request_body(op) {
                obj.insert("requestBody".into(), body);
            }
            if let Some(call) = op.call.and_then(|c| {
                let api = cap.apis.get(c.api)?;
                Some(format!(
                    "{}.{}",
                    api.namespace,
                    api.operations.get(c.op)?.name
                ))
            }) {
                obj.insert("x-naftiko-call".into(), json!(call));
            }
        }
        if let Some(map) = entry.as_object_mut() {
            map.insert(op.method.to_ascii_lowercase(), operation);
        }
    }
    let title = cap.label.clone().unwrap_or_else(|| a.namespace.clone());
    let mut info = json!({"title": title, "version": "1.0.0"});
    if let (Some(d), Some(obj)) = (
        a.description.as_ref().or(cap.description.as_ref()),
        info.as_object_mut(),
    ) {
        obj.insert("description".into(), json!(d));
    }
    let server = format!(
        "http://{}:{}",
        a.address.as_deref().unwrap_or("127.0.0.1"),
        a.port.unwrap_or(8080)
    );
    json!({
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": server}],
        "paths": paths,
    })
}

/// The request body: the whole JSON body for an input named `body`, else an
/// object of the body fields the operation reads.
fn request_body(op: &ir::RestOp) -> Option<Value> {
    let body: Vec<&ir::ExposedInput> = op
        .inputs
        .iter()
        .filter(|i| i.location == Location::Body)
        .collect();
    if body.is_empty() {
        return None;
    }
    let (schema, required) = match body.iter().find(|i| i.name == "body") {
        Some(whole) => (json!({"type": whole.ty.as_str()}), whole.required),
        None => {
            let properties: Map<String, Value> = body
                .iter()
                .map(|i| {
                    let mut p = json!({"type": i.ty.as_str()});
                    if let (Some(d), Some(obj)) = (&i.description, p.as_object_mut()) {
                        obj.insert("description".into(), json!(d));
                    }
                    (i.name.clone(), p)
                })
                .collect();
            let required: Vec<&str> = body
                .iter()
                .filter(|i| i.required)
                .map(|i| i.name.as_str())
                .collect();
            let mut schema = json!({"type": "object", "properties": properties});
            if let (false, Some(obj)) = (required.is_empty(), schema.as_object_mut()) {
                obj.insert("required".into(), json!(required));
            }
            (schema, !required.is_empty())
        }
    };
    Some(json!({"required": required, "content": {"application/json": {"schema": schema}}}))
}
