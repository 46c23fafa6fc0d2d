//! What the adapter benchmarks share: a runtime, a loopback server and the
//! upstream answer of `POST /api/experience/verification/password`.

use axum::Router;
use axum::routing::post;

/// The upstream's answer.
pub const ANSWER: &str = r#"{"verificationId":"v-0123456789abcdefghijklmnop"}"#;

/// A two-thread runtime, like the machine.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Serves `app` on a free loopback port; returns its URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The upstream: answers [`ANSWER`] at once.
pub async fn upstream() -> String {
    serve(Router::new().route(
        "/api/experience/verification/password",
        post(|| async { ([("content-type", "application/json")], ANSWER) }),
    ))
    .await
}
