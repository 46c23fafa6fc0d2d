//! From the spec model to the IR: resolve every reference, and report every
//! reference that does not resolve, all at once.

pub mod template;

use std::collections::HashMap;

use crate::diagnostics::{Sink, help_with_suggestion};
use crate::ir::{self, JsonType, Location, Piece};
use crate::names::snake;
use crate::spec::{self, Spanned};
use crate::yaml::{Node, Pos};
use template::{Part, loose, path_vars, split};

/// HTTP methods a consumed or exposed operation may use.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// An imported fragment, read by the caller (the core does no I/O).
pub struct Fragment {
    /// The file name shown in diagnostics.
    pub file: String,
    /// Its consumes entries, already read.
    pub consumes: Vec<spec::Consumes>,
}

/// Resolves `doc` into the IR. `import` is asked for each `import` entry's
/// `location` and returns the fragment or a reason it could not be read.
pub fn resolve(
    sink: &mut Sink,
    doc: &spec::Document,
    import: &mut dyn FnMut(&mut Sink, &spec::Import) -> Option<Fragment>,
) -> ir::Capability {
    let mut cx = Cx {
        fragment: doc.capability.is_none(),
        binds: Vec::new(),
        apis: Vec::new(),
        files: vec![sink.file().to_owned()],
    };
    let cap = doc.capability.as_ref();
    let bind_specs = doc
        .binds
        .iter()
        .chain(cap.map(|c| c.binds.as_slice()).unwrap_or_default());
    for b in bind_specs {
        for (var, key) in &b.keys {
            cx.binds.push(ir::BindVar {
                namespace: b.namespace.as_ref().map(|n| n.value.clone()),
                var: var.value.clone(),
                source_key: key.value.clone(),
                location: b.location.as_ref().map(|l| l.value.clone()),
                used_at: None,
            });
        }
    }

    // Consumed APIs, imports included, with where each was written.
    let mut apis: Vec<(spec::HttpApi, Option<String>)> = Vec::new();
    let consumes = cap
        .map(|c| c.consumes.as_slice())
        .unwrap_or_default()
        .iter()
        .chain(&doc.fragment_consumes);
    for c in consumes {
        match c {
            spec::Consumes::Http(api) => apis.push((api.clone(), None)),
            spec::Consumes::Import(imp) => {
                let Some(fragment) = import(sink, imp) else {
                    continue;
                };
                cx.files.push(fragment.file.clone());
                let found = fragment.consumes.iter().find_map(|c| match c {
                    spec::Consumes::Http(api)
                        if api.namespace.as_ref().map(|n| n.value.as_str())
                            == Some(imp.import.value.as_str()) =>
                    {
                        Some(api.clone())
                    }
                    _ => None,
                });
                match found {
                    Some(api) => apis.push((api, imp.alias.as_ref().map(|a| a.value.clone()))),
                    None => {
                        let names: Vec<&str> = fragment
                            .consumes
                            .iter()
                            .filter_map(|c| match c {
                                spec::Consumes::Http(a) => {
                                    a.namespace.as_ref().map(|n| n.value.as_str())
                                }
                                spec::Consumes::Import(_) => None,
                            })
                            .collect();
                        sink.error(
                            imp.import.pos,
                            &imp.import.path,
                            format!(
                                "`{}` declares no namespace `{}`",
                                fragment.file, imp.import.value
                            ),
                            help_with_suggestion(&imp.import.value, &names, "namespace"),
                        );
                    }
                }
            }
        }
    }
    let mut seen_ns: HashMap<String, (Pos, String)> = HashMap::new();
    for (api, alias) in &apis {
        let Some(ns) = api.namespace.as_ref() else {
            continue;
        };
        let name = alias.clone().unwrap_or_else(|| ns.value.clone());
        if let Some((pos, _)) = seen_ns.get(&name) {
            sink.error(
                ns.pos,
                &ns.path,
                format!(
                    "namespace `{name}` is consumed twice (first at line {})",
                    pos.line
                ),
                "give each consumed API its own namespace",
            );
            continue;
        }
        seen_ns.insert(name.clone(), (ns.pos, ns.path.clone()));
        if let Some(resolved) = cx.api(sink, api, name) {
            cx.apis.push(resolved);
        }
    }

    let mut rest = Vec::new();
    let mut mcp = Vec::new();
    let mut later = Vec::new();
    let aggregates = cap.map(|c| c.aggregates.as_slice()).unwrap_or_default();
    for a in aggregates {
        later.push((
            a.pos,
            a.path.clone(),
            "`aggregates` are not generated yet".to_owned(),
        ));
        for f in &a.functions {
            if let Some(c) = &f.call {
                cx.call(sink, c);
            }
            for s in &f.steps {
                if let Some(c) = &s.call {
                    cx.call(sink, c);
                }
            }
        }
    }
    let exposes = cap.map(|c| c.exposes.as_slice()).unwrap_or_default();
    check_references(sink, aggregates, exposes);
    for (i, e) in cap
        .map(|c| c.exposes.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        match e {
            spec::Exposes::Rest(a) => {
                if let Some(auth) = &a.authentication {
                    later.push((
                        auth.pos,
                        auth.path.clone(),
                        "inbound `authentication` on a REST adapter is not generated yet"
                            .to_owned(),
                    ));
                }
                for res in &a.resources {
                    if let Some(t) = res
                        .forward
                        .as_ref()
                        .and_then(|f| f.target_namespace.as_ref())
                    {
                        later.push((
                            t.pos,
                            t.path.clone(),
                            "`forward.targetNamespace` (proxying a whole path) is not generated yet".to_owned(),
                        ));
                    }
                }
                rest.push(cx.rest(sink, a, i));
            }
            spec::Exposes::Mcp(a) => {
                for r in &a.resources {
                    if let Some(c) = &r.call {
                        cx.call(sink, c);
                    }
                }
                if let Some(r) = a.resources.first() {
                    later.push((
                        r.pos,
                        r.path.clone(),
                        "MCP `resources` are not generated yet".to_owned(),
                    ));
                }
                if let Some(p) = a.prompts.first() {
                    later.push((
                        p.pos,
                        p.path.clone(),
                        "MCP `prompts` are not generated yet".to_owned(),
                    ));
                }
                mcp.push(cx.mcp(sink, a, i, &mut later));
            }
            spec::Exposes::Skill(a) => {
                later.push((
                    a.pos,
                    a.path.clone(),
                    "`exposes` of type `skill` is not generated yet".to_owned(),
                ));
            }
            spec::Exposes::Control(a) => {
                later.push((
                    a.pos,
                    a.path.clone(),
                    "`exposes` of type `control` is not generated yet".to_owned(),
                ));
            }
            spec::Exposes::Other { kind } => {
                later.push((
                    kind.pos,
                    kind.path.clone(),
                    format!("`exposes` of type `{}` is not generated", kind.value),
                ));
            }
        }
    }
    check_module_names(sink, &cx.apis, &rest, &mcp);
    ir::Capability {
        label: doc.label.as_ref().map(|l| l.value.clone()),
        description: doc.description.as_ref().map(|d| d.value.clone()),
        binds: cx.binds,
        apis: cx.apis,
        rest,
        mcp,
        files: cx.files,
        unsupported: later,
    }
}

