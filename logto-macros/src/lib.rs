//! `naftiko_capability!("file.yaml")`: reads a Naftiko capability at compile
//! time and generates its client, REST and MCP code.
//!
//! This crate is deliberately thin: it finds and reads the file, calls
//! [`logto_macros_core`], turns every diagnostic into a `compile_error!` and
//! emits `include_bytes!` of every file read so that editing the YAML
//! rebuilds the crate. Use it through `logto_client::naftiko_capability!`.

use std::path::{Path, PathBuf};

use logto_macros_core::{Disk, codegen, expand_file};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

/// Generates Rust from a Naftiko capability file.
///
/// The path is relative to the invoking crate's directory
/// (`CARGO_MANIFEST_DIR`); when no file is there, it is looked for in
/// `capabilities/` of that directory and of each ancestor up to the workspace
/// root. Absolute paths are refused, since the build would then depend on
/// one machine's layout.
///
/// ```ignore
/// logto_client::naftiko_capability!("logto-experience.yaml");
/// ```
#[proc_macro]
pub fn naftiko_capability(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand(input.into()).into()
}

fn expand(input: TokenStream) -> TokenStream {
    let lit: syn::LitStr = match syn::parse2(input) {
        Ok(lit) => lit,
        Err(e) => {
            let msg = format!(
                "{e}\n  help: write the capability file as one string literal: naftiko_capability!(\"logto-experience.yaml\")"
            );
            return syn::Error::new(e.span(), msg).to_compile_error();
        }
    };
    let span = lit.span();
    let requested = lit.value();
    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        return error(
            span,
            "CARGO_MANIFEST_DIR is not set: naftiko_capability! must be built by cargo",
        );
    };
    let (path, display) = match locate(&manifest_dir, &requested) {
        Ok(found) => found,
        Err(msg) => return error(span, &msg),
    };
    let settings = codegen::Settings {
        source_name: display.clone(),
        ..codegen::Settings::default()
    };
    match expand_file(&path, &display, &Disk, &settings) {
        Ok((tokens, analysis)) => {
            let tracked = track(&analysis.files);
            quote! { #tracked #tokens }
        }
        Err(diagnostics) => {
            // Track the file even when it is wrong, so fixing it rebuilds.
            let tracked = track(&[path]);
            let errors = diagnostics.iter().map(|d| {
                let msg = d.to_string();
                quote_spanned! { span => ::core::compile_error!(#msg); }
            });
            quote! { #tracked #(#errors)* }
        }
    }
}

fn error(span: Span, msg: &str) -> TokenStream {
    quote_spanned! { span => ::core::compile_error!(#msg); }
}

/// `include_bytes!` of each file makes cargo rebuild when it changes.
fn track(files: &[PathBuf]) -> TokenStream {
    let items = files.iter().filter(|f| f.is_file()).map(|f| {
        let abs = f.canonicalize().unwrap_or_else(|_| f.clone());
        let text = abs.display().to_string();
        quote! { const _: &[u8] = ::core::include_bytes!(#text); }
    });
    quote! { #(#items)* }
}

/// Finds the capability file; the error lists every place looked at.
fn locate(manifest_dir: &Path, requested: &str) -> Result<(PathBuf, String), String> {
    let wanted = Path::new(requested);
    if wanted.is_absolute() {
        return Err(format!(
            "naftiko_capability!(\"{requested}\"): absolute paths are refused, since the build would then depend on \
             this machine's layout\n  help: give the path relative to the crate directory ({}), or put the file in a \
             `capabilities/` directory of the crate or the workspace",
            manifest_dir.display()
        ));
    }
    let mut looked = Vec::new();
    let direct = manifest_dir.join(wanted);
    if direct.is_file() {
        return Ok((direct, requested.to_owned()));
    }
    looked.push(direct);
    let mut shown = PathBuf::new();
    for dir in manifest_dir.ancestors() {
        let candidate = dir.join("capabilities").join(wanted);
        if candidate.is_file() {
            return Ok((
                candidate,
                shown
                    .join("capabilities")
                    .join(wanted)
                    .display()
                    .to_string(),
            ));
        }
        looked.push(candidate);
        if is_workspace_root(dir) {
            break;
        }
        shown.push("..");
    }
    let list: Vec<String> = looked
        .iter()
        .map(|p| format!("\n    {}", p.display()))
        .collect();
    Err(format!(
        "naftiko_capability!(\"{requested}\"): no such capability file; looked at:{}\n  help: check the file name, \
         or move the file into the crate's or the workspace's `capabilities/` directory",
        list.concat()
    ))
}

/// A directory whose Cargo.toml declares `[workspace]`. Projects generated
/// under a `target/` directory (trybuild's) declare an empty workspace of
/// their own; they are not where the user's workspace ends.
fn is_workspace_root(dir: &Path) -> bool {
    if dir.components().any(|c| c.as_os_str() == "target") {
        return false;
    }
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
}
