//! Serving a whole capability at once, as the reference engine does: every
//! exposed adapter at its spec address and port, consumed base URLs and
//! bound variables from configuration or the environment, graceful shutdown.
//!
//! Each expansion of `naftiko_capability!` has a `capability` module whose
//! `serve(config)` builds the adapters and calls [`run`]; `naftiko serve`
//! builds a small crate around it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::client::BindSpec;
use crate::error::Error;
use crate::secret::Secret;
use crate::server::RestConfig;

/// The environment variable through which `naftiko serve` hands bound
/// values to the server it runs (a JSON object), so that they never appear
/// on a command line.
pub const BINDS_ENV: &str = "NAFTIKO_BINDS";

/// What a served capability is configured with, besides its spec.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Consumed namespace → base URL replacing its `baseUri`.
    pub upstreams: BTreeMap<String, String>,
    /// PEM documents of certificates every upstream client trusts besides
    /// the system's roots (see `CoreBuilder::root_certificate_pem`).
    pub upstream_ca: Vec<Vec<u8>>,
    /// Bound variables (`VAR` or `namespace.VAR`) → value; others come from
    /// the environment, or from the file a bind's `location` names.
    pub binds: BTreeMap<String, Secret>,
    /// Adapter namespace → address replacing the spec's `address`/`port`.
    pub addrs: BTreeMap<String, SocketAddr>,
    /// Request limits of REST adapters.
    pub rest: RestConfig,
    /// Upstream call timeout.
    pub timeout: Duration,
    /// The largest upstream answer accepted (502, or a cut stream, past it).
    pub answer_limit: usize,
    /// Connection limits of every HTTP adapter.
    pub http: crate::listen::HttpLimits,
    /// Extra `Host` names the MCP adapters accept (loopback always).
    pub allowed_hosts: Vec<String>,
    /// How long in-flight requests may take to finish after a stop signal.
    pub grace: Duration,
    /// The most live sessions of each MCP adapter.
    pub max_mcp_sessions: usize,
    /// Idle time after which an MCP session is closed.
    pub mcp_session_idle: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            upstreams: BTreeMap::new(),
            upstream_ca: Vec::new(),
            binds: BTreeMap::new(),
            addrs: BTreeMap::new(),
            rest: RestConfig::default(),
            timeout: crate::client::DEFAULT_TIMEOUT,
            answer_limit: crate::client::DEFAULT_ANSWER_LIMIT,
            http: crate::listen::HttpLimits::default(),
            allowed_hosts: Vec::new(),
            grace: Duration::from_secs(10),
            max_mcp_sessions: crate::mcp::DEFAULT_MAX_SESSIONS,
            mcp_session_idle: crate::mcp::DEFAULT_SESSION_IDLE,
        }
    }
}

/// The usage of [`ServeConfig::from_args`].
pub const USAGE: &str = "options:
  --upstream NAMESPACE=URL   base URL of a consumed API (replaces its baseUri)
  --upstream-ca FILE         PEM certificates to trust for https:// upstreams besides
                             the system's (a private CA's, a self-signed upstream's)
  --bind NAME=VALUE          a bound variable (also read from the environment, or
                             from NAFTIKO_BINDS, a JSON object of NAME: VALUE)
  --addr NAMESPACE=HOST:PORT where an exposed adapter listens (default: the spec's
                             address, else 127.0.0.1, and port)
  --allowed-host HOST        a Host name MCP adapters accept besides loopback
  --timeout SECONDS          upstream call timeout (default 30)
  --body-limit BYTES         REST request body limit (default 1 MiB)
  --answer-limit BYTES       largest upstream answer accepted (default 16 MiB; 502
                             past it, or a cut connection when streamed)
  --header-timeout SECONDS   time a caller has to send a request's headers (default 10)
  --grace SECONDS            time in-flight requests get after Ctrl-C/SIGTERM (default 10)
  --max-mcp-sessions N       live sessions an MCP adapter keeps; past it, `initialize`
                             gets a JSON-RPC error (default 1000)
  --mcp-session-idle SECONDS an MCP session without requests this long is closed
                             (default 300)";

