//! How an exposed operation (REST) or tool (MCP) feeds the consumed
//! operation its `call` names: a static [`CallPlan`], one per exposed
//! operation, read by one shared function instead of a generated body each.
//!
//! The exposed side hands over its inputs as a JSON object by name (a REST
//! operation's path, query, header and body inputs; an MCP tool's
//! arguments). Each consumed input then comes from a [`Src`]: an exposed
//! input, a literal of the spec's `with`, or a `{{...}}` template.

use serde_json::{Map, Value};

use crate::client::{Arg, Call, Core};
use crate::error::Error;

/// The exposed inputs of one request, by name.
pub type Inputs = Map<String, Value>;

/// Where a consumed input's value comes from.
#[derive(Debug, Clone, Copy)]
pub enum Src {
    /// Nothing feeds it: it is sent only if it has a default upstream.
    Missing,
    /// The exposed input of this name, copied (it is read again later).
    Input(&'static str),
    /// The exposed input of this name, moved out (its last reader): a large
    /// body is not copied on the request path.
    Take(&'static str),
    /// A literal of the spec, as JSON text (`null` counts as not given).
    Literal(&'static str),
    /// A `{{...}}` template over the exposed inputs and bound variables.
    Template(&'static [TemplatePart]),
}

/// A piece of a `with` template.
#[derive(Debug, Clone, Copy)]
pub enum TemplatePart {
    /// Literal text.
    Text(&'static str),
    /// The text of the exposed input of this name (empty when not given).
    Input(&'static str),
    /// A bound variable, by index.
    Bind(usize),
}

/// What an exposed operation or tool sends upstream.
#[derive(Debug)]
pub struct CallPlan {
    /// The upstream: the index of its client in the adapter's `Upstreams`.
    pub api: usize,
    /// The consumed operation: its index in the upstream's operations.
    pub op: usize,
    /// The source of each of its inputs, in its order.
    pub args: &'static [Src],
    /// Inputs the consumed operation does not declare, sent as extra query
    /// parameters.
    pub extras: &'static [(&'static str, Src)],
    /// The exposed output mapping, applied after the consumed one.
    pub mapping: Option<&'static str>,
}

/// The upstream clients of a generated adapter, by index.
pub trait Upstreams {
    /// The client core of upstream `api`.
    fn core(&self, api: usize) -> Option<&Core>;
}

impl CallPlan {
    /// A plan sending `args` to `op` of upstream `api`, with no extras and
    /// no exposed mapping (`const fn`s, for generated tables).
    pub const fn new(api: usize, op: usize, args: &'static [Src]) -> Self {
        Self {
            api,
            op,
            args,
            extras: &[],
            mapping: None,
        }
    }

    /// The call for one request's `inputs`. A bound variable a template
    /// needs and cannot find is [`Error::Config`]; an input that does not
    /// fit is [`Error::InvalidRequest`] naming it.
    pub fn prepare(&self, core: &Core, mut inputs: Inputs) -> Result<Call, Error> {
        let Some(op) = core.operation(self.op) else {
            return Err(Error::Config {
                message: format!("`{}` has no operation {}", core.namespace(), self.op),
            });
        };
        let mut args = Vec::with_capacity(self.args.len());
        for src in self.args {
            args.push(src.arg(core, &mut inputs)?);
        }
        let mut call = core.prepare(op, args)?;
        for (name, src) in self.extras {
            if let Some(v) = src.arg(core, &mut inputs)?.into_text() {
                call.query(name, v);
            }
        }
        Ok(call)
    }
}

impl Src {
    /// The argument this source gives for one request.
    fn arg(&self, core: &Core, inputs: &mut Inputs) -> Result<Arg, Error> {
        Ok(match *self {
            Src::Missing => Arg::Missing,
            Src::Input(name) => Arg::json(inputs.get(name).cloned()),
            Src::Take(name) => Arg::json(inputs.remove(name)),
            Src::Literal(json) => match serde_json::from_str::<Value>(json) {
                Ok(Value::String(s)) => Arg::Text(s),
                other => Arg::json(other.ok()),
            },
            Src::Template(parts) => {
                let mut s = String::new();
                for part in parts {
                    match part {
                        TemplatePart::Text(t) => s.push_str(t),
                        // Not given (or `null`): nothing.
                        TemplatePart::Input(name) => {
                            if let Some(v) = inputs.get(*name).filter(|v| !v.is_null()) {
                                crate::template::text(v, &mut s);
                            }
                        }
                        TemplatePart::Bind(i) => s.push_str(&core.bind_value(*i)?),
                    }
                }
                Arg::Text(s)
            }
        })
    }
}

/// The plan of an exposed operation or tool that sends `args` to `op` of
/// upstream `api` (a `const fn`: generated tables call it).
pub const fn plan(api: usize, op: usize, args: &'static [Src]) -> Option<CallPlan> {
    Some(CallPlan::new(api, op, args))
}

/// [`plan`] with extra query parameters and an exposed output mapping.
pub const fn plan_with(
    api: usize,
    op: usize,
    args: &'static [Src],
    extras: &'static [(&'static str, Src)],
    mapping: Option<&'static str>,
) -> Option<CallPlan> {
    Some(CallPlan {
        api,
        op,
        args,
        extras,
        mapping,
    })
}

/// The inputs of one request from `(name, value)` pairs; `None` values
/// (optional inputs not given) are left out.
pub fn inputs<const N: usize>(pairs: [(&'static str, Option<Value>); N]) -> Inputs {
    let mut map = Map::new();
    for (name, value) in pairs {
        if let Some(v) = value {
            map.insert(name.to_owned(), v);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use http::Method;
    use serde_json::json;

    use super::*;
    use crate::client::{
        ApiSpec, At, BodySpec, CallBody, CoreBuilder, InputSpec, OpSpec, Output, Ty,
    };

    static OP: OpSpec = OpSpec {
        operation: "t.update",
        method: Method::POST,
        path: "/things/{id}/{nope}",
        inputs: &[
            InputSpec::new("id", At::Path, Ty::String, true),
            InputSpec::new("limit", At::Query, Ty::Integer, false),
            InputSpec::new("body", At::Body, Ty::Json, true),
        ],
        fixed: &[],
        body: BodySpec::Whole(2),
        output: Output::JSON,
    };
    static SPEC: ApiSpec = ApiSpec::for_tests(&[&OP]);
    static PLAN: CallPlan = CallPlan {
        api: 0,
        op: 0,
        args: &[Src::Input("name"), Src::Literal("25"), Src::Take("payload")],
        extras: &[(
            "trace",
            Src::Template(&[TemplatePart::Text("t-"), TemplatePart::Input("name")]),
        )],
        mapping: None,
    };

    #[test]
    fn a_plan_reads_each_consumed_input_from_its_source() {
        let core = CoreBuilder::default().build(&SPEC).unwrap();
        let inputs = json!({"name": "a/b", "payload": {"x": [1, 2]}});
        let call = PLAN
            .prepare(&core, inputs.as_object().cloned().unwrap())
            .unwrap();
        assert_eq!(call.method, Method::POST);
        // One segment, encoded; a placeholder naming no input stays text.
        assert_eq!(call.path, "/things/a%2Fb/{nope}");
        assert_eq!(
            call.query,
            vec![
                ("limit".to_owned(), "25".to_owned()),
                ("trace".to_owned(), "t-a/b".to_owned())
            ]
        );
        match call.body {
            CallBody::Json(v) => assert_eq!(v, json!({"x": [1, 2]})),
            other => panic!("a JSON body, not {other:?}"),
        }
    }

    #[test]
    fn a_template_writes_json_inputs_as_json_and_leaves_out_missing_ones() {
        let core = CoreBuilder::default().build(&SPEC).unwrap();
        let plan = CallPlan {
            extras: &[(
                "trace",
                Src::Template(&[
                    TemplatePart::Input("n"),
                    TemplatePart::Text("|"),
                    TemplatePart::Input("absent"),
                    TemplatePart::Text("|"),
                    TemplatePart::Input("null"),
                    TemplatePart::Text("|"),
                    TemplatePart::Input("obj"),
                ]),
            )],
            ..PLAN
        };
        let inputs = json!({"name": "a", "payload": {}, "n": 7, "null": null, "obj": {"k": "v"}});
        let call = plan
            .prepare(&core, inputs.as_object().cloned().unwrap())
            .unwrap();
        assert_eq!(
            call.query.last(),
            Some(&("trace".to_owned(), "7|||{\"k\":\"v\"}".to_owned()))
        );
    }

    #[test]
    fn an_input_that_does_not_fit_is_named() {
        let core = CoreBuilder::default().build(&SPEC).unwrap();
        let missing = PLAN.prepare(&core, Inputs::new()).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "t.update: invalid request: missing required input `id`"
        );
        let bad = CallPlan {
            args: &[
                Src::Input("name"),
                Src::Literal("\"many\""),
                Src::Take("payload"),
            ],
            ..PLAN
        };
        let inputs = json!({"name": "a", "payload": {}});
        let err = bad
            .prepare(&core, inputs.as_object().cloned().unwrap())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.update: invalid request: `limit` must be an integer, got `many`"
        );
    }
}
