//! What a generated REST route does, from a static [`RouteSpec`] per exposed
//! operation: read the request's inputs ([`read_inputs`]) into the values
//! the operation's typed input struct is built from, and, by default,
//! forward them to the consumed operation its `call` names
//! ([`forward_route`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{MethodFilter, on};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::client::{BodySpec, Call, CallBody, Core, Ty};
use crate::plan::{CallPlan, Inputs, Src, TemplatePart, Upstreams};
use crate::server::{Incoming, LeanBody, RestConfig, error_response, forwarded_headers, problem};

/// Where an exposed input is read from.
#[derive(Debug, Clone, Copy)]
pub enum Read {
    /// The route's path parameter at this index.
    Path(usize),
    /// The query parameter of the input's name.
    Query,
    /// The header of the input's name.
    Header,
    /// The whole JSON body.
    Body,
    /// The field of the input's name of a JSON object body.
    BodyField,
    /// The value at this JSONPath in the JSON body.
    BodyPath(&'static str),
    /// A fixed text (the spec's `value`), not read from the request.
    Fixed(&'static str),
}

/// One exposed input of a route.
#[derive(Debug, Clone, Copy)]
pub struct InputRead {
    /// Its name (for messages and the call's inputs).
    pub name: &'static str,
    /// Where it is read from.
    pub read: Read,
    /// Whether a request without it gets 400.
    pub required: bool,
}

impl InputRead {
    /// An input (a `const fn`, so generated tables stay one line each).
    pub const fn new(name: &'static str, read: Read, required: bool) -> Self {
        Self {
            name,
            read,
            required,
        }
    }
}

/// Everything about an exposed REST operation that does not change per
/// request.
#[derive(Debug)]
pub struct RouteSpec {
    /// The method and the axum route (`GET /items/{p0}`: placeholders
    /// named by position).
    pub route: &'static str,
    /// The inputs, in the order of the input struct's fields.
    pub inputs: &'static [InputRead],
    /// Headers passed on to the upstream besides cookies.
    pub trusted: &'static [&'static str],
    /// What the default handler sends upstream (`None`: it has no plain
    /// `call`; steps, a mock or the user's own handler serve it).
    pub call: Option<CallPlan>,
}

/// A request's input values, taken in field order by the generated code
/// that builds the input struct.
#[derive(Debug)]
pub struct Values(std::vec::IntoIter<Option<Value>>);

impl Values {
    /// The next value as text (a path parameter or required input: present).
    pub fn text(&mut self) -> String {
        self.opt_text().unwrap_or_default()
    }

    /// The next value as optional text.
    pub fn opt_text(&mut self) -> Option<String> {
        self.0.next().flatten().map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }

    /// The next value as JSON (a required body input: present).
    pub fn json(&mut self) -> Value {
        self.opt_json().unwrap_or_default()
    }

    /// The next value as optional JSON.
    pub fn opt_json(&mut self) -> Option<Value> {
        self.0.next().flatten()
    }
}

/// What a REST handler returns: its answer, as a boxed future.
///
/// Boxed rather than `impl Future` (an `async fn` in the trait) on purpose:
/// rustc's checking of a trait with one `-> impl Future` method per operation
/// grows faster than the number of operations (27 s for a 740-operation
/// adapter against 11 s boxed). An override is
/// `fn op(&self, input: OpInput, forwarded: HeaderMap) -> HandlerFuture<'_> { Box::pin(async move { .. }) }`.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

/// What a generated adapter's routes share: its handlers and settings.
pub type Shared<H> = Arc<(H, RestConfig)>;

/// A generated adapter's dispatcher: calls the handler of the operation at
/// this index of its routes with its typed input, built from the values
/// [`read_inputs`] read. Not a future of its own: the route's axum handler
/// awaits the reading and then the handler's future, so a request costs
/// axum's box and the handler's, no third.
pub type Dispatch<H> = for<'a> fn(&'a H, Values, HeaderMap, usize) -> HandlerFuture<'a>;

