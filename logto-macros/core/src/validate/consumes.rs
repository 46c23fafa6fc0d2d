//! Consumed APIs: base URIs, binds and templates, authentication, and each
//! operation's inputs, path and body.

use std::collections::HashMap;

use super::template::{Part, path_vars, split};
use super::{Cx, collect_template_vars, json_type, location, mapping, method, unique};
use crate::diagnostics::{Sink, help_with_suggestion};
use crate::ir::{self, JsonType, Location, Piece};
use crate::names::snake;
use crate::spec::{self, Spanned};
use crate::yaml::Node;

impl Cx {
    /// Resolves a template of binds; `vars` names base URI variables allowed.
    pub(super) fn template(
        &mut self,
        sink: &mut Sink,
        s: &Spanned<String>,
        brackets: bool,
        vars: Option<&mut Vec<String>>,
    ) -> ir::Template {
        let mut pieces = Vec::new();
        let mut vars = vars;
        for part in split(&s.value, false, brackets) {
            match part {
                Part::Text(t) => pieces.push(Piece::Text(t.to_owned())),
                Part::Var(v) => {
                    if let Some(i) = self.find_bind(v) {
                        if let Some(b) = self.binds.get_mut(i) {
                            b.used_at.get_or_insert_with(|| {
                                format!("{}:{}:{}", sink.file(), s.pos.line, s.pos.col)
                            });
                        }
                        pieces.push(Piece::Bind(i));
                    } else if self.fragment && vars.is_none() {
                        let (namespace, var) = match v.split_once('.') {
                            Some((ns, var)) => (Some(ns.to_owned()), var),
                            None => (None, v),
                        };
                        self.binds.push(ir::BindVar {
                            namespace,
                            var: var.to_owned(),
                            source_key: var.to_owned(),
                            location: None,
                            used_at: Some(format!("{}:{}:{}", sink.file(), s.pos.line, s.pos.col)),
                        });
                        pieces.push(Piece::Bind(self.binds.len() - 1));
                    } else if let Some(list) = vars.as_deref_mut() {
                        if !v.is_empty()
                            && v.chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                        {
                            if !list.iter().any(|x| x == v) {
                                list.push(v.to_owned());
                            }
                            pieces.push(Piece::Var(v.to_owned()));
                        } else {
                            sink.error(
                                s.pos,
                                &s.path,
                                format!("`{v}` is not a valid base URI variable name"),
                                "use letters, digits, `_` and `-`, e.g. `[tenant_id]`",
                            );
                        }
                    } else {
                        let names: Vec<String> = self
                            .binds
                            .iter()
                            .map(|b| match &b.namespace {
                                Some(ns) => format!("{ns}.{}", b.var),
                                None => b.var.clone(),
                            })
                            .collect();
                        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                        sink.error(
                            s.pos,
                            &s.path,
                            format!("bound variable `{v}` is used but not declared"),
                            match crate::diagnostics::did_you_mean(v, refs.iter().copied()) {
                                Some(best) => format!("did you mean `{best}`?"),
                                None => format!(
                                    "declare it under `binds:`, e.g. `- namespace: env` with `keys: {{{}: {}}}`",
                                    v.rsplit('.').next().unwrap_or(v),
                                    v.rsplit('.').next().unwrap_or(v)
                                ),
                            },
                        );
                    }
                }
            }
        }
        ir::Template(pieces)
    }

    pub(super) fn find_bind(&self, name: &str) -> Option<usize> {
        self.binds.iter().position(|b| match name.split_once('.') {
            Some((ns, var)) => b.namespace.as_deref() == Some(ns) && b.var == var,
            None => b.var == name,
        })
    }

