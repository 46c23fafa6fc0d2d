//! `{{...}}` templates, `[var]` base URI variables and path placeholders.

/// A piece of a string split on placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part<'a> {
    /// Literal text.
    Text(&'a str),
    /// The trimmed inside of `{{ ... }}`, `{...}` or `[...]`.
    Var(&'a str),
}

/// Splits `text` on `{{x}}` (always) and, when `single` is set, `{x}` (path
/// placeholders); `[x]` is split when `brackets` is set (base URIs).
pub fn split(text: &str, single: bool, brackets: bool) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let next = [
            rest.find("{{").map(|i| (i, "{{", "}}")),
            if single {
                rest.find('{').map(|i| (i, "{", "}"))
            } else {
                None
            },
            if brackets {
                rest.find('[').map(|i| (i, "[", "]"))
            } else {
                None
            },
        ]
        .into_iter()
        .flatten()
        // `{{` and `{` start at the same index: prefer the longer opener.
        .min_by_key(|(i, open, _)| (*i, usize::MAX - open.len()));
        let Some((start, open, close)) = next else {
            break;
        };
        let after = start + open.len();
        let Some(len) = rest.get(after..).and_then(|s| s.find(close)) else {
            break;
        };
        if let Some(t) = rest.get(..start).filter(|t| !t.is_empty()) {
            parts.push(Part::Text(t));
        }
        if let Some(inner) = rest.get(after..after + len) {
            parts.push(Part::Var(inner.trim()));
        }
        rest = rest.get(after + len + close.len()..).unwrap_or_default();
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    parts
}

/// The placeholders of a path, in order.
pub fn path_vars(path: &str) -> Vec<&str> {
    split(path, true, false)
        .into_iter()
        .filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Text(_) => None,
        })
        .collect()
}

/// Names compared the way decision 6 matches an exposed path parameter to a
/// consumed placeholder: ignoring case, `-` and `_`.
pub fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_all_placeholder_styles() {
        assert_eq!(
            split("/a/{x}/b/{{ y }}", true, false),
            vec![
                Part::Text("/a/"),
                Part::Var("x"),
                Part::Text("/b/"),
                Part::Var("y")
            ]
        );
        assert_eq!(
            split("https://[tenant_id].logto.app", false, true),
            vec![
                Part::Text("https://"),
                Part::Var("tenant_id"),
                Part::Text(".logto.app")
            ]
        );
        assert_eq!(
            split("Bearer {{env.KEY}}", false, false),
            vec![Part::Text("Bearer "), Part::Var("env.KEY")]
        );
        assert_eq!(
            split("unclosed {{x", true, false),
            vec![Part::Text("unclosed {{x")]
        );
        assert_eq!(loose("project-gid"), loose("project_gid"));
    }
}
