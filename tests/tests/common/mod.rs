//! Helpers shared by the integration tests: loopback servers.

#![allow(dead_code)] // each test binary uses a different part

use logto_client::dev::DevLogto;

/// Serves `router` on 127.0.0.1 on a free port; returns `http://127.0.0.1:PORT`.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

/// Serves `router` as the adapters are served (`logto_client::listen::serve`,
/// which gives each caller connection its own upstream connection), on
/// 127.0.0.1 on a free port, with `limits`; returns `127.0.0.1:PORT`.
pub async fn listen_serve(
    router: axum::Router,
    limits: logto_client::listen::HttpLimits,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        logto_client::listen::serve(listener, router, &limits, std::future::pending()).await
    });
    addr
}

/// Serves a generated adapter's `router` and its lean path (`lean_router`)
/// as the binary does (`logto_client::listen::serve_lean`), on 127.0.0.1 on a
/// free port; returns `http://127.0.0.1:PORT`.
pub async fn serve_lean(router: axum::Router, lean: Option<logto_client::listen::Lean>) -> String {
    assert!(lean.is_some(), "the adapter has no lean path");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let limits = logto_client::listen::HttpLimits::default();
        logto_client::listen::serve_lean(listener, router, lean, &limits, std::future::pending())
            .await
    });
    format!("http://{addr}")
}

/// Reads an HTTP/1 head byte by byte, up to and with its blank line (less
/// when the peer stops first: empty when it closed before a byte).
pub async fn read_head(conn: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).await.unwrap_or(0) == 0 {
            break;
        }
        buf.extend_from_slice(&byte);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A recording upstream that answers every request `200 {}`: the test reads
/// what reached it from `received_requests`.
pub async fn empty_json_upstream() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    server
}

/// A JSON body's numbers as a caller wrote them: full-precision decimals
/// that serde_json's default (fast, not always correctly rounded) float
/// parsing moves by one unit in the last place, and the extreme 64-bit
/// integers. The adapters read bodies as JSON and write them again (compact,
/// keys in order), so the upstream must get this text digit for digit.
pub const EXACT_NUMBERS: &str = "{\"a\":924.6711215768371,\"b\":481.26290504314875,\
     \"c\":104.72579090114297,\"max\":18446744073709551615,\"min\":-9223372036854775808}";

/// A Logto-faithful upstream on loopback.
pub async fn dev_logto() -> (String, DevLogto) {
    let dev = DevLogto::new();
    let url = serve(dev.router()).await;
    (url, dev)
}

/// A reqwest client that keeps cookies and does not follow redirects (so
/// the 303 of `/oidc/auth` and its cookies stay visible).
pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts an interaction: `GET /oidc/auth` sets the `_interaction` cookie pair.
pub async fn start_interaction(http: &reqwest::Client, base: &str) {
    let resp = http
        .get(format!(
            "{base}/oidc/auth?client_id={}&redirect_uri=http://localhost/cb&response_type=code&scope=openid&state=s",
            logto_client::dev::DEMO_CLIENT_ID
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers().get_all("set-cookie").iter().count(), 2);
}

/// A port on which nothing listens.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A `tracing_subscriber` writer keeping what is logged, for tests that
/// read their logs (with `set_default`, a `#[tokio::test]`'s tasks all log
/// to it: that runtime has one thread).
#[derive(Clone, Default)]
pub struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Capture {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// How many times `needle` was written.
    pub fn count(&self, needle: &str) -> usize {
        self.text().matches(needle).count()
    }

    /// Makes this thread's logs at `level` and above (plain text) go here,
    /// until the guard is dropped.
    pub fn install(&self, level: tracing::Level) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
