//! `logto-experience`: serves the REST and MCP adapters of
//! `capabilities/logto-experience.yaml` in front of a Logto tenant, or, with
//! `--dev`, in front of an embedded Logto-faithful Experience API.

// The doc comments of `Args` are clap's --help text, written for a terminal.
#![allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]

// clap and tracing-subscriber are this binary's alone, so they are not in
// the library's default build (see .cargo/config.toml).
#[cfg(not(any(logto_cli, feature = "cli")))]
compile_error!(
    "the logto-experience binary needs the `cli` feature (`--features cli`) or `--cfg logto_cli` \
     (set by this repository's .cargo/config.toml; a RUSTFLAGS variable replaces it)"
);

// glibc's malloc was about a tenth of the adapter's CPU per request under
// load (perf, issue 9: `_int_malloc`, `_int_free`, `malloc_consolidate`);
// mimalloc's per-thread free lists need no such passes. A library cannot
// choose its users' allocator; a server binary should.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use logto_client::dev::{DEMO_CLIENT_ID, DEMO_PASSWORD, DEMO_USERNAME, DevLogto};
use logto_client::listen::{self, HttpLimits};
use logto_client::logto_experience::{self, Client};
use logto_client::logto_experience_mcp as mcp;
use logto_client::logto_experience_rest::{self as rest, Forwarder, Upstreams};
use logto_client::mcp::McpHttpConfig;
use logto_client::server::{DEFAULT_BODY_LIMIT, RestConfig};

/// Serve the Logto Experience API capability: the REST adapter and the MCP
/// adapter (streamable HTTP at /mcp, or stdio with --mcp-stdio).
///
/// Environment: LOGTO_API_KEY is the bearer token sent upstream (the spec's
/// `{{env.LOGTO_API_KEY}}` bind; optional with --dev). RUST_LOG sets the log
/// level (default `info`; request logs never show headers or bodies, and the
/// MCP library's message dumps stay off even at `trace`: no password, token
/// or cookie reaches the logs).
#[derive(Parser, Debug)]
#[command(name = "logto-experience", version)]
struct Args {
    /// The Logto base URL to forward to, e.g. https://abc.logto.app
    /// (replaces the spec's baseUri https://[tenant_id].logto.app).
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// A PEM file of certificates to trust for an https:// upstream besides
    /// the system's (a private CA's, or a self-signed upstream's).
    #[arg(long, value_name = "FILE")]
    upstream_ca: Option<std::path::PathBuf>,
    /// A baseUri variable, e.g. `--var tenant_id=abc` for https://abc.logto.app.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Where the REST adapter listens (the spec's port is 8080).
    #[arg(long, value_name = "ADDR", default_value_t = SocketAddr::from(([127, 0, 0, 1], rest::PORT)))]
    rest_addr: SocketAddr,
    /// Where the MCP adapter listens, serving streamable HTTP at /mcp (the
    /// spec's port is 9090).
    #[arg(long, value_name = "ADDR", default_value_t = SocketAddr::from(([127, 0, 0, 1], mcp::PORT)))]
    mcp_addr: SocketAddr,
    /// Serve MCP over stdin/stdout instead (one session; the REST adapter is
    /// not served, and nothing else writes to stdout).
    #[arg(long)]
    mcp_stdio: bool,
    /// A `Host` the MCP HTTP transport accepts besides loopback (repeatable;
    /// rmcp's DNS-rebinding guard), e.g. `--allowed-host mcp.example.com`.
    #[arg(long = "allowed-host", value_name = "HOST")]
    allowed_hosts: Vec<String>,
    /// Seconds an upstream call may take before the adapter answers 504.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// The largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// The largest upstream answer passed on, in bytes (a larger one gets 502,
    /// or its connection cut when it streams without a length).
    #[arg(long, value_name = "BYTES", default_value_t = logto_client::client::DEFAULT_ANSWER_LIMIT)]
    answer_limit: usize,
    /// Seconds a caller has to send a request's headers (slowloris guard).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    header_timeout: u64,
    /// Serve every REST request through hyper and axum, never on the lean
    /// path (hand-written HTTP/1 for the generated routes, used while request
    /// logging is off: `RUST_LOG=warn`), e.g. to compare the two.
    #[arg(long)]
    no_lean_path: bool,
    /// Seconds in-flight requests get to finish after Ctrl-C or SIGTERM
    /// (new connections are refused at once); then the process exits.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    grace: u64,
    /// Threads serving requests: 1 (the default) runs one event loop, like
    /// one nginx worker; more run tokio's multi-threaded, work-stealing
    /// runtime with that many threads.
    #[arg(long, value_name = "N", default_value_t = 1)]
    workers: usize,
    /// The most MCP sessions kept at once (about 5 kB each); past it, an
    /// `initialize` gets a JSON-RPC error (HTTP 503) until one closes or expires.
    #[arg(long, value_name = "N", default_value_t = logto_client::mcp::DEFAULT_MAX_SESSIONS)]
    max_mcp_sessions: usize,
    /// An MCP session without a request for this many seconds is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = logto_client::mcp::DEFAULT_SESSION_IDLE.as_secs())]
    mcp_session_idle: u64,
    /// Development mode: serve in front of an embedded Logto-faithful
    /// Experience API (one demo user) and print a complete sign-in to try.
    #[arg(long)]
    dev: bool,
}

