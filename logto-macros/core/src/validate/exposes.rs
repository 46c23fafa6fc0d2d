//! Exposed adapters: `call` targets, REST operations and MCP tools.

use std::collections::HashMap;

use super::bindings::BindingScope;
use super::steps::{StepScope, find_function, merge_operation, merge_tool};
use super::template::path_vars;
use super::{
    Cx, check_route, json_type, location, mapping, method, mock, normalize_route, script_step,
    unique,
};
use crate::diagnostics::{Sink, help_with_suggestion};
use crate::ir::{self, JsonType, Location};
use crate::names::snake;
use crate::spec::{self, Spanned};
use crate::yaml::Pos;

impl Cx {
    pub(super) fn call(&self, sink: &mut Sink, call: &Spanned<String>) -> Option<ir::CallRef> {
        let namespaces: Vec<&str> = self.apis.iter().map(|a| a.namespace.as_str()).collect();
        let Some((ns, op)) = call.value.split_once('.') else {
            sink.error(
                call.pos,
                &call.path,
                format!("`call: {}` must name `namespace.operation`", call.value),
                help_with_suggestion(&call.value, &namespaces, "namespace"),
            );
            return None;
        };
        let Some(api) = self.apis.iter().position(|a| a.namespace == ns) else {
            sink.error(
                call.pos,
                &call.path,
                format!(
                    "`call: {}` names namespace `{ns}`, which is not consumed",
                    call.value
                ),
                help_with_suggestion(ns, &namespaces, "namespace"),
            );
            return None;
        };
        let ops = &self.apis.get(api)?.operations;
        let Some(op_i) = ops.iter().position(|o| o.name == op) else {
            let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
            sink.error(
                call.pos,
                &call.path,
                format!(
                    "`call: {}`: namespace `{ns}` has no operation `{op}`",
                    call.value
                ),
                help_with_suggestion(op, &names, "operation"),
            );
            return None;
        };
        Some(ir::CallRef { api, op: op_i })
    }

    pub(super) fn consumed(&self, call: ir::CallRef) -> Option<&ir::ConsumedOp> {
        self.apis.get(call.api)?.operations.get(call.op)
    }

