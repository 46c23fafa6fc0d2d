//! The skill adapter (`exposes: type: skill`): a read-only catalog of agent
//! skills, as the reference engine serves it:
//!
//! - `GET /skills`: `{"count", "skills": [{name, description, license?, tools: [names]}]}`;
//! - `GET /skills/{name}`: the skill's metadata and tools (derived tools with
//!   their `invocationRef`, instruction tools with their file);
//! - `GET /skills/{name}/download`: a ZIP of the skill's `location` directory;
//! - `GET /skills/{name}/contents`: `{"name", "files": [{path, size, type}]}`;
//! - `GET /skills/{name}/contents/{file}`: one file (`..` refused).
//!
//! Unknown skills, and skills without a `location` for the last three, are
//! 404 with a JSON problem body.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::server::problem;

/// The catalog: the JSON the generator emits (`[{name, summary, detail, location}]`).
#[derive(Debug)]
struct Catalog {
    skills: Vec<Value>,
}

impl Catalog {
    fn find(&self, name: &str) -> Result<&Value, Response> {
        self.skills
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(name))
            .ok_or_else(|| {
                problem(
                    StatusCode::NOT_FOUND,
                    format!("skill `{name}` is not known"),
                )
            })
    }

    /// The skill's directory: `file:///abs`, `file:///./rel` (from the
    /// working directory, as the reference engine reads it) or a plain path.
    fn root(&self, name: &str) -> Result<PathBuf, Response> {
        let skill = self.find(name)?;
        let Some(location) = skill.get("location").and_then(Value::as_str) else {
            return Err(problem(
                StatusCode::NOT_FOUND,
                format!("skill `{name}` has no `location`"),
            ));
        };
        let path = match location.strip_prefix("file://") {
            Some(rest) if rest.starts_with("/./") => PathBuf::from(rest.get(1..).unwrap_or(".")),
            Some(rest) => PathBuf::from(rest),
            None => PathBuf::from(location),
        };
        if !path.is_dir() {
            return Err(problem(
                StatusCode::NOT_FOUND,
                format!("the directory of skill `{name}` does not exist"),
            ));
        }
        Ok(path)
    }
}

/// The router of a skill adapter serving `catalog` (generated JSON).
pub fn router(catalog: &'static str) -> Router {
    let skills = match serde_json::from_str(catalog) {
        Ok(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let state = Arc::new(Catalog { skills });
    Router::new()
        .route("/skills", get(list))
        .route("/skills/{name}", get(detail))
        .route("/skills/{name}/download", get(download))
        .route("/skills/{name}/contents", get(contents))
        .route("/skills/{name}/contents/{*file}", get(file))
        .fallback(crate::server::not_found)
        .with_state(state)
}

async fn list(State(c): State<Arc<Catalog>>) -> Response {
    let skills: Vec<&Value> = c.skills.iter().filter_map(|s| s.get("summary")).collect();
    axum::Json(json!({"count": skills.len(), "skills": skills})).into_response()
}

async fn detail(State(c): State<Arc<Catalog>>, UrlPath(name): UrlPath<String>) -> Response {
    match c.find(&name) {
        Ok(s) => axum::Json(s.get("detail").cloned().unwrap_or(Value::Null)).into_response(),
        Err(r) => r,
    }
}

/// Every regular file under `root`, sorted, as paths relative to it.
fn walk(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if kind.is_file()
                && let Ok(rel) = entry.path().strip_prefix(root)
            {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn media_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "md" => "text/markdown",
        "txt" => "text/plain",
        "json" => "application/json",
        "yaml" | "yml" => "application/yaml",
        "html" => "text/html",
        "py" => "text/x-python",
        "js" => "text/javascript",
        "sh" => "application/x-sh",
        _ => "application/octet-stream",
    }
}

fn io_problem(e: &std::io::Error) -> Response {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("reading the skill failed: {e}"),
    )
}

async fn contents(State(c): State<Arc<Catalog>>, UrlPath(name): UrlPath<String>) -> Response {
    let root = match c.root(&name) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let files = match walk(&root) {
        Ok(f) => f,
        Err(e) => return io_problem(&e),
    };
    let files: Vec<Value> = files
        .iter()
        .map(|rel| {
            let size = std::fs::metadata(root.join(rel)).map_or(0, |m| m.len());
            let path = slash_path(rel);
            json!({"path": path, "size": size, "type": media_type(&path)})
        })
        .collect();
    axum::Json(json!({"name": name, "files": files})).into_response()
}

async fn file(
    State(c): State<Arc<Catalog>>,
    UrlPath((name, file)): UrlPath<(String, String)>,
) -> Response {
    let root = match c.root(&name) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let rel = Path::new(&file);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("`{file}` is not a path inside the skill"),
        );
    }
    match std::fs::read(root.join(rel)) {
        Ok(bytes) => ([(CONTENT_TYPE, media_type(&file))], bytes).into_response(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => problem(
            StatusCode::NOT_FOUND,
            format!("skill `{name}` has no file `{file}`"),
        ),
        Err(e) => io_problem(&e),
    }
}

async fn download(State(c): State<Arc<Catalog>>, UrlPath(name): UrlPath<String>) -> Response {
    let root = match c.root(&name) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match zip_dir(&root) {
        Ok(bytes) => ([(CONTENT_TYPE, "application/zip")], bytes).into_response(),
        Err(e) => io_problem(&e),
    }
}

/// The files under `root` as a ZIP archive (stored, not compressed).
fn zip_dir(root: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for rel in walk(root)? {
        zip.start_file(slash_path(&rel), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&std::fs::read(root.join(&rel))?)?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}
