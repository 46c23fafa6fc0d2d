//! Any bytes through the generator's whole pipeline: YAML parsing, the spec
//! model, validation, code generation and formatting. A crash or a hang here
//! is a bug: the generator must answer every input with code or diagnostics.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use logto_macros_core::{Files, analyze_source, codegen, pretty};

/// Imports resolve to nothing: the target is about the pipeline, not disks.
struct NoFiles;

impl Files for NoFiles {
    fn read(&self, _: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no files while fuzzing"))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(analysis) = analyze_source(source, "fuzz.yaml", Path::new("fuzz.yaml"), &NoFiles) {
        if let Ok(tokens) = codegen::generate(&analysis.capability, &codegen::Settings::default()) {
            // Generated code must always parse as Rust.
            if let Err(e) = pretty(&tokens) {
                panic!("{e}");
            }
        }
    }
});