    pub(super) fn rest(
        &mut self,
        sink: &mut Sink,
        a: &spec::RestAdapter,
        index: usize,
        aggregates: &[spec::Aggregate],
        later: &mut Vec<(Pos, String, String)>,
    ) -> ir::RestAdapter {
        let auth = a
            .authentication
            .as_ref()
            .and_then(|spec_auth| self.inbound_auth(sink, spec_auth, "a REST adapter", later));
        let namespace = a
            .namespace
            .as_ref()
            .map_or_else(|| format!("rest-{index}"), |n| n.value.clone());
        let mut operations = Vec::new();
        let mut routes: HashMap<(String, String), Spanned<String>> = HashMap::new();
        let mut fns: HashMap<String, String> = HashMap::new();
        let mut forwards = Vec::new();
        for res in &a.resources {
            let Some(route) = &res.path else { continue };
            let route_vars: Vec<&str> = path_vars(&route.value);
            check_route(sink, route);
            if let Some(f) = &res.forward
                && let Some(target) = &f.target_namespace
            {
                if let Some(fw) =
                    self.forward_route(sink, route, target, f, !res.operations.is_empty())
                {
                    forwards.push(fw);
                }
                continue;
            }
            for op in &res.operations {
                let Some(m) = op.method.as_ref().and_then(|m| method(sink, m)) else {
                    continue;
                };
                // `ref`: the aggregate function's work, inherited (unknown
                // references are reported by `check_references`).
                let merged;
                let op = match &op.reference {
                    Some(r) => match find_function(aggregates, &r.value) {
                        Some(f) => {
                            merged = merge_operation(op, &f, &m);
                            &merged
                        }
                        None => continue,
                    },
                    None => op,
                };
                let normalized = normalize_route(&route.value);
                if let Some(first) = routes.get(&(m.clone(), normalized.clone())) {
                    sink.error(
                        op.pos,
                        &op.path,
                        format!(
                            "route `{m} {}` is exposed twice; the first is at line {} ({})",
                            route.value, first.pos.line, first.path
                        ),
                        "remove one of them or give it another path or method",
                    );
                    continue;
                }
                routes.insert(
                    (m.clone(), normalized),
                    Spanned::new(route.value.clone(), op.pos, op.path.clone()),
                );
                let name = op.name.as_ref().map_or_else(
                    || format!("{} {}", m.to_lowercase(), route.value),
                    |n| n.value.clone(),
                );
                let fn_name = rest_fn_name(&mut fns, &name, &m, &route.value);
                let mut inputs: Vec<ir::ExposedInput> = Vec::new();
                let mut taken = Vec::new();
                for v in &route_vars {
                    inputs.push(ir::ExposedInput {
                        name: (*v).to_owned(),
                        rust_name: unique(&mut taken, snake(v)),
                        location: Location::Path,
                        ty: JsonType::String,
                        required: true,
                        description: None,
                    });
                }
                let declared = !res.input_parameters.is_empty() || !op.input_parameters.is_empty();
                for p in res.input_parameters.iter().chain(&op.input_parameters) {
                    let (Some(n), Some(loc)) = (&p.name, location(sink, p)) else {
                        continue;
                    };
                    if loc == Location::Path || inputs.iter().any(|i| i.name == n.value) {
                        continue;
                    }
                    inputs.push(ir::ExposedInput {
                        name: n.value.clone(),
                        rust_name: unique(&mut taken, snake(&n.value)),
                        location: loc,
                        ty: json_type(sink, p.ty.as_ref(), JsonType::String),
                        required: p.required.as_ref().is_some_and(|r| r.value),
                        description: p.description.as_ref().map(|d| d.value.clone()),
                    });
                }
                let call = op.call.as_ref().and_then(|c| self.call(sink, c));
                let mut prefixes = vec![namespace.as_str(), "rest"];
                prefixes.extend(op.aggregate.as_deref());
                let orchestrated = !op.steps.is_empty();
                let steps = if orchestrated && script_step(&op.steps).is_none() {
                    self.orchestration(
                        sink,
                        &op.steps,
                        &op.mappings,
                        &op.output_parameters,
                        StepScope {
                            prefixes: &prefixes,
                            inputs: &mut inputs,
                            taken: &mut taken,
                            declared,
                            mcp: false,
                        },
                    )
                } else {
                    None
                };
                let bindings = match call {
                    Some(c) => self.bindings(
                        sink,
                        BindingScope {
                            prefixes: &prefixes,
                            with: &op.with,
                            inputs: &mut inputs,
                            taken: &mut taken,
                            declared,
                            mcp: false,
                            call_pos: op.call.as_ref().map_or(op.pos, |c| c.pos),
                            call_path: op
                                .call
                                .as_ref()
                                .map_or(op.path.as_str(), |c| c.path.as_str()),
                            lenient: !op.steps.is_empty(),
                        },
                        c,
                    ),
                    None => Vec::new(),
                };
                let op_mock = mock(
                    sink,
                    &op.output_parameters,
                    &inputs,
                    op.call.is_some() || orchestrated,
                );
                operations.push(ir::RestOp {
                    name,
                    fn_name,
                    method: m,
                    route: route.value.clone(),
                    description: op.description.as_ref().map(|d| d.value.clone()),
                    inputs,
                    call,
                    bindings,
                    output_mapping: if orchestrated {
                        None
                    } else {
                        mapping(sink, &op.output_parameters)
                    },
                    mock: op_mock,
                    steps,
                    trusted_headers: res
                        .forward
                        .as_ref()
                        .map(|f| f.trusted_headers.iter().map(|h| h.value.clone()).collect())
                        .unwrap_or_default(),
                    unsupported: script_step(&op.steps),
                    values: res
                        .input_parameters
                        .iter()
                        .chain(&op.input_parameters)
                        .filter_map(|p| {
                            Some((
                                p.name.as_ref()?.value.clone(),
                                p.value.as_ref()?.value.clone(),
                            ))
                        })
                        .collect(),
                    pos: op.pos,
                    yaml_path: op.path.clone(),
                });
            }
        }
        ir::RestAdapter {
            module: snake(&namespace),
            namespace,
            port: a.port.as_ref().map(|p| p.value),
            address: a.address.as_ref().map(|p| p.value.clone()),
            description: a.description.as_ref().map(|d| d.value.clone()),
            auth,
            forwards,
            operations,
        }
    }

