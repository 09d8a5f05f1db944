//! The README's result figures, generated from `results/`.
//!
//! Hand-typed numbers drift from the results they quote. Instead, the README marks the
//! sections that hold results with HTML comments (invisible when rendered):
//!
//! ```text
//! <!-- results:stripe-payments:headline -->
//! …generated, never edited by hand…
//! <!-- /results -->
//! ```
//!
//! `hookbench readme` rewrites the body of every marked section from the named results
//! folder's `summary.csv` (`cargo bench` does it after its batch); `hookbench readme --check`
//! and `tests/readme.rs` fail when a body differs from what the results give. Only the check
//! insists that every quoted folder exists: a rewrite keeps the text of sections whose folder
//! is missing and reports them ([`Missing`]), so `cargo bench -- WORD` on a checkout without
//! every folder regenerates what it can. Hidden folders (`.NAME.tmp-PID`) are never quoted. Each marker
//! names a folder under the results root and a [`Kind`]:
//!
//! - `headline`: a table of one folder, one row per consumer (and sweep point): calls/min,
//!   wasted share, p50 / p99 / max delay, lost events;
//! - `key-figures` (folder `*`): one row per results folder with each consumer's key figures
//!   (a folder with a fleet and no consumer: the fleet's, from `fleet.csv`);
//! - `sentence`: the same figures of one folder as a sentence, for prose (the live run);
//! - `fleet`: a folder's `fleet.csv` (`[fleet]`, issue #17) as the sentence a provider would
//!   quote (`super::fleet::quote`).
//!
//! Prose quotes single figures with inline markers on one line,
//! `<!-- v:FOLDER:CONSUMER:COLUMN -->6,000<!-- /v -->`: the text between them is replaced by
//! the consumer's value of that `summary.csv` column (`CONSUMER@POINT` in a sweep), or of a
//! derived figure ([`DERIVED`]). So a sentence can say "6,000 calls a minute" and still be
//! checked against the results like the tables.
//!
//! Every figure is formatted as in the terminal table and `report.md` ([`super::table`]): the
//! mean ± 95 % half-width where the folder holds replications, durations in the unit their
//! size deserves, thin percentiles marked †. Output is deterministic, so the check is exact.

use super::data::{read_summary, Results, SummaryRow, SUMMARY_FILE};
use super::fmt;
use super::schema::Col;
use super::table::{self, THIN_NOTE};
use std::fmt::Write as _;
use std::path::Path;

/// Start of an opening marker: `<!-- results:FOLDER:KIND -->`.
pub const OPEN: &str = "<!-- results:";
/// The closing marker, on a line of its own.
pub const CLOSE: &str = "<!-- /results -->";
/// The folder name of a `key-figures` section: every folder of the results root.
pub const ALL_FOLDERS: &str = "*";
/// Start of an inline value marker: `<!-- v:FOLDER:CONSUMER:COLUMN -->`.
pub const VALUE_OPEN: &str = "<!-- v:";
/// End of an inline value: `<!-- /v -->`, on the same line.
pub const VALUE_CLOSE: &str = "<!-- /v -->";
/// Figures derived from a row that inline values may quote besides the CSV columns:
/// `busy_per_min` (provider time per minute of run), `calls_per_hour`, `coalesced_share` and
/// `lost_share` (of the events emitted), `observed_share`.
pub const DERIVED: [&str; 5] = [
    "busy_per_min",
    "calls_per_hour",
    "coalesced_share",
    "lost_share",
    "observed_share",
];

/// What a marked section shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A table of one folder: a row per consumer (and sweep point).
    Headline,
    /// A table of every folder: a row per scenario with each consumer's key figures.
    KeyFigures,
    /// One folder's figures as a sentence.
    Sentence,
    /// One folder's fleet (`fleet.csv`) as the sentence a provider would quote.
    Fleet,
}

