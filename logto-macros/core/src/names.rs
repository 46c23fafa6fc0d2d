//! Turning spec names into Rust identifiers that always compile.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Words that cannot be identifiers even as raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Strict and reserved keywords of Rust 2024.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof",
    "unsized", "virtual", "yield", "try",
];

/// `true` if `word` must be written `r#word`.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

fn clean(name: &str) -> String {
    // heck splits on case changes and non-alphanumerics; drop what is left
    // that Rust cannot take.
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect()
}

/// A snake_case identifier for `name` (`initinteraction`, `connector_id`),
/// escaped when it would not compile: a leading digit gets `_`, `self`-like
/// words get a trailing `_`. Keywords stay as they are; [`ident`] writes them
/// as raw identifiers.
pub fn snake(name: &str) -> String {
    let mut s = clean(name).to_snake_case();
    if s.is_empty() {
        s.push_str("unnamed");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if NOT_RAW.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// An UpperCamelCase type name for `name`.
pub fn camel(name: &str) -> String {
    let mut s = clean(name).to_upper_camel_case();
    if s.is_empty() {
        s.push_str("Unnamed");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if NOT_RAW.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// A `proc_macro2::Ident` for an already-converted name, raw if it is a keyword.
pub fn ident(name: &str) -> proc_macro2::Ident {
    let span = proc_macro2::Span::call_site();
    if is_keyword(name) {
        proc_macro2::Ident::new_raw(name, span)
    } else {
        proc_macro2::Ident::new(name, span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_valid_identifiers() {
        assert_eq!(snake("connectorId"), "connector_id");
        assert_eq!(snake("logto-experience"), "logto_experience");
        assert_eq!(snake("2fa-verify"), "_2fa_verify");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("type"), "type");
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(snake("x.y/z"), "x_y_z");
        assert_eq!(snake("---"), "unnamed");
        assert_eq!(camel("logto-experience"), "LogtoExperience");
    }
}
