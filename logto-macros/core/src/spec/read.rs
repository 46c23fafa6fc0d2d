//! Reading the positioned YAML tree into the model, one object kind at a
//! time, each with the keys it knows (for misspelling detection).

use super::reader::{Obj, Spanned, index};
use super::*;
use crate::diagnostics::Sink;
use crate::yaml::Node;

const ROOT_KEYS: &[&str] = &[
    "naftiko",
    "info",
    "binds",
    "capability",
    "consumes",
    "externalRefs",
];
const INFO_KEYS: &[&str] = &[
    "label",
    "description",
    "tags",
    "created",
    "modified",
    "name",
    "version",
    "personas",
    "stakeholders",
    "display",
    "related",
    "contact",
    "license",
];
const BIND_KEYS: &[&str] = &["namespace", "keys", "description", "location"];
const CAPABILITY_KEYS: &[&str] = &[
    "consumes",
    "exposes",
    "aggregates",
    "binds",
    "orchestration",
    "governance",
];
const CONSUMES_KEYS: &[&str] = &[
    "type",
    "namespace",
    "baseUri",
    "description",
    "authentication",
    "inputParameters",
    "resources",
    "import",
    "location",
    "as",
    "label",
];
const AUTH_KEYS: &[&str] = &[
    "type",
    "token",
    "username",
    "password",
    "key",
    "value",
    "placement",
    "headers",
    "in",
    "name",
    "authorizationServerUri",
    "resource",
    "tokenUrl",
    "tokenEndpoint",
    "clientId",
    "clientSecret",
    "scopes",
    "audience",
    "scope",
    "tokenValidation",
];
const RESOURCE_KEYS: &[&str] = &[
    "name",
    "path",
    "description",
    "label",
    "inputParameters",
    "operations",
];
const OPERATION_KEYS: &[&str] = &[
    "name",
    "method",
    "description",
    "label",
    "path",
    "inputParameters",
    "body",
    "outputRawFormat",
    "outputMediaType",
    "outputParameters",
    "outputSchema",
    "maxBinarySize",
];
const PARAM_KEYS: &[&str] = &[
    "name",
    "in",
    "type",
    "required",
    "description",
    "value",
    "pattern",
    "default",
];
const BODY_KEYS: &[&str] = &["type", "data"];
const OUTPUT_KEYS: &[&str] = &[
    "name",
    "type",
    "value",
    "mapping",
    "const",
    "properties",
    "items",
    "description",
];
const EXPOSES_KEYS: &[&str] = &[
    "type",
    "namespace",
    "port",
    "address",
    "description",
    "transport",
    "tools",
    "resources",
    "prompts",
    "authentication",
    "skills",
    "skill",
    "observability",
    "management",
    "groups",
    "label",
];
const REST_RESOURCE_KEYS: &[&str] = &[
    "path",
    "name",
    "description",
    "label",
    "operations",
    "forward",
    "inputParameters",
    "uri",
    "mimeType",
    "call",
    "with",
];
const REST_OPERATION_KEYS: &[&str] = &[
    "method",
    "name",
    "description",
    "label",
    "call",
    "with",
    "inputParameters",
    "outputParameters",
    "steps",
    "mappings",
    "ref",
    "path",
];
const FORWARD_KEYS: &[&str] = &["targetNamespace", "trustedHeaders"];
const TOOL_KEYS: &[&str] = &[
    "name",
    "label",
    "description",
    "hints",
    "inputParameters",
    "call",
    "with",
    "steps",
    "mappings",
    "outputParameters",
    "ref",
    "inputSchema",
];
const HINT_KEYS: &[&str] = &["readOnly", "destructive", "idempotent", "openWorld"];
const STEP_KEYS: &[&str] = &[
    "name",
    "type",
    "call",
    "with",
    "index",
    "match",
    "lookupValue",
    "outputParameters",
    "forEach",
    "description",
    "language",
    "location",
    "file",
    "condition",
    "dependencies",
];

