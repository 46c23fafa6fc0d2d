//! Editing the YAML of a consumer crate changes what its next build
//! generates: the macro tracks the file with `include_bytes!`, so cargo
//! rebuilds when it changes.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const CAPABILITY: &str = "naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: scratch
    baseUri: http://127.0.0.1:9
    resources:
    - name: items
      path: /items
      operations:
      - name: list-items
        method: GET
  exposes:
  - type: mcp
    namespace: scratch-mcp
    tools:
    - name: list-items
      description: Lists the items.
      call: scratch.list-items
";

const EXTRA_OPERATION: &str = "    - name: counts
      path: /counts
      operations:
      - name: count-items
        method: HEAD
";

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// `cargo VERB --quiet` on the scratch crate (see [`cargo_with`]).
fn cargo(verb: &str, dir: &Path, target: &Path) -> std::process::Output {
    cargo_with(&[verb, "--quiet"], dir, target)
}

/// `cargo ARGS` on the scratch crate, built as a crate outside this
/// repository would be: an empty `RUSTFLAGS` replaces the repository's
/// `--cfg logto_cli` (.cargo/config.toml), so logto-client has its default
/// features only (no `mcp`, no dev upstream, none of the binary's crates).
fn cargo_with(args: &[&str], dir: &Path, target: &Path) -> std::process::Output {
    Command::new(env!("CARGO"))
        .args(args)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .env("RUSTFLAGS", "")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo: {e}"))
}

/// The crates of the scratch crate's build, as cargo lists them (`Fresh` or
/// `Compiling`, with `-v`): the build's own graph, whatever older builds
/// left in the target folder.
fn units(dir: &Path, target: &Path) -> Vec<String> {
    let out = cargo_with(&["build", "-v"], dir, target);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let unit = l.strip_prefix("Fresh ").or(l.strip_prefix("Compiling "))?;
            Some(unit.split(' ').next()?.to_owned())
        })
        .collect()
}