    pub(super) fn api(
        &mut self,
        sink: &mut Sink,
        api: &spec::HttpApi,
        namespace: String,
    ) -> Option<ir::Api> {
        if let Some(k) = &api.kind
            && k.value != "http"
        {
            sink.error(
                k.pos,
                &k.path,
                format!("consumes type `{}` is not supported", k.value),
                "only `type: http` is known",
            );
        }
        let base = api.base_uri.as_ref()?;
        let mut base_vars = Vec::new();
        let base_uri = self.template(sink, base, true, Some(&mut base_vars));
        let probe: String = split(&base.value, false, true)
            .iter()
            .map(|p| match p {
                Part::Text(t) => (*t).to_owned(),
                Part::Var(_) => "x".to_owned(),
            })
            .collect();
        let starts_with_var = matches!(split(&base.value, false, true).first(), Some(Part::Var(_)));
        if !(starts_with_var || probe.starts_with("http://") || probe.starts_with("https://")) {
            sink.error(
                base.pos,
                &base.path,
                format!("baseUri `{}` is not an absolute http(s) URL", base.value),
                "write it as `https://host/prefix`; use `[name]` for parts chosen at run time",
            );
        }
        // alpha1 declares environment variables as `in: environment` inputs.
        for p in &api.input_parameters {
            if let (Some(name), Some(loc)) = (&p.name, &p.location)
                && loc.value == "environment"
                && self.find_bind(&name.value).is_none()
            {
                self.binds.push(ir::BindVar {
                    namespace: None,
                    var: name.value.clone(),
                    source_key: p
                        .value
                        .as_ref()
                        .map_or_else(|| name.value.clone(), |v| v.value.clone()),
                    location: None,
                    used_at: None,
                });
            }
        }
        let auth = api.authentication.as_ref().and_then(|a| {
            let auth = self.auth(sink, a)?;
            if let ir::Auth::OAuth2 { client_id, client_secret, .. } = &auth
                && (client_id.is_none() || client_secret.is_none())
            {
                sink.error(
                    a.pos,
                    &a.path,
                    "`oauth2` on a consumed API is the client credentials flow: it needs `clientId` and `clientSecret`",
                    "add `clientId: '{{CLIENT_ID}}'` and `clientSecret: '{{CLIENT_SECRET}}'` with bound variables",
                );
                return None;
            }
            Some(auth)
        });
        let mut fixed_params = Vec::new();
        for p in &api.input_parameters {
            if p.location
                .as_ref()
                .is_some_and(|l| l.value == "environment")
            {
                continue;
            }
            let (Some(name), Some(loc)) = (&p.name, location(sink, p)) else {
                continue;
            };
            match &p.value {
                Some(v) => fixed_params.push(ir::FixedParam {
                    name: name.value.clone(),
                    location: loc,
                    value: self.template(sink, v, false, None),
                }),
                None => sink.error(
                    p.pos,
                    &p.path,
                    format!("API-wide parameter `{}` has no `value`", name.value),
                    "parameters on a consumes entry are sent with every request: give them a `value`",
                ),
            }
        }
        let mut operations: Vec<ir::ConsumedOp> = Vec::new();
        let mut seen: HashMap<String, Spanned<String>> = HashMap::new();
        let mut seen_fn: HashMap<String, String> = HashMap::new();
        for res in &api.resources {
            for op in &res.operations {
                let Some(name) = &op.name else { continue };
                if let Some(first) = seen.get(&name.value) {
                    sink.error(
                        name.pos,
                        &name.path,
                        format!(
                            "operation `{}` is declared twice in namespace `{namespace}`; the first is at {}:{}:{} ({})",
                            name.value,
                            sink.file(),
                            first.pos.line,
                            first.pos.col,
                            first.path
                        ),
                        "rename one of them: `call: namespace.operation` must name exactly one operation",
                    );
                    continue;
                }
                seen.insert(name.value.clone(), name.clone());
                let fn_name = snake(&name.value);
                if let Some(other) = seen_fn.insert(fn_name.clone(), name.value.clone()) {
                    sink.error(
                        name.pos,
                        &name.path,
                        format!(
                            "operations `{other}` and `{}` both become the Rust method `{fn_name}`",
                            name.value
                        ),
                        "rename one of them",
                    );
                }
                if let Some(resolved) = self.operation(sink, res, op, name, fn_name) {
                    operations.push(resolved);
                }
            }
        }
        Some(ir::Api {
            module: snake(&namespace),
            namespace,
            description: api.description.as_ref().map(|d| d.value.clone()),
            base_uri_text: base.value.clone(),
            base_uri,
            base_vars,
            auth,
            fixed_params,
            operations,
        })
    }