/// Reads a document tree into the model, reporting every problem to `sink`.
pub fn read_document(sink: &mut Sink, root: &Node) -> Option<Document> {
    let obj = Obj::open(sink, root, "", "the document", ROOT_KEYS)?;
    let version = obj.str(sink, "naftiko");
    match &version {
        None => {
            let help = if obj.get("specVersion").is_some() {
                "the version key is `naftiko`, not `specVersion`: write `naftiko: 1.0.0-alpha2`"
            } else {
                "start the document with `naftiko: 1.0.0-alpha2`"
            };
            sink.error(root.pos, "", "the document has no `naftiko` version", help);
            return None;
        }
        Some(v) if !SUPPORTED_VERSIONS.contains(&v.value.as_str()) => {
            // Other versions have other schemas: reading on would report their
            // differences as mistakes, so the version error stands alone.
            sink.error(
                v.pos,
                &v.path,
                format!("unsupported naftiko version `{}`", v.value),
                format!("this generator reads {}", SUPPORTED_VERSIONS.join(", ")),
            );
            return None;
        }
        Some(_) => {}
    }
    let (label, description) = match obj.get("info") {
        Some(node) => match Obj::open(sink, node, "info", "`info`", INFO_KEYS) {
            Some(info) => (info.str(sink, "label"), info.str(sink, "description")),
            None => (None, None),
        },
        None => (None, None),
    };
    let binds = read_binds(sink, &obj);
    let capability = obj
        .get("capability")
        .and_then(|node| read_capability(sink, node));
    let fragment_consumes = read_consumes_list(sink, &obj);
    if capability.is_none() && obj.get("consumes").is_none() && !sink.has_errors() {
        sink.error(
            root.pos,
            "",
            "the document has neither `capability` nor a root `consumes` list",
            "add `capability:` with `consumes` and `exposes`",
        );
    }
    Some(Document {
        version,
        label,
        description,
        binds,
        capability,
        fragment_consumes,
    })
}