    /// A resource proxied whole to `target` (`forward.targetNamespace`).
    fn forward_route(
        &self,
        sink: &mut Sink,
        route: &Spanned<String>,
        target: &Spanned<String>,
        f: &spec::Forward,
        has_operations: bool,
    ) -> Option<ir::ForwardRoute> {
        let namespaces: Vec<&str> = self.apis.iter().map(|a| a.namespace.as_str()).collect();
        let Some(api) = self.apis.iter().position(|a| a.namespace == target.value) else {
            sink.error(
                target.pos,
                &target.path,
                format!(
                    "`targetNamespace: {}` is not a consumed namespace",
                    target.value
                ),
                help_with_suggestion(&target.value, &namespaces, "namespace"),
            );
            return None;
        };
        if has_operations {
            sink.error(
                route.pos,
                &route.path,
                format!("resource `{}` both forwards to `{}` and declares operations", route.value, target.value),
                "a resource proxied whole answers every method: move the operations to another path",
            );
            return None;
        }
        let parts = super::template::split(&route.value, true, false);
        let (prefix, wildcard) = match parts.as_slice() {
            [super::template::Part::Text(t)] => ((*t).to_owned(), false),
            [
                super::template::Part::Text(t),
                super::template::Part::Var("path"),
            ] if t.ends_with('/') => ((*t).to_owned(), true),
            _ => {
                sink.error(
                    route.pos,
                    &route.path,
                    format!("forwarded route `{}` must be a fixed path, optionally ending in `/{{{{path}}}}`", route.value),
                    "write `/proxy/{{path}}`: `path` takes the rest of the request path, slashes included",
                );
                return None;
            }
        };
        Some(ir::ForwardRoute {
            route: route.value.clone(),
            prefix,
            wildcard,
            api,
            trusted_headers: f.trusted_headers.iter().map(|h| h.value.clone()).collect(),
        })
    }

