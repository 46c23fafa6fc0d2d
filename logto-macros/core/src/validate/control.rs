//! The control adapter (`exposes: type: control`): its management flags and
//! observability settings, with the reference engine's defaults.

use serde_json::Value;

use super::Cx;
use crate::diagnostics::Sink;
use crate::ir;
use crate::spec;
use crate::yaml::Pos;

/// `value.a.b` as a boolean, `default` when absent.
fn flag(value: Option<&Value>, path: &[&str], default: bool) -> bool {
    let mut v = value;
    for key in path {
        v = v.and_then(|v| v.get(*key));
    }
    v.and_then(Value::as_bool).unwrap_or(default)
}

impl Cx {
    pub(super) fn control(
        &mut self,
        sink: &mut Sink,
        a: &spec::ControlAdapter,
        later: &mut Vec<(Pos, String, String)>,
    ) -> Option<ir::ControlAdapter> {
        let m = a.management.as_ref();
        let o = a.observability.as_ref();
        let observing = flag(o, &["enabled"], true);
        let mut unsupported = Vec::new();
        for (key, route, what) in [
            ("reload", "/reload", "reloading the spec"),
            ("validate", "/validate", "validating a spec"),
        ] {
            if flag(m, &[key], false) {
                unsupported.push((route.to_owned(), what.to_owned()));
            }
        }
        let logs = m.and_then(|m| m.get("logs"));
        if logs.is_some_and(|l| l.as_bool() != Some(false)) {
            unsupported.push((
                "/logs".to_owned(),
                "log level control and streaming".to_owned(),
            ));
        }
        let scripting = m.and_then(|m| m.get("scripting"));
        if scripting.is_some_and(|s| s.get("enabled").and_then(Value::as_bool) != Some(false)) {
            unsupported.push(("/scripting".to_owned(), "script management".to_owned()));
        }
        let mut notes = Vec::new();
        if let Some(endpoint) = o
            .and_then(|o| o.pointer("/exporters/otlp/endpoint"))
            .and_then(Value::as_str)
        {
            notes.push(format!(
                "OTLP export to {endpoint} is not supported: metrics are served at /metrics and recent requests at /traces"
            ));
        }
        for key in ["sampling", "propagation"] {
            if o.and_then(|o| o.pointer(&format!("/traces/{key}")))
                .is_some()
            {
                notes.push(format!(
                    "observability.traces.{key} has no effect: every request is kept at /traces"
                ));
            }
        }
        let auth = a
            .authentication
            .as_ref()
            .and_then(|spec_auth| self.inbound_auth(sink, spec_auth, "a control adapter", later));
        Some(ir::ControlAdapter {
            namespace: a
                .namespace
                .as_ref()
                .map_or_else(|| "control".to_owned(), |n| n.value.clone()),
            port: a.port.as_ref().map(|p| p.value),
            address: a.address.as_ref().map(|p| p.value.clone()),
            health: flag(m, &["health"], true),
            info: flag(m, &["info"], false),
            metrics: observing && flag(o, &["metrics", "local", "enabled"], true),
            traces: observing && flag(o, &["traces", "local", "enabled"], true),
            buffer: o
                .and_then(|o| o.pointer("/traces/local/buffer-size"))
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(100),
            unsupported,
            notes,
            auth,
        })
    }
}