fn pair<'a>(flag: &str, value: &'a str) -> Result<(&'a str, &'a str), String> {
    value
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{flag} {value}`: expected NAME=VALUE"))
}

impl ServeConfig {
    /// Reads the options of [`USAGE`] (and [`BINDS_ENV`]); the error names
    /// the option at fault.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut config = Self::default();
        if let Ok(json) = std::env::var(BINDS_ENV) {
            let map: BTreeMap<String, String> = serde_json::from_str(&json)
                .map_err(|e| format!("{BINDS_ENV} is not a JSON object of strings: {e}"))?;
            config
                .binds
                .extend(map.into_iter().map(|(k, v)| (k, Secret::new(v))));
        }
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("`{flag}` needs a value"));
            match flag.as_str() {
                "--upstream" => {
                    let v = value()?;
                    let (ns, url) = pair(&flag, &v)?;
                    config.upstreams.insert(ns.to_owned(), url.to_owned());
                }
                "--upstream-ca" => {
                    let path = value()?;
                    let pem = std::fs::read(&path)
                        .map_err(|e| format!("`--upstream-ca {path}`: cannot read it: {e}"))?;
                    config.upstream_ca.push(pem);
                }
                "--bind" => {
                    let v = value()?;
                    let (name, secret) = pair(&flag, &v)?;
                    config
                        .binds
                        .insert(name.to_owned(), Secret::new(secret.to_owned()));
                }
                "--addr" => {
                    let v = value()?;
                    let (ns, addr) = pair(&flag, &v)?;
                    let addr = addr
                        .parse()
                        .map_err(|_| format!("`--addr {ns}={addr}`: expected HOST:PORT"))?;
                    config.addrs.insert(ns.to_owned(), addr);
                }
                "--allowed-host" => config.allowed_hosts.push(value()?),
                "--max-mcp-sessions" => {
                    let v = value()?;
                    config.max_mcp_sessions = v
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("`{flag} {v}`: expected a positive number"))?;
                }
                "--timeout" | "--grace" | "--mcp-session-idle" | "--header-timeout" => {
                    let v = value()?;
                    let secs: f64 = v
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| format!("`{flag} {v}`: expected seconds"))?;
                    let d = Duration::from_secs_f64(secs);
                    match flag.as_str() {
                        "--timeout" => config.timeout = d,
                        "--grace" => config.grace = d,
                        "--header-timeout" => config.http.header_read_timeout = d,
                        _ => config.mcp_session_idle = d,
                    }
                }
                "--answer-limit" => {
                    let v = value()?;
                    config.answer_limit = v
                        .parse()
                        .map_err(|_| format!("`--answer-limit {v}`: expected bytes"))?;
                }
                "--body-limit" => {
                    let v = value()?;
                    config.rest.body_limit = v
                        .parse()
                        .map_err(|_| format!("`--body-limit {v}`: expected bytes"))?;
                }
                other => return Err(format!("unknown option `{other}`\n{USAGE}")),
            }
        }
        Ok(config)
    }

    /// The values of the spec's bound variables: given ones, then those a
    /// bind's `location` file holds (`file:///./x.yaml` from the working
    /// directory; YAML or JSON `key: value`). Environment variables are read
    /// by the clients themselves.
    pub fn bind_values(&self, specs: &[BindSpec]) -> Result<BTreeMap<String, Secret>, Error> {
        let mut out = self.binds.clone();
        let mut files: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
        for b in specs {
            let given = out.contains_key(b.var)
                || b.namespace
                    .is_some_and(|ns| out.contains_key(&format!("{ns}.{}", b.var)));
            let Some(location) = b.location.filter(|_| !given) else {
                continue;
            };
            if !files.contains_key(location) {
                files.insert(location, read_bind_file(location)?);
            }
            if let Some(v) = files.get(location).and_then(|f| f.get(b.source_key)) {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.insert(b.var.to_owned(), Secret::new(text));
            }
        }
        Ok(out)
    }

    /// Where adapter `namespace` listens: `--addr`, else the spec's address
    /// (or 127.0.0.1) and port.
    pub fn addr(
        &self,
        namespace: &str,
        address: Option<&str>,
        port: Option<u16>,
    ) -> Result<SocketAddr, Error> {
        if let Some(a) = self.addrs.get(namespace) {
            return Ok(*a);
        }
        let Some(port) = port else {
            return Err(Error::Config {
                message: format!(
                    "adapter `{namespace}` has no `port` in the spec: give `--addr {namespace}=HOST:PORT`"
                ),
            });
        };
        let host = match address.unwrap_or("127.0.0.1") {
            "localhost" => "127.0.0.1",
            other => other,
        };
        let text = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        text.parse().map_err(|_| Error::Config {
            message: format!("adapter `{namespace}`: `{host}` is not an IP address: give `--addr {namespace}=HOST:PORT`"),
        })
    }

    /// The MCP settings: loopback and the extra hosts, the bound values.
    pub fn mcp(&self, binds: &BTreeMap<String, Secret>) -> crate::mcp::McpHttpConfig {
        let mut config = crate::mcp::McpHttpConfig::default();
        config
            .allowed_hosts
            .extend(self.allowed_hosts.iter().cloned());
        config.binds = binds.clone();
        config.max_sessions = self.max_mcp_sessions;
        config.session_idle = self.mcp_session_idle;
        config
    }
}

