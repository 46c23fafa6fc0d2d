//! Snapshot tests: the expansion of each good capability and the diagnostics
//! of each bad one, checked in under `tests/snapshots/`.
//!
//! Refresh with `UPDATE_SNAPSHOTS=1 cargo test -p logto-macros-core`.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use std::path::{Path, PathBuf};

use logto_macros_core::{Disk, analyze_file, codegen, expand_file, pretty};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `actual` with the snapshot file, or rewrites it when asked to.
fn assert_snapshot(name: &str, actual: &str) {
    let path = root().join("tests/snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "missing snapshot {} ({e}); run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "snapshot {} differs; run with UPDATE_SNAPSHOTS=1 and review the diff\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}

fn display(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn expansion(path: &Path) -> String {
    let shown = display(path);
    let settings = codegen::Settings {
        source_name: shown.clone(),
        ..codegen::Settings::default()
    };
    match expand_file(path, &shown, &Disk, &settings) {
        Ok((tokens, _)) => pretty(&tokens).unwrap_or_else(|e| panic!("{shown}: {e}")),
        Err(d) => panic!("{shown} should expand:\n{d}"),
    }
}

#[test]
fn logto_capability_expansion() {
    let path = root().join("../../capabilities/logto-experience.yaml");
    assert_snapshot("logto-experience.rs.txt", &expansion(&path));
}

#[test]
fn good_fixture_expansions() {
    for entry in sorted(root().join("tests/fixtures/good")) {
        let name = entry
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert_snapshot(&format!("{name}.rs.txt"), &expansion(&entry));
    }
}

#[test]
fn bad_fixture_diagnostics() {
    let files = sorted(root().join("tests/fixtures/bad"));
    assert!(files.len() >= 20, "expected at least 20 bad fixtures");
    for path in files {
        let shown = display(&path);
        let diagnostics = match analyze_file(&path, &shown, &Disk) {
            Ok(_) => panic!("{shown} should be rejected"),
            Err(d) => d,
        };
        for d in diagnostics.iter() {
            assert!(
                d.pos.line >= 1 && d.pos.col >= 1,
                "{shown}: position missing in {d}"
            );
            assert!(
                d.to_string().contains("\n  help: "),
                "{shown}: no help line in {d}"
            );
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert_snapshot(&format!("diagnostics/{name}.txt"), &diagnostics.to_string());
    }
}

fn sorted(dir: PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn unsupported_constructs_are_errors_that_point_at_their_line() {
    let files = sorted(root().join("tests/fixtures/unsupported"));
    assert!(files.len() >= 3);
    for path in files {
        let shown = display(&path);
        let settings = codegen::Settings {
            source_name: shown.clone(),
            ..codegen::Settings::default()
        };
        let diagnostics = match expand_file(&path, &shown, &Disk, &settings) {
            Ok(_) => panic!("{shown} should not generate"),
            Err(d) => d,
        };
        for d in diagnostics.iter() {
            assert!(
                d.pos.line > 1,
                "{shown}: points at the construct, not the file: {d}"
            );
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert_snapshot(&format!("unsupported/{name}.txt"), &diagnostics.to_string());
    }
}