struct Cx {
    /// A fragment checked on its own: its binds are declared by whoever
    /// imports it, so unknown `{{VAR}}`s become environment binds.
    fragment: bool,
    binds: Vec<ir::BindVar>,
    apis: Vec<ir::Api>,
    files: Vec<String>,
}

fn check_module_names(
    sink: &mut Sink,
    apis: &[ir::Api],
    rest: &[ir::RestAdapter],
    mcp: &[ir::McpAdapter],
) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let all = apis
        .iter()
        .map(|a| (a.module.as_str(), a.namespace.as_str()))
        .chain(
            rest.iter()
                .map(|a| (a.module.as_str(), a.namespace.as_str())),
        )
        .chain(
            mcp.iter()
                .map(|a| (a.module.as_str(), a.namespace.as_str())),
        );
    for (module, ns) in all {
        if let Some(other) = seen.insert(module, ns)
            && other != ns
        {
            sink.error(
                Pos { line: 1, col: 1 },
                "capability",
                format!("namespaces `{other}` and `{ns}` both become the Rust module `{module}`"),
                "rename one of them so that their snake_case forms differ",
            );
        }
    }
}

fn method(sink: &mut Sink, m: &Spanned<String>) -> Option<String> {
    let upper = m.value.to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        Some(upper)
    } else {
        sink.error(
            m.pos,
            &m.path,
            format!("`{}` is not an HTTP method", m.value),
            help_with_suggestion(&upper, &METHODS, "method"),
        );
        None
    }
}