/// A one-line error and exit code 2.
fn fail(msg: &str) -> ExitCode {
    eprintln!("logto-experience: error: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args = Args::parse();
    // One event loop by default, as one nginx worker: no work stealing and
    // no wake-ups between threads (measured with proxy-bench: 28% less CPU
    // per request than tokio's default multi-threaded runtime on 2 cores).
    let runtime = if args.workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.workers)
            .enable_all()
            .build()
    };
    match runtime {
        Ok(rt) => rt.block_on(serve(args)),
        Err(e) => fail(&format!("cannot start the runtime: {e}")),
    }
}

async fn serve(args: Args) -> ExitCode {
    // `RUST_LOG` is read as `target=level` directives (tracing-subscriber's
    // `Targets`: no span or field filters, so no regex engine to build).
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let mut targets = filter.parse::<Targets>().unwrap_or_else(|_| {
        eprintln!("RUST_LOG `{filter}` is not a list of target=level directives: logging at info");
        Targets::new().with_default(tracing::Level::INFO)
    });
    // rmcp's service module is capped at warn, whatever RUST_LOG says: at
    // debug and trace it dumps whole JSON-RPC messages (tool arguments:
    // passwords), and at info it narrates the one-request service it runs
    // for every MCP request here (three lines each, formatted and written to
    // stderr: a sixth of the MCP adapter's rate under load). Only lowered,
    // never raised: `RUST_LOG=error` keeps it at error.
    if targets.would_enable("rmcp::service", &tracing::Level::INFO) {
        targets = targets.with_target("rmcp::service", tracing::Level::WARN);
    }
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(targets)
        .init();

    let stop_signal = shutdown();
    let mut dev_url = None;
    if args.dev {
        let dev = DevLogto::new();
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => return fail(&format!("cannot start the embedded Logto: {e}")),
        };
        let url = match listener.local_addr() {
            Ok(a) => format!("http://{a}"),
            Err(e) => return fail(&format!("cannot start the embedded Logto: {e}")),
        };
        let router = dev.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        dev_url = Some(url);
    } else if args.upstream.is_none() && args.vars.is_empty() {
        return fail("no upstream: pass --upstream <URL>, --var tenant_id=<id>, or --dev");
    }
    // REST callers bring their own cookies (no shared jar); each MCP session
    // gets a jar of its own.
    let clients = match (
        client(&args, dev_url.as_deref(), false),
        client(&args, dev_url.as_deref(), true),
    ) {
        (Ok(rest), Ok(mcp)) => (rest, mcp),
        (Err(e), _) | (_, Err(e)) => return fail(&e),
    };
    let (client, mcp_client) = clients;
    let upstream = client.base_url().to_owned();
    let mcp_upstreams = mcp::Upstreams {
        logto_experience: mcp_client,
    };
    if args.mcp_stdio || mcp::STDIO {
        eprintln!(
            "logto-experience: MCP adapter `{}` on stdio ({} tools), upstream {upstream}",
            mcp::NAMESPACE,
            mcp::TOOLS.len()
        );
        return match mcp::serve_stdio(mcp_upstreams).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("MCP stdio: {e}")),
        };
    }

    let config = RestConfig {
        body_limit: args.body_limit,
        ..RestConfig::default()
    };
    let (app, lean) = rest::lean_router(
        Forwarder {
            upstreams: Upstreams {
                logto_experience: client,
            },
        },
        config,
    );
    // The lean path does not go through the request log below: it serves
    // only while that log is off (`RUST_LOG=warn`, say).
    let lean = lean.filter(|_| {
        !args.no_lean_path
            && !tracing::enabled!(target: "tower_http::trace::on_response", tracing::Level::INFO)
    });
    let app = app.layer(
        tower_http::trace::TraceLayer::new_for_http()
            .make_span_with(tower_http::trace::DefaultMakeSpan::new().level(tracing::Level::INFO))
            .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
    );
    let listener = match tokio::net::TcpListener::bind(args.rest_addr).await {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on {}: {e}", args.rest_addr)),
    };
    let addr = listener.local_addr().unwrap_or(args.rest_addr);
    println!(
        "logto-experience: REST adapter `{}` on http://{addr} ({} routes, OpenAPI at /openapi.json)",
        rest::NAMESPACE,
        rest::OPERATIONS.len()
    );
    println!(
        "logto-experience: upstream {upstream} ({} operations)",
        logto_experience::OPERATIONS.len()
    );
    let mut hosts = McpHttpConfig::default().allowed_hosts;
    hosts.extend(args.allowed_hosts.iter().cloned());
    let mcp_config = McpHttpConfig {
        allowed_hosts: hosts,
        max_sessions: args.max_mcp_sessions.max(1),
        session_idle: Duration::from_secs(args.mcp_session_idle.max(1)),
        ..McpHttpConfig::default()
    };
    let mcp_app = match mcp::router(mcp_upstreams, &mcp_config) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    let mcp_listener = match tokio::net::TcpListener::bind(args.mcp_addr).await {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on {}: {e}", args.mcp_addr)),
    };
    let mcp_addr = mcp_listener.local_addr().unwrap_or(args.mcp_addr);
    println!(
        "logto-experience: MCP adapter `{}` on http://{mcp_addr}/mcp ({} tools)",
        mcp::NAMESPACE,
        mcp::TOOLS.len()
    );
    if let Some(dev) = &dev_url {
        print_dev_walkthrough(dev, addr);
    }
    // One signal stops both servers: they refuse new connections at once and
    // let in-flight requests finish, for at most the grace period.
    let limits = HttpLimits {
        header_read_timeout: Duration::from_secs(args.header_timeout.max(1)),
        ..HttpLimits::default()
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let rest_server = listen::serve_lean(listener, app, lean, &limits, stopped(stop_rx.clone()));
    let mcp_server = listen::serve(mcp_listener, mcp_app, &limits, stopped(stop_rx.clone()));
    let grace = Duration::from_secs(args.grace);
    let deadline = async move {
        stopped(stop_rx).await;
        tokio::time::sleep(grace).await;
    };
    tokio::spawn(async move {
        stop_signal.await;
        let _ = stop_tx.send(true);
    });
    tokio::select! {
        (rest_result, mcp_result) = async { tokio::join!(rest_server, mcp_server) } => {
            if let Err(e) = rest_result.and(mcp_result) {
                return fail(&format!("server error: {e}"));
            }
            println!("logto-experience: stopped");
        }
        () = deadline => println!("logto-experience: grace period over, closing the remaining connections"),
    }
    ExitCode::SUCCESS
}

