//! A YAML tree that remembers where every node came from.
//!
//! `serde_yaml` is deprecated upstream and never exposed node positions, so
//! the document is read with `saphyr-parser` (the maintained YAML 1.2 event
//! parser) and folded into this small tree. Every node keeps the line and
//! column it starts at, which is what lets any later error point at its line.

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

/// A position in the source: both numbers start at 1, like a compiler's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// Line number, 1-based.
    pub line: usize,
    /// Column number in characters, 1-based.
    pub col: usize,
}

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub value: Value,
    /// Where the node starts in the file.
    pub pos: Pos,
}

/// The content of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar: its text, and whether it was written plain (unquoted), which
    /// decides whether `true` or `8080` are booleans and numbers or strings.
    Scalar {
        /// The scalar's text after YAML unescaping.
        text: String,
        /// `true` when the scalar was not quoted or a block scalar.
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order (duplicates are kept so they can be reported).
    Map(Vec<(Node, Node)>),
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What the parser said.
    pub message: String,
    /// Where it stopped.
    pub pos: Pos,
}

/// The deepest nesting accepted. Real capabilities nest about 12 levels; the
/// limit keeps every recursive walk over the tree far from the stack's end.
pub const MAX_DEPTH: usize = 128;
/// The most nodes a document may expand to (aliases included), so that an
/// alias bomb is an error instead of an out-of-memory.
pub const MAX_NODES: usize = 2_000_000;

impl Node {
    /// The node's text if it is a scalar (of any style).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// `true` for a plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The boolean a plain scalar spells (`true`/`false`, YAML 1.2 core schema).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The integer a plain scalar spells.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.value {
            Value::Scalar { text, plain: true } => text.parse().ok(),
            _ => None,
        }
    }

    /// A short word for the node's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Converts the node to JSON, resolving plain scalars by the YAML 1.2 core
    /// schema (numbers, booleans, null); quoted scalars stay strings.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Scalar { text, plain } => {
                if !*plain {
                    return J::String(text.clone());
                }
                if self.is_null() {
                    return J::Null;
                }
                if let Some(b) = self.as_bool() {
                    return J::Bool(b);
                }
                if let Ok(i) = text.parse::<i64>() {
                    return J::from(i);
                }
                if let Ok(f) = text.parse::<f64>()
                    && let Some(n) = serde_json::Number::from_f64(f)
                {
                    return J::Number(n);
                }
                J::String(text.clone())
            }
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

fn pos_of(marker: &saphyr_parser::Marker) -> Pos {
    Pos {
        line: marker.line(),
        col: marker.col() + 1,
    }
}

fn scan_error(e: &ScanError) -> SyntaxError {
    SyntaxError {
        message: e.info().to_owned(),
        pos: pos_of(e.marker()),
    }
}

/// A container being filled while events stream in.
enum Open {
    Seq(Pos, Vec<Node>, usize),
    Map(Pos, Vec<(Node, Node)>, Option<Node>, usize),
}

