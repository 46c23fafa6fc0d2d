//! The generator behind `naftiko_capability!`: it reads a Naftiko capability
//! (YAML) with positions, validates it into an IR, and generates Rust.
//!
//! Pure and unit-testable: no environment, no proc-macro API. File access goes
//! through [`Files`], so the proc-macro, the `naftiko` CLI and tests share it.
//!
//! ```text
//! source ──yaml──▶ positioned tree ──spec──▶ model ──validate──▶ ir ──codegen──▶ tokens
//! ```

pub mod codegen;
pub mod diagnostics;
pub mod ir;
pub mod names;
pub mod spec;
pub mod validate;
pub mod yaml;

use std::path::{Path, PathBuf};

pub use diagnostics::{Diagnostic, Diagnostics};

/// Reads the files a capability names (itself and its imports).
pub trait Files {
    /// The file's text.
    fn read(&self, path: &Path) -> std::io::Result<String>;
}

/// [`Files`] on the real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct Disk;

impl Files for Disk {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// A capability that validated, and every file that was read to get it.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The resolved capability.
    pub capability: ir::Capability,
    /// The files read, as opened (for rebuild tracking).
    pub files: Vec<PathBuf>,
}

/// The `outputRawFormat`s behind a Cargo feature of `logto-client` of the
/// same name: generated code for such an operation invokes the runtime's
/// `__<format>_supported!`, a compile error without the feature.
pub const FEATURE_FORMATS: [&str; 2] = ["avro", "protobuf"];

impl Analysis {
    /// The optional Cargo features of `logto-client` the generated code
    /// needs (of [`FEATURE_FORMATS`], and `jwt` for a REST or control
    /// adapter's inbound OAuth 2.0 tokens): without them it is a compile error.
    pub fn runtime_features(&self) -> Vec<&'static str> {
        let needs = |format: &str| {
            self.capability
                .apis
                .iter()
                .flat_map(|a| &a.operations)
                .any(|o| o.raw_format.as_deref() == Some(format))
        };
        let mut features: Vec<&'static str> =
            FEATURE_FORMATS.into_iter().filter(|f| needs(f)).collect();
        // Inbound OAuth 2.0 token checks (ring) of the adapters whose code is
        // always compiled; an MCP adapter's are in `serving_features`.
        let cap = &self.capability;
        let rest = cap.rest.iter().map(|a| &a.auth);
        if rest
            .chain(cap.control.iter().map(|c| &c.auth))
            .any(checks_jwts)
        {
            features.push("jwt");
        }
        features
    }

    /// The features a program serving every adapter of the capability
    /// needs: [`runtime_features`](Self::runtime_features), `mcp` when it
    /// exposes an MCP adapter (without it the code compiles, but its MCP
    /// adapters cannot be served), and `jwt` when one of those checks OAuth
    /// 2.0 tokens.
    pub fn serving_features(&self) -> Vec<&'static str> {
        let mut features = self.runtime_features();
        let mcp = &self.capability.mcp;
        if !mcp.is_empty() {
            features.push("mcp");
        }
        if !features.contains(&"jwt") && mcp.iter().map(|a| &a.inbound).any(checks_jwts) {
            features.push("jwt");
        }
        features
    }
}

/// Whether an adapter's inbound `authentication` checks JWT access tokens
/// (OAuth 2.0 with an authorization server: logto-client's `jwt` feature).
fn checks_jwts(auth: &Option<ir::Auth>) -> bool {
    matches!(
        auth,
        Some(ir::Auth::OAuth2 {
            issuer: Some(_),
            ..
        })
    )
}

/// Reads and validates the capability at `path`; diagnostics name it `display`.
pub fn analyze_file(
    path: &Path,
    display: &str,
    files: &dyn Files,
) -> Result<Analysis, Diagnostics> {
    let source = files.read(path).map_err(|e| {
        Diagnostics(vec![Diagnostic {
            file: display.to_owned(),
            pos: yaml::Pos { line: 1, col: 1 },
            path: String::new(),
            message: format!("cannot read the capability: {e}"),
            help: "check the path and the file's permissions".into(),
        }])
    })?;
    analyze_source(&source, display, path, files)
}

