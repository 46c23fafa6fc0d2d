//! The validator never panics, whatever the YAML: mutated Logto documents and
//! random YAML-ish text go through the whole pipeline.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // tests fail loudly

use std::path::Path;

use logto_macros_core::{Files, analyze_source, codegen};
use proptest::prelude::*;

/// Imports resolve to nothing: the property is about the pipeline, not disks.
struct NoFiles;

impl Files for NoFiles {
    fn read(&self, _: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no files in this test",
        ))
    }
}

const LOGTO: &str = include_str!("../../../capabilities/logto-experience.yaml");

fn run(source: &str) {
    if let Ok(analysis) = analyze_source(source, "fuzz.yaml", Path::new("fuzz.yaml"), &NoFiles) {
        let _ = codegen::generate(&analysis.capability, &codegen::Settings::default());
    }
}

/// Bits of YAML that change meaning: keys, braces, anchors, quotes.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(":".to_owned()),
        Just("- ".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("'".to_owned()),
        Just("\n  ".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("{{".to_owned()),
        Just("call: x.y".to_owned()),
        Just("path: /{a}/{{b}}".to_owned()),
        Just("naftiko: 1.0.0-alpha2\n".to_owned()),
        "[a-zA-Z0-9_.{}\\[\\]$-]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_logto_never_panics(at in 0usize..LOGTO.len(), cut in 0usize..200, insert in fragment()) {
        let start = LOGTO.floor_char_boundary(at);
        let end = LOGTO.floor_char_boundary((start + cut).min(LOGTO.len()));
        let mutated = format!("{}{}{}", &LOGTO[..start], insert, &LOGTO[end..]);
        run(&mutated);
    }

    #[test]
    fn random_yaml_never_panics(parts in proptest::collection::vec(fragment(), 0..60)) {
        run(&parts.concat());
    }

    #[test]
    fn line_deletions_never_panic(skip in proptest::collection::btree_set(0usize..1440, 0..40)) {
        let kept: Vec<&str> = LOGTO.lines().enumerate().filter(|(i, _)| !skip.contains(i)).map(|(_, l)| l).collect();
        run(&kept.join("\n"));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "naftiko: 1.0.0-alpha2\ncapability: {}{}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    run(&deep);
}
