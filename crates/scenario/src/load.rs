//! Reading a scenario file and reporting every problem at its place in the file.
//!
//! A user who mistypes a key wants to be told *where*: `file:line:column`, which key, and what
//! was expected. Serde's errors from the `toml` crate carry a byte span but not always the
//! key, and our own validation knows the key path but not the span. So the file is parsed a
//! second time into `toml`'s spanned document tree ([`toml::de::DeTable`]), which maps in both
//! directions: span → key path for parse errors, key path → span for validation errors.

use super::validate::{self, Plan};
use super::Scenario;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One problem in a scenario file, with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as given on the command line (or `<string>`).
    pub file: PathBuf,
    /// 1-based line; 0 when the problem has no place in the file (it could not be read).
    pub line: usize,
    /// 1-based column (in characters); 0 with line 0.
    pub column: usize,
    /// Dotted key path, e.g. `consumer[1].interval`; empty for the document itself.
    pub key: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: ", self.file.display())?;
        } else {
            write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, "key `{}`: ", self.key)?;
        }
        write!(f, "{}", self.message)
    }
}

/// All problems found in one file (at least one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// One segment of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Formats a key path the way errors show it: `consumer[1].interval`.
pub fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Reads, parses and validates a scenario file.
pub fn load_file(path: &Path) -> Result<(Scenario, Plan), ScenarioErrors> {
    load_str(&read(path)?, path)
}

fn read(path: &Path) -> Result<String, ScenarioErrors> {
    std::fs::read_to_string(path).map_err(|e| {
        ScenarioErrors(vec![ScenarioError {
            file: path.to_path_buf(),
            // No line or column: nothing was read, so there is no place to point at.
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read the scenario file: {e}"),
        }])
    })
}

/// Reads a scenario file and expands its `[sweep]` (if any) into validated points.
pub fn load_points(path: &Path) -> Result<(Scenario, Vec<super::Point>), ScenarioErrors> {
    let text = read(path)?;
    let (scenario, plan) = load_str(&text, path)?;
    let points = super::sweep::expand(&text, path, &scenario, plan)?;
    Ok((scenario, points))
}

/// An error at key `path` of the file `text`, located by its span.
pub(super) fn locate(text: &str, file: &Path, path: &[Seg], message: String) -> ScenarioError {
    let span = match DeTable::parse(text) {
        Ok(doc) => span_of(&doc, path),
        Err(_) => 0..0,
    };
    at_span(text, file, span, path_string(path), &message)
}

/// An error at the dotted key `key` (e.g. `["fleet", "endpoints"]`) of the scenario file at
/// `path`, located by its span (line 1, column 1 when the key is not written in the file): for
/// problems found after validation, such as what an engine refuses.
pub fn locate_key(path: &Path, key: &[&str], message: String) -> ScenarioError {
    let segs: Vec<Seg> = key.iter().map(|k| Seg::Key((*k).to_string())).collect();
    match std::fs::read_to_string(path) {
        Ok(text) => locate(&text, path, &segs, message),
        Err(_) => ScenarioError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            key: path_string(&segs),
            message,
        },
    }
}

/// Parses and validates scenario text; `file` is only used in error messages.
pub fn load_str(text: &str, file: &Path) -> Result<(Scenario, Plan), ScenarioErrors> {
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let key = key_on_line(text, span.start);
            return Err(ScenarioErrors(vec![at_span(
                text,
                file,
                span,
                key,
                e.message(),
            )]));
        }
    };
    let scenario: Scenario = match toml::from_str(text) {
        Ok(s) => s,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let mut path = match e.span() {
                Some(sp) if !sp.is_empty() => path_at(&doc, &sp),
                _ => Vec::new(),
            };
            let msg = e.message().trim().to_string();
            // A missing field has the span of its table: name the field itself.
            if let Some(field) = backticked(&msg, "missing field `") {
                path.push(Seg::Key(field));
            }
            return Err(ScenarioErrors(vec![at_span(
                text,
                file,
                span,
                path_string(&path),
                &msg,
            )]));
        }
    };
    let base_dir = file.parent().unwrap_or(Path::new("."));
    match validate::plan(&scenario, base_dir) {
        Ok(plan) => Ok((scenario, plan)),
        Err(problems) => Err(ScenarioErrors(
            problems
                .into_iter()
                .map(|p| {
                    let span = span_of(&doc, &p.path);
                    at_span(text, file, span, path_string(&p.path), &p.message)
                })
                .collect(),
        )),
    }
}

