//! `naftiko check`: what it prints for specs the macro accepts.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

use std::process::Command;

fn check(files: &[&str]) -> (bool, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = Command::new(env!("CARGO_BIN_EXE_naftiko"))
        .arg("check")
        .args(files)
        .current_dir(root)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn names_the_runtime_features_a_spec_needs() {
    let (ok, stdout) = check(&[
        "tests/capabilities/formats.yaml",
        "capabilities/logto-experience.yaml",
    ]);
    assert!(ok, "{stdout}");
    // Only the file that needs features gets a line, before the summary.
    assert_eq!(
        stdout,
        "tests/capabilities/formats.yaml: needs logto-client's features [\"avro\", \"protobuf\"]: \
         logto-client = { ..., features = [\"avro\", \"protobuf\"] }\n\
         2 files, 2 ok, 0 with errors\n"
    );
}
