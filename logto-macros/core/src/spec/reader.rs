//! Small helpers that read typed fields out of the positioned YAML tree and
//! report, with positions, what is missing, mistyped or misspelt.

use crate::diagnostics::Sink;
use crate::yaml::{Node, Pos, Value};

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it starts in the file.
    pub pos: Pos,
    /// Its YAML path, e.g. `capability.consumes[0].namespace`.
    pub path: String,
}

impl<T> Spanned<T> {
    /// Wraps a value read from `node` at `path`.
    pub fn new(value: T, pos: Pos, path: impl Into<String>) -> Self {
        Self {
            value,
            pos,
            path: path.into(),
        }
    }
}

impl Spanned<String> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// Appends `key` to a YAML path.
pub fn join(path: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), simple) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{key:?}]"),
    }
}

/// Appends a list index to a YAML path.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A mapping node being read, with the keys this kind of object knows.
pub struct Obj<'n> {
    /// The mapping node.
    pub node: &'n Node,
    /// Its YAML path.
    pub path: String,
    entries: &'n [(Node, Node)],
}

impl<'n> Obj<'n> {
    /// Opens `node` as an object of kind `what`. Reports a non-mapping, a key
    /// written twice, and an unknown key that is one edit or one swap away from
    /// a known key (SEMANTICS.md decision 2: only keys of 5+ characters, since
    /// looser rules misfire on real files).
    pub fn open(
        sink: &mut Sink,
        node: &'n Node,
        path: &str,
        what: &str,
        known: &[&str],
    ) -> Option<Self> {
        let Value::Map(entries) = &node.value else {
            sink.error(
                node.pos,
                path,
                format!("{what} must be a mapping, found {}", node.kind()),
                format!("write {what} as `key: value` lines"),
            );
            return None;
        };
        let mut seen: Vec<&str> = Vec::new();
        for (k, _) in entries {
            let Some(key) = k.as_str() else {
                sink.error(
                    k.pos,
                    path,
                    "a key must be a plain string",
                    "remove the complex key",
                );
                continue;
            };
            if seen.contains(&key) {
                sink.error(
                    k.pos,
                    &join(path, key),
                    format!("key `{key}` is written twice in {what}"),
                    "keep one of them: YAML would silently keep only the last",
                );
            }
            seen.push(key);
            if key.chars().count() >= 5
                && !known.contains(&key)
                && let Some(near) = known
                    .iter()
                    .find(|k| strsim::osa_distance(key, k) == 1 && !seen_known(entries, k))
            {
                sink.error(
                    k.pos,
                    &join(path, key),
                    format!("unknown key `{key}` in {what}"),
                    format!("did you mean `{near}`?"),
                );
            }
        }
        Some(Self {
            node,
            path: path.to_owned(),
            entries,
        })
    }

    /// Where the object starts.
    pub fn pos(&self) -> Pos {
        self.node.pos
    }

    /// The value under `key`, if written (a plain `null` counts as absent).
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    /// The YAML path of `key` inside this object.
    pub fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// A string field; a non-scalar is reported.
    pub fn str(&self, sink: &mut Sink, key: &str) -> Option<Spanned<String>> {
        let node = self.get(key)?;
        match node.as_str() {
            Some(text) => Some(Spanned::new(text.to_owned(), node.pos, self.at(key))),
            None => {
                sink.error(
                    node.pos,
                    &self.at(key),
                    format!("`{key}` must be a string, found {}", node.kind()),
                    format!("write `{key}: <text>`"),
                );
                None
            }
        }
    }

    /// A required string field; its absence is reported with `help`.
    pub fn req_str(
        &self,
        sink: &mut Sink,
        key: &str,
        what: &str,
        help: &str,
    ) -> Option<Spanned<String>> {
        if self.get(key).is_none() {
            sink.error(
                self.pos(),
                &self.path,
                format!("{what} is missing the required field `{key}`"),
                help,
            );
            return None;
        }
        self.str(sink, key)
    }

    /// A boolean field.
    pub fn bool(&self, sink: &mut Sink, key: &str) -> Option<Spanned<bool>> {
        let node = self.get(key)?;
        match node.as_bool() {
            Some(b) => Some(Spanned::new(b, node.pos, self.at(key))),
            None => {
                sink.error(
                    node.pos,
                    &self.at(key),
                    format!(
                        "`{key}` must be true or false, found `{}`",
                        node.as_str().unwrap_or(node.kind())
                    ),
                    format!("write `{key}: true` or `{key}: false`"),
                );
                None
            }
        }
    }

    /// A port number.
    pub fn port(&self, sink: &mut Sink, key: &str) -> Option<Spanned<u16>> {
        let node = self.get(key)?;
        match node.as_u64().and_then(|n| u16::try_from(n).ok()) {
            Some(p) => Some(Spanned::new(p, node.pos, self.at(key))),
            None => {
                sink.error(
                    node.pos,
                    &self.at(key),
                    format!(
                        "`{key}` must be a port number (0-65535), found `{}`",
                        node.as_str().unwrap_or(node.kind())
                    ),
                    format!("write e.g. `{key}: 8080`"),
                );
                None
            }
        }
    }

    /// A list field: each item with its path. A non-list is reported.
    pub fn list(&self, sink: &mut Sink, key: &str) -> Vec<(String, &'n Node)> {
        let Some(node) = self.get(key) else {
            return Vec::new();
        };
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| (index(&self.at(key), i), n))
                .collect(),
            _ => {
                sink.error(
                    node.pos,
                    &self.at(key),
                    format!("`{key}` must be a list, found {}", node.kind()),
                    format!("write each entry of `{key}` on its own `- ` line"),
                );
                Vec::new()
            }
        }
    }

    /// A free-form string map (`keys`, `with`): key and value nodes.
    pub fn map(&self, sink: &mut Sink, key: &str) -> Vec<(Spanned<String>, &'n Node)> {
        let Some(node) = self.get(key) else {
            return Vec::new();
        };
        let Value::Map(entries) = &node.value else {
            sink.error(
                node.pos,
                &self.at(key),
                format!("`{key}` must be a mapping, found {}", node.kind()),
                format!("write `{key}:` followed by indented `name: value` lines"),
            );
            return Vec::new();
        };
        let base = self.at(key);
        entries
            .iter()
            .filter_map(|(k, v)| {
                let name = k.as_str()?;
                Some((Spanned::new(name.to_owned(), k.pos, join(&base, name)), v))
            })
            .collect()
    }
}

fn seen_known(entries: &[(Node, Node)], key: &str) -> bool {
    entries.iter().any(|(k, _)| k.as_str() == Some(key))
}