fn location(sink: &mut Sink, p: &spec::Param) -> Option<Location> {
    let Some(l) = &p.location else {
        return Some(Location::Query);
    };
    Some(match l.value.as_str() {
        "path" => Location::Path,
        "query" => Location::Query,
        "header" => Location::Header,
        "cookie" => Location::Cookie,
        "body" => Location::Body,
        other => {
            let known = ["path", "query", "header", "cookie", "body"];
            sink.error(
                l.pos,
                &l.path,
                format!("`in: {other}` is not a parameter location"),
                help_with_suggestion(other, &known, "location"),
            );
            return None;
        }
    })
}

fn json_type(sink: &mut Sink, ty: Option<&Spanned<String>>, default: JsonType) -> JsonType {
    let Some(t) = ty else { return default };
    match JsonType::parse(&t.value) {
        Some(j) => j,
        None => {
            let known = ["string", "number", "integer", "boolean", "object", "array"];
            sink.error(
                t.pos,
                &t.path,
                format!("`{}` is not a JSON type", t.value),
                help_with_suggestion(&t.value, &known, "type"),
            );
            default
        }
    }
}

/// An output mapping: `$.`/`$` (identity) is `None`, anything else must be
/// an RFC 9535 JSONPath.
fn mapping(sink: &mut Sink, outputs: &[spec::Output]) -> Option<String> {
    let m = outputs.first()?.mapping.as_ref()?;
    let text = m.value.trim();
    if matches!(text, "$." | "$") {
        return None;
    }
    if let Err(e) = serde_json_path::JsonPath::parse(text) {
        sink.error(
            m.pos,
            &m.path,
            format!("`{text}` is not a valid JSONPath: {e}"),
            "write an RFC 9535 path such as `$.data.items`, or `$.` to pass the body through",
        );
        return None;
    }
    Some(text.to_owned())
}