    pub(super) fn auth(&mut self, sink: &mut Sink, a: &spec::Authentication) -> Option<ir::Auth> {
        let kind = a.kind.as_ref()?;
        let need = |sink: &mut Sink,
                    field: &Option<Spanned<String>>,
                    key: &str|
         -> Option<Spanned<String>> {
            if field.is_none() {
                sink.error(
                    a.pos,
                    &a.path,
                    format!("`{}` authentication needs `{key}`", kind.value),
                    format!("add `{key}: '{{{{env.SECRET}}}}'` with a bound variable"),
                );
            }
            field.clone()
        };
        match kind.value.to_ascii_lowercase().as_str() {
            "bearer" => {
                let token = need(sink, &a.token, "token")?;
                Some(ir::Auth::Bearer {
                    token: self.template(sink, &token, false, None),
                })
            }
            "basic" | "digest" => {
                let user = need(sink, &a.username, "username");
                let pass = need(sink, &a.password, "password");
                let (user, pass) = (user?, pass?);
                let username = self.template(sink, &user, false, None);
                let password = self.template(sink, &pass, false, None);
                Some(if kind.value.eq_ignore_ascii_case("basic") {
                    ir::Auth::Basic { username, password }
                } else {
                    ir::Auth::Digest { username, password }
                })
            }
            "apikey" => {
                let key = need(sink, &a.key, "key");
                let value = need(sink, &a.value, "value");
                let (key, value) = (key?, value?);
                let in_query = match a.placement.as_ref().map(|p| p.value.as_str()) {
                    None | Some("header") => false,
                    Some("query") => true,
                    Some(other) => {
                        if let Some(p) = &a.placement {
                            sink.error(
                                p.pos,
                                &p.path,
                                format!("placement `{other}` is not `header` or `query`"),
                                "write `placement: header` or `placement: query`",
                            );
                        }
                        false
                    }
                };
                Some(ir::Auth::ApiKey {
                    name: key.value,
                    value: self.template(sink, &value, false, None),
                    in_query,
                })
            }
            "oauth2" => {
                if a.token_endpoint.is_none() && a.authorization_server.is_none() {
                    sink.error(
                        a.pos,
                        &a.path,
                        "`oauth2` authentication needs `tokenEndpoint` or `authorizationServerUri`",
                        "add `tokenEndpoint: https://auth.example.com/oauth/token`",
                    );
                    return None;
                }
                let mut t = |f: &Option<Spanned<String>>| {
                    f.as_ref().map(|v| self.template(sink, v, false, None))
                };
                Some(ir::Auth::OAuth2 {
                    token_endpoint: t(&a.token_endpoint),
                    issuer: t(&a.authorization_server),
                    client_id: t(&a.client_id),
                    client_secret: t(&a.client_secret),
                    scopes: a.scopes.as_ref().map(|s| s.value.clone()),
                    audience: a.audience.as_ref().map(|s| s.value.clone()),
                    resource: a.resource.as_ref().map(|s| s.value.clone()),
                    at: (a.pos, a.path.clone()),
                })
            }
            other => {
                sink.error(
                    kind.pos,
                    &kind.path,
                    format!("authentication type `{other}` is not supported"),
                    help_with_suggestion(
                        other,
                        &["bearer", "basic", "apikey", "digest", "oauth2"],
                        "authentication type",
                    ),
                );
                None
            }
        }
    }

