//! `logto-experience`: serves the REST adapter of
//! `capabilities/logto-experience.yaml` in front of a Logto tenant, or, with
//! `--dev`, in front of an embedded Logto-faithful Experience API.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use logto_client::dev::{DEMO_CLIENT_ID, DEMO_PASSWORD, DEMO_USERNAME, DevLogto};
use logto_client::logto_experience::{self, Client};
use logto_client::logto_experience_rest::{self as rest, Forwarder, Upstreams};
use logto_client::server::{DEFAULT_BODY_LIMIT, RestConfig};

/// Serve the Logto Experience API capability (REST adapter).
///
/// Environment: LOGTO_API_KEY is the bearer token sent upstream (the spec's
/// `{{env.LOGTO_API_KEY}}` bind; optional with --dev). RUST_LOG sets the log
/// level (default `info`; request logs never show headers or bodies).
#[derive(Parser, Debug)]
#[command(name = "logto-experience", version)]
struct Args {
    /// The Logto base URL to forward to, e.g. https://abc.logto.app
    /// (replaces the spec's baseUri https://[tenant_id].logto.app).
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// A baseUri variable, e.g. `--var tenant_id=abc` for https://abc.logto.app.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Where the REST adapter listens (the spec's port is 8080).
    #[arg(long, value_name = "ADDR", default_value_t = SocketAddr::from(([127, 0, 0, 1], rest::PORT)))]
    rest_addr: SocketAddr,
    /// Seconds an upstream call may take before the adapter answers 504.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// The largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_BODY_LIMIT)]
    body_limit: usize,
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

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let mut builder = Client::builder()
        .cookie_store(false) // each caller's cookies travel with its own requests
        .timeout(Duration::from_secs(args.timeout));
    for var in &args.vars {
        match var.split_once('=') {
            Some(("tenant_id", value)) if !value.is_empty() => builder = builder.tenant_id(value),
            _ => {
                return fail(&format!(
                    "unknown or empty --var `{var}`: the spec's baseUri has only `tenant_id`"
                ));
            }
        }
    }
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
        builder = builder.base_url(&url);
        if std::env::var_os("LOGTO_API_KEY").is_none() {
            builder = builder.bind("LOGTO_API_KEY", "dev-key");
        }
        dev_url = Some(url);
    } else if let Some(url) = &args.upstream {
        builder = builder.base_url(url);
    } else if args.vars.is_empty() {
        return fail("no upstream: pass --upstream <URL>, --var tenant_id=<id>, or --dev");
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let upstream = client.base_url().to_owned();

    let config = RestConfig {
        body_limit: args.body_limit,
    };
    let app = rest::router(
        Forwarder {
            upstreams: Upstreams {
                logto_experience: client,
            },
        },
        config,
    )
    .layer(
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
    if let Some(dev) = &dev_url {
        print_dev_walkthrough(dev, addr);
    }
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
    {
        return fail(&format!("server error: {e}"));
    }
    println!("logto-experience: stopped");
    ExitCode::SUCCESS
}

/// Ctrl-C or SIGTERM: stop accepting, let in-flight requests finish.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
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
