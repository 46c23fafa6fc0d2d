//! Errors found in a capability, each with its file, line, column, YAML path
//! and a "help:" line that says what to do about it.

use std::fmt;

use crate::yaml::Pos;

/// One problem in a capability document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it (relative where possible).
    pub file: String,
    /// Where the offending node starts.
    pub pos: Pos,
    /// The YAML path of the node, e.g. `capability.consumes[0].baseUri`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "the document root"
        } else {
            &self.path
        };
        write!(
            f,
            "{}:{}:{}: error: {} (at {})\n  help: {}",
            self.file, self.pos.line, self.pos.col, self.message, at, self.help
        )
    }
}

/// Every diagnostic of one run, in source order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Sorts by position so that the output reads top to bottom, and drops
    /// exact duplicates (one mistake reached by two checks).
    pub fn sorted(mut self) -> Self {
        self.0
            .sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
        self.0.dedup();
        self
    }

    /// `true` when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many diagnostics there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over the diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Collects diagnostics for one file while it is read and validated.
#[derive(Debug)]
pub struct Sink {
    file: String,
    found: Vec<Diagnostic>,
}

impl Sink {
    /// A sink for diagnostics about `file`.
    pub fn new(file: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            found: Vec::new(),
        }
    }

    /// The file these diagnostics are about.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Records one problem.
    pub fn error(
        &mut self,
        pos: Pos,
        path: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.found.push(Diagnostic {
            file: self.file.clone(),
            pos,
            path: path.to_owned(),
            message: message.into(),
            help: help.into(),
        });
    }

    /// Records a diagnostic produced elsewhere (an imported file's).
    pub fn push(&mut self, d: Diagnostic) {
        self.found.push(d);
    }

    /// `true` once any problem was recorded.
    pub fn has_errors(&self) -> bool {
        !self.found.is_empty()
    }

    /// Everything recorded, sorted.
    pub fn finish(self) -> Diagnostics {
        Diagnostics(self.found).sorted()
    }
}

/// The candidate closest to `name` for a "did you mean", if one is close.
///
/// Close means at most a third of the name's length in edits (at least one),
/// so that `ops.initinteration` finds `initinteraction` but `foo` finds nothing.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&name.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A help line that lists what is valid, suggesting the nearest one first.
pub fn help_with_suggestion(name: &str, candidates: &[&str], what: &str) -> String {
    match did_you_mean(name, candidates.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if candidates.is_empty() => format!("no {what} is declared"),
        None => {
            let mut list: Vec<&str> = candidates.to_vec();
            list.sort_unstable();
            let shown: Vec<String> = list.iter().take(8).map(|c| format!("`{c}`")).collect();
            let more = if list.len() > 8 {
                format!(" and {} more", list.len() - 8)
            } else {
                String::new()
            };
            format!("known {what}s: {}{more}", shown.join(", "))
        }
    }
}
