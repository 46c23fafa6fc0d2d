//! How long the macro's work takes in-process: reading, validation and code
//! generation (what `naftiko_capability!` does before handing tokens to
//! rustc), for the Logto capability and for synthetic capabilities of 36,
//! 200 and 740 operations (the size of Cloudflare's accounts file), to show
//! the cost grows linearly with operations.
//!
//! `cargo bench -p logto-macros-core --bench expand`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // a benchmark

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use logto_macros_core::{Files, analyze_source, codegen};

const LOGTO: &str = include_str!("../../../capabilities/logto-experience.yaml");

struct NoFiles;

impl Files for NoFiles {
    fn read(&self, _: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no files",
        ))
    }
}

fn expand(source: &str) -> proc_macro2::TokenStream {
    let analysis = analyze_source(source, "bench.yaml", Path::new("bench.yaml"), &NoFiles)
        .expect("the capability is valid");
    codegen::generate(&analysis.capability, &codegen::Settings::default()).expect("generates")
}

/// A capability with `n` consumed operations, each exposed through REST
/// and MCP, with a path parameter, a query input and a body on every third
/// (the mix of the Logto file).
fn synthetic(n: usize) -> String {
    let mut s = String::from(
        "naftiko: 1.0.0-alpha2\ncapability:\n  consumes:\n  - type: http\n    namespace: api\n    baseUri: http://127.0.0.1:9\n    resources:\n",
    );
    for i in 0..n {
        let method = if i % 3 == 0 { "POST" } else { "GET" };
        write!(
            s,
            "    - name: r{i}\n      path: /things{i}/{{id}}\n      operations:\n      - name: op{i}\n        method: {method}\n        inputParameters:\n        - name: id\n          in: path\n          type: string\n          required: true\n        - name: limit\n          in: query\n          type: integer\n"
        )
        .unwrap();
        if i % 3 == 0 {
            s.push_str("        - name: body\n          in: body\n          type: object\n");
        }
    }
    s.push_str(
        "  exposes:\n  - type: rest\n    namespace: api-rest\n    port: 8080\n    resources:\n",
    );
    for i in 0..n {
        let method = if i % 3 == 0 { "POST" } else { "GET" };
        write!(
            s,
            "    - path: /v1/things{i}/{{id}}\n      operations:\n      - method: {method}\n        name: op{i}\n        call: api.op{i}\n"
        )
        .unwrap();
    }
    s.push_str("  - type: mcp\n    namespace: api-mcp\n    transport: http\n    tools:\n");
    for i in 0..n {
        write!(
            s,
            "    - name: tool{i}\n      description: Operation {i}.\n      call: api.op{i}\n"
        )
        .unwrap();
    }
    s
}

fn bench(c: &mut Criterion) {
    c.bench_function("expand logto-experience (36 operations)", |b| {
        b.iter(|| expand(LOGTO))
    });
    let mut group = c.benchmark_group("expand synthetic");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for n in [36, 200, 740] {
        let source = synthetic(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &source, |b, s| {
            b.iter(|| expand(s))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