/// Ctrl-C or SIGTERM: stop accepting, let in-flight requests finish.
///
/// The handlers are installed when this is called (at startup), not when the
/// future is first polled, so a signal that arrives early is not lost.
fn shutdown() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn print_dev_walkthrough(dev: &str, addr: SocketAddr) {
    let a = format!("http://{addr}/v1/api/experience");
    println!(
        "logto-experience: --dev: embedded Logto Experience API at {dev} (user `{DEMO_USERNAME}`, password `{DEMO_PASSWORD}`)

A complete sign-in (curl keeps the interaction cookies in ./logto.jar):

  curl -s -c logto.jar '{dev}/oidc/auth?client_id={DEMO_CLIENT_ID}&redirect_uri=http://localhost/cb&response_type=code&scope=openid&state=x' -o /dev/null
  curl -s -b logto.jar -c logto.jar -X PUT {a} -H 'content-type: application/json' -d '{{\"interactionEvent\":\"SignIn\"}}' -w '%{{http_code}}\\n'
  curl -s -b logto.jar -c logto.jar -X POST {a}/verification/password -H 'content-type: application/json' \\
       -d '{{\"identifier\":{{\"type\":\"username\",\"value\":\"{DEMO_USERNAME}\"}},\"password\":\"{DEMO_PASSWORD}\"}}'
  curl -s -b logto.jar -c logto.jar -X POST {a}/identification -H 'content-type: application/json' \\
       -d '{{\"verificationId\":\"<verificationId from the previous answer>\"}}' -w '%{{http_code}}\\n'
  curl -s -b logto.jar -c logto.jar -X POST {a}/submit
"
    );
}

/// The upstream client the flags describe.
fn client(args: &Args, dev_url: Option<&str>, cookie_store: bool) -> Result<Client, String> {
    let mut builder = Client::builder()
        .cookie_store(cookie_store)
        .answer_limit(args.answer_limit)
        .timeout(Duration::from_secs(args.timeout));
    for var in &args.vars {
        match var.split_once('=') {
            Some(("tenant_id", value)) if !value.is_empty() => builder = builder.tenant_id(value),
            _ => {
                return Err(format!(
                    "unknown or empty --var `{var}`: the spec's baseUri has only `tenant_id`"
                ));
            }
        }
    }
    if let Some(url) = dev_url {
        builder = builder.base_url(url);
        if std::env::var_os("LOGTO_API_KEY").is_none() {
            builder = builder.bind("LOGTO_API_KEY", "dev-key");
        }
    } else if let Some(url) = &args.upstream {
        builder = builder.base_url(url);
    }
    if let Some(path) = &args.upstream_ca {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read --upstream-ca {}: {e}", path.display()))?;
        builder = builder.root_certificate_pem(pem);
    }
    builder.build().map_err(|e| e.to_string())
}
