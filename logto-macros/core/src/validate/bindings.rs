//! What feeds each consumed input of an exposed operation or tool
//! (SEMANTICS.md decisions 4-6).

use super::template::{Part, loose, split};
use super::{Cx, unique};
use crate::diagnostics::{Sink, help_with_suggestion};
use crate::ir::{self, JsonType, Location};
use crate::names::snake;
use crate::spec::Spanned;
use crate::yaml::{Node, Pos};

/// Everything [`Cx::bindings`] needs to know about the exposing side.
pub(super) struct BindingScope<'a> {
    pub(super) prefixes: &'a [&'a str],
    pub(super) with: &'a [(Spanned<String>, Node)],
    pub(super) inputs: &'a mut Vec<ir::ExposedInput>,
    pub(super) taken: &'a mut Vec<String>,
    pub(super) declared: bool,
    pub(super) mcp: bool,
    pub(super) call_pos: Pos,
    pub(super) call_path: &'a str,
    /// The operation has `steps`: templates may name step outputs.
    pub(super) lenient: bool,
}

impl Cx {
    /// Resolves `with` and the consumed placeholders (decisions 4-6).
    pub(super) fn bindings(
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
            lenient,
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
                Some(text) => match self.with_template(
                    sink, text, value, &key.path, prefixes, inputs, taken, declared, mcp, input,
                ) {
                    Some(parts) => ir::Source::Template(parts),
                    None if lenient => ir::Source::Literal(value.to_json()),
                    None => continue,
                },
                None => ir::Source::Literal(value.to_json()),
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

    /// A `with` value holding `{{...}}`: each variable is a bound variable,
    /// or an exposed input (`P.name`, or a bare name); `None` after
    /// reporting one that is neither (unless the operation has steps, whose
    /// outputs templates may also name).
    #[allow(clippy::too_many_arguments)]
    fn with_template(
        &self,
        sink: &mut Sink,
        text: &str,
        value: &Node,
        path: &str,
        prefixes: &[&str],
        inputs: &mut Vec<ir::ExposedInput>,
        taken: &mut Vec<String>,
        declared: bool,
        mcp: bool,
        target: &ir::Input,
    ) -> Option<Vec<ir::TemplatePart>> {
        let mut parts = Vec::new();
        for part in split(text, false, false) {
            match part {
                Part::Text(t) => parts.push(ir::TemplatePart::Text(t.to_owned())),
                Part::Var(v) => {
                    let v = v.strip_prefix("$this.").unwrap_or(v);
                    if let Some(i) = self.find_bind(v) {
                        parts.push(ir::TemplatePart::Bind(i));
                        continue;
                    }
                    let name = match v.split_once('.') {
                        Some((p, n)) if prefixes.contains(&p) => n,
                        Some(_) => {
                            sink.error(
                                value.pos,
                                path,
                                format!(
                                    "`{{{{{v}}}}}` names neither an input nor a bound variable"
                                ),
                                format!(
                                    "write `{{{{{}.<input>}}}}` or declare the bind",
                                    prefixes.get(1).unwrap_or(&"rest")
                                ),
                            );
                            return None;
                        }
                        None => v,
                    };
                    // Declared inputs only when some are declared; otherwise inferred.
                    let known = inputs.iter().any(|i| i.name == name);
                    if !known && declared {
                        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
                        sink.error(
                            value.pos,
                            path,
                            format!(
                                "`{{{{{v}}}}}` refers to input `{name}`, which is not declared"
                            ),
                            help_with_suggestion(name, &names, "input"),
                        );
                        return None;
                    }
                    self.exposed_ref(
                        sink, name, value, path, inputs, taken, declared, mcp, target,
                    )?;
                    parts.push(ir::TemplatePart::Input(name.to_owned()));
                }
            }
        }
        Some(parts)
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