fn read_binds(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Bind> {
    obj.list(sink, "binds")
        .into_iter()
        .filter_map(|(path, node)| {
            let b = Obj::open(sink, node, &path, "a bind", BIND_KEYS)?;
            let keys = b
                .map(sink, "keys")
                .into_iter()
                .filter_map(|(k, v)| match v.as_str() {
                    Some(text) => Some((
                        k.clone(),
                        Spanned::new(text.to_owned(), v.pos, k.path.clone()),
                    )),
                    None => {
                        sink.error(
                            v.pos,
                            &k.path,
                            "a bind key must map to a source key name",
                            "write `VAR: SOURCE_KEY`",
                        );
                        None
                    }
                })
                .collect();
            Some(Bind {
                namespace: b.str(sink, "namespace"),
                location: b.str(sink, "location"),
                keys,
                pos: b.pos(),
            })
        })
        .collect()
}

fn read_capability(sink: &mut Sink, node: &Node) -> Option<Capability> {
    let obj = Obj::open(sink, node, "capability", "`capability`", CAPABILITY_KEYS)?;
    let binds = read_binds(sink, &obj);
    let consumes = read_consumes_list(sink, &obj);
    let exposes = obj
        .list(sink, "exposes")
        .into_iter()
        .filter_map(|(path, node)| read_exposes(sink, node, &path))
        .collect();
    let aggregates = extra::read_aggregates(sink, &obj);
    Some(Capability {
        binds,
        consumes,
        exposes,
        aggregates,
    })
}

fn read_consumes_list(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Consumes> {
    obj.list(sink, "consumes")
        .into_iter()
        .filter_map(|(path, node)| read_consumes(sink, node, &path))
        .collect()
}

fn read_consumes(sink: &mut Sink, node: &Node, path: &str) -> Option<Consumes> {
    let c = Obj::open(sink, node, path, "a consumes entry", CONSUMES_KEYS)?;
    if c.get("import").is_some() {
        return Some(Consumes::Import(Import {
            location: c.str(sink, "location"),
            import: c.str(sink, "import")?,
            alias: c.str(sink, "as"),
        }));
    }
    let authentication = c
        .get("authentication")
        .and_then(|n| read_auth(sink, n, &c.at("authentication")));
    let resources = c
        .list(sink, "resources")
        .into_iter()
        .filter_map(|(path, node)| read_resource(sink, node, &path))
        .collect();
    Some(Consumes::Http(HttpApi {
        namespace: c.req_str(
            sink,
            "namespace",
            "a consumes entry",
            "add `namespace: <name>`; exposed operations reach it as `call: <name>.<operation>`",
        ),
        kind: c.str(sink, "type"),
        // Other consume types are reported as not supported, without the
        // fields only HTTP needs.
        base_uri: if c
            .get("type")
            .and_then(|t| t.as_str())
            .is_none_or(|t| t == "http")
        {
            c.req_str(
                sink,
                "baseUri",
                "a consumes entry",
                "add `baseUri: https://api.example.com`",
            )
        } else {
            c.str(sink, "baseUri")
        },
        description: c.str(sink, "description"),
        authentication,
        input_parameters: read_params(sink, &c),
        resources,
        file: sink.file().to_owned(),
        pos: c.pos(),
        path: path.to_owned(),
    }))
}

pub(super) fn read_auth(sink: &mut Sink, node: &Node, path: &str) -> Option<Authentication> {
    let a = Obj::open(sink, node, path, "`authentication`", AUTH_KEYS)?;
    Some(Authentication {
        kind: a.req_str(
            sink,
            "type",
            "`authentication`",
            "add `type: bearer` (or basic, apikey, digest)",
        ),
        token: a.str(sink, "token"),
        username: a.str(sink, "username"),
        password: a.str(sink, "password"),
        key: a.str(sink, "key").or_else(|| a.str(sink, "name")),
        value: a.str(sink, "value"),
        placement: a.str(sink, "placement").or_else(|| a.str(sink, "in")),
        client_id: a.str(sink, "clientId"),
        client_secret: a.str(sink, "clientSecret"),
        token_endpoint: a
            .str(sink, "tokenEndpoint")
            .or_else(|| a.str(sink, "tokenUrl")),
        authorization_server: a.str(sink, "authorizationServerUri"),
        scopes: match a.get("scopes") {
            Some(n) => match &n.value {
                crate::yaml::Value::Seq(items) => Some(Spanned::new(
                    items
                        .iter()
                        .filter_map(|i| i.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    n.pos,
                    a.at("scopes"),
                )),
                _ => a.str(sink, "scopes"),
            },
            None => None,
        },
        audience: a.str(sink, "audience"),
        resource: a.str(sink, "resource"),
        token_validation: a.str(sink, "tokenValidation"),
        pos: a.pos(),
        path: path.to_owned(),
    })
}

fn read_resource(sink: &mut Sink, node: &Node, path: &str) -> Option<Resource> {
    let r = Obj::open(sink, node, path, "a consumed resource", RESOURCE_KEYS)?;
    let operations = r
        .list(sink, "operations")
        .into_iter()
        .filter_map(|(path, node)| read_operation(sink, node, &path))
        .collect();
    Some(Resource {
        name: r.str(sink, "name"),
        path: r.req_str(
            sink,
            "path",
            "a consumed resource",
            "add `path: /items/{id}`",
        ),
        input_parameters: read_params(sink, &r),
        operations,
    })
}

fn read_operation(sink: &mut Sink, node: &Node, path: &str) -> Option<Operation> {
    let o = Obj::open(sink, node, path, "a consumed operation", OPERATION_KEYS)?;
    let body = o.get("body").and_then(|n| {
        let at = o.at("body");
        if n.as_str().is_some() {
            // `body: '{{...}}'`: a raw template string.
            return Some(Body {
                kind: None,
                data: Some(n.clone()),
                pos: n.pos,
                path: at,
            });
        }
        let b = Obj::open(sink, n, &at, "`body`", BODY_KEYS)?;
        Some(Body {
            kind: b.str(sink, "type"),
            data: b.get("data").cloned(),
            pos: b.pos(),
            path: at,
        })
    });
    Some(Operation {
        name: o.req_str(
            sink,
            "name",
            "a consumed operation",
            "add `name: <operation>`",
        ),
        method: o.req_str(
            sink,
            "method",
            "a consumed operation",
            "add `method: GET` (or POST, PUT, PATCH, DELETE)",
        ),
        description: o.str(sink, "description"),
        path: o.str(sink, "path"),
        input_parameters: read_params(sink, &o),
        body,
        output_raw_format: o.str(sink, "outputRawFormat"),
        output_schema: o.str(sink, "outputSchema"),
        output_parameters: read_outputs(sink, &o),
        pos: o.pos(),
        path_in_doc: path.to_owned(),
    })
}

pub(super) fn read_params(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Param> {
    obj.list(sink, "inputParameters")
        .into_iter()
        .filter_map(|(path, node)| {
            let p = Obj::open(sink, node, &path, "an input parameter", PARAM_KEYS)?;
            Some(Param {
                name: p.req_str(
                    sink,
                    "name",
                    "an input parameter",
                    "add `name: <parameter>`",
                ),
                location: p.str(sink, "in"),
                ty: p.str(sink, "type"),
                required: p.bool(sink, "required"),
                description: p.str(sink, "description"),
                value: p.get("value").and_then(|v| match v.as_str() {
                    Some(t) => Some(Spanned::new(t.to_owned(), v.pos, p.at("value"))),
                    None => {
                        sink.error(
                            v.pos,
                            &p.at("value"),
                            "`value` must be a string",
                            "quote the value",
                        );
                        None
                    }
                }),
                pos: p.pos(),
                path,
            })
        })
        .collect()
}

/// Consumed outputs: `value` is the JSONPath.
fn read_outputs(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Output> {
    obj.list(sink, "outputParameters")
        .into_iter()
        .filter_map(|(path, node)| read_output(sink, node, &path, true))
        .collect()
}

/// Exposed outputs: `mapping` is the JSONPath, `value` a mock value.
pub(super) fn read_exposed_outputs(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Output> {
    obj.list(sink, "outputParameters")
        .into_iter()
        .filter_map(|(path, node)| read_output(sink, node, &path, false))
        .collect()
}

fn read_output(sink: &mut Sink, node: &Node, path: &str, consumed: bool) -> Option<Output> {
    let o = Obj::open(sink, node, path, "an output parameter", OUTPUT_KEYS)?;
    let properties = o
        .map(sink, "properties")
        .into_iter()
        .filter_map(|(name, node)| {
            let at = name.path.clone();
            read_output(sink, node, &at, consumed).map(|out| (name, out))
        })
        .collect();
    let items = o.get("items").and_then(|n| {
        let at = o.at("items");
        match &n.value {
            // `items: [ {name, type}, ... ]` (older form): the first entry describes items.
            crate::yaml::Value::Seq(list) => list
                .first()
                .and_then(|first| read_output(sink, first, &index(&at, 0), consumed)),
            _ => read_output(sink, n, &at, consumed),
        }
    });
    let (mapping, mock) = if consumed {
        (
            o.str(sink, "value").or_else(|| o.str(sink, "mapping")),
            None,
        )
    } else {
        (o.str(sink, "mapping"), o.get("value").cloned())
    };
    Some(Output {
        name: o.str(sink, "name"),
        ty: o.str(sink, "type"),
        mapping,
        constant: o.get("const").cloned(),
        mock,
        properties,
        items: items.map(Box::new),
        pos: o.pos(),
        path: path.to_owned(),
    })
}

pub(super) fn read_with(sink: &mut Sink, obj: &Obj<'_>) -> Vec<(Spanned<String>, Node)> {
    obj.map(sink, "with")
        .into_iter()
        .map(|(k, v)| (k, v.clone()))
        .collect()
}

pub(super) fn read_steps(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Step> {
    obj.list(sink, "steps")
        .into_iter()
        .filter_map(|(path, node)| {
            let s = Obj::open(sink, node, &path, "a step", STEP_KEYS)?;
            let outputs = s
                .list(sink, "outputParameters")
                .into_iter()
                .filter_map(|(p, n)| match n.as_str() {
                    Some(t) => Some(Spanned::new(t.to_owned(), n.pos, p)),
                    None => {
                        sink.error(
                            n.pos,
                            &p,
                            format!("a lookup output must be a field name, found {}", n.kind()),
                            "list the fields a match keeps, e.g. `- fullName`",
                        );
                        None
                    }
                })
                .collect();
            Some(Step {
                name: s.str(sink, "name"),
                kind: s.str(sink, "type"),
                call: s.str(sink, "call"),
                with: read_with(sink, &s),
                index: s.str(sink, "index"),
                match_key: s.str(sink, "match"),
                lookup_value: s.str(sink, "lookupValue"),
                outputs,
                pos: s.pos(),
                path,
            })
        })
        .collect()
}

const MAPPING_KEYS: &[&str] = &["targetName", "value"];

pub(super) fn read_mappings(sink: &mut Sink, obj: &Obj<'_>) -> Vec<Mapping> {
    obj.list(sink, "mappings")
        .into_iter()
        .filter_map(|(path, node)| {
            let m = Obj::open(sink, node, &path, "a mapping", MAPPING_KEYS)?;
            Some(Mapping {
                target: m.req_str(
                    sink,
                    "targetName",
                    "a mapping",
                    "add `targetName: <output>`",
                )?,
                value: m.req_str(sink, "value", "a mapping", "add `value: $.<step>.<field>`")?,
            })
        })
        .collect()
}

fn read_exposes(sink: &mut Sink, node: &Node, path: &str) -> Option<Exposes> {
    // Skill and control adapters have keys of their own.
    let peek = match &node.value {
        crate::yaml::Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some("type"))
            .and_then(|(_, v)| v.as_str()),
        _ => None,
    };
    match peek {
        Some("skill") => return extra::read_skill_adapter(sink, node, path).map(Exposes::Skill),
        Some("control") => {
            return extra::read_control_adapter(sink, node, path).map(Exposes::Control);
        }
        _ => {}
    }
    let e = Obj::open(sink, node, path, "an exposes entry", EXPOSES_KEYS)?;
    let kind = e.req_str(
        sink,
        "type",
        "an exposes entry",
        "add `type: rest` or `type: mcp`",
    )?;
    match kind.value.as_str() {
        "rest" => {
            let resources = e
                .list(sink, "resources")
                .into_iter()
                .filter_map(|(path, node)| read_rest_resource(sink, node, &path))
                .collect();
            Some(Exposes::Rest(RestAdapter {
                namespace: e.str(sink, "namespace"),
                port: e.port(sink, "port"),
                address: e.str(sink, "address"),
                description: e.str(sink, "description"),
                resources,
                authentication: e
                    .get("authentication")
                    .and_then(|n| read_auth(sink, n, &e.at("authentication"))),
                pos: e.pos(),
                path: path.to_owned(),
            }))
        }
        "mcp" => {
            let tools = e
                .list(sink, "tools")
                .into_iter()
                .filter_map(|(path, node)| read_tool(sink, node, &path))
                .collect();
            let (resources, prompts) = extra::read_mcp_extras(sink, &e);
            Some(Exposes::Mcp(McpAdapter {
                namespace: e.str(sink, "namespace"),
                port: e.port(sink, "port"),
                address: e.str(sink, "address"),
                transport: e.str(sink, "transport"),
                description: e.str(sink, "description"),
                tools,
                authentication: e
                    .get("authentication")
                    .and_then(|n| read_auth(sink, n, &e.at("authentication"))),
                resources,
                prompts,
                pos: e.pos(),
                path: path.to_owned(),
            }))
        }
        _ => Some(Exposes::Other { kind }),
    }
}

fn read_rest_resource(sink: &mut Sink, node: &Node, path: &str) -> Option<RestResource> {
    let r = Obj::open(sink, node, path, "an exposed resource", REST_RESOURCE_KEYS)?;
    let operations = r
        .list(sink, "operations")
        .into_iter()
        .filter_map(|(path, node)| {
            let o = Obj::open(
                sink,
                node,
                &path,
                "an exposed operation",
                REST_OPERATION_KEYS,
            )?;
            Some(RestOperation {
                method: o.req_str(
                    sink,
                    "method",
                    "an exposed operation",
                    "add `method: GET` (or POST, PUT, ...)",
                ),
                name: o.str(sink, "name"),
                description: o.str(sink, "description"),
                call: o.str(sink, "call"),
                with: read_with(sink, &o),
                input_parameters: read_params(sink, &o),
                output_parameters: read_exposed_outputs(sink, &o),
                steps: read_steps(sink, &o),
                mappings: read_mappings(sink, &o),
                reference: o.str(sink, "ref"),
                aggregate: None,
                pos: o.pos(),
                path,
            })
        })
        .collect();
    let forward = r.get("forward").and_then(|n| {
        let f = Obj::open(sink, n, &r.at("forward"), "`forward`", FORWARD_KEYS)?;
        let trusted_headers = f
            .list(sink, "trustedHeaders")
            .into_iter()
            .filter_map(|(p, n)| n.as_str().map(|t| Spanned::new(t.to_owned(), n.pos, p)))
            .collect();
        Some(Forward {
            target_namespace: f.str(sink, "targetNamespace"),
            trusted_headers,
        })
    });
    Some(RestResource {
        path: r.req_str(sink, "path", "an exposed resource", "add `path: /v1/items`"),
        name: r.str(sink, "name"),
        description: r.str(sink, "description"),
        input_parameters: read_params(sink, &r),
        operations,
        forward,
        pos: r.pos(),
        path_in_doc: path.to_owned(),
    })
}

fn read_tool(sink: &mut Sink, node: &Node, path: &str) -> Option<Tool> {
    let t = Obj::open(sink, node, path, "an MCP tool", TOOL_KEYS)?;
    let hints = match t.get("hints") {
        Some(n) => match Obj::open(sink, n, &t.at("hints"), "`hints`", HINT_KEYS) {
            Some(h) => Hints {
                read_only: h.bool(sink, "readOnly").map(|b| b.value),
                destructive: h.bool(sink, "destructive").map(|b| b.value),
                idempotent: h.bool(sink, "idempotent").map(|b| b.value),
                open_world: h.bool(sink, "openWorld").map(|b| b.value),
            },
            None => Hints::default(),
        },
        None => Hints::default(),
    };
    let reference = t.str(sink, "ref");
    let name = if reference.is_some() {
        // A tool that points at an aggregate function takes its name from it.
        t.str(sink, "name")
    } else {
        t.req_str(sink, "name", "an MCP tool", "add `name: <tool-name>`")
    };
    Some(Tool {
        name,
        reference,
        aggregate: None,
        label: t.str(sink, "label"),
        description: t.str(sink, "description"),
        hints,
        input_parameters: read_params(sink, &t),
        call: t.str(sink, "call"),
        with: read_with(sink, &t),
        output_parameters: read_exposed_outputs(sink, &t),
        steps: read_steps(sink, &t),
        mappings: read_mappings(sink, &t),
        pos: t.pos(),
        path: path.to_owned(),
    })
}