/// An axum router with one route per entry of `routes` (routes sharing a
/// path share its method router), each reading its inputs and then served
/// by `dispatch`.
pub fn routes<H: Send + Sync + 'static>(
    routes: &'static [RouteSpec],
    dispatch: Dispatch<H>,
) -> axum::Router<Shared<H>> {
    let mut router = axum::Router::new();
    for (op, spec) in routes.iter().enumerate() {
        let (method, path) = spec.route.split_once(' ').unwrap_or(("GET", spec.route));
        // Generated routes carry a method the spec validation accepted.
        let Some(filter) = http::Method::from_bytes(method.as_bytes())
            .ok()
            .and_then(|m| MethodFilter::try_from(m).ok())
        else {
            continue;
        };
        let handler = move |State(state): State<Shared<H>>, req: Request| async move {
            match read_inputs(req, &state.1, routes, op).await {
                Ok((values, forwarded)) => dispatch(&state.0, values, forwarded, op).await,
                Err(resp) => resp,
            }
        };
        router = router.route(path, on(filter, handler));
    }
    router
}

/// Reads the inputs of operation `op` of `routes` from `req`, and the
/// headers forwarded upstream. 413 above the body limit; 400 naming the
/// input when a required one is missing or the body is not JSON.
pub async fn read_inputs(
    req: Request,
    config: &RestConfig,
    routes: &'static [RouteSpec],
    op: usize,
) -> Result<(Values, HeaderMap), Response> {
    let Some(route) = routes.get(op) else {
        return Err(problem(StatusCode::NOT_FOUND, "no such operation"));
    };
    let incoming = Incoming::read(req, config.body_limit).await?;
    let values = values_of(&incoming, route)?;
    let forwarded = forwarded_headers(&incoming.headers, route.trusted);
    Ok((values, forwarded))
}

/// The values of `route`'s inputs in `incoming`: 400 naming the input when a
/// required one is missing or the body is not JSON.
pub(crate) fn values_of(incoming: &Incoming, route: &RouteSpec) -> Result<Values, Response> {
    values_read(incoming, route, None).map(|(values, _)| values)
}

/// [`values_of`], where the route's input at index `stand_in` (the body read
/// whole, see [`body_sent_only_whole`]) is not parsed when the body is valid
/// JSON as serde_json writes it (`formats::json_is_as_written`) and an object
/// or array: its value is then an empty one of the same kind, and the second
/// value returned says so. The caller sends the body as it came instead
/// (the lean path with the generated `Forwarder`: `rest::forward_default`).
pub(crate) fn values_read(
    incoming: &Incoming,
    route: &RouteSpec,
    stand_in: Option<usize>,
) -> Result<(Values, bool), Response> {
    let mut values = Vec::with_capacity(route.inputs.len());
    let mut stood_in = false;
    for (at, input) in route.inputs.iter().enumerate() {
        let (name, required) = (input.name, input.required);
        let value = match input.read {
            Read::Path(index) => Some(Value::String(incoming.path_param(index, name)?)),
            Read::Query => incoming.query_param(name, required)?.map(Value::String),
            Read::Header => incoming.header(name, required)?.map(Value::String),
            Read::Body => match stand_in
                .filter(|&i| i == at)
                .and_then(|_| stand_in_for(&incoming.body))
            {
                Some(value) => {
                    stood_in = true;
                    Some(value)
                }
                None => incoming.json_body(required)?,
            },
            Read::BodyField => incoming.body_field(name, required)?,
            Read::BodyPath(path) => incoming.body_path(name, path, required)?,
            Read::Fixed(text) => Some(Value::String(text.to_owned())),
        };
        if value.is_none() && required {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                format!("missing required input `{name}`"),
            ));
        }
        values.push(value);
    }
    Ok((Values(values.into_iter()), stood_in))
}

/// An empty object or array standing in for `body` when it is one, valid
/// and as serde_json writes it (see [`values_read`]); `None` otherwise.
fn stand_in_for(body: &[u8]) -> Option<Value> {
    let value = match body.first() {
        Some(b'{') => Value::Object(serde_json::Map::new()),
        Some(b'[') => Value::Array(Vec::new()),
        _ => return None,
    };
    crate::formats::json_is_as_written(body).then_some(value)
}