/// For a syntax error (no document tree to search): the key assigned on the error's line,
/// under the nearest table header above it, e.g. `workload.resources`.
fn key_on_line(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[start..].lines().next().unwrap_or("");
    let Some((k, _)) = line.split_once('=') else {
        return String::new();
    };
    let k = k.trim().trim_matches('"');
    if k.is_empty() || k.contains(char::is_whitespace) || k.starts_with('[') {
        return String::new();
    }
    let header = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|h| h.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    match header {
        Some(h) if !h.is_empty() => format!("{h}.{k}"),
        _ => k.to_string(),
    }
}

fn backticked(msg: &str, prefix: &str) -> Option<String> {
    let rest = msg.split(prefix).nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

fn at_span(text: &str, file: &Path, span: Range<usize>, key: String, msg: &str) -> ScenarioError {
    let (line, column) = line_col(text, span.start);
    ScenarioError {
        file: file.to_path_buf(),
        line,
        column,
        key: cut(&key, QUOTE_LIMIT),
        message: plain(&cut_quoted(msg.trim())),
    }
}

/// Longest quoted value (and key path) an error echoes, in characters: a 1 MB bad value is
/// shown by its start, not in full.
pub const QUOTE_LIMIT: usize = 80;

/// `s` cut to `limit` characters, with `…` and the full length when it was longer.
fn cut(s: &str, limit: usize) -> String {
    match s.char_indices().nth(limit) {
        None => s.to_string(),
        Some((at, _)) => format!("{}… ({} characters)", &s[..at], s.chars().count()),
    }
}

/// Every value quoted in `msg` (between backticks or double quotes) cut to [`QUOTE_LIMIT`]
/// characters; an unclosed quote runs to the end of the message.
fn cut_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(1024));
    let mut rest = msg;
    while let Some(open) = rest.find(['`', '"']) {
        let q = rest[open..].chars().next().unwrap_or('`');
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let (inner, tail) = match after.find(q) {
            Some(close) => (&after[..close], &after[close..]),
            None => (after, ""),
        };
        out.push_str(&cut(inner, QUOTE_LIMIT));
        if let Some(close) = tail.chars().next() {
            out.push(close);
            rest = &tail[close.len_utf8()..];
        } else {
            rest = "";
        }
    }
    out.push_str(rest);
    out
}

/// Serde's words for a reader: `expected u32` is jargon for "a whole number"; an unknown key
/// close to a known one ("intervall") names it (`did you mean \`interval\`?`).
fn plain(msg: &str) -> String {
    let mut m = msg.to_string();
    for (jargon, words) in [
        ("a nonzero u32", "a whole number of at least 1"),
        ("expected u32", "expected a whole number (0 to 4294967295)"),
        ("expected u64", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected u16", "expected a whole number (0 to 65535)"),
        ("expected usize", "expected a whole number"),
        ("expected f64", "expected a number"),
    ] {
        m = m.replace(jargon, words);
    }
    if let (Some(unknown), Some((_, list))) = (
        backticked(&m, "unknown field `"),
        m.split_once("`, expected "),
    ) {
        let known: Vec<&str> = list.split('`').skip(1).step_by(2).collect();
        if let Some(near) = near_miss(&unknown, &known) {
            m = format!(
                "unknown field `{unknown}`; did you mean `{near}`? (expected {list})",
                list = list
            );
        }
    }
    m
}

/// The known name closest to `word` by edit distance, if it is a plausible typo: at most
/// 1 edit for names up to 4 characters, 2 for longer ones (case ignored).
pub(crate) fn near_miss<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let w = word.to_lowercase();
    let limit = if w.chars().count() <= 4 { 1 } else { 2 };
    known
        .iter()
        .map(|k| (edit_distance(&w, &k.to_lowercase()), *k))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// Levenshtein distance (insertions, deletions, substitutions), in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn contains(span: &Range<usize>, inner: &Range<usize>) -> bool {
    span.start <= inner.start && inner.end <= span.end.max(span.start + 1)
}