impl Kind {
    /// Every kind, as written in markers.
    pub const NAMES: [(&'static str, Kind); 4] = [
        ("headline", Kind::Headline),
        ("key-figures", Kind::KeyFigures),
        ("sentence", Kind::Sentence),
        ("fleet", Kind::Fleet),
    ];
}

/// Why the README could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum ReadmeError {
    /// A marker is malformed, unclosed, of an unknown kind, or names a folder with no
    /// results: `file:line:column: what was expected`. The user must fix the README (or run
    /// the scenario).
    #[error("{0}")]
    Marker(String),
    /// A results file could not be read.
    #[error("{0:#}")]
    Results(#[from] anyhow::Error),
}

/// A README with its marked sections regenerated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The whole new text.
    pub text: String,
    /// The sections whose body changed, as `line N: results:FOLDER:KIND`.
    pub changed: Vec<String>,
    /// How many marked sections there are.
    pub sections: usize,
    /// Sections and inline values left as they were because their results folder is missing
    /// ([`Missing::Keep`] only), as `line N: results:FOLDER:KIND (no FOLDER/summary.csv)`.
    pub skipped: Vec<String>,
}

/// What to do with a section whose results folder is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// An error: every quoted folder must exist (`hookbench readme --check`, the tests).
    Error,
    /// Keep the section's text as it is and list it in [`Generated::skipped`]: a filtered
    /// `cargo bench -- WORD` (or `hookbench readme`) regenerates what it can.
    Keep,
}

/// Regenerates every marked section of `text` (the README, called `label` in errors) from
/// the results folders under `results_root`; every folder quoted must exist.
pub fn generate(text: &str, label: &str, results_root: &Path) -> Result<Generated, ReadmeError> {
    generate_with(text, label, results_root, Missing::Error)
}

/// [`generate`], with sections of missing folders handled as `missing` says.
pub fn generate_with(
    text: &str,
    label: &str,
    results_root: &Path,
    missing: Missing,
) -> Result<Generated, ReadmeError> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = Vec::new();
    let mut skipped = Vec::new();
    let mut sections = 0;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        let at =
            |col: usize, msg: &str| ReadmeError::Marker(format!("{label}:{}:{col}: {msg}", i + 1));
        if trimmed == CLOSE {
            let col = line.find(CLOSE).unwrap_or(0) + 1;
            return Err(at(
                col,
                &format!("`{CLOSE}` without an opening `{OPEN}FOLDER:KIND -->`"),
            ));
        }
        let Some(start) = line.find(OPEN).filter(|_| trimmed.starts_with(OPEN)) else {
            let (new, n) = inline_values(line, i + 1, label, results_root, missing, &mut skipped)?;
            if new != line {
                changed.push(format!("line {}: inline values", i + 1));
            }
            sections += n;
            out.push_str(&new);
            i += 1;
            continue;
        };
        let inner = trimmed[OPEN.len()..].strip_suffix("-->").map(str::trim);
        let Some((folder, kind_name)) = inner.and_then(|s| s.rsplit_once(':')) else {
            return Err(at(
                start + 1,
                &format!("expected `{OPEN}FOLDER:KIND -->` on a line of its own"),
            ));
        };
        let kind_col = start + OPEN.len() + folder.len() + 2;
        let Some(kind) = Kind::NAMES
            .iter()
            .find(|(n, _)| *n == kind_name)
            .map(|(_, k)| *k)
        else {
            let names: Vec<&str> = Kind::NAMES.iter().map(|(n, _)| *n).collect();
            return Err(at(
                kind_col,
                &format!(
                    "unknown section kind `{kind_name}`: expected one of {}",
                    names.join(", ")
                ),
            ));
        };
        let folder_col = start + OPEN.len() + 1;
        if (kind == Kind::KeyFigures) != (folder == ALL_FOLDERS) {
            return Err(at(
                folder_col,
                &format!("`key-figures` takes the folder `{ALL_FOLDERS}`, the other kinds a results folder"),
            ));
        }
        if kind != Kind::KeyFigures && folder.starts_with('.') {
            return Err(at(
                folder_col,
                &format!("`{folder}` is a hidden folder (a run's temporary folder), not results"),
            ));
        }
        let absent =
            kind != Kind::KeyFigures && !results_root.join(folder).join(SUMMARY_FILE).is_file();
        if absent && missing == Missing::Error {
            return Err(at(
                folder_col,
                &format!(
                    "no results folder `{folder}` (expected {}; run the scenario first)",
                    results_root.join(folder).join(SUMMARY_FILE).display()
                ),
            ));
        }
        let Some(end) = (i + 1..lines.len()).find(|&j| lines[j].trim() == CLOSE) else {
            return Err(at(
                start + 1,
                &format!("section not closed: expected `{CLOSE}`"),
            ));
        };
        if let Some(j) = (i + 1..end).find(|&j| lines[j].trim().starts_with(OPEN)) {
            return Err(ReadmeError::Marker(format!(
                "{label}:{}:1: a section opens inside the section of line {}: expected `{CLOSE}` first",
                j + 1,
                i + 1
            )));
        }
        let old: String = lines[i + 1..end].concat();
        if absent {
            skipped.push(format!(
                "line {}: results:{folder}:{kind_name} (no {})",
                i + 1,
                results_root.join(folder).join(SUMMARY_FILE).display()
            ));
            sections += 1;
            out.push_str(line);
            out.push_str(&old);
            out.push_str(lines[end]);
            i = end + 1;
            continue;
        }
        let body = render(kind, folder, results_root)?;
        if old != body {
            changed.push(format!("line {}: results:{folder}:{kind_name}", i + 1));
        }
        sections += 1;
        out.push_str(line);
        out.push_str(&body);
        out.push_str(lines[end]);
        i = end + 1;
    }
    Ok(Generated {
        text: out,
        changed,
        sections,
        skipped,
    })
}