    pub(super) fn mcp(
        &mut self,
        sink: &mut Sink,
        a: &spec::McpAdapter,
        index: usize,
        aggregates: &[spec::Aggregate],
        later: &mut Vec<(Pos, String, String)>,
    ) -> ir::McpAdapter {
        let (bearer_token, inbound) = match a
            .authentication
            .as_ref()
            .and_then(|auth| self.inbound_auth(sink, auth, "an MCP adapter", later))
        {
            Some(ir::Auth::Bearer { token }) => (Some(token), None),
            other => (None, other),
        };
        let namespace = a
            .namespace
            .as_ref()
            .map_or_else(|| format!("mcp-{index}"), |n| n.value.clone());
        let stdio = match a.transport.as_ref() {
            None => false,
            Some(t) if t.value == "http" => false,
            Some(t) if t.value == "stdio" => true,
            Some(t) => {
                sink.error(
                    t.pos,
                    &t.path,
                    format!("MCP transport `{}` is not known", t.value),
                    help_with_suggestion(&t.value, &["http", "stdio"], "transport"),
                );
                false
            }
        };
        let mut tools = Vec::new();
        let mut names: HashMap<String, Spanned<String>> = HashMap::new();
        let mut fns: HashMap<String, String> = HashMap::new();
        for t in &a.tools {
            let merged;
            let t = match &t.reference {
                Some(r) => match find_function(aggregates, &r.value) {
                    Some(f) => {
                        merged = merge_tool(t, &f);
                        &merged
                    }
                    None => continue,
                },
                None => t,
            };
            let Some(name) = &t.name else { continue };
            if let Some(first) = names.get(&name.value) {
                sink.error(
                    name.pos,
                    &name.path,
                    format!(
                        "MCP tool `{}` is declared twice; the first is at line {} ({})",
                        name.value, first.pos.line, first.path
                    ),
                    "tool names must be unique within an MCP adapter: rename one of them",
                );
                continue;
            }
            names.insert(name.value.clone(), name.clone());
            let fn_name = snake(&name.value);
            if let Some(other) = fns.insert(fn_name.clone(), name.value.clone()) {
                sink.error(
                    name.pos,
                    &name.path,
                    format!(
                        "tools `{other}` and `{}` both become the Rust method `{fn_name}`",
                        name.value
                    ),
                    "rename one of them",
                );
            }
            if t.hints.read_only == Some(true) && t.hints.destructive == Some(true) {
                sink.error(
                    t.pos,
                    &spec::join(&t.path, "hints"),
                    format!(
                        "tool `{}` is hinted both `readOnly` and `destructive`",
                        name.value
                    ),
                    "a read-only tool cannot be destructive: set one of them to false",
                );
            }
            let mut inputs = Vec::new();
            let mut taken = Vec::new();
            for p in &t.input_parameters {
                let Some(n) = &p.name else { continue };
                if inputs.iter().any(|i: &ir::ExposedInput| i.name == n.value) {
                    sink.error(
                        n.pos,
                        &n.path,
                        format!("argument `{}` is declared twice", n.value),
                        "remove one of them",
                    );
                    continue;
                }
                inputs.push(ir::ExposedInput {
                    name: n.value.clone(),
                    rust_name: unique(&mut taken, snake(&n.value)),
                    location: Location::Body,
                    ty: json_type(sink, p.ty.as_ref(), JsonType::String),
                    required: p.required.as_ref().is_some_and(|r| r.value),
                    description: p.description.as_ref().map(|d| d.value.clone()),
                });
            }
            let call = t.call.as_ref().and_then(|c| self.call(sink, c));
            let mut prefixes = vec![namespace.as_str(), "tools"];
            prefixes.extend(t.aggregate.as_deref());
            let orchestrated = !t.steps.is_empty();
            let declared = !t.input_parameters.is_empty();
            let steps = if orchestrated && script_step(&t.steps).is_none() {
                self.orchestration(
                    sink,
                    &t.steps,
                    &t.mappings,
                    &t.output_parameters,
                    StepScope {
                        prefixes: &prefixes,
                        inputs: &mut inputs,
                        taken: &mut taken,
                        declared,
                        mcp: true,
                    },
                )
            } else {
                None
            };
            let bindings = match call {
                Some(c) => self.bindings(
                    sink,
                    BindingScope {
                        prefixes: &prefixes,
                        with: &t.with,
                        inputs: &mut inputs,
                        taken: &mut taken,
                        declared: !t.input_parameters.is_empty(),
                        mcp: true,
                        call_pos: t.call.as_ref().map_or(t.pos, |c| c.pos),
                        call_path: t.call.as_ref().map_or(t.path.as_str(), |c| c.path.as_str()),
                        lenient: !t.steps.is_empty(),
                    },
                    c,
                ),
                None => Vec::new(),
            };
            let tool_mock = mock(
                sink,
                &t.output_parameters,
                &inputs,
                t.call.is_some() || orchestrated,
            );
            tools.push(ir::McpTool {
                name: name.value.clone(),
                fn_name,
                title: t.label.as_ref().map(|l| l.value.clone()),
                description: t.description.as_ref().map(|d| d.value.clone()),
                hints: [
                    t.hints.read_only,
                    t.hints.destructive,
                    t.hints.idempotent,
                    t.hints.open_world,
                ],
                inputs,
                call,
                bindings,
                output_mapping: if orchestrated {
                    None
                } else {
                    mapping(sink, &t.output_parameters)
                },
                mock: tool_mock,
                steps,
                unsupported: script_step(&t.steps),
                pos: t.pos,
                yaml_path: t.path.clone(),
            });
        }
        let resources = a
            .resources
            .iter()
            .filter_map(|r| self.mcp_resource(sink, r, &namespace))
            .collect();
        let prompts = a
            .prompts
            .iter()
            .filter_map(|p| mcp_prompt(sink, p))
            .collect();
        ir::McpAdapter {
            resources,
            prompts,
            module: snake(&namespace),
            namespace,
            port: a.port.as_ref().map(|p| p.value),
            address: a.address.as_ref().map(|p| p.value.clone()),
            stdio,
            description: a.description.as_ref().map(|d| d.value.clone()),
            bearer_token,
            inbound,
            tools,
        }
    }
}