/// The deepest key path whose key or value span holds `span`.
fn path_at(doc: &Spanned<DeTable<'_>>, span: &Range<usize>) -> Vec<Seg> {
    let mut path = Vec::new();
    walk_table(doc.get_ref(), span, &mut path);
    path
}

fn walk_table(t: &DeTable<'_>, span: &Range<usize>, path: &mut Vec<Seg>) {
    for (k, v) in t.iter() {
        if contains(&k.span(), span) {
            path.push(Seg::Key(k.get_ref().to_string()));
            return;
        }
        if contains(&v.span(), span) || descends(v.get_ref(), span) {
            path.push(Seg::Key(k.get_ref().to_string()));
            walk_value(v.get_ref(), span, path);
            return;
        }
    }
}

/// Arrays of tables written with `[[x]]` headers may not have one span covering all their
/// items, so look inside them too.
fn descends(v: &DeValue<'_>, span: &Range<usize>) -> bool {
    match v {
        DeValue::Array(a) => a
            .iter()
            .any(|item| contains(&item.span(), span) || descends(item.get_ref(), span)),
        DeValue::Table(t) => t
            .iter()
            .any(|(k, v)| contains(&k.span(), span) || contains(&v.span(), span)),
        _ => false,
    }
}

fn walk_value(v: &DeValue<'_>, span: &Range<usize>, path: &mut Vec<Seg>) {
    match v {
        DeValue::Table(t) => walk_table(t, span, path),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                if contains(&item.span(), span) || descends(item.get_ref(), span) {
                    path.push(Seg::Index(i));
                    walk_value(item.get_ref(), span, path);
                    return;
                }
            }
        }
        _ => {}
    }
}