/// `line` (number `n` of the README called `label`) with every inline value
/// `<!-- v:FOLDER:CONSUMER:COLUMN -->…<!-- /v -->` regenerated, and how many it holds.
fn inline_values(
    line: &str,
    n: usize,
    label: &str,
    results_root: &Path,
    missing: Missing,
    skipped: &mut Vec<String>,
) -> Result<(String, usize), ReadmeError> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    let mut count = 0;
    while let Some(at) = rest.find(VALUE_OPEN) {
        let col = line.len() - rest.len() + at + 1;
        let err = |msg: String| ReadmeError::Marker(format!("{label}:{n}:{col}: {msg}"));
        out.push_str(&rest[..at]);
        let after = &rest[at + VALUE_OPEN.len()..];
        let Some(head_end) = after.find("-->") else {
            return Err(err(format!(
                "expected `{VALUE_OPEN}FOLDER:CONSUMER:COLUMN -->`"
            )));
        };
        let spec = after[..head_end].trim();
        let parts: Vec<&str> = spec.split(':').collect();
        let [folder, consumer, column] = parts[..] else {
            return Err(err(format!(
                "expected `{VALUE_OPEN}FOLDER:CONSUMER:COLUMN -->`, found `{spec}`"
            )));
        };
        let body = &after[head_end + 3..];
        let Some(close) = body.find(VALUE_CLOSE) else {
            return Err(err(format!(
                "inline value not closed: expected `{VALUE_CLOSE}` on the same line"
            )));
        };
        let dir = results_root.join(folder);
        if folder.starts_with('.') {
            return Err(err(format!(
                "`{folder}` is a hidden folder (a run's temporary folder), not results"
            )));
        }
        let text = if dir.join(SUMMARY_FILE).is_file() {
            let results = Results::load(&dir)?;
            value(&results, consumer, column).map_err(err)?
        } else if missing == Missing::Keep {
            skipped.push(format!(
                "line {n}: v:{spec} (no {})",
                dir.join(SUMMARY_FILE).display()
            ));
            body[..close].to_string()
        } else {
            return Err(err(format!("no results folder `{folder}`")));
        };
        out.push_str(&rest[at..at + VALUE_OPEN.len() + head_end + 3]);
        out.push_str(&text);
        out.push_str(VALUE_CLOSE);
        rest = &body[close + VALUE_CLOSE.len()..];
        count += 1;
    }
    out.push_str(rest);
    Ok((out, count))
}