/// The default handler of a route with a `call`: the inputs to the consumed
/// operation, its answer streamed back (400 when an input does not fit it).
pub fn forward_route<'a>(
    upstreams: &'a (dyn Upstreams + Sync),
    route: &'static RouteSpec,
    inputs: Inputs,
    forwarded: HeaderMap,
) -> HandlerFuture<'a> {
    route_call(upstreams, route, inputs, forwarded, false, None)
}

/// [`forward_route`] as the generated default handlers call it: their
/// answer goes straight back to whoever serves the route, so on the lean
/// path an upstream answer passed through keeps its head raw
/// (`server::RawHead`). Not for handlers of one's own, which may read or
/// change the answer's headers.
#[doc(hidden)]
pub fn forward_default<'a>(
    upstreams: &'a (dyn Upstreams + Sync),
    route: &'static RouteSpec,
    inputs: Inputs,
    forwarded: HeaderMap,
) -> HandlerFuture<'a> {
    let (raw, body) = match crate::server::lean_call() {
        Some(body) => (true, body),
        None => (false, None),
    };
    route_call(upstreams, route, inputs, forwarded, raw, body)
}

/// [`forward_route`]'s work; `raw` and `body` (the request's, as it came):
/// see [`forward_default`].
///
/// Not an `async fn`: the forwarding future is boxed as it is, rather than
/// inside a second future that would hold the call a second time and be
/// copied whole into the box (4.8 kB a request before; issue 9).
fn route_call<'a>(
    upstreams: &'a (dyn Upstreams + Sync),
    route: &'static RouteSpec,
    inputs: Inputs,
    forwarded: HeaderMap,
    raw: bool,
    body: Option<LeanBody>,
) -> HandlerFuture<'a> {
    let answer =
        |response: Response| -> HandlerFuture<'a> { Box::pin(std::future::ready(response)) };
    let Some(plan) = &route.call else {
        return answer(problem(
            StatusCode::NOT_IMPLEMENTED,
            "this operation has no `call` to forward to",
        ));
    };
    let Some(core) = upstreams.core(plan.api) else {
        return answer(problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the operation's upstream is missing",
        ));
    };
    match plan.prepare(core, inputs) {
        Ok(mut call) => {
            match body {
                Some(LeanBody::Read(body)) => send_as_read(&mut call, body, route, plan, core),
                // The call's body is a stand-in for this one (`values_read`).
                Some(LeanBody::StoodIn(body)) => call.body = CallBody::JsonText(body),
                None => {}
            }
            Box::pin(crate::server::forward_with(
                core,
                call,
                forwarded,
                plan.mapping,
                raw,
            ))
        }
        Err(e) => answer(error_response(e)),
    }
}

/// Sends the request's `body` as it came instead of the call's JSON value,
/// when that value is the body read whole and passed on unchanged, and the
/// bytes are what writing it would give (`formats::json_is_as_written`): the
/// same request upstream, without writing the value again (issue 9).
///
/// The value is the body unchanged when the route's whole-body input is
/// what the plan hands the consumed operation's whole-body input, typed
/// JSON, and the call's body is an object or an array (a body read as text
/// would be a string). Only generated default handlers get here
/// ([`forward_default`]), and they pass their inputs on as they read them.
fn send_as_read(call: &mut Call, body: Bytes, route: &RouteSpec, plan: &CallPlan, core: &Core) {
    if !matches!(
        call.body,
        CallBody::Json(Value::Object(_) | Value::Array(_))
    ) {
        return;
    }
    if body_sent_whole(route, plan, core).is_some() && crate::formats::json_is_as_written(&body) {
        call.body = CallBody::JsonText(body);
    }
}

/// When `route`'s call sends its body read whole (`Read::Body`) unchanged
/// as the consumed operation's whole-body input, typed JSON: the index of
/// that input in the route's inputs, and of the argument in the plan's.
fn body_sent_whole(route: &RouteSpec, plan: &CallPlan, core: &Core) -> Option<(usize, usize)> {
    let read = route
        .inputs
        .iter()
        .position(|i| matches!(i.read, Read::Body))?;
    let name = route.inputs.get(read)?.name;
    let op = core.operation(plan.op)?;
    let BodySpec::Whole(arg) = op.body else {
        return None;
    };
    let whole = op.inputs.get(arg).is_some_and(|i| i.ty == Ty::Json)
        && matches!(plan.args.get(arg), Some(Src::Input(n) | Src::Take(n)) if *n == name);
    whole.then_some((read, arg))
}

