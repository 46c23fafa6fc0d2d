//! `naftiko`: check capability files, print the Rust they generate or their
//! OpenAPI document, or serve them.

// clap is this tool's alone, so it is not built for the proc macro of a
// dependent crate (see .cargo/config.toml).
#[cfg(not(any(logto_cli, feature = "cli")))]
compile_error!(
    "the naftiko tool needs the `cli` feature (`--features cli`) or `--cfg logto_cli` \
     (set by this repository's .cargo/config.toml; a RUSTFLAGS variable replaces it)"
);

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use logto_macros_core::codegen::openapi;
use logto_macros_core::{Disk, analyze_file, codegen, expand_file, pretty};

mod serve;

/// Naftiko capability tools: the same checks and generator the
/// `naftiko_capability!` macro runs.
#[derive(Parser)]
#[command(name = "naftiko", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate capability files as the macro does (code generation
    /// included) and print every diagnostic (exit 1 if any file has errors).
    Check {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the Rust generated for a capability, formatted.
    Expand {
        /// The capability file.
        file: PathBuf,
    },
    /// Print the OpenAPI 3.1 document of the REST adapter (a JSON array of
    /// documents when the capability has several).
    Openapi {
        /// The capability file.
        file: PathBuf,
    },
    /// Serve every exposed adapter of a capability: builds a small crate
    /// around the macro (cached under this workspace's `target/naftiko-serve`,
    /// so a second start is fast) and runs it until Ctrl-C/SIGTERM.
    ///
    /// Options after the file go to the server: --upstream NAMESPACE=URL,
    /// --upstream-ca FILE (PEM certificates to trust for https:// upstreams),
    /// --bind NAME=VALUE (never shown in logs or process lists),
    /// --addr NAMESPACE=HOST:PORT, --allowed-host HOST, --timeout SECONDS,
    /// --body-limit BYTES, --grace SECONDS.
    Serve {
        /// The capability file.
        file: PathBuf,
        /// Build the server with optimizations (slower first build).
        #[arg(long)]
        release: bool,
        /// Server options (see above).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        options: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files } => check(&files),
        Command::Expand { file } => expand(&file),
        Command::Openapi { file } => openapi(&file),
        Command::Serve {
            file,
            release,
            options,
        } => serve::serve(&file, release, options),
    }
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut bad = 0usize;
    let mut notes = String::new();
    for file in files {
        let shown = file.display().to_string();
        // Code generation runs too: "ok" means the macro accepts the file,
        // constructs that are read but not generated yet included.
        let settings = codegen::Settings {
            source_name: shown.clone(),
            ..codegen::Settings::default()
        };
        match expand_file(file, &shown, &Disk, &settings) {
            Ok((_, analysis)) => {
                // What the build must turn on, before the compile error says so.
                let features = analysis.runtime_features();
                if !features.is_empty() {
                    notes.push_str(&format!(
                        "{shown}: needs logto-client's features {features:?}: \
                         logto-client = {{ ..., features = {features:?} }}\n"
                    ));
                }
            }
            Err(diagnostics) => {
                bad += 1;
                eprint!("{diagnostics}");
            }
        }
    }
    let summary = format!(
        "{notes}{} files, {} ok, {} with errors\n",
        files.len(),
        files.len() - bad,
        bad
    );
    let written = emit(&summary);
    if bad == 0 { written } else { ExitCode::FAILURE }
}

fn expand(file: &std::path::Path) -> ExitCode {
    let shown = file.display().to_string();
    let settings = codegen::Settings {
        source_name: shown.clone(),
        ..codegen::Settings::default()
    };
    match expand_file(file, &shown, &Disk, &settings) {
        Ok((tokens, _)) => match pretty(&tokens) {
            Ok(text) => emit(&text),
            Err(e) => {
                eprintln!("{shown}: {e}");
                ExitCode::FAILURE
            }
        },
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            ExitCode::FAILURE
        }
    }
}

fn openapi(file: &std::path::Path) -> ExitCode {
    let shown = file.display().to_string();
    match analyze_file(file, &shown, &Disk) {
        Ok(analysis) => {
            let cap = &analysis.capability;
            if cap.rest.is_empty() {
                eprintln!("{shown}: the capability exposes no REST adapter");
                return ExitCode::FAILURE;
            }
            // One document per REST adapter, as a JSON array when there are several.
            let docs: Vec<serde_json::Value> =
                cap.rest.iter().map(|a| openapi::document(cap, a)).collect();
            let out = match docs.as_slice() {
                [one] => serde_json::to_string_pretty(one),
                many => serde_json::to_string_pretty(many),
            };
            match out {
                Ok(text) => emit(&format!("{text}\n")),
                Err(e) => {
                    eprintln!("{shown}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(diagnostics) => {
            eprint!("{diagnostics}");
            ExitCode::FAILURE
        }
    }
}

/// Writes to stdout; a closed pipe (`naftiko expand x | head`) is not an error.
fn emit(text: &str) -> ExitCode {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("naftiko: cannot write the output: {e}");
            ExitCode::FAILURE
        }
    }
}