/// One figure of one consumer (`name`, or `name@POINT` in a sweep), formatted as the tables
/// format it.
fn value(results: &Results, consumer: &str, column: &str) -> Result<String, String> {
    let (name, point) = match consumer.split_once('@') {
        Some((n, p)) => (
            n,
            Some(
                p.parse::<usize>()
                    .map_err(|_| format!("`{consumer}`: expected NAME@POINT with a number"))?,
            ),
        ),
        None => (consumer, None),
    };
    let r = results
        .summary
        .iter()
        .find(|r| r.consumer == name && (point.is_none() || r.point == point))
        .ok_or_else(|| format!("no consumer `{consumer}` in the results"))?;
    let share = |num: u64| fmt::percent(num as f64 / r.events_emitted.max(1) as f64);
    Ok(match column {
        "busy_per_min" => fmt::duration_ms(Some(
            r.provider_busy_ms / (r.duration_s / 60.0).max(f64::MIN_POSITIVE),
        )),
        "calls_per_hour" => fmt::human_ci(
            r.calls_per_min * 60.0,
            r.ci(Col::CallsPerMin.name()).map(|c| c * 60.0),
        ),
        "coalesced_share" => share(r.coalesced),
        "lost_share" => share(r.events_lost),
        "observed_share" => share(r.events_observed),
        _ => {
            let col = Col::ALL
                .iter()
                .copied()
                .find(|c| c.name() == column)
                .ok_or_else(|| {
                    format!(
                        "unknown column `{column}`: expected a summary.csv column or one of {}",
                        DERIVED.join(", ")
                    )
                })?;
            match col {
                Col::CallsPerMin => table::calls_per_min(r),
                Col::WastedShare => table::wasted_share(r),
                Col::EventsLost => table::lost(r),
                Col::P50Ms | Col::P90Ms | Col::P99Ms | Col::P999Ms | Col::MaxMs | Col::MeanMs => {
                    table::latency(r, col)
                }
                Col::Freshness => r.freshness.map_or("–".into(), |f| {
                    fmt::with_ci(fmt::percent(f), r.ci(col.name()).map(fmt::percent))
                }),
                Col::AgeMs => fmt::duration_ms(r.age_ms),
                Col::ProviderBusyMs => fmt::duration_ms(Some(r.provider_busy_ms)),
                Col::Requests => fmt::thousands(r.requests),
                Col::Useful => fmt::thousands(r.useful),
                Col::Wasted => fmt::thousands(r.wasted),
                Col::Failed => fmt::thousands(r.failed),
                Col::Notifications => fmt::thousands(r.notifications),
                Col::EventsEmitted => fmt::thousands(r.events_emitted),
                Col::EventsObserved => fmt::thousands(r.events_observed),
                Col::Duplicates => fmt::thousands(r.duplicates),
                Col::Coalesced => fmt::thousands(r.coalesced),
                Col::Retries => fmt::thousands(r.retries),
                Col::Bytes => fmt::thousands(r.bytes),
                Col::LatencySamples => r.latency_samples.map_or("–".into(), fmt::thousands),
                other => return Err(format!("column `{}` is not a figure", other.name())),
            }
        }
    })
}

/// The body of one section: a blank line, the generated block, a blank line.
pub fn render(kind: Kind, folder: &str, results_root: &Path) -> Result<String, ReadmeError> {
    let block = match kind {
        Kind::Headline => headline(&Results::load(&results_root.join(folder))?, folder),
        Kind::Sentence => sentence(&Results::load(&results_root.join(folder))?, folder),
        Kind::KeyFigures => key_figures(results_root)?,
        Kind::Fleet => super::fleet::quote(&results_root.join(folder)).ok_or_else(|| {
            anyhow::anyhow!(
                "results/{folder} has no fleet.csv with rows: a `fleet` section quotes a [fleet]"
            )
        })?,
    };
    Ok(format!("\n{}\n\n", block.trim_end_matches('\n')))
}

/// The consumer's label in a sweep: `poll @ interval = 1s` for a swept consumer.
fn label(results: &Results, r: &SummaryRow) -> String {
    if results.is_swept(&r.consumer) && !r.params.is_empty() {
        let p: Vec<String> = r
            .params
            .iter()
            .map(|(k, v)| format!("{} = {v}", results.param_label(k)))
            .collect();
        format!("`{}` @ {}", r.consumer, p.join(", "))
    } else {
        format!("`{}`", r.consumer)
    }
}