    pub(super) fn operation(
        &mut self,
        sink: &mut Sink,
        res: &spec::Resource,
        op: &spec::Operation,
        name: &Spanned<String>,
        fn_name: String,
    ) -> Option<ir::ConsumedOp> {
        let m = method(sink, op.method.as_ref()?);
        let path_spec = op.path.as_ref().or(res.path.as_ref())?;
        let path: Vec<ir::PathPart> = split(&path_spec.value, true, false)
            .into_iter()
            .map(|p| match p {
                Part::Text(t) => ir::PathPart::Text(t.to_owned()),
                Part::Var(v) => ir::PathPart::Param(v.to_owned()),
            })
            .collect();
        let placeholders = path_vars(&path_spec.value);
        let mut inputs: Vec<ir::Input> = Vec::new();
        let mut taken: Vec<String> = Vec::new();
        for v in &placeholders {
            if v.is_empty() {
                sink.error(
                    path_spec.pos,
                    &path_spec.path,
                    "an empty `{}` placeholder in the path",
                    "name it, e.g. `{id}`",
                );
                continue;
            }
            if inputs.iter().any(|i| i.name == *v) {
                continue;
            }
            let declared = res
                .input_parameters
                .iter()
                .chain(&op.input_parameters)
                .find(|p| p.name.as_ref().is_some_and(|n| n.value == *v));
            let rust_name = unique(&mut taken, snake(v));
            inputs.push(ir::Input {
                name: (*v).to_owned(),
                rust_name,
                location: Location::Path,
                ty: declared.map_or(JsonType::String, |p| {
                    json_type(sink, p.ty.as_ref(), JsonType::String)
                }),
                required: true,
                description: declared.and_then(|p| p.description.as_ref().map(|d| d.value.clone())),
            });
        }
        let mut others: Vec<ir::Input> = Vec::new();
        let mut fixed = Vec::new();
        let mut template_inputs: Vec<ir::Input> = Vec::new();
        for p in res.input_parameters.iter().chain(&op.input_parameters) {
            let Some(pname) = &p.name else { continue };
            let Some(loc) = location(sink, p) else {
                continue;
            };
            if loc == Location::Path {
                if !placeholders.contains(&pname.value.as_str()) {
                    sink.error(
                        pname.pos,
                        &pname.path,
                        format!(
                            "path parameter `{}` does not appear in path `{}`",
                            pname.value, path_spec.value
                        ),
                        format!("add `{{{}}}` to the path, or change `in:`", pname.value),
                    );
                }
                continue;
            }
            if let Some(v) = &p.value {
                // A fixed value: sent as written, not an argument. Its
                // `{{name}}`s that are not binds are inputs of their own.
                let mut names = Vec::new();
                let value = self.template(sink, v, false, Some(&mut names));
                for n in names {
                    if !template_inputs.iter().any(|i: &ir::Input| i.name == n) {
                        template_inputs.push(ir::Input {
                            rust_name: unique(&mut taken, snake(&n)),
                            name: n,
                            location: Location::Template,
                            ty: JsonType::String,
                            required: true,
                            description: Some(format!(
                                "Fills `{{{{...}}}}` in the `{}` parameter.",
                                pname.value
                            )),
                        });
                    }
                }
                fixed.push(ir::FixedParam {
                    name: pname.value.clone(),
                    location: loc,
                    value,
                });
                continue;
            }
            if others
                .iter()
                .any(|i| i.name == pname.value && i.location == loc)
            {
                sink.error(
                    pname.pos,
                    &pname.path,
                    format!("parameter `{}` is declared twice", pname.value),
                    "remove one of them",
                );
                continue;
            }
            let default_ty = if loc == Location::Body {
                JsonType::Object
            } else {
                JsonType::String
            };
            others.push(ir::Input {
                name: pname.value.clone(),
                rust_name: unique(&mut taken, snake(&pname.value)),
                location: loc,
                ty: json_type(sink, p.ty.as_ref(), default_ty),
                required: p
                    .required
                    .as_ref()
                    .map_or(loc == Location::Body, |r| r.value),
                description: p.description.as_ref().map(|d| d.value.clone()),
            });
        }
        // Path, then query, header, cookie, then body: the argument order.
        for loc in [
            Location::Query,
            Location::Header,
            Location::Cookie,
            Location::Body,
        ] {
            inputs.extend(others.iter().filter(|i| i.location == loc).cloned());
        }
        inputs.extend(
            template_inputs
                .into_iter()
                .filter(|t| !others.iter().any(|o| o.name == t.name)),
        );
        let body_inputs: Vec<String> = inputs
            .iter()
            .filter(|i| i.location == Location::Body)
            .map(|i| i.name.clone())
            .collect();
        let body = match &op.body {
            Some(b) => self.body_template(sink, b, &mut inputs, &mut taken),
            None => match body_inputs.as_slice() {
                [] => ir::BodyPlan::None,
                [one] => ir::BodyPlan::Whole(one.clone()),
                _ => ir::BodyPlan::Merged(body_inputs),
            },
        };
        Some(ir::ConsumedOp {
            name: name.value.clone(),
            fn_name,
            description: op.description.as_ref().map(|d| d.value.clone()),
            // An invalid method was reported; keep the operation so that
            // calls to it do not cascade into more errors.
            method: m.unwrap_or_else(|| "GET".to_owned()),
            path_text: path_spec.value.clone(),
            path,
            inputs,
            body,
            fixed,
            output_mapping: consumed_mapping(sink, &op.output_parameters),
            raw_format: self.raw_format(sink, op.output_raw_format.as_ref()),
            output_schema: op.output_schema.as_ref().map(|s| s.value.clone()),
            pos: op.pos,
        })
    }

