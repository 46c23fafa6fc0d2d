//! The control adapter (`exposes: type: control`) and the observation of the
//! other adapters it reports on (REFERENCE-ENGINE.md 4):
//!
//! - `GET /health/live` → `{"status": "UP"}`; `GET /health/ready` → `UP` and
//!   each adapter's state (`management.health`, on by default);
//! - `GET /status` → capability, engine, uptime, adapters (`management.info`);
//! - `GET /metrics` → Prometheus text: requests per adapter, method and
//!   status, and their durations (`observability.metrics.local.enabled`);
//! - `GET /traces`, `/traces/{id}` → the last requests served (a ring buffer
//!   of `observability.traces.local.buffer-size`, 100 by default);
//! - what a compiled server cannot do (scripting, reload, validate, log
//!   streaming) answers 501 with a JSON problem naming it.
//!
//! Every adapter served by `capability::adapters` is wrapped by [`observe`]
//! when the spec has a control adapter.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde_json::{Value, json};

use crate::server::problem;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    adapter: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AdapterLabels {
    adapter: String,
}

/// One request served, as `/traces` lists it (no query string: it may carry
/// an API key).
#[derive(Debug, Clone)]
struct Trace {
    id: String,
    adapter: &'static str,
    method: String,
    path: String,
    status: u16,
    duration_ms: f64,
}

/// What the control adapter reports: metrics and recent requests of the
/// observed adapters, and when the process started.
#[derive(Debug)]
pub struct Observer {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<AdapterLabels, Histogram, fn() -> Histogram>,
    traces: Mutex<VecDeque<Trace>>,
    buffer: usize,
    started: Instant,
}

fn duration_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Observer {
    /// An observer keeping the last `buffer` requests.
    pub fn new(buffer: usize) -> Arc<Self> {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<AdapterLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram,
        );
        registry.register(
            "naftiko_requests",
            "Requests served by the capability's adapters",
            requests.clone(),
        );
        registry.register(
            "naftiko_request_duration_seconds",
            "Time to answer a request, per adapter",
            durations.clone(),
        );
        Arc::new(Self {
            registry,
            requests,
            durations,
            traces: Mutex::new(VecDeque::with_capacity(buffer.min(1024))),
            buffer,
            started: Instant::now(),
        })
    }

    fn record(&self, trace: Trace) {
        self.requests
            .get_or_create(&RequestLabels {
                adapter: trace.adapter.to_owned(),
                method: trace.method.clone(),
                status: trace.status,
            })
            .inc();
        self.durations
            .get_or_create(&AdapterLabels {
                adapter: trace.adapter.to_owned(),
            })
            .observe(trace.duration_ms / 1000.0);
        if self.buffer == 0 {
            return;
        }
        if let Ok(mut t) = self.traces.lock() {
            if t.len() >= self.buffer {
                t.pop_front();
            }
            t.push_back(trace);
        }
    }

    /// The Prometheus text exposition of the metrics.
    pub fn metrics_text(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

fn trace_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return String::new();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `router` with every request counted, timed and kept in the ring buffer
/// of `observer`, under the adapter's namespace.
pub fn observe(router: Router, observer: Arc<Observer>, adapter: &'static str) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let observer = Arc::clone(&observer);
            async move {
                let started = Instant::now();
                let method = req.method().to_string();
                let path = req.uri().path().to_owned();
                let resp = next.run(req).await;
                observer.record(Trace {
                    id: trace_id(),
                    adapter,
                    method,
                    path,
                    status: resp.status().as_u16(),
                    duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                });
                resp
            }
        },
    ))
}

/// An adapter as the control adapter lists it.
#[derive(Debug, Clone)]
pub struct AdapterInfo {
    /// `rest`, `mcp`, `skill` or `control`.
    pub kind: &'static str,
    /// Its namespace.
    pub namespace: &'static str,
    /// The port it listens on.
    pub port: u16,
}

