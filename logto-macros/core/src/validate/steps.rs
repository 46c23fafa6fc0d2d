//! Orchestrated `steps` and `mappings` (SEMANTICS.md decision 17), and the
//! aggregate functions that tools and operations reach through `ref`.

use super::template::{Part, split};
use super::{Cx, unique};
use crate::diagnostics::{Sink, help_with_suggestion};
use crate::ir::{self, JsonType, Location};
use crate::names::snake;
use crate::spec::{self, Spanned};

/// Everything [`Cx::orchestration`] needs to know about the exposing side.
pub(super) struct StepScope<'a> {
    /// Prefixes that name an exposed input in `with` (`ns.x`, `tools.x`).
    pub(super) prefixes: &'a [&'a str],
    /// The exposed inputs; undeclared ones are added when `declared` is off.
    pub(super) inputs: &'a mut Vec<ir::ExposedInput>,
    pub(super) taken: &'a mut Vec<String>,
    pub(super) declared: bool,
    pub(super) mcp: bool,
}

impl Cx {
    /// Resolves `steps` and `mappings`; `None` after reporting what does not
    /// resolve.
    pub(super) fn orchestration(
        &self,
        sink: &mut Sink,
        steps: &[spec::Step],
        mappings: &[spec::Mapping],
        outputs: &[spec::Output],
        scope: StepScope<'_>,
    ) -> Option<ir::Orchestration> {
        let StepScope {
            prefixes,
            inputs,
            taken,
            declared,
            mcp,
        } = scope;
        let mut ok = true;
        let mut names: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for s in steps {
            let Some(name) = &s.name else {
                sink.error(
                    s.pos,
                    &s.path,
                    "a step has no `name`",
                    "name it: later steps and `mappings` read its output by that name",
                );
                ok = false;
                continue;
            };
            if names.contains(&name.value) {
                sink.error(
                    name.pos,
                    &name.path,
                    format!("step `{}` is declared twice", name.value),
                    "give each step its own name",
                );
                ok = false;
                continue;
            }
            let kind = match (&s.kind, &s.call) {
                (Some(k), _) => k.value.as_str(),
                (None, Some(_)) => "call",
                (None, None) => "lookup",
            };
            match kind {
                "call" => {
                    let Some(c) = &s.call else {
                        sink.error(
                            s.pos,
                            &s.path,
                            format!("call step `{}` has no `call`", name.value),
                            "add `call: namespace.operation`",
                        );
                        ok = false;
                        continue;
                    };
                    let Some(call) = self.call(sink, c) else {
                        ok = false;
                        continue;
                    };
                    let mut with = Vec::new();
                    for (key, value) in &s.with {
                        let v = match value.as_str().filter(|_| !value.is_null()) {
                            Some(text) if text.contains("{{") => {
                                for part in split(text, false, false) {
                                    let Part::Var(var) = part else { continue };
                                    if !self.known_var(var, &names, inputs, prefixes) {
                                        ok &= self.infer(
                                            sink, var, value.pos, &key.path, inputs, taken,
                                            declared, mcp, &names,
                                        );
                                    }
                                }
                                ir::StepWith::Template(text.to_owned())
                            }
                            Some(text) => match text.split_once('.') {
                                Some((p, n)) if prefixes.contains(&p) => {
                                    if !self.known_var(n, &names, inputs, &[]) {
                                        ok &= self.infer(
                                            sink, n, value.pos, &key.path, inputs, taken, declared,
                                            mcp, &names,
                                        );
                                    }
                                    ir::StepWith::Ref(n.to_owned())
                                }
                                _ => ir::StepWith::Literal(value.to_json()),
                            },
                            None => ir::StepWith::Literal(value.to_json()),
                        };
                        with.push((key.value.clone(), v));
                    }
                    // Required consumed inputs without `with` come from the
                    // context by name: an exposed input or an earlier step.
                    if let Some(target) = self.consumed(call) {
                        for i in target.inputs.iter().filter(|i| i.required) {
                            if with.iter().any(|(k, _)| *k == i.name)
                                || self.known_var(&i.name, &names, inputs, &[])
                            {
                                continue;
                            }
                            ok &= self.infer(
                                sink, &i.name, c.pos, &c.path, inputs, taken, declared, mcp, &names,
                            );
                        }
                    }
                    out.push(ir::Step::Call {
                        name: name.value.clone(),
                        call,
                        with,
                    });
                }
                "lookup" => {
                    let need =
                        |sink: &mut Sink, f: &Option<Spanned<String>>, key: &str, help: &str| {
                            if f.is_none() {
                                sink.error(
                                    s.pos,
                                    &s.path,
                                    format!("lookup step `{}` has no `{key}`", name.value),
                                    help,
                                );
                            }
                        };
                    need(sink, &s.index, "index", "add `index: <earlier step>`");
                    need(sink, &s.match_key, "match", "add `match: <field compared>`");
                    need(
                        sink,
                        &s.lookup_value,
                        "lookupValue",
                        "add `lookupValue: $.<step>.<field>`",
                    );
                    let (Some(index), Some(key), Some(value)) =
                        (&s.index, &s.match_key, &s.lookup_value)
                    else {
                        ok = false;
                        continue;
                    };
                    if !names.contains(&index.value) {
                        sink.error(
                            index.pos,
                            &index.path,
                            format!("`index: {}` names no earlier step", index.value),
                            earlier_step_help(&index.value, &names),
                        );
                        ok = false;
                    }
                    if value.value.trim_start().starts_with('$') {
                        ok &= step_path(sink, value, &names);
                    }
                    if s.outputs.is_empty() {
                        sink.error(
                            s.pos,
                            &s.path,
                            format!("lookup step `{}` keeps no field", name.value),
                            "add `outputParameters: [field, ...]`",
                        );
                        ok = false;
                    }
                    out.push(ir::Step::Lookup {
                        name: name.value.clone(),
                        index: index.value.clone(),
                        key: key.value.clone(),
                        value: value.value.clone(),
                        outputs: s.outputs.iter().map(|o| o.value.clone()).collect(),
                    });
                }
                other => {
                    // `script` steps are reported by `unsupported`; others here.
                    if other != "script" {
                        let k = s.kind.as_ref().map_or(s.pos, |k| k.pos);
                        sink.error(
                            k,
                            &spec::join(&s.path, "type"),
                            format!("step type `{other}` is not known"),
                            help_with_suggestion(other, &["call", "lookup", "script"], "step type"),
                        );
                    }
                    ok = false;
                    continue;
                }
            }
            names.push(name.value.clone());
        }
        let mut resolved = Vec::new();
        for m in mappings {
            ok &= step_path(sink, &m.value, &names);
            resolved.push((m.target.value.clone(), m.value.value.clone()));
        }
        let output_types = outputs
            .iter()
            .filter_map(|o| {
                let ty = o.ty.as_ref().and_then(|t| JsonType::parse(&t.value))?;
                Some((o.name.as_ref()?.value.clone(), ty))
            })
            .collect();
        ok.then_some(ir::Orchestration {
            steps: out,
            mappings: resolved,
            output_types,
        })
    }