/// The Rust method of an exposed operation: its name in snake_case; when
/// an earlier operation of the adapter has it already, with the route
/// appended (`post_2_files_copy`), or the method when the route is the same
/// (`get_forecast_post`), then a number. Deterministic: spec order decides.
/// `fns` maps each name taken to the route that took it.
fn rest_fn_name(
    fns: &mut HashMap<String, String>,
    name: &str,
    method: &str,
    route: &str,
) -> String {
    let base = snake(name);
    let candidate = match fns.get(&base) {
        None => base.clone(),
        Some(first_route) if first_route == route => format!("{base}_{}", method.to_lowercase()),
        Some(_) => {
            let words = snake(&route.replace(['{', '}'], ""));
            format!("{base}_{}", words.trim_matches('_'))
        }
    };
    let mut chosen = candidate.clone();
    let mut n = 2;
    while fns.contains_key(&chosen) {
        chosen = format!("{candidate}_{n}");
        n += 1;
    }
    fns.insert(chosen.clone(), route.to_owned());
    chosen
}

impl Cx {
    /// Inbound `authentication` of an adapter: bearer, basic, digest, API
    /// key or OAuth 2.0 tokens checked with the server's JWKS; token
    /// introspection is noted as not generated yet.
    pub(super) fn inbound_auth(
        &mut self,
        sink: &mut Sink,
        spec_auth: &spec::Authentication,
        adapter: &str,
        later: &mut Vec<(Pos, String, String)>,
    ) -> Option<ir::Auth> {
        let introspection = spec_auth
            .token_validation
            .as_ref()
            .is_some_and(|v| v.value == "introspection");
        let kind = match self.auth(sink, spec_auth)? {
            ir::Auth::OAuth2 { issuer: None, .. } => {
                sink.error(
                    spec_auth.pos,
                    &spec_auth.path,
                    "inbound `oauth2` needs `authorizationServerUri`: its keys validate the tokens",
                    "add `authorizationServerUri: https://auth.example.com/realms/app`",
                );
                return None;
            }
            ir::Auth::OAuth2 { .. } if introspection => {
                "oauth2` with `tokenValidation: introspection`"
            }
            other => return Some(other),
        };
        later.push((
            spec_auth.pos,
            spec_auth.path.clone(),
            format!("inbound `{kind} on {adapter} is not generated yet (bearer, basic, digest, apikey and oauth2 with JWKS are)"),
        ));
        None
    }

