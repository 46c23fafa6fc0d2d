//! The OpenAPI 3.1 document of a REST adapter.

use serde_json::{Map, Value, json};

use crate::ir::{self, Location};

/// The document, as JSON.
pub fn document(cap: &ir::Capability, a: &ir::RestAdapter) -> Value {
    let mut paths = Map::new();
    for op in &a.operations {
        let entry = paths.entry(op.route.clone()).or_insert_with(|| json!({}));
        let parameters: Vec<Value> = op
            .inputs
            .iter()
            .filter(|i| i.location != Location::Body)
            .map(|i| {
                let mut p = json!({
                    "name": i.name,
                    "in": i.location.as_str(),
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
                "400": {"description": "A malformed body or a missing required input.", "content": {"application/problem+json": {}}},
                "502": {"description": "The upstream is unreachable.", "content": {"application/problem+json": {}}},
                "504": {"description": "The upstream did not answer in time.", "content": {"application/problem+json": {}}},
                "default": {"description": "The upstream's error, passed through."}
            }
        });
        if let Some(obj) = operation.as_object_mut() {
            if let Some(d) = &op.description {
                obj.insert("summary".into(), json!(d));
            }
            if let Some(body) = op.inputs.iter().find(|i| i.location == Location::Body) {
                obj.insert(
                    "requestBody".into(),
                    json!({
                        "required": body.required,
                        "content": {"application/json": {"schema": {"type": body.ty.as_str()}}},
                    }),
                );
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