/// Parses the first YAML document of `source` into a positioned tree.
///
/// An empty document gives `Ok(None)`. Aliases are expanded (the anchored
/// node is copied), within [`MAX_NODES`].
pub fn parse(source: &str) -> Result<Option<Node>, SyntaxError> {
    let mut anchors: std::collections::HashMap<usize, Node> = std::collections::HashMap::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut count: usize = 0;
    let mut in_document = false;

    for item in Parser::new_from_str(source) {
        let (event, span) = item.map_err(|e| scan_error(&e))?;
        let pos = pos_of(&span.start);
        let (finished, anchor) = match event {
            Event::StreamStart | Event::Nothing | Event::StreamEnd => continue,
            Event::DocumentStart(_) => {
                if root.is_some() {
                    // Only the first document is the capability; stop reading.
                    break;
                }
                in_document = true;
                continue;
            }
            Event::DocumentEnd => {
                if root.is_some() || in_document {
                    break;
                }
                continue;
            }
            Event::Alias(id) => {
                let node = anchors.get(&id).cloned().ok_or_else(|| SyntaxError {
                    message: "alias refers to an unknown anchor".into(),
                    pos,
                })?;
                if stack.len().saturating_add(node_depth(&node)) > MAX_DEPTH {
                    return Err(SyntaxError {
                        message: format!("the document nests deeper than {MAX_DEPTH} levels"),
                        pos,
                    });
                }
                count = count.saturating_add(node_count(&node));
                (
                    Node {
                        value: node.value,
                        pos,
                    },
                    0,
                )
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = matches!(style, ScalarStyle::Plain);
                (
                    Node {
                        value: Value::Scalar {
                            text: text.into_owned(),
                            plain,
                        },
                        pos,
                    },
                    anchor,
                )
            }
            Event::SequenceStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        message: format!("the document nests deeper than {MAX_DEPTH} levels"),
                        pos,
                    });
                }
                stack.push(Open::Seq(pos, Vec::new(), anchor));
                continue;
            }
            Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        message: format!("the document nests deeper than {MAX_DEPTH} levels"),
                        pos,
                    });
                }
                stack.push(Open::Map(pos, Vec::new(), None, anchor));
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq(p, items, anchor)) => (
                    Node {
                        value: Value::Seq(items),
                        pos: p,
                    },
                    anchor,
                ),
                _ => {
                    return Err(SyntaxError {
                        message: "unbalanced sequence end".into(),
                        pos,
                    });
                }
            },
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map(p, entries, _, anchor)) => (
                    Node {
                        value: Value::Map(entries),
                        pos: p,
                    },
                    anchor,
                ),
                _ => {
                    return Err(SyntaxError {
                        message: "unbalanced mapping end".into(),
                        pos,
                    });
                }
            },
        };
        count = count.saturating_add(1);
        if count > MAX_NODES {
            return Err(SyntaxError {
                message: format!(
                    "the document expands to more than {MAX_NODES} nodes (alias bomb?)"
                ),
                pos,
            });
        }
        if anchor != 0 {
            anchors.insert(anchor, finished.clone());
        }
        match stack.last_mut() {
            None => root = Some(finished),
            Some(Open::Seq(_, items, _)) => items.push(finished),
            Some(Open::Map(_, entries, key, _)) => match key.take() {
                None => *key = Some(finished),
                Some(k) => entries.push((k, finished)),
            },
        }
    }
    Ok(root)
}

fn node_depth(node: &Node) -> usize {
    match &node.value {
        Value::Scalar { .. } => 0,
        Value::Seq(items) => 1 + items.iter().map(node_depth).max().unwrap_or(0),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(_, v)| node_depth(v))
                .max()
                .unwrap_or(0)
        }
    }
}

fn node_count(node: &Node) -> usize {
    match &node.value {
        Value::Scalar { .. } => 1,
        Value::Seq(items) => items.iter().map(node_count).fold(1, usize::saturating_add),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| node_count(k).saturating_add(node_count(v)))
            .fold(1, usize::saturating_add),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() -> Result<(), SyntaxError> {
        let root = parse("a: 1\nb:\n  - x\n  - 'y'\n")?;
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = root
        else {
            return Err(SyntaxError {
                message: "not a map".into(),
                pos: Pos::default(),
            });
        };
        let positions: Vec<Pos> = entries.iter().map(|(k, _)| k.pos).collect();
        assert_eq!(
            positions,
            vec![Pos { line: 1, col: 1 }, Pos { line: 2, col: 1 }]
        );
        let Some((
            _,
            Node {
                value: Value::Seq(items),
                ..
            },
        )) = entries.get(1)
        else {
            return Ok(());
        };
        assert_eq!(
            items.iter().map(|n| n.pos).collect::<Vec<_>>(),
            vec![Pos { line: 3, col: 5 }, Pos { line: 4, col: 5 }]
        );
        Ok(())
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: c\n").err();
        assert!(err.is_some_and(|e| e.pos.line >= 1));
    }

    #[test]
    fn alias_bomb_is_an_error_not_an_oom() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&doc).is_err());
    }
}