    /// An MCP resource: its `call` (a one-step orchestration), `steps` or
    /// `location` file; the URI template's variables are its inputs.
    fn mcp_resource(
        &self,
        sink: &mut Sink,
        r: &spec::McpResource,
        namespace: &str,
    ) -> Option<ir::McpResource> {
        let name = r.name.as_ref()?;
        let uri = r.uri.as_ref()?;
        let vars = path_vars(&uri.value);
        if vars
            .iter()
            .any(|v| v.is_empty() || v.contains(['/', '{', '}']))
        {
            sink.error(
                uri.pos,
                &uri.path,
                format!(
                    "URI template `{}` has a malformed `{{}}` variable",
                    uri.value
                ),
                "write variables as `{name}`, each standing for one path segment",
            );
            return None;
        }
        let source = match (&r.call, r.steps.is_empty(), &r.location) {
            (None, true, Some(loc)) => ir::ResourceSource::File(loc.value.clone()),
            (Some(_), true, None) | (None, false, None) => {
                let steps = match &r.call {
                    Some(c) => vec![spec::Step {
                        name: Some(Spanned::new("resource".to_owned(), c.pos, c.path.clone())),
                        kind: None,
                        call: Some(c.clone()),
                        with: r.with.clone(),
                        index: None,
                        match_key: None,
                        lookup_value: None,
                        outputs: Vec::new(),
                        pos: c.pos,
                        path: c.path.clone(),
                    }],
                    None => r.steps.clone(),
                };
                if let Some(why) = script_step(&steps) {
                    sink.error(
                        r.pos,
                        &r.path,
                        format!("MCP resource `{}`: {why}", name.value),
                        "use `call` or `call`/`lookup` steps",
                    );
                    return None;
                }
                let mut inputs: Vec<ir::ExposedInput> = vars
                    .iter()
                    .map(|v| ir::ExposedInput {
                        name: (*v).to_owned(),
                        rust_name: snake(v),
                        location: Location::Path,
                        ty: JsonType::String,
                        required: true,
                        description: None,
                    })
                    .collect();
                let mut taken = Vec::new();
                let prefixes = [namespace, "tools"];
                ir::ResourceSource::Steps(self.orchestration(
                    sink,
                    &steps,
                    &r.mappings,
                    &[],
                    StepScope {
                        prefixes: &prefixes,
                        inputs: &mut inputs,
                        taken: &mut taken,
                        declared: true,
                        mcp: true,
                    },
                )?)
            }
            _ => {
                sink.error(
                    r.pos,
                    &r.path,
                    format!("MCP resource `{}` needs exactly one of `call`, `steps` and `location`", name.value),
                    "serve it with `call: namespace.operation`, orchestrated `steps`, or a `location: file:///...`",
                );
                return None;
            }
        };
        Some(ir::McpResource {
            name: name.value.clone(),
            title: r.label.as_ref().map(|l| l.value.clone()),
            description: r.description.as_ref().map(|d| d.value.clone()),
            mime_type: r.mime_type.as_ref().map(|m| m.value.clone()),
            uri: uri.value.clone(),
            source,
        })
    }
}

/// An MCP prompt: its messages (or file), arguments and their `{{use}}`s.
fn mcp_prompt(sink: &mut Sink, p: &spec::Prompt) -> Option<ir::McpPrompt> {
    let name = p.name.as_ref()?;
    for (role, _) in &p.template {
        if !matches!(role.value.as_str(), "user" | "assistant") {
            sink.error(
                role.pos,
                &role.path,
                format!("prompt role `{}` is not `user` or `assistant`", role.value),
                help_with_suggestion(&role.value, &["user", "assistant"], "role"),
            );
        }
    }
    if p.template.is_empty() == p.location.is_none() {
        sink.error(
            p.pos,
            &p.path,
            format!(
                "prompt `{}` needs exactly one of `template` and `location`",
                name.value
            ),
            "write its messages under `template:`, or point `location: file:///...` at a file",
        );
        return None;
    }
    Some(ir::McpPrompt {
        name: name.value.clone(),
        title: p.label.as_ref().map(|l| l.value.clone()),
        description: p.description.as_ref().map(|d| d.value.clone()),
        arguments: p
            .arguments
            .iter()
            .map(|(n, d, required)| {
                (
                    n.value.clone(),
                    d.as_ref().map(|d| d.value.clone()),
                    *required,
                )
            })
            .collect(),
        messages: p
            .template
            .iter()
            .map(|(r, c)| (r.value.clone(), c.value.clone()))
            .collect(),
        file: p.location.as_ref().map(|l| l.value.clone()),
    })
}
