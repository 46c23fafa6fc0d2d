//! `naftiko serve FILE [OPTIONS]`: what a user of the reference engine does
//! with one command, without writing Rust. The capability is checked first
//! (a spec error stops here, shown as its diagnostics), then a small crate
//! around `naftiko_capability!` is written under this workspace's
//! `target/naftiko-serve/` and built there with a target folder of its own
//! (kept, and the macro tracks the spec file, so later starts only rebuild
//! what the spec changed), then run in place of this process.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use logto_macros_core::{Disk, codegen, expand_file};

/// The `main` of the generated crate: the macro on the capability file
/// (reached relatively: the macro refuses absolute paths), then serve.
fn main_rs(relative: &str) -> String {
    format!(
        r#"//! Serves a Naftiko capability; written by `naftiko serve`.

#![allow(missing_docs)]

logto_client::naftiko_capability!({relative:?});

// One event loop, like one nginx worker: no wake-ups between threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {{
    capability::main().await
}}
"#
    )
}

/// `target` relative to the directory `from` (both absolute).
fn relative(from: &Path, target: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = target.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = from.iter().skip(common).map(|_| "..".to_owned()).collect();
    parts.extend(
        to.iter()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// Writes `text` to `path` unless it already holds it (an unchanged file
/// keeps its time stamp, so cargo rebuilds nothing).
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// FNV-1a: a stable name for the crate of one capability file.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The package name of the generated crate: `naftiko-serve-<file stem>`.
fn package_name(file: &Path) -> String {
    let stem: String = file
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("naftiko-serve-{}", stem.trim_matches('-'))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("naftiko serve: {message}");
    ExitCode::from(2)
}

/// Splits `--bind NAME=VALUE` (and `--bind=NAME=VALUE`) out of the server
/// options: bound values reach the server through the environment, never
/// its command line.
fn take_binds(
    options: Vec<String>,
) -> Result<(Vec<String>, serde_json::Map<String, serde_json::Value>), String> {
    let mut rest = Vec::new();
    let mut binds = serde_json::Map::new();
    let mut it = options.into_iter();
    while let Some(o) = it.next() {
        let pair = if o == "--bind" {
            it.next().ok_or("`--bind` needs NAME=VALUE")?
        } else if let Some(p) = o.strip_prefix("--bind=") {
            p.to_owned()
        } else {
            rest.push(o);
            continue;
        };
        let (k, v) = pair
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or("`--bind` needs NAME=VALUE")?;
        binds.insert(k.to_owned(), serde_json::Value::String(v.to_owned()));
    }
    Ok((rest, binds))
}

pub fn serve(file: &Path, release: bool, options: Vec<String>) -> ExitCode {
    let shown = file.display().to_string();
    let (options, binds) = match take_binds(options) {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    // 1. The spec's diagnostics, if it has any: nothing is built then.
    let settings = codegen::Settings {
        source_name: shown.clone(),
        ..codegen::Settings::default()
    };
    let analysis = match expand_file(file, &shown, &Disk, &settings) {
        Ok((_, analysis)) => analysis,
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            return ExitCode::FAILURE;
        }
    };
    // Optional runtime features serving the spec needs.
    let wanted = analysis.serving_features();
    let features = if wanted.is_empty() {
        String::new()
    } else {
        format!(", features = {wanted:?}")
    };
    // 2. The crate, next to this workspace's build output.
    let project = match Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
    {
        Ok(p) if p.join("logto-client/Cargo.toml").is_file() => p,
        _ => {
            return fail(&format!(
                "the workspace this tool was built from ({}) is gone: run it with `cargo run -p logto-macros-core --bin naftiko` from a checkout",
                env!("CARGO_MANIFEST_DIR")
            ));
        }
    };
    let abs = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    let name = package_name(file);
    let root = project.join("target/naftiko-serve");
    let dir = root.join(format!("{name}-{:016x}", fnv(&abs.to_string_lossy())));
    let runtime = project.join("logto-client");
    let manifest = format!(
        r#"[package]
name = "{name}"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
logto-client = {{ path = {runtime:?}{features} }}
tokio = {{ version = "1", features = ["rt-multi-thread", "macros"] }}

# Not a member of any workspace around it.
[workspace]

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false
"#,
        runtime = runtime.to_string_lossy()
    );
    let written = (|| {
        write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
        write_if_changed(&dir.join("src/main.rs"), &main_rs(&relative(&dir, &abs)))?;
        // The workspace's versions, so the first build resolves nothing new.
        if !dir.join("Cargo.lock").exists()
            && let Ok(lock) = std::fs::read_to_string(project.join("Cargo.lock"))
        {
            write_if_changed(&dir.join("Cargo.lock"), &lock)?;
        }
        Ok::<_, std::io::Error>(())
    })();
    if let Err(e) = written {
        return fail(&format!("cannot write {}: {e}", dir.display()));
    }
    // 3. Build it.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = root.join("target");
    eprintln!(
        "naftiko serve: building {shown} (the first build takes a few minutes; later starts reuse it)"
    );
    let mut build = Command::new(&cargo);
    build
        .arg("build")
        .arg("--quiet")
        .arg("--message-format=short")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if release {
        build.arg("--release");
    }
    let output = match build.output() {
        Ok(o) => o,
        Err(e) => return fail(&format!("cannot run cargo: {e}")),
    };
    if !output.status.success() {
        // The spec was valid, so this is the generator's fault: show the
        // errors, not the whole build log.
        let log = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("error"))
            .take(20)
            .collect();
        eprintln!(
            "naftiko serve: the generated server did not build (a generator bug: please report it with {shown}):\n{}\n(`naftiko expand {shown}` prints the generated code; the crate is {})",
            errors.join("\n"),
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    // 4. Run it in place of this process.
    let binary: PathBuf = target
        .join(if release { "release" } else { "debug" })
        .join(&name);
    let mut server = Command::new(&binary);
    server.args(&options);
    if !binds.is_empty() {
        server.env(
            "NAFTIKO_BINDS",
            serde_json::Value::Object(binds).to_string(),
        );
    }
    run(server, &binary)
}

#[cfg(unix)]
fn run(mut server: Command, binary: &Path) -> ExitCode {
    use std::os::unix::process::CommandExt;
    // Signals (Ctrl-C, SIGTERM) then reach the server itself.
    let e = server.exec();
    fail(&format!("cannot start {}: {e}", binary.display()))
}

#[cfg(not(unix))]
fn run(mut server: Command, binary: &Path) -> ExitCode {
    match server.status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => fail(&format!("cannot start {}: {e}", binary.display())),
    }
}