/// [`body_sent_whole`]'s input index when, besides, nothing else of the call
/// reads that input (no other argument, template or extra): its value then
/// matters only as the body sent, and the lean path need not parse a body
/// it can send as it came ([`values_read`]). `None` when the route has no
/// call, or `upstreams` lacks its API.
pub(crate) fn body_sent_only_whole(
    route: &RouteSpec,
    upstreams: &(dyn Upstreams + Sync),
) -> Option<usize> {
    let plan = route.call.as_ref()?;
    let (read, arg) = body_sent_whole(route, plan, upstreams.core(plan.api)?)?;
    let name = route.inputs.get(read)?.name;
    let reads = |src: &Src| match *src {
        Src::Input(n) | Src::Take(n) => n == name,
        Src::Template(parts) => parts
            .iter()
            .any(|p| matches!(p, TemplatePart::Input(n) if *n == name)),
        Src::Missing | Src::Literal(_) => false,
    };
    let mut others = plan
        .args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != arg)
        .map(|(_, src)| src)
        .chain(plan.extras.iter().map(|(_, src)| src));
    (!others.any(reads)).then_some(read)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use http::Method;

    use super::*;
    use crate::client::{ApiSpec, At, CoreBuilder, InputSpec, OpSpec, Output};
    use crate::plan::TemplatePart;

    const fn op(name: &'static str, inputs: &'static [InputSpec], body: BodySpec) -> OpSpec {
        OpSpec {
            operation: name,
            method: Method::POST,
            path: "/x",
            inputs,
            fixed: &[],
            body,
            output: Output::JSON,
        }
    }

    static JSON_INPUT: [InputSpec; 1] = [InputSpec::new("payload", At::Body, Ty::Json, true)];
    static TEXT_INPUT: [InputSpec; 1] = [InputSpec::new("payload", At::Body, Ty::String, true)];
    static WHOLE: OpSpec = op("t.whole", &JSON_INPUT, BodySpec::Whole(0));
    static MERGED: OpSpec = op("t.merged", &JSON_INPUT, BodySpec::Merged(&[0]));
    static TEXT: OpSpec = op("t.text", &TEXT_INPUT, BodySpec::Whole(0));
    static READS: [InputRead; 2] = [
        InputRead::new("id", Read::Query, false),
        InputRead::new("body", Read::Body, true),
    ];
    static PAIR_INPUTS: [InputSpec; 2] = [
        InputSpec::new("payload", At::Body, Ty::Json, true),
        InputSpec::new("note", At::Query, Ty::String, false),
    ];
    static PAIR: OpSpec = op("t.pair", &PAIR_INPUTS, BodySpec::Whole(0));
    static SPEC: ApiSpec = ApiSpec::for_tests(&[&WHOLE, &MERGED, &TEXT, &PAIR]);

    /// One upstream, at index 0.
    struct One(Core);

    impl Upstreams for One {
        fn core(&self, api: usize) -> Option<&Core> {
            (api == 0).then_some(&self.0)
        }
    }

    /// The lean path may stand in for the body only when the call sends it
    /// whole and unchanged, and nothing else of the call reads it.
    #[test]
    fn a_body_is_stood_in_for_only_when_the_call_reads_nothing_else_of_it() {
        let upstreams = One(CoreBuilder::default()
            .cookie_store(false)
            .build(&SPEC)
            .unwrap());
        let plan = |api, op, args: &[Src], extras: &[(&'static str, Src)]| CallPlan {
            api,
            op,
            args: Box::leak(args.to_vec().into_boxed_slice()),
            extras: Box::leak(extras.to_vec().into_boxed_slice()),
            mapping: None,
        };
        static BY_ID: [TemplatePart; 2] = [TemplatePart::Text("n-"), TemplatePart::Input("id")];
        static BY_BODY: [TemplatePart; 2] = [TemplatePart::Text("n-"), TemplatePart::Input("body")];
        let cases = [
            (plan(0, 3, &[Src::Take("body"), Src::Missing], &[]), Some(1)),
            (
                plan(0, 3, &[Src::Take("body"), Src::Input("id")], &[]),
                Some(1),
            ),
            (
                plan(0, 3, &[Src::Take("body"), Src::Template(&BY_ID)], &[]),
                Some(1),
            ),
            (
                plan(0, 0, &[Src::Take("body")], &[("q", Src::Input("id"))]),
                Some(1),
            ),
            // The body read again: by another argument, a template, an extra.
            (
                plan(0, 3, &[Src::Input("body"), Src::Take("body")], &[]),
                None,
            ),
            (
                plan(0, 3, &[Src::Take("body"), Src::Template(&BY_BODY)], &[]),
                None,
            ),
            (
                plan(0, 0, &[Src::Input("body")], &[("q", Src::Take("body"))]),
                None,
            ),
            // Not the call's body unchanged, or no such upstream.
            (plan(0, 1, &[Src::Take("body")], &[]), None),
            (plan(0, 2, &[Src::Take("body")], &[]), None),
            (plan(0, 3, &[Src::Take("id"), Src::Missing], &[]), None),
            (plan(1, 3, &[Src::Take("body"), Src::Missing], &[]), None),
        ];
        for (call, expected) in cases {
            let described = format!("{call:?}");
            let route = RouteSpec {
                route: "POST /x",
                inputs: &READS,
                trusted: &[],
                call: Some(call),
            };
            assert_eq!(
                body_sent_only_whole(&route, &upstreams),
                expected,
                "{described}"
            );
        }
        let no_call = RouteSpec {
            route: "POST /x",
            inputs: &READS,
            trusted: &[],
            call: None,
        };
        assert_eq!(body_sent_only_whole(&no_call, &upstreams), None);
    }

    fn route(op: usize, arg: Src) -> RouteSpec {
        RouteSpec {
            route: "POST /x",
            inputs: &READS,
            trusted: &[],
            call: Some(CallPlan::new(0, op, Box::leak(Box::new([arg])))),
        }
    }

    /// The body goes as it came only when the call's body is the route's
    /// whole body passed on unchanged, and the bytes are serde_json's own.
    #[test]
    fn a_body_goes_as_it_came_only_when_it_is_the_calls_body_unchanged() {
        let core = CoreBuilder::default()
            .cookie_store(false)
            .build(&SPEC)
            .unwrap();
        let as_written = r#"{"a":[1,{"b":"x"}],"c":true}"#;
        let cases = [
            (0, Src::Take("body"), as_written, true),
            (0, Src::Input("body"), as_written, true),
            // Not serde_json's text: written again.
            (
                0,
                Src::Take("body"),
                r#"{"c":true,"a":[1,{"b":"x"}]}"#,
                false,
            ),
            // Another input than the whole body.
            (0, Src::Take("id"), as_written, false),
            // A body made of it, not it.
            (1, Src::Take("body"), as_written, false),
            // An input typed as text: a JSON string of it is sent.
            (2, Src::Take("body"), as_written, false),
        ];
        for (op, arg, text, kept) in cases {
            let route = route(op, arg);
            let plan = route.call.as_ref().unwrap();
            let value: Value = serde_json::from_str(text).unwrap();
            let inputs = crate::plan::inputs([("body", Some(value.clone())), ("id", Some(value))]);
            let mut call = plan.prepare(&core, inputs).unwrap();
            let mut written = HeaderMap::new();
            let before = call.body.encode(&mut written);
            send_as_read(&mut call, Bytes::from(text), &route, plan, &core);
            assert_eq!(
                matches!(call.body, CallBody::JsonText(_)),
                kept,
                "{op} {arg:?} {text}"
            );
            // Either way, the same request.
            let mut headers = HeaderMap::new();
            assert_eq!(
                call.body.encode(&mut headers),
                before,
                "{op} {arg:?} {text}"
            );
            assert_eq!(headers, written);
        }
    }
}