fn read_bind_file(location: &str) -> Result<serde_json::Value, Error> {
    let path = match location.strip_prefix("file://") {
        Some(rest) if rest.starts_with("/./") => rest.get(1..).unwrap_or(".").to_owned(),
        Some(rest) => rest.to_owned(),
        None => location.to_owned(),
    };
    let bytes = std::fs::read(&path).map_err(|e| Error::Config {
        message: format!("the binds file `{location}` cannot be read ({e}): give its values with `--bind NAME=VALUE`"),
    })?;
    crate::formats::to_json("yaml", &bytes).map_err(|e| Error::Config {
        message: format!("the binds file `{location}` is not YAML or JSON: {e}"),
    })
}

/// One exposed adapter, ready to serve.
#[derive(Debug)]
pub struct Adapter {
    /// The adapter's namespace.
    pub namespace: &'static str,
    /// `rest`, `mcp` or `skill`.
    pub kind: &'static str,
    /// Where it listens.
    pub addr: SocketAddr,
    /// What it serves.
    pub router: axum::Router,
    /// The path shown in its address (`/mcp` for MCP).
    pub path: &'static str,
}

/// What a generated `capability::serve` and `capability::main` return: the
/// server, as a boxed future to `.await` or spawn.
pub type Serving<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// An MCP adapter served on stdin/stdout (one session).
pub type Stdio = Serving<std::io::Result<()>>;

/// Binds every adapter (all or none: a port in use fails the start naming
/// the adapter), prints where each listens to stderr, and serves until
/// Ctrl-C or SIGTERM (or, with a `stdio` adapter, until its client closes
/// stdin); in-flight requests then get the config's `grace` to finish. Every
/// adapter runs on [`crate::listen::serve`] with the config's limits.
pub async fn run(
    adapters: Vec<Adapter>,
    stdio: Option<Stdio>,
    config: &ServeConfig,
) -> std::io::Result<()> {
    let grace = config.grace;
    let mut listeners = Vec::new();
    for a in adapters {
        let listener = tokio::net::TcpListener::bind(a.addr).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "{} adapter `{}` cannot listen on {}: {e}",
                    a.kind, a.namespace, a.addr
                ),
            )
        })?;
        let local = listener.local_addr()?;
        eprintln!(
            "{} adapter `{}` listening on http://{local}{}",
            a.kind, a.namespace, a.path
        );
        listeners.push((listener, a.router));
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for (listener, router) in listeners {
        let mut stop = stop_rx.clone();
        let limits = config.http.clone();
        tasks.spawn(async move {
            crate::listen::serve(listener, router, &limits, async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await
        });
    }
    match stdio {
        Some(session) => {
            eprintln!("mcp adapter serving one session on stdin/stdout");
            tokio::select! {
                () = shutdown_signal() => {}
                r = session => if let Err(e) = r { eprintln!("stdio session ended: {e}") },
            }
        }
        None => shutdown_signal().await,
    }
    eprintln!("stopping: in-flight requests get {} s", grace.as_secs_f64());
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(grace, async {
        while let Some(r) = tasks.join_next().await {
            if let Ok(Err(e)) = r {
                eprintln!("adapter stopped with an error: {e}");
            }
        }
    })
    .await;
    if drained.is_err() {
        eprintln!("grace period over: closing the remaining connections");
        tasks.abort_all();
    }
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
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
        () = ctrl_c => {}
        () = term => {}
    }
}

/// The main of a served capability: reads [`ServeConfig`] from the process
/// arguments, builds the adapters, serves them. A configuration error is
/// one line naming it, exit code 2.
pub async fn main(
    adapters: impl FnOnce(&ServeConfig) -> Result<Vec<Adapter>, Error>,
    stdio: impl FnOnce(&ServeConfig) -> Result<Option<Stdio>, Error>,
) -> std::process::ExitCode {
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("error: {e}");
        std::process::ExitCode::from(2)
    };
    let config = match ServeConfig::from_args(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let built = match adapters(&config) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    let session = match stdio(&config) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    match run(built, session, &config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