/// The rows worth showing: every row of a plain run; in a sweep, the swept consumers at every
/// point, then each consumer the sweep does not change once (its first point).
fn shown_rows(results: &Results) -> Vec<&SummaryRow> {
    let (swept, fixed): (Vec<&SummaryRow>, Vec<&SummaryRow>) = results
        .summary
        .iter()
        .partition(|r| results.is_swept(&r.consumer));
    let mut rows = swept;
    let mut seen: Vec<&str> = Vec::new();
    for r in fixed {
        if !seen.contains(&r.consumer.as_str()) {
            seen.push(&r.consumer);
            rows.push(r);
        }
    }
    rows
}

/// `_From results/x/summary.csv: engine sim, seed 1, 1h; one run._`; `with_max` says, for
/// replications, that the max column is the worst case over them, not a mean.
fn provenance(results: &Results, folder: &str, with_max: bool) -> String {
    let Some(first) = results.summary.first() else {
        return format!("_From `results/{folder}/{SUMMARY_FILE}`: no consumers._");
    };
    let reps = first.replications;
    let runs = if reps > 1 {
        format!(
            "mean ± 95 % half-width over {reps} replications (seeds {}–{}){}",
            first.seed,
            first.seed + reps - 1,
            if with_max {
                "; max delay: the largest in any of them"
            } else {
                ""
            }
        )
    } else {
        format!("seed {}, one run", first.seed)
    };
    format!(
        "_From `results/{folder}/{SUMMARY_FILE}`: {} engine, {} per run, {runs}._",
        first.engine,
        fmt::duration_s(first.duration_s)
    )
}

fn headline(results: &Results, folder: &str) -> String {
    let rows = shown_rows(results);
    let mut md = String::new();
    md.push_str(
        "| consumer | strategy | calls/min | wasted | p50 delay | p99 delay | max delay | lost |\n",
    );
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for r in &rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            label(results, r),
            r.strategy,
            table::calls_per_min(r),
            table::wasted_share(r),
            table::latency(r, Col::P50Ms),
            table::latency(r, Col::P99Ms),
            table::latency(r, Col::MaxMs),
            table::lost(r),
        );
    }
    let _ = write!(md, "\n{}", provenance(results, folder, true));
    if table::any_thin(rows.iter().copied()) {
        let _ = write!(md, "\n{THIN_NOTE}");
    }
    md.push('\n');
    md
}

/// One consumer's key figures: `6,000 calls/min, 98.9% wasted, p50 5.22 s, p99 9.91 s, 0 lost`.
fn figures(r: &SummaryRow) -> String {
    let mut parts = vec![
        format!("{} calls/min", table::calls_per_min(r)),
        format!("{} wasted", table::wasted_share(r)),
    ];
    if r.events_observed == 0 {
        parts.push(table::NO_EVENT.to_string());
    } else {
        parts.push(format!("p50 {}", table::latency(r, Col::P50Ms)));
        parts.push(format!("p99 {}", table::latency(r, Col::P99Ms)));
    }
    parts.push(format!("{} lost", table::lost(r)));
    parts.join(", ")
}

fn sentence(results: &Results, folder: &str) -> String {
    let rows = shown_rows(results);
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}: {} requests, {}",
                label(results, r),
                fmt::thousands(r.requests),
                figures(r)
            )
        })
        .collect();
    let mut s = format!(
        "{}.\n{}",
        items.join("; "),
        provenance(results, folder, false)
    );
    if table::any_thin(rows.iter().copied()) {
        let _ = write!(s, "\n{THIN_NOTE}");
    }
    s.push('\n');
    s
}