/// The span of the value at `path`, or of its deepest existing ancestor (a missing key with
/// a default points at the table it belongs in).
fn span_of(doc: &Spanned<DeTable<'_>>, path: &[Seg]) -> Range<usize> {
    let mut best = 0..0;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut value: Option<&DeValue<'_>> = None;
    for seg in path {
        let next = match (seg, table, value) {
            (Seg::Key(k), Some(t), _) => t.get(k.as_str()),
            (Seg::Key(k), None, Some(v)) => v.get(k.as_str()),
            (Seg::Index(i), None, Some(v)) => v.get(*i),
            _ => None,
        };
        match next {
            Some(n) => {
                best = n.span();
                table = None;
                value = Some(n.get_ref());
            }
            None => break,
        }
    }
    // For a table value, point at its first key rather than the header's start when possible.
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"name = "stripe-payments"
duration = "10m"
seed = 1
[workload]
resources = 1000
mean_change_interval = "5m"   # per resource, Poisson
[[consumer]]
name = "poll-10s"
strategy = "poll"
interval = "10s"
[[consumer]]
name = "webhook"
strategy = "webhook"
"#;

    fn err(text: &str) -> ScenarioError {
        load_str(text, Path::new("t.toml")).unwrap_err().0.remove(0)
    }

    /// `apply` (issue #15): the default is by version, `check` prints it for the webhooks
    /// that take it (not a thin one), and what it prints plans the same.
    #[test]
    fn apply_defaults_to_version_and_check_prints_it() {
        use crate::ConsumerKind;
        use hookbench_core::policy::Apply;
        let text = format!(
            "{MINIMAL}[[consumer]]\nname = \"lww\"\nstrategy = \"webhook-reconcile\"\napply = \"arrival\"\n\
             [[consumer]]\nname = \"thin\"\nstrategy = \"webhook-thin\"\n"
        );
        let (s, plan) = load_str(&text, Path::new("t.toml")).unwrap();
        let apply = |i: usize| match &plan.consumers[i].kind {
            ConsumerKind::Webhook(w) => w.apply,
            _ => panic!("not a webhook"),
        };
        assert_eq!(
            (apply(1), apply(2), apply(3)),
            (Apply::Version, Apply::Arrival, Apply::Version)
        );
        let out = s.expanded(&plan).to_toml();
        assert_eq!(out.matches("apply = \"version\"").count(), 1, "{out}");
        assert_eq!(out.matches("apply = \"arrival\"").count(), 1, "{out}");
        let (_, again) =
            load_str(&out, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e:?}\n{out}"));
        assert_eq!(again.consumers, plan.consumers);
    }

    #[test]
    fn minimal_file_is_valid() {
        let (s, plan) = load_str(MINIMAL, Path::new("t.toml")).unwrap();
        assert_eq!(s.consumers.len(), 2);
        assert_eq!(plan.consumers[0].name, "poll-10s");
    }

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncé d", 6), (2, 3));
        assert_eq!(line_col("", 0), (1, 1));
    }

    #[test]
    fn wrong_type_names_key_and_place() {
        let e = err(&MINIMAL.replace("interval = \"10s\"", "interval = 10"));
        assert_eq!((e.line, e.key.as_str()), (10, "consumer[0].interval"));
        assert!(e.message.contains("duration"), "{e}");
    }

    #[test]
    fn unknown_key_in_second_consumer() {
        let e = err(&MINIMAL.replace(
            "strategy = \"webhook\"",
            "strategy = \"webhook\"\nretries = 3",
        ));
        assert_eq!(e.key, "consumer[1].retries", "{e}");
        assert_eq!(e.line, 14);
    }

    #[test]
    fn validation_error_points_at_value() {
        let e = err(&MINIMAL.replace("resources = 1000", "resources = 0"));
        assert_eq!((e.line, e.column), (5, 13));
        assert_eq!(e.key, "workload.resources");
    }

    #[test]
    fn syntax_error_names_the_key_on_its_line() {
        let e = err(&MINIMAL.replace("resources = 1000", "resources = 1000 1000"));
        assert_eq!((e.line, e.key.as_str()), (5, "workload.resources"), "{e}");
        let e = err(&MINIMAL.replace("duration = \"10m\"", "duration = \"10m"));
        assert_eq!((e.line, e.key.as_str()), (2, "duration"), "{e}");
    }

    #[test]
    fn missing_top_level_field_is_named() {
        let e = err(&MINIMAL.replace("name = \"stripe-payments\"\n", ""));
        assert_eq!(e.key, "name", "{e}");
    }

    #[test]
    fn near_misses_are_named_and_jargon_is_plain() {
        let e = err(&MINIMAL.replace("interval = \"10s\"", "intervall = \"10s\""));
        assert!(e.message.contains("did you mean `interval`?"), "{e}");
        let e = err(&MINIMAL.replace("seed = 1", "colour = 1"));
        assert!(!e.message.contains("did you mean"), "{e}");
        let e = err(&MINIMAL.replace("resources = 1000", "resources = \"many\""));
        assert!(e.message.contains("expected a whole number"), "{e}");
        assert_eq!(edit_distance("intervall", "interval"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn quoted_values_are_cut() {
        let long = "y".repeat(500);
        let m = cut_quoted(&format!(
            "`{long}` is not a duration; \"{long}\" again `open {long}"
        ));
        assert!(m.len() < 400, "{m}");
        assert!(m.contains("… (500 characters)`"), "{m}");
        assert_eq!(cut_quoted("`short` is \"fine\""), "`short` is \"fine\"");
        assert_eq!(cut("ab", 1), "a… (2 characters)");
    }

    #[test]
    fn an_unreadable_file_has_no_made_up_location() {
        let e = load_file(Path::new("no/such/file.toml")).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("no/such/file.toml: cannot read"), "{text}");
    }

    #[test]
    fn missing_field_is_named() {
        let e = err(&MINIMAL.replace("resources = 1000\n", ""));
        assert_eq!(e.key, "workload.resources", "{e}");
        assert!(e.message.contains("missing"));
    }
}
