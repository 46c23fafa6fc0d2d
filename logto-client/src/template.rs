//! `{{name}}` placeholders in spec text, filled at run time: one scanner for
//! body templates, step `with` templates and prompts.

/// Fills every `{{name}}` of `template` with what `fill` pushes for the
/// trimmed name (it is also given the placeholder as written, to keep it).
/// Text without a closing `}}` is copied as it is.
pub fn fill<E>(
    template: &str,
    mut fill: impl FnMut(&str, &str, &mut String) -> Result<(), E>,
) -> Result<String, E> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 2..).unwrap_or_default();
        let Some(end) = after.find("}}") else {
            out.push_str(rest.get(start..).unwrap_or_default());
            return Ok(out);
        };
        let written = rest.get(start..start + end + 4).unwrap_or_default();
        fill(
            after.get(..end).unwrap_or_default().trim(),
            written,
            &mut out,
        )?;
        rest = after.get(end + 2..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

/// A JSON value as template text: strings as they are, other JSON as JSON.
pub fn text(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::String(s) => out.push_str(s),
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_unclosed_text_kept() {
        let r: Result<String, ()> = fill("a {{ x }} b {{y}} {{z", |name, written, out| {
            match name {
                "x" => out.push('1'),
                _ => out.push_str(written),
            }
            Ok(())
        });
        assert_eq!(r, Ok("a 1 b {{y}} {{z".to_owned()));
    }
}