impl Cx {
    /// Resolves a template of binds; `vars` names base URI variables allowed.
    fn template(
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

    fn find_bind(&self, name: &str) -> Option<usize> {
        self.binds.iter().position(|b| match name.split_once('.') {
            Some((ns, var)) => b.namespace.as_deref() == Some(ns) && b.var == var,
            None => b.var == name,
        })
    }

    fn api(&mut self, sink: &mut Sink, api: &spec::HttpApi, namespace: String) -> Option<ir::Api> {
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
        let auth = api.authentication.as_ref().and_then(|a| self.auth(sink, a));
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

    fn auth(&mut self, sink: &mut Sink, a: &spec::Authentication) -> Option<ir::Auth> {
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
            other => {
                sink.error(
                    kind.pos,
                    &kind.path,
                    format!("authentication type `{other}` is not supported"),
                    help_with_suggestion(
                        other,
                        &["bearer", "basic", "apikey", "digest"],
                        "authentication type",
                    ),
                );
                None
            }
        }
    }

    fn operation(
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
            output_mapping: mapping(sink, &op.output_parameters),
            pos: op.pos,
        })
    }

    fn body_template(
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
            "formUrlEncoded" => "application/x-www-form-urlencoded",
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
        ir::BodyPlan::Template {
            content_type: content_type.to_owned(),
            data,
        }
    }

    fn call(&self, sink: &mut Sink, call: &Spanned<String>) -> Option<ir::CallRef> {
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

    fn consumed(&self, call: ir::CallRef) -> Option<&ir::ConsumedOp> {
        self.apis.get(call.api)?.operations.get(call.op)
    }

    fn rest(&self, sink: &mut Sink, a: &spec::RestAdapter, index: usize) -> ir::RestAdapter {
        let namespace = a
            .namespace
            .as_ref()
            .map_or_else(|| format!("rest-{index}"), |n| n.value.clone());
        let mut operations = Vec::new();
        let mut routes: HashMap<(String, String), Spanned<String>> = HashMap::new();
        let mut fns: HashMap<String, String> = HashMap::new();
        for res in &a.resources {
            let Some(route) = &res.path else { continue };
            let route_vars: Vec<&str> = path_vars(&route.value);
            check_route(sink, route);
            for op in &res.operations {
                let Some(m) = op.method.as_ref().and_then(|m| method(sink, m)) else {
                    continue;
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
                let fn_name = snake(&name);
                if let Some(other) = fns.insert(fn_name.clone(), name.clone()) {
                    sink.error(
                        op.pos,
                        &op.path,
                        format!("exposed operations `{other}` and `{name}` both become the Rust method `{fn_name}`"),
                        "rename one of them",
                    );
                }
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
                for s in &op.steps {
                    if let Some(c) = &s.call {
                        self.call(sink, c);
                    }
                }
                let call = op.call.as_ref().and_then(|c| self.call(sink, c));
                let prefixes = [namespace.as_str(), "rest"];
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
                        },
                        c,
                    ),
                    None => Vec::new(),
                };
                operations.push(ir::RestOp {
                    name,
                    fn_name,
                    method: m,
                    route: route.value.clone(),
                    description: op.description.as_ref().map(|d| d.value.clone()),
                    inputs,
                    call,
                    bindings,
                    output_mapping: mapping(sink, &op.output_parameters),
                    trusted_headers: res
                        .forward
                        .as_ref()
                        .map(|f| f.trusted_headers.iter().map(|h| h.value.clone()).collect())
                        .unwrap_or_default(),
                    unsupported: unsupported(
                        &op.steps,
                        op.reference.as_ref(),
                        &op.output_parameters,
                        op.call.is_some(),
                    )
                    .or_else(|| {
                        res.input_parameters
                            .iter()
                            .chain(&op.input_parameters)
                            .find(|p| p.value.is_some())
                            .map(|p| {
                                let name = p.name.as_ref().map_or("?", |n| n.value.as_str());
                                format!("exposed input `{name}` with a `value` extraction is not generated yet")
                            })
                    }),
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
            operations,
        }
    }

    fn mcp(
        &mut self,
        sink: &mut Sink,
        a: &spec::McpAdapter,
        index: usize,
        later: &mut Vec<(Pos, String, String)>,
    ) -> ir::McpAdapter {
        let bearer_token = match &a.authentication {
            None => None,
            Some(auth) => match self.auth(sink, auth) {
                Some(ir::Auth::Bearer { token }) => Some(token),
                Some(_) => {
                    later.push((
                        auth.pos,
                        auth.path.clone(),
                        "only `bearer` inbound authentication is generated for MCP adapters"
                            .to_owned(),
                    ));
                    None
                }
                None => None,
            },
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
            for s in &t.steps {
                if let Some(c) = &s.call {
                    self.call(sink, c);
                }
            }
            let call = t.call.as_ref().and_then(|c| self.call(sink, c));
            let prefixes = [namespace.as_str(), "tools"];
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
                    },
                    c,
                ),
                None => Vec::new(),
            };
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
                output_mapping: mapping(sink, &t.output_parameters),
                unsupported: unsupported(
                    &t.steps,
                    t.reference.as_ref(),
                    &t.output_parameters,
                    t.call.is_some(),
                ),
                pos: t.pos,
                yaml_path: t.path.clone(),
            });
        }
        ir::McpAdapter {
            module: snake(&namespace),
            namespace,
            port: a.port.as_ref().map(|p| p.value),
            address: a.address.as_ref().map(|p| p.value.clone()),
            stdio,
            description: a.description.as_ref().map(|d| d.value.clone()),
            bearer_token,
            tools,
        }
    }
}

/// Everything [`Cx::bindings`] needs to know about the exposing side.
struct BindingScope<'a> {
    prefixes: &'a [&'a str],
    with: &'a [(Spanned<String>, Node)],
    inputs: &'a mut Vec<ir::ExposedInput>,
    taken: &'a mut Vec<String>,
    declared: bool,
    mcp: bool,
    call_pos: Pos,
    call_path: &'a str,
}

