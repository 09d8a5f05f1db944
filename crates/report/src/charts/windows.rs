//! Outage and burst windows, read from the `scenario.toml` a run leaves in its results
//! folder, so the timeline can shade them: a dip or a spike in requests is only
//! readable next to the window that caused it.
//!
//! The charts know results files, never an engine: the windows come from the scenario
//! as written out by the run (every default filled in), not from the run itself. Only
//! the keys needed here are read (`workload.bursts`, `consumer[].name`,
//! `consumer[].outages`), and unknown keys are ignored, so a results folder written
//! by an older or newer hookbench still gets its windows. A folder without
//! `scenario.toml` simply has no shading; a malformed one is an error naming the file,
//! line and column.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use hookbench_core::time::{to_secs, Duration};

/// File name of the scenario a run writes into its results folder.
pub(crate) const SCENARIO_FILE: &str = "scenario.toml";

/// What a shaded window stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WindowKind {
    /// One or more receivers are down.
    Outage,
    /// The change rate is multiplied.
    Burst,
}

/// One window of the run, in minutes from its start.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Window {
    pub(crate) kind: WindowKind,
    /// Start, minutes.
    pub(crate) start_min: f64,
    /// End (exclusive), minutes.
    pub(crate) end_min: f64,
    /// Short text shown in the window, e.g. `burst ×10` or `outage`.
    pub(crate) label: String,
    /// Who it concerns, e.g. the consumers whose receiver is down (empty for bursts).
    pub(crate) detail: String,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    workload: Option<Workload>,
    #[serde(default, rename = "consumer")]
    consumers: Vec<Consumer>,
}

#[derive(Deserialize)]
struct Workload {
    #[serde(default)]
    bursts: Vec<Span>,
}

#[derive(Deserialize)]
struct Consumer {
    name: String,
    #[serde(default)]
    outages: Vec<Span>,
}

#[derive(Deserialize)]
struct Span {
    start: Duration,
    duration: Duration,
    #[serde(default)]
    multiplier: Option<f64>,
}

impl Span {
    fn minutes(&self) -> (f64, f64) {
        let start = to_secs(self.start.0) / 60.0;
        (start, start + to_secs(self.duration.0) / 60.0)
    }
}

/// The windows of the results folder `dir`: none when it has no `scenario.toml`.
pub(crate) fn load(dir: &Path) -> Result<Vec<Window>> {
    let path = dir.join(SCENARIO_FILE);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).with_context(|| format!("{}", path.display()))
}

/// The windows of a scenario's TOML text: bursts first, then outages; outages of
/// several consumers over the same span become one window naming them all.
pub(crate) fn parse(text: &str) -> Result<Vec<Window>> {
    let file: File = toml::from_str(text)?;
    let mut out = Vec::new();
    for b in file.workload.iter().flat_map(|w| &w.bursts) {
        let (start_min, end_min) = b.minutes();
        let label = match b.multiplier {
            Some(m) => format!("burst ×{}", crate::fmt::human(m)),
            None => "burst".to_string(),
        };
        out.push(Window {
            kind: WindowKind::Burst,
            start_min,
            end_min,
            label,
            detail: String::new(),
        });
    }
    let mut outages: Vec<((f64, f64), Vec<&str>)> = Vec::new();
    for c in &file.consumers {
        for o in &c.outages {
            let span = o.minutes();
            match outages.iter_mut().find(|(s, _)| *s == span) {
                Some((_, names)) => names.push(&c.name),
                None => outages.push((span, vec![&c.name])),
            }
        }
    }
    for ((start_min, end_min), names) in outages {
        out.push(Window {
            kind: WindowKind::Outage,
            start_min,
            end_min,
            label: "outage".to_string(),
            detail: names.join(", "),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bursts_and_merges_shared_outages() {
        let text = r#"
name = "x"
duration = "3h"
[workload]
resources = 10
[[workload.bursts]]
start = "20m"
duration = "15m"
multiplier = 10.0
[[consumer]]
name = "a"
strategy = "webhook"
[[consumer.outages]]
start = "30m"
duration = "30m"
[[consumer]]
name = "b"
strategy = "webhook"
[[consumer.outages]]
start = "30m"
duration = "30m"
[[consumer.outages]]
start = "2h"
duration = "90s"
"#;
        let w = parse(text).unwrap();
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].kind, WindowKind::Burst);
        assert_eq!((w[0].start_min, w[0].end_min), (20.0, 35.0));
        assert_eq!(w[0].label, "burst ×10");
        assert_eq!(w[1].kind, WindowKind::Outage);
        assert_eq!((w[1].start_min, w[1].end_min), (30.0, 60.0));
        assert_eq!(w[1].detail, "a, b");
        assert_eq!((w[2].start_min, w[2].end_min), (120.0, 121.5));
        assert_eq!(w[2].detail, "b");
    }

    #[test]
    fn bad_toml_names_line_and_column() {
        let err = parse("name = \"x\"\n[workload]\nbursts = [{ start = 5 }]\n").unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("column"), "{msg}");
    }
}