    /// `outputRawFormat`: `None` for JSON (and `text`, passed through as
    /// it comes); the formats the runtime converts; the others are noted as
    /// not generated yet.
    fn raw_format(&mut self, sink: &mut Sink, f: Option<&Spanned<String>>) -> Option<String> {
        let f = f?;
        match f.value.as_str() {
            "json" | "text" => None,
            "xml" | "csv" | "tsv" | "psv" | "yaml" | "html" | "markdown" | "avro" | "protobuf" => {
                Some(f.value.clone())
            }
            other => {
                let known = [
                    "json", "xml", "csv", "tsv", "psv", "yaml", "html", "markdown", "avro",
                    "protobuf",
                ];
                sink.error(
                    f.pos,
                    &f.path,
                    format!("`outputRawFormat: {other}` is not a format"),
                    help_with_suggestion(other, &known, "format"),
                );
                None
            }
        }
    }

    pub(super) fn body_template(
        &self,
        sink: &mut Sink,
        b: &spec::Body,
        inputs: &mut Vec<ir::Input>,
        taken: &mut Vec<String>,
    ) -> ir::BodyPlan {
        let kind = b.kind.as_ref().map_or("json", |k| k.value.as_str());
        let content_type = match kind {
            "json" => "application/json",
            "text" => "text/plain",
            "xml" => "application/xml",
            "sparql" => "application/sparql-query",
            // `form` is what real documents write for `formUrlEncoded`.
            "formUrlEncoded" | "form" => "application/x-www-form-urlencoded",
            "multipartForm" => "multipart/form-data",
            "raw" => "application/octet-stream",
            other => {
                if let Some(k) = &b.kind {
                    sink.error(
                        k.pos,
                        &k.path,
                        format!("body type `{other}` is not known"),
                        help_with_suggestion(
                            other,
                            &[
                                "json",
                                "text",
                                "xml",
                                "sparql",
                                "formUrlEncoded",
                                "multipartForm",
                                "raw",
                            ],
                            "body type",
                        ),
                    );
                }
                "application/json"
            }
        };
        let data = b
            .data
            .as_ref()
            .map_or(serde_json::Value::Null, Node::to_json);
        // `{{tools.x}}` / `{{rest.x}}` in a consumed template name the input `x`.
        let data = unprefix_template_vars(data);
        let mut declare = |v: String, inputs: &mut Vec<ir::Input>| {
            if self.find_bind(&v).is_none() && !inputs.iter().any(|i| i.name == v) {
                inputs.push(ir::Input {
                    rust_name: unique(taken, snake(&v)),
                    name: v,
                    location: Location::Body,
                    ty: JsonType::String,
                    required: false,
                    description: None,
                });
            }
        };
        let form_fields = match (kind, b.data.as_ref().map(|n| &n.value)) {
            ("formUrlEncoded" | "form", Some(crate::yaml::Value::Map(entries))) => Some(entries),
            _ => None,
        };
        match (kind, &data) {
            ("formUrlEncoded" | "form", serde_json::Value::Object(_)) => {
                // In the order written (a JSON object would sort the fields).
                let fields: Vec<(String, String)> = form_fields
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| {
                        let key = k
                            .as_str()
                            .map_or_else(|| k.to_json().to_string(), str::to_owned);
                        let text = match unprefix_template_vars(v.to_json()) {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (key, text)
                    })
                    .collect();
                for (_, value) in &fields {
                    let mut names = Vec::new();
                    collect_template_vars(&serde_json::Value::String(value.clone()), &mut names);
                    names.into_iter().for_each(|v| declare(v, inputs));
                }
                return ir::BodyPlan::Form(fields);
            }
            ("multipartForm", serde_json::Value::Array(items)) => {
                let mut names = Vec::new();
                collect_template_vars(&data, &mut names);
                names.into_iter().for_each(|v| declare(v, inputs));
                let text = |v: Option<&serde_json::Value>| {
                    v.map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                };
                let mut parts = Vec::new();
                for item in items {
                    match (text(item.get("name")), text(item.get("value"))) {
                        (Some(name), Some(value)) => parts.push(ir::MultipartPart {
                            name,
                            value,
                            filename: text(item.get("filename")),
                            content_type: text(item.get("contentType")),
                        }),
                        _ => sink.error(
                            b.pos,
                            &b.path,
                            "a `multipartForm` part needs `name` and `value`",
                            "write each part as `{name: field, value: '{{input}}'}`",
                        ),
                    }
                }
                return ir::BodyPlan::Multipart(parts);
            }
            _ => {}
        }
        if let serde_json::Value::String(text) = &data {
            // A body written as text (`body: |`): filled as text, sent as is.
            let mut names = Vec::new();
            collect_template_vars(&data, &mut names);
            names.into_iter().for_each(|v| declare(v, inputs));
            return ir::BodyPlan::Text {
                // The reference engine sends a raw body as JSON.
                content_type: if kind == "raw" {
                    "application/json"
                } else {
                    content_type
                }
                .to_owned(),
                template: text.clone(),
            };
        }
        // Every `{{name}}` in the template that is not a bind is an input.
        let mut names = Vec::new();
        collect_template_vars(&data, &mut names);
        for v in names {
            if self.find_bind(&v).is_some() || inputs.iter().any(|i| i.name == v) {
                continue;
            }
            inputs.push(ir::Input {
                rust_name: unique(taken, snake(&v)),
                name: v,
                location: Location::Body,
                ty: JsonType::String,
                required: true,
                description: None,
            });
        }
        if content_type != "application/json" {
            // Structured data of a non-JSON type: sent as its JSON text with
            // the type's content type (the reference engine's behaviour).
            return ir::BodyPlan::Text {
                content_type: content_type.to_owned(),
                template: data.to_string(),
            };
        }
        ir::BodyPlan::Template {
            content_type: content_type.to_owned(),
            data,
        }
    }
}

