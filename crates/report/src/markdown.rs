//! The Markdown report of one results folder (`report.md`) and the index of all
//! folders (`results/README.md`).
//!
//! The report is what people paste into docs and pull requests, so it leads with
//! the numbers that decide between push and pull: calls per minute and how many
//! of them were wasted, delivery delay (p50/p99/max), and whether every event
//! arrived (emitted / observed / lost / duplicates). Charts are embedded by
//! relative path (`charts/*.svg`), so the folder can be moved or committed as a
//! whole. Output is deterministic: no timestamps, rows in file order (sweeps:
//! stably sorted by point), numbers formatted by [`super::fmt`].

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::charts::{planned_charts, ChartKind, CHARTS_DIR};
use super::data::{Results, SummaryRow, SUMMARY_FILE};
use super::fmt;
use super::schema::Col;
use super::table;

/// File name of the per-folder report.
pub const REPORT_FILE: &str = "report.md";
/// File name of the index written into the results root.
pub const INDEX_FILE: &str = "README.md";

/// Writes `dir/report.md` for the results folder `dir` and returns its path.
///
/// `title` becomes the `# ` heading, `description` (Markdown) the first
/// paragraph; [`write_index`] reads both back. Charts are referenced as
/// `charts/<name>.svg` for every chart the data allows (see
/// [`planned_charts`]); run [`super::charts::render_all`] to produce them.
pub fn write_report(dir: &Path, title: &str, description: &str) -> Result<PathBuf> {
    let results = Results::load(dir)?;
    let fleet = super::fleet::markdown(dir);
    // A fleet without consumers has no consumer table to show: the title, the question and
    // the fleet's section.
    let mut text = match &fleet {
        Some(_) if results.summary.is_empty() => {
            let mut md = format!("# {}\n\n", one_line(title));
            let description = description.trim();
            if !description.is_empty() {
                let _ = writeln!(md, "{description}\n");
            }
            md
        }
        _ => render_report(&results, title, description),
    };
    if let Some(fleet) = fleet {
        if !text.ends_with("\n\n") {
            text.push('\n');
        }
        text.push_str(&fleet);
    }
    let path = dir.join(REPORT_FILE);
    fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// The text of `report.md` for already-loaded results.
pub fn render_report(results: &Results, title: &str, description: &str) -> String {
    let mut md = String::new();
    let title = one_line(title);
    let _ = writeln!(
        md,
        "# {}\n",
        if title.is_empty() {
            "hookbench results"
        } else {
            &title
        }
    );
    let description = description.trim();
    if !description.is_empty() {
        let _ = writeln!(md, "{description}\n");
    }
    let _ = writeln!(md, "{}\n", run_line(results));

    md.push_str("## Results\n\n");
    if results.is_sweep {
        let _ = writeln!(md, "{}\n", sweep_line(results));
    }
    md.push_str(&summary_table(results));
    md.push('\n');
    let mut notes = Vec::new();
    if replications(results) > 1 {
        notes.push(format!(
            "Each figure is the mean over {} replications (seeds {}) ± the Student-t 95 % \
             half-width, except *max*, the largest in any replication (the worst case seen); \
             percentiles are the mean of each replication's percentile, and the `.hgrm` files \
             hold the histograms of all replications added together (they end at that max). \
             `replications.csv` has every run.",
            replications(results),
            seed_range(results)
        ));
    }
    if table::any_thin(&results.summary) {
        notes.push(table::THIN_NOTE.to_string());
    }
    if results.summary.iter().any(|r| r.events_observed == 0) {
        notes.push(format!(
            "*{}*: the consumer received no event at all; its latencies are undefined, not \
             zero, and its freshness is that of a copy that never updates.",
            table::NO_EVENT
        ));
    }
    for n in notes {
        let _ = writeln!(md, "{n}\n");
    }

    let charts = planned_charts(results);
    if !charts.is_empty() {
        md.push_str("## Charts\n\n");
        for kind in charts {
            let _ = writeln!(md, "### {}\n", kind.heading());
            let _ = writeln!(md, "{}\n", kind.question());
            let _ = writeln!(
                md,
                "![{}]({CHARTS_DIR}/{}.svg)\n",
                kind.heading(),
                kind.file_stem()
            );
        }
    }

    md.push_str("## How to read this\n\n");
    md.push_str(HOW_TO_READ);
    if results.is_sweep {
        md.push_str(HOW_TO_READ_SWEEP);
    }
    md
}

const HOW_TO_READ: &str = "\
Each row is one consumer of the same event stream. *Calls/min* is what the consumer \
costs the provider; a call is *useful* when it carried at least one new event and \
*wasted* when it completed but brought nothing new (the percentage is wasted / all \
requests issued); a thin webhook's announcement of a new event is a *notification*, \
neither. Delays (p50, p99, max) run from the moment an event was emitted to the moment \
the consumer saw it, each in the unit its size deserves (the CSV keeps milliseconds); a \
percentile marked † rests on fewer than 10 events beyond it. *Emitted / observed / \
lost / dups* check completeness: a consumer that loses events or sees duplicates \
needs reconciliation, however cheap it is. *Freshness* is the share of time the \
consumer's copy was up to date, *age* the mean staleness of that copy. Bar charts \
use a linear axis with each value printed, so bar lengths compare honestly; line \
charts switch to a log scale when values span more than two orders of magnitude, so \
small and large consumers stay readable side by side.\n";

const HOW_TO_READ_SWEEP: &str = "\n\
This run is a sweep: the same scenario was repeated once per *point* with the \
parameter(s) shown in the first columns changed. The trade-off chart puts cost and \
delay side by side against the swept value; dashed lines are consumers the sweep \
did not change, as a reference.\n";

/// `_Scenario `x` · engine `sim` · seed 42 · 1h per run._`
fn run_line(results: &Results) -> String {
    let Some(first) = results.summary.first() else {
        return "_No consumers in `summary.csv`._".to_string();
    };
    let mut parts = Vec::new();
    if !first.scenario.is_empty() {
        parts.push(format!("Scenario `{}`", first.scenario));
    }
    let engines = distinct(results.summary.iter().map(|r| r.engine.as_str()));
    if !engines.is_empty() {
        parts.push(format!("engine `{}`", engines.join("`, `")));
    }
    if replications(results) > 1 {
        parts.push(format!(
            "{} replications, seeds {}",
            replications(results),
            seed_range(results)
        ));
    } else {
        let seeds = distinct(results.summary.iter().map(|r| r.seed.to_string()));
        parts.push(format!("seed {}", seeds.join(", ")));
    }
    let durations = distinct(
        results
            .summary
            .iter()
            .map(|r| fmt::duration_s(r.duration_s)),
    );
    parts.push(format!("{} measured per consumer", durations.join(", ")));
    format!("_{}._", parts.join(" · "))
}

/// Replications per row (the largest, should rows differ).
fn replications(results: &Results) -> u64 {
    results
        .summary
        .iter()
        .map(|r| r.replications)
        .max()
        .unwrap_or(1)
}

/// `1–5` for five replications from seed 1.
fn seed_range(results: &Results) -> String {
    let first = results.summary.first().map_or(0, |r| r.seed);
    format!(
        "{first}–{}",
        first + replications(results).saturating_sub(1)
    )
}

fn sweep_line(results: &Results) -> String {
    if results.sweep_params.is_empty() {
        return "Sweep points are listed in order.".to_string();
    }
    let mut parts = Vec::new();
    for p in &results.sweep_params {
        let mut values: Vec<(usize, &str)> = Vec::new();
        for r in &results.summary {
            if let (Some(point), Some((_, v))) = (r.point, r.params.iter().find(|(k, _)| k == p)) {
                if !values.iter().any(|(pt, _)| *pt == point) {
                    values.push((point, v));
                }
            }
        }
        values.sort_by_key(|(pt, _)| *pt);
        let list: Vec<String> = distinct(values.iter().map(|(_, v)| *v))
            .into_iter()
            .map(|v| format!("`{v}`"))
            .collect();
        parts.push(format!("`{p}` over {}", list.join(", ")));
    }
    format!("Swept {}.", parts.join("; "))
}

fn summary_table(results: &Results) -> String {
    let mut rows: Vec<&SummaryRow> = results.summary.iter().collect();
    if results.is_sweep {
        // Stable: within a point, rows keep their file order.
        rows.sort_by_key(|r| r.point.unwrap_or(usize::MAX));
    }
    let mut header: Vec<(String, bool)> = Vec::new(); // (title, right-aligned)
    if results.is_sweep {
        header.push(("point".into(), true));
        for p in &results.sweep_params {
            header.push((results.param_label(p), false));
        }
    }
    // Notifications (thin webhooks) get a column only where some consumer has them.
    let notifications = results.summary.iter().any(|r| r.notifications > 0);
    for (name, right) in [
        ("consumer", false),
        ("strategy", false),
        ("requests", true),
        ("calls/min", true),
        ("useful", true),
        ("wasted", true),
        ("notifications", true),
        ("failed", true),
        ("p50", true),
        ("p99", true),
        ("max", true),
        ("emitted", true),
        ("observed", true),
        ("lost", true),
        ("dups", true),
        ("freshness", true),
        ("age", true),
    ] {
        if name != "notifications" || notifications {
            header.push((name.into(), right));
        }
    }
    let mut md = String::new();
    let titles: Vec<String> = header.iter().map(|(t, _)| t.clone()).collect();
    let _ = writeln!(md, "| {} |", titles.join(" | "));
    let aligns: Vec<&str> = header
        .iter()
        .map(|(_, right)| if *right { "---:" } else { "---" })
        .collect();
    let _ = writeln!(md, "| {} |", aligns.join(" | "));
    for r in rows {
        let mut cells: Vec<String> = Vec::new();
        if results.is_sweep {
            cells.push(r.point.map_or_else(|| "–".to_string(), |p| p.to_string()));
            for p in &results.sweep_params {
                let v = r
                    .params
                    .iter()
                    .find(|(k, _)| k == p)
                    .map(|(_, v)| v.as_str());
                cells.push(v.map_or_else(|| "–".to_string(), |v| format!("`{}`", escape(v))));
            }
        }
        cells.push(format!("`{}`", escape(&r.consumer)));
        cells.push(escape(&r.strategy));
        cells.push(fmt::thousands(r.requests));
        cells.push(table::calls_per_min(r));
        cells.push(fmt::thousands(r.useful));
        cells.push(format!(
            "{} ({})",
            fmt::thousands(r.wasted),
            table::wasted_share(r)
        ));
        if notifications {
            cells.push(fmt::thousands(r.notifications));
        }
        cells.push(fmt::thousands(r.failed));
        cells.push(table::latency(r, Col::P50Ms));
        cells.push(table::latency(r, Col::P99Ms));
        cells.push(table::latency(r, Col::MaxMs));
        cells.push(fmt::thousands(r.events_emitted));
        cells.push(fmt::thousands(r.events_observed));
        cells.push(table::lost(r));
        cells.push(fmt::thousands(r.duplicates));
        cells.push(table::freshness(r));
        cells.push(fmt::duration_ms(r.age_ms));
        let _ = writeln!(md, "| {} |", cells.join(" | "));
    }
    md
}

/// Writes `results_root/README.md`: one entry per sub-folder that holds a
/// `summary.csv` or `report.md` (sorted by folder name; hidden folders skipped), linking its report and
/// headline chart (`charts/tradeoff.svg` for sweeps, `charts/calls_per_minute.svg`
/// otherwise, when present). Title and description come from the first lines of
/// `report.md`, else from the `scenario` column of `summary.csv`, else the folder
/// name.
pub fn write_index(results_root: &Path) -> Result<PathBuf> {
    let mut dirs = Vec::new();
    let entries = fs::read_dir(results_root)
        .with_context(|| format!("cannot list {}", results_root.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", results_root.display()))?
            .path();
        // Hidden folders (`.NAME.tmp-PID` of a run in progress or interrupted) are not results.
        let hidden = path.file_name().is_some_and(super::folder::is_hidden);
        if !hidden
            && path.is_dir()
            && (path.join(REPORT_FILE).is_file() || path.join(SUMMARY_FILE).is_file())
        {
            dirs.push(path);
        }
    }
    dirs.sort();

    let mut md = String::new();
    md.push_str("# hookbench results\n\n");
    md.push_str(
        "One folder per scenario. Each `report.md` has the full table, the charts and how to \
         read them; the raw numbers are in `summary.csv`, `timeseries.csv` and the `.hgrm` \
         latency distributions beside it.\n\n",
    );
    if dirs.is_empty() {
        md.push_str("_No result folders yet._\n");
    }
    let mut entries_md = Vec::new();
    if !dirs.is_empty() {
        md.push_str("| Scenario | What it measures | Headline chart |\n| --- | --- | --- |\n");
    }
    for dir in &dirs {
        let folder = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (title, description) = scenario_text(dir, &folder)?;
        let link = url_path(&folder);
        let has_report = dir.join(REPORT_FILE).is_file();
        let target = if has_report {
            format!("{link}/{REPORT_FILE}")
        } else {
            format!("{link}/")
        };
        let headline = if dir.join(SUMMARY_FILE).is_file() && is_sweep_folder(dir).unwrap_or(false)
        {
            ChartKind::Tradeoff
        } else {
            ChartKind::CallsPerMinute
        };
        let chart_rel = format!("{CHARTS_DIR}/{}.svg", headline.file_stem());
        let has_chart = dir.join(&chart_rel).is_file();
        let what = first_sentence(&description);
        let _ = writeln!(
            md,
            "| [{}]({target}) | {} | {} |",
            escape(&title),
            if what.is_empty() {
                "–".to_string()
            } else {
                escape(&what)
            },
            if has_chart {
                format!("[{}]({link}/{chart_rel})", headline.heading())
            } else {
                "–".to_string()
            },
        );
        let mut section = format!("## {title}\n\n");
        if !description.is_empty() {
            let _ = writeln!(section, "{description}\n");
        }
        if has_chart {
            let _ = writeln!(
                section,
                "[![{} — {}]({link}/{chart_rel})]({target})\n",
                headline.heading(),
                escape(&title)
            );
        }
        if has_report {
            let _ = writeln!(section, "[Full report]({target})\n");
        } else {
            let _ = writeln!(
                section,
                "[Results folder]({target}) (no `{REPORT_FILE}` yet)\n"
            );
        }
        entries_md.push(section);
    }
    if !entries_md.is_empty() {
        md.push('\n');
        for s in entries_md {
            md.push_str(&s);
        }
    }
    let md = md.trim_end().to_string() + "\n";
    let path = results_root.join(INDEX_FILE);
    fs::write(&path, md).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// `(title, description)` of a scenario folder.
fn scenario_text(dir: &Path, folder: &str) -> Result<(String, String)> {
    let report = dir.join(REPORT_FILE);
    if report.is_file() {
        let text = fs::read_to_string(&report)
            .with_context(|| format!("cannot read {}", report.display()))?;
        let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
        if let Some(first) = lines.next() {
            if let Some(title) = first.trim().strip_prefix("# ") {
                // Description: the first paragraph after the title, unless it is
                // already the report's own run line or a heading.
                let para: Vec<&str> = lines
                    .skip_while(|l| l.trim().is_empty())
                    .take_while(|l| !l.trim().is_empty())
                    .collect();
                let para = para.join(" ");
                let description = if para.starts_with('#') || para.starts_with("_Scenario") {
                    String::new()
                } else {
                    para.trim().to_string()
                };
                return Ok((title.trim().to_string(), description));
            }
        }
    }
    let summary = dir.join(SUMMARY_FILE);
    if summary.is_file() {
        // An unreadable summary (a hand-edited or foreign folder) must not take the whole
        // index down: the folder is then listed under its own name.
        if let Ok((rows, _)) = super::data::read_summary(&summary) {
            if let Some(r) = rows.iter().find(|r| !r.scenario.is_empty()) {
                return Ok((r.scenario.clone(), String::new()));
            }
        }
    }
    Ok((folder.to_string(), String::new()))
}

fn is_sweep_folder(dir: &Path) -> Result<bool> {
    let (_, sweep) = super::data::read_summary(&dir.join(SUMMARY_FILE))?;
    Ok(sweep.is_some())
}

/// The first sentence (up to a `.`, `!` or `?` followed by a space and a capital
/// letter, so "vs. webhooks" or "e.g. this" do not end it), for the table.
fn first_sentence(text: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for w in chars.windows(3) {
        let [(i, end), (_, space), (_, next)] = [w[0], w[1], w[2]];
        if matches!(end, '.' | '!' | '?') && space == ' ' && next.is_uppercase() {
            return text[..i + end.len_utf8()].to_string();
        }
    }
    text.to_string()
}

fn distinct<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escapes characters that would break a table cell.
fn escape(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// Percent-encodes a folder name for use in a relative Markdown link.
fn url_path(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_links() {
        assert_eq!(escape("a|b\nc"), "a\\|b c");
        assert_eq!(url_path("poll vs webhook"), "poll%20vs%20webhook");
        assert_eq!(url_path("poll_sweep-1"), "poll_sweep-1");
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(
            first_sentence("Poll vs. webhook. More."),
            "Poll vs. webhook."
        );
        assert_eq!(first_sentence("No end"), "No end");
    }
}