    /// `true` when `var` (`x`, `x.field`, `P.x`) names an exposed input, an
    /// earlier step or a bound variable.
    fn known_var(
        &self,
        var: &str,
        steps: &[String],
        inputs: &[ir::ExposedInput],
        prefixes: &[&str],
    ) -> bool {
        if self.find_bind(var).is_some() {
            return true;
        }
        let var = match var.split_once('.') {
            Some((p, rest)) if prefixes.contains(&p) => rest,
            _ => var,
        };
        let root = |name: &str| {
            var == name || (var.starts_with(name) && var.as_bytes().get(name.len()) == Some(&b'.'))
        };
        steps.iter().any(|s| root(s)) || inputs.iter().any(|i| root(&i.name))
    }

    /// An input a step needs that is not declared: inferred as a required
    /// string (decision 5) when the operation declares none, else an error.
    #[allow(clippy::too_many_arguments)]
    fn infer(
        &self,
        sink: &mut Sink,
        var: &str,
        pos: crate::yaml::Pos,
        path: &str,
        inputs: &mut Vec<ir::ExposedInput>,
        taken: &mut Vec<String>,
        declared: bool,
        mcp: bool,
        steps: &[String],
    ) -> bool {
        let name = var.split('.').next().unwrap_or(var);
        if declared || name.is_empty() {
            let mut known: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
            known.extend(steps.iter().map(String::as_str));
            sink.error(
                pos,
                path,
                format!("`{var}` names no input, earlier step or bound variable"),
                help_with_suggestion(name, &known, "name"),
            );
            return false;
        }
        inputs.push(ir::ExposedInput {
            name: name.to_owned(),
            rust_name: unique(taken, snake(name)),
            location: if mcp { Location::Body } else { Location::Query },
            ty: JsonType::String,
            required: true,
            description: None,
        });
        true
    }
}