/// Runs the scratch binary and returns what it printed.
fn run(dir: &Path, target: &Path) -> String {
    let out = cargo("run", dir, target);
    assert!(
        out.status.success(),
        "scratch crate failed to build or run:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The 1-based number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// Builds the scratch crate with `yaml` as its spec, expecting the compile
/// error `message` and the help line naming `feature`; returns stderr.
fn build_fails_naming(
    dir: &Path,
    target: &Path,
    yaml: &str,
    message: &str,
    feature: &str,
) -> String {
    write(&dir.join("capabilities/scratch.yaml"), yaml);
    let out = cargo("build", dir, target);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "built without the {feature} feature");
    // rustc indents the message's second line under its first.
    let expected = [
        format!("error: {message}\n"),
        format!(
            "help: turn the feature on where you depend on logto-client: \
             logto-client = {{ ..., features = [\"{feature}\"] }}\n"
        ),
    ];
    for part in expected {
        assert!(stderr.contains(&part), "{part}\nnot in:\n{stderr}");
    }
    stderr
}

#[test]
fn editing_the_yaml_changes_the_next_build() {
    let root = workspace();
    let dir = root.join("target/rebuild-scratch");
    let _ = std::fs::remove_dir_all(&dir);
    let client = root
        .join("logto-client")
        .canonicalize()
        .unwrap_or_else(|e| panic!("{e}"));
    let manifest = |features: &str| {
        format!(
            "[package]\nname = \"rebuild-scratch\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nlogto-client = {{ path = {:?}, features = [{features}] }}\n\n[workspace]\n\n\
             [profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n",
            client.display().to_string()
        )
    };
    write(&dir.join("Cargo.toml"), &manifest(""));
    // Same versions as the workspace, and no resolution against the registry.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))
        .unwrap_or_else(|e| panic!("Cargo.lock: {e}"));
    write(&dir.join("capabilities/scratch.yaml"), CAPABILITY);
    write(
        &dir.join("src/main.rs"),
        "logto_client::naftiko_capability!(\"scratch.yaml\");\n\n\
         fn main() {\n    println!(\"{}\", scratch::OPERATIONS.join(\",\"));\n}\n",
    );
    // Its own target folder: no other build here has these flags.
    let target = root.join("target/rebuild-scratch-target");
    let binary_has = |needle: &[u8]| {
        let binary = std::fs::read(target.join("debug/rebuild-scratch"))
            .unwrap_or_else(|e| panic!("the scratch binary: {e}"));
        binary.windows(needle.len()).any(|w| w == needle)
    };

    // The spec exposes an MCP adapter; without the `mcp` feature the
    // crate still builds (client, constants), and rmcp is not compiled.
    assert_eq!(run(&dir, &target).trim(), "list-items");
    let built = units(&dir, &target);
    assert!(
        built.iter().any(|u| u == "reqwest"),
        "the listing is not of the scratch build's crates: {built:?}"
    );
    assert!(
        !built.iter().any(|u| u == "rmcp"),
        "rmcp is built without the `mcp` feature"
    );

    let (consumed, exposed) = CAPABILITY.split_once("  exposes:").unwrap();
    write(
        &dir.join("capabilities/scratch.yaml"),
        &format!("{consumed}{EXTRA_OPERATION}  exposes:{exposed}"),
    );
    assert_eq!(run(&dir, &target).trim(), "list-items,count-items");

    // An Avro operation needs the `avro` feature, off by default: the build
    // fails where the spec asks for it, saying which feature to turn on.
    let avro = format!(
        "{consumed}    - name: records\n      path: /records\n      operations:\n      \
         - name: get-records\n        method: GET\n        outputRawFormat: avro\n  exposes:{exposed}"
    );
    let line = line_of(&avro, "- name: get-records");
    let stderr = build_fails_naming(
        &dir,
        &target,
        &avro,
        &format!(
            "capabilities/scratch.yaml:{line}:9: error: `scratch.get-records` answers in \
             `outputRawFormat: avro`, and this build of logto-client has no `avro` feature \
             (at capability.consumes[scratch].get-records.outputRawFormat)"
        ),
        "avro",
    );
    assert_eq!(stderr.matches("error[").count(), 0, "{stderr}");

    // Inbound OAuth 2.0 checks JWTs with ring, the `jwt` feature, off by
    // default: the same kind of error, where the spec asks for it.
    let oauth = format!(
        "{CAPABILITY}  - type: rest\n    namespace: scratch-rest\n    authentication:\n      \
         type: oauth2\n      authorizationServerUri: https://auth.example\n    resources:\n    \
         - path: /items\n      operations:\n      - method: GET\n        name: list-items\n        \
         call: scratch.list-items\n"
    );
    let line = line_of(&oauth, "type: oauth2");
    let stderr = build_fails_naming(
        &dir,
        &target,
        &oauth,
        &format!(
            "capabilities/scratch.yaml:{line}:7: error: inbound `oauth2` checks JWT access \
             tokens, and this build of logto-client has no `jwt` feature \
             (at capability.exposes[1].authentication)"
        ),
        "jwt",
    );
    // That error alone: the code that would check the tokens is not
    // compiled, so nothing else fails.
    assert_eq!(stderr.matches("error[").count(), 0, "{stderr}");

    // Serving the MCP adapter without the feature: the `capability`
    // module fails at start-up naming the adapter and the feature...
    write(&dir.join("capabilities/scratch.yaml"), CAPABILITY);
    write(
        &dir.join("src/main.rs"),
        "logto_client::naftiko_capability!(\"scratch.yaml\");\n\n\
         fn main() {\n    \
         match capability::adapters(&logto_client::serve::ServeConfig::default()) {\n        \
         Err(e) => println!(\"{e}\"),\n        \
         Ok(adapters) => println!(\"serving {} adapters\", adapters.len()),\n    \
         }\n}\n",
    );
    assert_eq!(
        run(&dir, &target).trim(),
        "cannot build the client: the MCP adapter `scratch-mcp` needs logto-client's `mcp` feature, \
         which this build does not have: logto-client = { ..., features = [\"mcp\"] }"
    );
    // ...and calling the adapter's router is a compile error saying which
    // feature to turn on.
    write(
        &dir.join("src/main.rs"),
        "logto_client::naftiko_capability!(\"scratch.yaml\");\n\n\
         fn main() {\n    \
         let client = scratch::Client::builder().build().unwrap();\n    \
         let upstreams = scratch_mcp::Upstreams { scratch: client };\n    \
         let config = logto_client::mcp::McpHttpConfig::default();\n    \
         let _ = scratch_mcp::router(upstreams, &config);\n}\n",
    );
    let out = cargo("build", &dir, &target);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "served MCP without the mcp feature");
    for part in [
        "error[E0277]: serving an MCP adapter needs logto-client's `mcp` feature, which this build does not have\n",
        "this adapter's MCP server is not compiled in",
        "= note: turn the feature on where you depend on logto-client: logto-client = { ..., features = [\"mcp\"] }\n",
    ] {
        assert!(stderr.contains(part), "{part}\nnot in:\n{stderr}");
    }

    // With the feature the same call builds, and rmcp's code is in the
    // binary. What a binary does not call is not in it: one that serves no
    // MCP has none of rmcp's code though rmcp is compiled (no generated item
    // is compiled unless something uses it; a free `async fn serve_stdio`
    // was, and pulled rmcp, the REST runtime and OpenSSL into every link:
    // 132 MB for `fn main() {}`, half of a rebuild's time).
    write(&dir.join("Cargo.toml"), &manifest("\"mcp\""));
    let out = cargo("build", &dir, &target);
    assert!(
        out.status.success(),
        "the router call did not build with the mcp feature:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(binary_has(b"rmcp::"));
    assert!(
        units(&dir, &target).iter().any(|u| u == "rmcp"),
        "rmcp is not in the build with the `mcp` feature"
    );
    write(
        &dir.join("src/main.rs"),
        "logto_client::naftiko_capability!(\"scratch.yaml\");\n\n\
         fn main() {\n    println!(\"{}\", scratch_mcp::TOOLS.join(\",\"));\n}\n",
    );
    assert_eq!(run(&dir, &target).trim(), "list-items");
    assert!(
        !binary_has(b"rmcp::"),
        "the scratch binary holds rmcp's code though it serves no MCP"
    );
}