/// A consumed operation's output shape: as [`mapping`] says, except that
/// named outputs add their fields to each element of an array answer
/// instead of shaping the array itself (as the reference engine projects
/// step outputs), which would collapse it.
fn consumed_mapping(sink: &mut Sink, outputs: &[spec::Output]) -> Option<String> {
    let other = mapping(sink, outputs)?;
    let names: Option<Vec<&str>> = outputs
        .iter()
        .map(|o| o.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let other: serde_json::Value = serde_json::from_str(&other).ok()?;
    let fields = match names.as_deref() {
        Some([one]) => serde_json::json!({ *one: other }),
        Some([_, _, ..]) => other.pointer("/object/fields")?.clone(),
        _ => return Some(other.to_string()),
    };
    Some(serde_json::json!({"augment": {"fields": fields, "other": other}}).to_string())
}

/// `{{tools.x}}` and `{{rest.x}}` inside a consumed template become `{{x}}`:
/// real documents name the exposed input that way there too (decision 4).
fn unprefix_template_vars(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains("{{") => {
            let mut out = String::with_capacity(s.len());
            for part in split(&s, false, false) {
                match part {
                    Part::Text(t) => out.push_str(t),
                    Part::Var(var) => {
                        let name = ["tools.", "rest."]
                            .iter()
                            .find_map(|p| var.strip_prefix(p))
                            .unwrap_or(var);
                        out.push_str("{{");
                        out.push_str(name);
                        out.push_str("}}");
                    }
                }
            }
            Value::String(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(unprefix_template_vars).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, unprefix_template_vars(v)))
                .collect(),
        ),
        other => other,
    }
}