/// A `$.<step>.<path>` value must start with a step's name.
fn step_path(sink: &mut Sink, value: &Spanned<String>, steps: &[String]) -> bool {
    if value.value.contains("{{") || !value.value.trim_start().starts_with('$') {
        // Filled per request (`$.{{name}}`), or a literal: nothing to check.
        return true;
    }
    let inner = value.value.trim().strip_prefix("$.").unwrap_or_default();
    let found = steps.iter().any(|s| {
        inner == s
            || (inner.starts_with(s.as_str())
                && matches!(inner.as_bytes().get(s.len()), Some(b'.' | b'[')))
    });
    if !found {
        let first = inner.split(['.', '[']).next().unwrap_or(inner);
        sink.error(
            value.pos,
            &value.path,
            format!("`{}` reads no step's output", value.value),
            earlier_step_help(first, steps),
        );
    }
    found
}

/// A "did you mean" among the steps declared so far, or why there is none.
fn earlier_step_help(name: &str, steps: &[String]) -> String {
    if steps.is_empty() {
        return "steps run in order: only a step declared before this one can be read".into();
    }
    let names: Vec<&str> = steps.iter().map(String::as_str).collect();
    help_with_suggestion(name, &names, "step")
}

/// An aggregate function as reached by `ref`: its namespace and itself.
pub(super) struct FunctionRef<'a> {
    pub(super) namespace: &'a str,
    pub(super) function: &'a spec::Function,
}

/// Finds the function `r` names (`namespace.function`).
pub(super) fn find_function<'a>(
    aggregates: &'a [spec::Aggregate],
    r: &str,
) -> Option<FunctionRef<'a>> {
    let (ns, name) = r.rsplit_once('.')?;
    aggregates
        .iter()
        .filter(|a| a.namespace.as_ref().is_some_and(|n| n.value == ns))
        .flat_map(|a| a.functions.iter().map(move |f| (a, f)))
        .find(|(_, f)| f.name.as_ref().is_some_and(|n| n.value == name))
        .map(|(a, f)| FunctionRef {
            namespace: a.namespace.as_ref().map_or("", |n| n.value.as_str()),
            function: f,
        })
}

/// A tool with `ref`: the function's call, steps and outputs; its name,
/// description and inputs unless the tool gives its own; hints derived from
/// `semantics` (safe: readOnly and not destructive; idempotent copied)
/// unless the tool sets them.
pub(super) fn merge_tool(t: &spec::Tool, f: &FunctionRef<'_>) -> spec::Tool {
    let func = f.function;
    let mut merged = t.clone();
    merged.name = t.name.clone().or_else(|| func.name.clone());
    merged.description = t.description.clone().or_else(|| func.description.clone());
    if t.input_parameters.is_empty() {
        merged.input_parameters = func.input_parameters.clone();
    }
    merged.call = func.call.clone();
    merged.with = func.with.clone();
    merged.steps = func.steps.clone();
    merged.mappings = func.mappings.clone();
    if t.output_parameters.is_empty() {
        merged.output_parameters = func.output_parameters.clone();
    }
    let h = &mut merged.hints;
    if let Some(safe) = func.safe {
        h.read_only = h.read_only.or(Some(safe));
        if safe {
            h.destructive = h.destructive.or(Some(false));
        }
    }
    h.idempotent = h.idempotent.or(func.idempotent);
    merged.reference = None;
    merged.aggregate = Some(f.namespace.to_owned());
    merged
}

/// A REST operation with `ref`: like [`merge_tool`]; inherited inputs are
/// read from the query (GET, DELETE, HEAD) or as fields of the JSON body.
pub(super) fn merge_operation(
    o: &spec::RestOperation,
    f: &FunctionRef<'_>,
    method: &str,
) -> spec::RestOperation {
    let func = f.function;
    let mut merged = o.clone();
    merged.name = o.name.clone().or_else(|| func.name.clone());
    merged.description = o.description.clone().or_else(|| func.description.clone());
    if o.input_parameters.is_empty() {
        let place = if matches!(method, "GET" | "DELETE" | "HEAD") {
            "query"
        } else {
            "body"
        };
        merged.input_parameters = func
            .input_parameters
            .iter()
            .map(|p| {
                let mut p = p.clone();
                if p.location.is_none() {
                    p.location = Some(Spanned::new(place.to_owned(), p.pos, p.path.clone()));
                }
                p
            })
            .collect();
    }
    merged.call = func.call.clone();
    merged.with = func.with.clone();
    merged.steps = func.steps.clone();
    merged.mappings = func.mappings.clone();
    if o.output_parameters.is_empty() {
        merged.output_parameters = func.output_parameters.clone();
    }
    merged.reference = None;
    merged.aggregate = Some(f.namespace.to_owned());
    merged
}