/// Validates `source`, which was read from `path` (used to resolve imports).
pub fn analyze_source(
    source: &str,
    display: &str,
    path: &Path,
    files: &dyn Files,
) -> Result<Analysis, Diagnostics> {
    let mut sink = diagnostics::Sink::new(display);
    let Some(doc) = read(&mut sink, source) else {
        return Err(sink.finish());
    };
    let mut read_files = vec![path.to_path_buf()];
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let display_base = Path::new(display)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut import =
        |sink: &mut diagnostics::Sink, imp: &spec::Import| -> Option<validate::Fragment> {
            let Some(loc) = &imp.location else {
                sink.error(
                    imp.import.pos,
                    &imp.import.path,
                    format!("import of `{}` has no `location`", imp.import.value),
                    "add `location: ./shared/<file>.yaml`, relative to this file",
                );
                return None;
            };
            let target = base.join(&loc.value);
            let shown = display_base.join(&loc.value).display().to_string();
            read_files.push(target.clone());
            let text = match files.read(&target) {
                Ok(t) => t,
                Err(e) => {
                    sink.error(
                        loc.pos,
                        &loc.path,
                        format!("cannot read imported file `{shown}`: {e}"),
                        "the location is relative to the importing capability file",
                    );
                    return None;
                }
            };
            let mut inner = diagnostics::Sink::new(shown.clone());
            let doc = read(&mut inner, &text);
            let failed = inner.has_errors();
            for d in inner.finish().0 {
                sink.push(d);
            }
            if failed {
                return None;
            }
            let doc = doc?;
            let mut consumes = doc.fragment_consumes;
            if let Some(cap) = doc.capability {
                consumes.extend(cap.consumes);
            }
            Some(validate::Fragment {
                file: shown,
                consumes,
            })
        };
    let capability = validate::resolve(&mut sink, &doc, &mut import);
    if sink.has_errors() {
        return Err(sink.finish());
    }
    Ok(Analysis {
        capability,
        files: read_files,
    })
}

/// Parses YAML and reads it into the model.
fn read(sink: &mut diagnostics::Sink, source: &str) -> Option<spec::Document> {
    match yaml::parse(source) {
        Ok(Some(root)) => spec::read_document(sink, &root),
        Ok(None) => {
            sink.error(
                yaml::Pos { line: 1, col: 1 },
                "",
                "the document is empty",
                "start it with `naftiko: 1.0.0-alpha2`",
            );
            None
        }
        Err(e) => {
            sink.error(
                e.pos,
                "",
                format!("YAML syntax error: {}", e.message),
                "fix the YAML syntax at this position",
            );
            None
        }
    }
}

/// Generates the Rust for a file: analysis, then code generation.
pub fn expand_file(
    path: &Path,
    display: &str,
    files: &dyn Files,
    settings: &codegen::Settings,
) -> Result<(proc_macro2::TokenStream, Analysis), Diagnostics> {
    let analysis = analyze_file(path, display, files)?;
    let tokens = codegen::generate(&analysis.capability, settings)?;
    Ok((tokens, analysis))
}

/// Formats generated tokens as Rust source (prettyplease). Needs the `pretty`
/// feature (or `--cfg logto_cli`, as in this repository).
///
/// prettyplease leaves macro bodies as they are; the bodies of the runtime's
/// `__mcp!` switch (an MCP adapter's serving code, with and without the
/// `mcp` feature) are items, so they are formatted too.
#[cfg(any(logto_cli, feature = "pretty"))]
pub fn pretty(tokens: &proc_macro2::TokenStream) -> Result<String, String> {
    let mut file: syn::File =
        syn::parse2(tokens.clone()).map_err(|e| format!("generated code does not parse: {e}"))?;
    let mut switches = Vec::new();
    take_switches(&mut file.items, &mut switches)?;
    let mut text = prettyplease::unparse(&file);
    for (i, (path, branches)) in switches.iter().enumerate() {
        let marker = format!("__naftiko_switch_{i}!();");
        let Some(at) = text.find(&marker) else {
            return Err(format!("formatting lost switch {i}"));
        };
        let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let indent = " ".repeat(at - line_start);
        let mut out = format!("{path}! {{\n");
        for branch in branches {
            out.push_str(&format!("{indent}    {{\n"));
            for line in branch.lines() {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{indent}        {line}\n"));
                }
            }
            out.push_str(&format!("{indent}    }}\n"));
        }
        out.push_str(&format!("{indent}}}"));
        text.replace_range(at..at + marker.len(), &out);
    }
    Ok(text)
}

/// Replaces each item-position `__mcp! { { items } { items } }` under
/// `items` by a marker macro, keeping its path and its branches formatted.
#[cfg(any(logto_cli, feature = "pretty"))]
fn take_switches(
    items: &mut [syn::Item],
    switches: &mut Vec<(String, Vec<String>)>,
) -> Result<(), String> {
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &mut m.content {
                    take_switches(inner, switches)?;
                }
            }
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "__mcp") =>
            {
                let mut branches = Vec::new();
                for tree in m.mac.tokens.clone() {
                    let proc_macro2::TokenTree::Group(group) = tree else {
                        return Err("a `__mcp!` branch is not a `{ }` group".into());
                    };
                    let branch: syn::File = syn::parse2(group.stream())
                        .map_err(|e| format!("a `__mcp!` branch does not parse: {e}"))?;
                    branches.push(prettyplease::unparse(&branch));
                }
                let path = quote::ToTokens::to_token_stream(&m.mac.path)
                    .to_string()
                    .replace(' ', "");
                let marker = quote::format_ident!("__naftiko_switch_{}", switches.len());
                switches.push((path, branches));
                *item = syn::parse_quote! { #marker!(); };
            }
            _ => {}
        }
    }
    Ok(())
}