fn key_figures(results_root: &Path) -> Result<String, ReadmeError> {
    let mut folders: Vec<String> = std::fs::read_dir(results_root)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {e}", results_root.display()))?
        .filter_map(|e| e.ok())
        // Hidden folders (`.NAME.tmp-PID` of a run in progress or interrupted) are not results.
        .filter(|e| !super::folder::is_hidden(&e.file_name()))
        .filter(|e| e.path().join(SUMMARY_FILE).is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut md =
        String::from("| results | engine, runs | key figures per consumer |\n|---|---|---|\n");
    let mut thin = false;
    for folder in &folders {
        let dir = results_root.join(folder);
        let (summary, sweep) = read_summary(&dir.join(SUMMARY_FILE))?;
        let results = Results {
            dir: dir.clone(),
            is_sweep: sweep.is_some(),
            sweep_params: sweep.unwrap_or_default(),
            summary,
            timeseries: Vec::new(),
            curves: Vec::new(),
        };
        let rows = shown_rows(&results);
        thin |= table::any_thin(rows.iter().copied());
        let mut cells: Vec<String> = rows
            .iter()
            .map(|r| format!("{}: {}", label(&results, r), figures(r)))
            .collect();
        if cells.is_empty() {
            cells = super::fleet::key_figures(&dir);
        }
        let runs = results.summary.first().map_or_else(
            || super::fleet::runs(&dir),
            |f| {
                if f.replications > 1 {
                    format!(
                        "{}, {} × {}",
                        f.engine,
                        f.replications,
                        fmt::duration_s(f.duration_s)
                    )
                } else {
                    format!("{}, {}", f.engine, fmt::duration_s(f.duration_s))
                }
            },
        );
        let _ = writeln!(
            md,
            "| [{folder}](results/{folder}/report.md) | {runs} | {} |",
            cells.join("<br>")
        );
    }
    if thin {
        let _ = write!(md, "\n{THIN_NOTE}\n");
    }
    Ok(md)
}

/// Regenerates the marked sections of the file `readme` from `results_root`: rewrites it when
/// `check` is false (only if something changed), and returns what changed. A check insists on
/// every folder the README quotes; a rewrite regenerates what it can and leaves the sections
/// of missing folders as they are ([`Missing::Keep`], listed in [`Generated::skipped`]), so
/// a filtered `cargo bench -- WORD` on a fresh checkout still succeeds.
pub fn update(readme: &Path, results_root: &Path, check: bool) -> Result<Generated, ReadmeError> {
    let text = std::fs::read_to_string(readme)
        .map_err(|e| ReadmeError::Marker(format!("{}: {e}", readme.display())))?;
    let missing = if check { Missing::Error } else { Missing::Keep };
    let generated = generate_with(&text, &readme.display().to_string(), results_root, missing)?;
    if !check && generated.text != text {
        std::fs::write(readme, &generated.text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", readme.display()))?;
    }
    Ok(generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_located() {
        let root = Path::new("/nonexistent");
        let e = generate(
            "a\n<!-- results:x:nope -->\n<!-- /results -->\n",
            "R.md",
            root,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("R.md:2:16: unknown section kind `nope`"),
            "{e}"
        );
        let e = generate("<!-- /results -->\n", "R.md", root)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("R.md:1:1: "), "{e}");
        let e = generate("<!-- results:x:headline -->\n", "R.md", root)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no results folder `x`"), "{e}");
        let e = generate("<!-- results:x:headline\n", "R.md", root)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("R.md:1:1: expected"), "{e}");
        let e = generate("<!-- results:x:key-figures -->\n", "R.md", root)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`key-figures` takes the folder `*`"), "{e}");
        // Text without markers passes through untouched.
        let g = generate("plain\ntext", "R.md", root).unwrap();
        assert_eq!(g.text, "plain\ntext");
        assert_eq!(g.sections, 0);
    }

    #[test]
    fn inline_values_are_located() {
        let root = Path::new("/nonexistent");
        let e = generate("x <!-- v:a:b -->1<!-- /v -->\n", "R.md", root)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("R.md:1:3: expected"), "{e}");
        let e = generate("ab <!-- v:a:b:calls_per_min -->1\n", "R.md", root)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("R.md:1:4: inline value not closed"), "{e}");
        let e = generate(
            "<!-- v:nope:b:calls_per_min -->1<!-- /v -->\n",
            "R.md",
            root,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no results folder `nope`"), "{e}");
    }
}