impl Cx {
    /// Resolves `with` and the consumed placeholders (decisions 4-6).
    fn bindings(
        &self,
        sink: &mut Sink,
        scope: BindingScope<'_>,
        call: ir::CallRef,
    ) -> Vec<ir::Binding> {
        let BindingScope {
            prefixes,
            with,
            inputs,
            taken,
            declared,
            mcp,
            call_pos,
            call_path,
        } = scope;
        let Some(target) = self.consumed(call) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in with {
            // A key the consumed operation does not declare is sent as an
            // extra query parameter (the REST default of decision 5).
            let extra = ir::Input {
                name: key.value.clone(),
                rust_name: snake(&key.value),
                location: Location::Query,
                ty: JsonType::String,
                required: false,
                description: None,
            };
            let input = target
                .inputs
                .iter()
                .find(|i| i.name == key.value)
                .unwrap_or(&extra);
            let source = match value.as_str().filter(|_| !value.is_null()) {
                Some(text) if !text.contains("{{") => {
                    match text.strip_prefix("$this.").unwrap_or(text).split_once('.') {
                        Some((p, name)) if prefixes.contains(&p) => {
                            match self.exposed_ref(
                                sink, name, value, &key.path, inputs, taken, declared, mcp, input,
                            ) {
                                Some(s) => s,
                                None => continue,
                            }
                        }
                        _ => ir::Source::Literal(value.to_json()),
                    }
                }
                _ => ir::Source::Literal(value.to_json()),
            };
            out.push(ir::Binding {
                input: input.name.clone(),
                source,
                extra: std::ptr::eq(input, &extra),
            });
        }
        // Placeholders and required inputs left without a value (decision 6).
        for input in &target.inputs {
            if out.iter().any(|b| b.input == input.name) {
                continue;
            }
            if let Some(e) = inputs.iter().find(|e| e.name == input.name) {
                let source = if mcp {
                    ir::Source::Argument(e.name.clone())
                } else {
                    source_of(e)
                };
                out.push(ir::Binding {
                    input: input.name.clone(),
                    source,
                    extra: false,
                });
                continue;
            }
            if input.location != Location::Path {
                if !input.required {
                    continue;
                }
                if declared {
                    sink.error(
                        call_pos,
                        call_path,
                        format!(
                            "required input `{}` of `{}` gets no value",
                            input.name, target.name
                        ),
                        format!(
                            "add `with: {{{}: {}.{}}}` and declare the exposed input",
                            input.name,
                            prefixes.get(1).unwrap_or(&"rest"),
                            input.name
                        ),
                    );
                    continue;
                }
                // Undeclared inputs are inferred (decision 5), under the consumed name.
                let body = !mcp && input.location == Location::Body;
                inputs.push(ir::ExposedInput {
                    name: if body {
                        "body".into()
                    } else {
                        input.name.clone()
                    },
                    rust_name: unique(taken, snake(if body { "body" } else { &input.name })),
                    location: if mcp || body {
                        Location::Body
                    } else {
                        Location::Query
                    },
                    ty: input.ty,
                    required: true,
                    description: input.description.clone(),
                });
                let source = if mcp {
                    ir::Source::Argument(input.name.clone())
                } else if body {
                    ir::Source::Body
                } else {
                    ir::Source::Query(input.name.clone())
                };
                out.push(ir::Binding {
                    input: input.name.clone(),
                    source,
                    extra: false,
                });
                continue;
            }
            {
                let matches: Vec<&ir::ExposedInput> = inputs
                    .iter()
                    .filter(|e| {
                        e.location == Location::Path && loose(&e.name) == loose(&input.name)
                    })
                    .collect();
                if let [one] = matches.as_slice() {
                    out.push(ir::Binding {
                        input: input.name.clone(),
                        source: ir::Source::PathParam(one.name.clone()),
                        extra: false,
                    });
                    continue;
                }
                if mcp && !declared {
                    inputs.push(ir::ExposedInput {
                        name: input.name.clone(),
                        rust_name: unique(taken, snake(&input.name)),
                        location: Location::Body,
                        ty: JsonType::String,
                        required: true,
                        description: input
                            .description
                            .clone()
                            .or_else(|| Some(format!("The `{}` path segment.", input.name))),
                    });
                    out.push(ir::Binding {
                        input: input.name.clone(),
                        source: ir::Source::Argument(input.name.clone()),
                        extra: false,
                    });
                    continue;
                }
                sink.error(
                    call_pos,
                    call_path,
                    format!(
                        "path placeholder `{{{}}}` of `{} {}` has no value",
                        input.name, target.method, target.path_text
                    ),
                    format!(
                        "add `with: {{{}: {}.{}}}`, or a path parameter `{{{}}}` to the exposed path",
                        input.name,
                        prefixes.get(1).unwrap_or(&"rest"),
                        input.name,
                        input.name
                    ),
                );
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn exposed_ref(
        &self,
        sink: &mut Sink,
        name: &str,
        value: &Node,
        path: &str,
        inputs: &mut Vec<ir::ExposedInput>,
        taken: &mut Vec<String>,
        declared: bool,
        mcp: bool,
        target: &ir::Input,
    ) -> Option<ir::Source> {
        if let Some(e) = inputs.iter().find(|e| e.name == name) {
            return Some(if mcp {
                ir::Source::Argument(e.name.clone())
            } else {
                source_of(e)
            });
        }
        if !mcp && name == "body" {
            inputs.push(ir::ExposedInput {
                name: "body".into(),
                rust_name: unique(taken, "body".into()),
                location: Location::Body,
                ty: JsonType::Object,
                required: target.required,
                description: target.description.clone(),
            });
            return Some(ir::Source::Body);
        }
        if declared {
            let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
            sink.error(
                value.pos,
                path,
                format!("`with` refers to input `{name}`, which is not declared"),
                help_with_suggestion(name, &names, "input"),
            );
            return None;
        }
        // Undeclared inputs are inferred (decision 5).
        let location = if mcp { Location::Body } else { Location::Query };
        inputs.push(ir::ExposedInput {
            name: name.to_owned(),
            rust_name: unique(taken, snake(name)),
            location,
            ty: if name == "body" {
                JsonType::Object
            } else {
                target.ty
            },
            required: target.required || name == "body",
            description: target.description.clone(),
        });
        Some(if mcp {
            ir::Source::Argument(name.to_owned())
        } else {
            ir::Source::Query(name.to_owned())
        })
    }
}

/// Where a REST input is read from, as a binding source.
fn source_of(e: &ir::ExposedInput) -> ir::Source {
    match e.location {
        Location::Path => ir::Source::PathParam(e.name.clone()),
        Location::Header | Location::Cookie => ir::Source::Header(e.name.clone()),
        Location::Body if e.name == "body" => ir::Source::Body,
        Location::Body => ir::Source::Argument(e.name.clone()),
        Location::Query | Location::Template => ir::Source::Query(e.name.clone()),
    }
}

/// `name`, or `name_2`, `name_3`... if taken; records the result.
fn unique(taken: &mut Vec<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}_{n}");
        n += 1;
    }
    taken.push(candidate.clone());
    candidate
}

/// A route with its placeholders blanked, so `/a/{x}` and `/a/{y}` collide.
fn normalize_route(route: &str) -> String {
    split(route, true, false)
        .into_iter()
        .map(|p| match p {
            Part::Text(t) => {
                t.trim_end_matches('/').to_owned() + if t.ends_with('/') { "/" } else { "" }
            }
            Part::Var(_) => "{}".to_owned(),
        })
        .collect::<String>()
        .trim_end_matches('/')
        .to_owned()
}

/// Every `{{name}}` inside the strings of a JSON template.
fn collect_template_vars(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => {
            for p in split(s, false, false) {
                if let Part::Var(name) = p
                    && !out.iter().any(|o| o == name)
                {
                    out.push(name.to_owned());
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_template_vars(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| collect_template_vars(i, out)),
        _ => {}
    }
}

/// What an exposed operation or tool uses that code generation cannot do yet.
fn unsupported(
    steps: &[spec::Step],
    reference: Option<&Spanned<String>>,
    outputs: &[spec::Output],
    has_call: bool,
) -> Option<String> {
    if let Some(kind) = steps
        .iter()
        .find_map(|s| s.kind.as_ref())
        .filter(|k| k.value == "script")
    {
        return Some(format!(
            "`script` steps (line {}) are not supported",
            kind.pos.line
        ));
    }
    if !steps.is_empty() {
        return Some("orchestrated `steps` are not generated yet".into());
    }
    if let Some(r) = reference {
        return Some(format!(
            "`ref: {}` to an aggregate function is not generated yet",
            r.value
        ));
    }
    if !has_call && outputs.iter().any(|o| o.mock.is_some()) {
        return Some("mock output values are not served yet".into());
    }
    None
}

/// An exposed route must be something a router can serve.
fn check_route(sink: &mut Sink, route: &Spanned<String>) {
    let text = &route.value;
    let stray = split(text, true, false)
        .iter()
        .any(|p| matches!(p, Part::Text(t) if t.contains(['{', '}', '*'])));
    let bad = if !text.starts_with('/') {
        Some("must start with `/`")
    } else if stray {
        Some("has a stray `{`, `}` or `*`")
    } else if path_vars(text)
        .iter()
        .any(|v| v.is_empty() || v.contains('/'))
    {
        Some("has an empty or malformed `{}` placeholder")
    } else if text == "/openapi.json" {
        Some("is reserved: the adapter serves its OpenAPI document there")
    } else {
        None
    };
    if let Some(why) = bad {
        sink.error(
            route.pos,
            &route.path,
            format!("route `{text}` {why}"),
            "write routes like `/v1/items/{id}`",
        );
    }
}

/// `ref: aggregate.function` and skill tools' `from` must name something
/// this capability declares.
fn check_references(sink: &mut Sink, aggregates: &[spec::Aggregate], exposes: &[spec::Exposes]) {
    let functions: Vec<String> = aggregates
        .iter()
        .flat_map(|a| {
            let ns = a.namespace.as_ref().map_or("", |n| n.value.as_str());
            a.functions
                .iter()
                .filter_map(move |f| f.name.as_ref().map(|n| format!("{ns}.{}", n.value)))
        })
        .collect();
    let function_refs: Vec<&str> = functions.iter().map(String::as_str).collect();
    let mut refs: Vec<&Spanned<String>> = Vec::new();
    // Adapter namespace → the names of its tools or operations.
    let mut actions: Vec<(&str, Vec<&str>)> = Vec::new();
    for e in exposes {
        match e {
            spec::Exposes::Rest(a) => {
                let ops = a.resources.iter().flat_map(|r| &r.operations);
                refs.extend(ops.clone().filter_map(|o| o.reference.as_ref()));
                if let Some(ns) = &a.namespace {
                    actions.push((
                        &ns.value,
                        ops.filter_map(|o| o.name.as_ref().map(|n| n.value.as_str()))
                            .collect(),
                    ));
                }
            }
            spec::Exposes::Mcp(a) => {
                refs.extend(a.tools.iter().filter_map(|t| t.reference.as_ref()));
                if let Some(ns) = &a.namespace {
                    actions.push((
                        &ns.value,
                        a.tools
                            .iter()
                            .filter_map(|t| t.name.as_ref().map(|n| n.value.as_str()))
                            .collect(),
                    ));
                }
            }
            _ => {}
        }
    }
    for r in refs {
        if !functions.contains(&r.value) {
            sink.error(
                r.pos,
                &r.path,
                format!("`ref: {}` names no aggregate function", r.value),
                help_with_suggestion(&r.value, &function_refs, "aggregate function"),
            );
        }
    }
    let namespaces: Vec<&str> = actions.iter().map(|(ns, _)| *ns).collect();
    for e in exposes {
        let spec::Exposes::Skill(a) = e else { continue };
        for tool in a.skills.iter().flat_map(|s| &s.tools) {
            let Some(source) = &tool.source_namespace else {
                continue;
            };
            match actions.iter().find(|(ns, _)| *ns == source.value) {
                None => sink.error(
                    source.pos,
                    &source.path,
                    format!(
                        "skill tool source `{}` is not an exposed adapter",
                        source.value
                    ),
                    help_with_suggestion(&source.value, &namespaces, "adapter namespace"),
                ),
                Some((_, names)) => {
                    if let Some(action) = tool
                        .action
                        .as_ref()
                        .filter(|a| !names.contains(&a.value.as_str()))
                    {
                        sink.error(
                            action.pos,
                            &action.path,
                            format!(
                                "adapter `{}` has no tool or operation `{}`",
                                source.value, action.value
                            ),
                            help_with_suggestion(&action.value, names, "tool"),
                        );
                    }
                }
            }
        }
    }
}