/// The control adapter's settings, from its spec.
#[derive(Debug, Clone)]
pub struct ControlSpec {
    /// `management.health` (default true).
    pub health: bool,
    /// `management.info` (default false).
    pub info: bool,
    /// `observability.enabled` and `metrics.local.enabled` (default true).
    pub metrics: bool,
    /// `observability.enabled` and `traces.local.enabled` (default true).
    pub traces: bool,
    /// Management features a compiled server cannot offer, that the spec
    /// turns on: each answers 501 at its route.
    pub unsupported: &'static [(&'static str, &'static str)],
    /// `info.label`.
    pub label: Option<&'static str>,
    /// `naftiko` version of the spec.
    pub spec_version: &'static str,
}

struct ControlState {
    spec: ControlSpec,
    observer: Arc<Observer>,
    adapters: Vec<AdapterInfo>,
}

fn adapters_json(adapters: &[AdapterInfo]) -> Vec<Value> {
    adapters
        .iter()
        .map(|a| json!({"type": a.kind, "namespace": a.namespace, "port": a.port, "state": "started"}))
        .collect()
}

/// The control adapter's router. The other adapters are bound before any
/// is served, so once this answers, every adapter is started.
pub fn router(spec: ControlSpec, observer: Arc<Observer>, adapters: Vec<AdapterInfo>) -> Router {
    let mut r = Router::new();
    if spec.health {
        r = r
            .route(
                "/health/live",
                get(|| async { axum::Json(json!({"status": "UP"})) }),
            )
            .route(
                "/health/ready",
                get(|State(s): State<Arc<ControlState>>| async move {
                    axum::Json(json!({"status": "UP", "adapters": adapters_json(&s.adapters)}))
                }),
            );
    }
    if spec.info {
        r = r.route(
            "/status",
            get(|State(s): State<Arc<ControlState>>| async move {
                axum::Json(json!({
                    "capability": {"label": s.spec.label, "specVersion": s.spec.spec_version},
                    "engine": {"name": "logto-client (generated Rust)", "version": env!("CARGO_PKG_VERSION")},
                    "uptime": format!("PT{:.3}S", s.observer.started.elapsed().as_secs_f64()),
                    "adapters": adapters_json(&s.adapters),
                }))
            }),
        );
    }
    if spec.metrics {
        r = r.route(
            "/metrics",
            get(|State(s): State<Arc<ControlState>>| async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    s.observer.metrics_text(),
                )
                    .into_response()
            }),
        );
    }
    if spec.traces {
        r = r
            .route("/traces", get(traces))
            .route("/traces/{id}", get(trace));
    }
    for (route, what) in spec.unsupported {
        let message =
            format!("{what} is not supported by a generated server: its spec is compiled in");
        r = r.route(
            route,
            axum::routing::any(move || {
                let message = message.clone();
                async move { problem(StatusCode::NOT_IMPLEMENTED, message) }
            }),
        );
    }
    r.fallback(crate::server::not_found)
        .with_state(Arc::new(ControlState {
            spec,
            observer,
            adapters,
        }))
}

fn trace_json(t: &Trace) -> Value {
    json!({
        "traceId": t.id, "adapter": t.adapter, "method": t.method, "path": t.path,
        "status": t.status, "durationMs": t.duration_ms,
    })
}

async fn traces(State(s): State<Arc<ControlState>>) -> Response {
    let list: Vec<Value> = s
        .observer
        .traces
        .lock()
        .map(|t| t.iter().rev().map(trace_json).collect())
        .unwrap_or_default();
    axum::Json(json!({"count": list.len(), "traces": list})).into_response()
}

async fn trace(State(s): State<Arc<ControlState>>, Path(id): Path<String>) -> Response {
    let found = s
        .observer
        .traces
        .lock()
        .ok()
        .and_then(|t| t.iter().find(|t| t.id == id).map(trace_json));
    match found {
        Some(t) => axum::Json(t).into_response(),
        None => problem(StatusCode::NOT_FOUND, format!("no trace `{id}` is kept")),
    }
}
