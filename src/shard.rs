//! Sharding a study into independent jobs, and the partial results folders they write.
//!
//! A study (every sweep point × every replication of one scenario file) can outgrow one
//! machine. hookbench does not grow a cluster of its own: each job is addressable by its id
//! (`point · replications + replication`), `hookbench run FILE --shard K/N` runs the `K`-th
//! of `N` slices into a *partial* folder, and `hookbench merge OUT PART…` assembles the parts
//! into exactly the folder the unsharded run writes. Any scheduler that can start `N`
//! processes with an index (a Kubernetes Indexed Job, a Slurm job array, GNU parallel) runs a
//! study; `docs/scale-out.md` has the recipes.
//!
//! Why the merge is exact: a job's result is its [`RunReport`], and a partial folder stores it
//! losslessly through the report's own serde derive (integers as integers, `u128` sums in
//! full, floating-point fields as their IEEE bits, the latency histogram as its full list of
//! bucket counts, the per-minute series): one type, written and read by the same code, so a
//! new counter needs nothing here.
//! The runner assembles a results folder from reports in job order with one function, whether
//! they come from memory (unsharded) or from parts (merge), so byte identity follows from the
//! round trip.
//!
//! Why slices are strided (job `j` belongs to slice `j mod N`) rather than contiguous: the
//! points of a sweep can differ a lot in cost (a 1 s poll interval makes 900 times the
//! requests of a 15 min one), and neighbouring jobs are replications of the same point.
//! Striding spreads every point over the slices; slice sizes differ by at most one job.
//!
//! A partial folder holds [`MANIFEST_FILE`] and one `job-NNNNNN.json` per job, and no
//! `summary.csv` or `report.md`, so nothing that reads results folders (`hookbench chart`, the
//! results index) can take it for one.

use crate::metrics::{Engine, RunReport};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The manifest of a partial folder: what study it belongs to and which jobs it holds.
pub const MANIFEST_FILE: &str = "hookbench-partial.json";

/// Format tag of [`MANIFEST_FILE`]; bumped when the job files change incompatibly.
pub const FORMAT: &str = "hookbench-partial/2";

/// Slice `index` of `count` (`--shard K/N`, `K` = 0 … `N` − 1, as Kubernetes'
/// `JOB_COMPLETION_INDEX` and Slurm's `SLURM_ARRAY_TASK_ID` with `--array=0-(N-1)` count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    /// `K`, 0-based.
    pub index: usize,
    /// `N`, at least 1.
    pub count: usize,
}

impl Shard {
    /// The job ids of this slice among `total` jobs, ascending: every `count`-th job from
    /// `index` (empty when `index >= total`).
    pub fn jobs(self, total: usize) -> Vec<usize> {
        (self.index..total).step_by(self.count).collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = |why: &str| format!("`{s}`: {why}; expected K/N with 0 <= K < N, e.g. 0/4");
        let (k, n) = s.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let index: usize = k.trim().parse().map_err(|_| bad("K is not a number"))?;
        let count: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index >= count {
            return Err(bad(&format!("K must be 0 to {}", count - 1)));
        }
        Ok(Shard { index, count })
    }
}

/// What every part of one study shares: two parts merge only when these are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Study {
    /// Scenario name.
    pub scenario: String,
    /// SHA-256 of the scenario file's bytes, hex.
    pub scenario_sha256: String,
    /// Engine (written `sim`, `live`).
    pub engine: Engine,
    /// Seed of replication 0 (replication `r` runs on `seed + r`).
    pub seed: u64,
    /// Replications per point.
    pub replications: u32,
    /// Run length of every job, ns.
    pub duration_ns: u64,
    /// Engine settings that change results (`time_scale=…` for the live engine), as text.
    pub settings: String,
    /// Sweep columns of every point (`point` and one per parameter; empty for a plain run).
    pub points: Vec<Vec<(String, String)>>,
    /// Title of `report.md`.
    pub title: String,
    /// Scenario description.
    pub description: String,
    /// The expanded scenario written as `scenario.toml` into the results folder.
    pub scenario_copy: String,
    /// The scenario file's canonical path where the slice ran (empty when unknown, as in
    /// manifests written before it was recorded); the merge writes it into the results
    /// folder's `source.txt`. Not compared between parts: machines keep checkouts in
    /// different places.
    #[serde(default)]
    pub source: String,
}

impl Study {
    /// Jobs in the study: points × replications.
    pub fn jobs(&self) -> usize {
        self.points.len() * self.replications as usize
    }

    /// `(point, replication)` of job `id`.
    pub fn job(&self, id: usize) -> (usize, u32) {
        let r = self.replications.max(1) as usize;
        (id / r, (id % r) as u32)
    }

    /// The first field in which `other` differs from `self`, as `(field, self's, other's)`.
    fn difference(&self, other: &Study) -> Option<(&'static str, String, String)> {
        let short = |s: &str| {
            if s.chars().count() > 40 {
                format!("{}…", s.chars().take(40).collect::<String>())
            } else {
                s.to_string()
            }
        };
        let fields: [(&str, String, String); 11] = [
            ("scenario", self.scenario.clone(), other.scenario.clone()),
            (
                "scenario file (SHA-256)",
                self.scenario_sha256.clone(),
                other.scenario_sha256.clone(),
            ),
            (
                "engine",
                self.engine.name().to_string(),
                other.engine.name().to_string(),
            ),
            ("seed", self.seed.to_string(), other.seed.to_string()),
            (
                "replications",
                self.replications.to_string(),
                other.replications.to_string(),
            ),
            (
                "duration (ns)",
                self.duration_ns.to_string(),
                other.duration_ns.to_string(),
            ),
            ("settings", self.settings.clone(), other.settings.clone()),
            (
                "sweep points",
                format!("{:?}", self.points),
                format!("{:?}", other.points),
            ),
            ("title", self.title.clone(), other.title.clone()),
            (
                "description",
                self.description.clone(),
                other.description.clone(),
            ),
            (
                "expanded scenario",
                self.scenario_copy.clone(),
                other.scenario_copy.clone(),
            ),
        ];
        fields
            .into_iter()
            .find(|(_, a, b)| a != b)
            .map(|(f, a, b)| (f, short(&a), short(&b)))
    }
}

/// The contents of [`MANIFEST_FILE`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The slice, `K/N`.
    pub shard: String,
    /// Job ids held, ascending (one `job-NNNNNN.json` each).
    pub jobs: Vec<usize>,
    /// The study the slice belongs to.
    pub study: Study,
}

/// A partial folder, read and checked.
#[derive(Debug, Clone)]
pub struct Part {
    /// Where it is.
    pub dir: PathBuf,
    /// Its slice.
    pub shard: Shard,
    /// Job ids it holds.
    pub jobs: Vec<usize>,
    /// Its study.
    pub study: Study,
}

/// File name of job `id` in a partial folder.
pub fn job_file(id: usize) -> String {
    format!("job-{id:06}.json")
}

/// Writes slice `shard` of `study` into `dir` atomically (a temporary sibling renamed into
/// place; an old folder at `dir` is replaced). `reports` holds `(job id, report)` of every job
/// of the slice.
pub fn write_part(
    dir: &Path,
    study: &Study,
    shard: Shard,
    reports: &[(usize, &RunReport)],
) -> anyhow::Result<()> {
    crate::report::replace_dir(dir, "part", |tmp| {
        for (id, report) in reports {
            let (point, replication) = study.job(*id);
            let record = JobRecord {
                job: *id,
                point,
                replication,
                report: (*report).clone(),
            };
            let path = tmp.join(job_file(*id));
            fs::write(&path, serde_json::to_vec(&record)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let manifest = Manifest {
            format: FORMAT.to_string(),
            shard: shard.to_string(),
            jobs: reports.iter().map(|(id, _)| *id).collect(),
            study: study.clone(),
        };
        let path = tmp.join(MANIFEST_FILE);
        fs::write(&path, serde_json::to_vec_pretty(&manifest)?)
            .with_context(|| format!("writing {}", path.display()))?;
        // Checked last, right before the swap: a slice replaces only an empty or partial folder.
        replaceable(dir).map_err(|e| anyhow::anyhow!(e))
    })
}

/// Whether a partial folder may be written at `dir`: it does not exist, or is an empty folder,
/// or is a partial folder (a slice run again replaces its old part). Anything else — a
/// results folder, `.`, a folder of other files — is refused, never deleted.
pub fn replaceable(dir: &Path) -> Result<(), String> {
    if !dir.exists() || dir.join(MANIFEST_FILE).is_file() {
        return Ok(());
    }
    let empty = fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none());
    if dir.is_dir() && empty && dir.file_name().is_some() {
        return Ok(());
    }
    Err(format!(
        "{}: exists and is not a partial folder; a slice replaces only an empty or partial \
         folder, choose another --out",
        dir.display()
    ))
}

/// Reads the manifest of the partial folder `dir`. Errors say what is wrong with the folder.
pub fn read_part(dir: &Path) -> Result<Part, String> {
    let path = dir.join(MANIFEST_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            let what = if dir.join("summary.csv").is_file() {
                "a results folder, not a partial one".to_string()
            } else if !dir.is_dir() {
                "no such folder".to_string()
            } else {
                format!("no readable {MANIFEST_FILE} ({e})")
            };
            return Err(format!(
                "{}: {what}; expected a partial folder written by `hookbench run FILE --shard K/N`",
                dir.display()
            ));
        }
    };
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| format!("{}: {e}; the manifest is damaged", path.display()))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "{}: format `{}`, this hookbench reads `{FORMAT}`",
            path.display(),
            manifest.format
        ));
    }
    let shard: Shard = manifest
        .shard
        .parse()
        .map_err(|e| format!("{}: shard {e}", path.display()))?;
    let expected = shard.jobs(manifest.study.jobs());
    if manifest.jobs != expected {
        return Err(format!(
            "{}: holds jobs {:?}, but slice {shard} of {} jobs is {:?}",
            path.display(),
            manifest.jobs,
            manifest.study.jobs(),
            expected
        ));
    }
    Ok(Part {
        dir: dir.to_path_buf(),
        shard,
        jobs: manifest.jobs,
        study: manifest.study,
    })
}

/// Checks that `parts` are every slice of one study, each exactly once, and returns the study.
pub fn check_parts(parts: &[Part]) -> Result<&Study, String> {
    let first = parts
        .first()
        .ok_or_else(|| "no partial folders to merge".to_string())?;
    for p in &parts[1..] {
        if let Some((field, a, b)) = first.study.difference(&p.study) {
            return Err(format!(
                "{} and {} belong to different studies: {field} is `{a}` in the first, `{b}` in \
                 the second; merge only the parts of one `hookbench run --shard` study",
                first.dir.display(),
                p.dir.display()
            ));
        }
        if p.shard.count != first.shard.count {
            return Err(format!(
                "{} is a slice of {}, {} a slice of {}: every part must come from the same \
                 --shard K/N count",
                first.dir.display(),
                first.shard.count,
                p.dir.display(),
                p.shard.count
            ));
        }
    }
    let n = first.shard.count;
    let mut seen: Vec<Option<&Path>> = vec![None; n];
    for p in parts {
        if let Some(other) = seen[p.shard.index] {
            return Err(format!(
                "{} and {} both hold slice {}: pass each slice once",
                other.display(),
                p.dir.display(),
                p.shard
            ));
        }
        seen[p.shard.index] = Some(&p.dir);
    }
    let missing: Vec<String> = (0..n)
        .filter(|k| seen[*k].is_none())
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing slice{} {} of {n}: run `hookbench run FILE --shard K/{n}` for {} and pass \
             {} too",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            if missing.len() > 1 { "them" } else { "it" },
            if missing.len() > 1 {
                "their folders"
            } else {
                "its folder"
            },
        ));
    }
    Ok(&first.study)
}

/// Reads job `id` of `part`, checking it is the job it says.
pub fn read_job(part: &Part, id: usize) -> Result<RunReport, String> {
    let path = part.dir.join(job_file(id));
    let bytes = fs::read(&path).map_err(|e| {
        format!(
            "{}: {e}; the part is incomplete (its manifest lists job {id})",
            path.display()
        )
    })?;
    let record: JobRecord = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: {e}; the job file is damaged", path.display()))?;
    if record.job != id {
        return Err(format!(
            "{}: holds job {}, expected job {id}",
            path.display(),
            record.job
        ));
    }
    Ok(record.report)
}

/// One job's result as stored: the [`RunReport`] itself, written and read by its serde derive.
#[derive(Debug, Serialize, Deserialize)]
struct JobRecord {
    job: usize,
    point: usize,
    replication: u32,
    report: RunReport,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{ConsumerMetrics, Outcome, ProviderKind};
    use crate::policy::ledger::{EventCounts, LedgerTotals};
    use crate::time::{MILLISECOND, SECOND};

    #[test]
    fn shard_parses_and_refuses() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["3/3", "0/0", "1", "a/2", "1/b", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert!("3/3".parse::<Shard>().unwrap_err().contains("0 to 2"));
    }

    #[test]
    fn slices_are_balanced_and_partition_the_jobs() {
        for total in [0usize, 1, 5, 7, 100] {
            for n in 1..=9 {
                let slices: Vec<Vec<usize>> = (0..n)
                    .map(|k| Shard { index: k, count: n }.jobs(total))
                    .collect();
                let mut all: Vec<usize> = slices.iter().flatten().copied().collect();
                all.sort_unstable();
                assert_eq!(all, (0..total).collect::<Vec<_>>());
                let sizes: Vec<usize> = slices.iter().map(Vec::len).collect();
                let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
                assert!(
                    hi.unwrap() - lo.unwrap() <= 1,
                    "{total} jobs / {n}: {sizes:?}"
                );
            }
        }
    }

    fn sample() -> RunReport {
        let mut c = ConsumerMetrics::new("poll", "poll", 150 * SECOND);
        c.request_sent(SECOND, 300);
        c.request_done(2 * SECOND, Outcome::Useful);
        c.request_sent(70 * SECOND, 300);
        c.request_done(71 * SECOND, Outcome::Notification);
        for (i, ms) in [3u64, 17, 17, 250, 9_000, 123_456].iter().enumerate() {
            c.observed((i as u64 + 1) * 20 * SECOND, ms * MILLISECOND + 777);
        }
        c.provider_busy_ns = u128::from(u64::MAX) + 12_345;
        c.minutes[1].latency_sum_ns = u128::from(u64::MAX) * 3;
        c.events = Some(LedgerTotals {
            counts: EventCounts {
                emitted: 9,
                observed: 6,
                lost: 2,
                pending: 1,
                coalesced: 1,
                duplicates: 4,
                out_of_order: 0,
            },
            freshness: 0.1 + 0.2,
            age_ns: std::f64::consts::PI * 1e9,
        });
        RunReport {
            scenario: "s".into(),
            engine: Engine::Live,
            seed: 42,
            duration: 150 * SECOND,
            events_emitted: 9,
            consumers: vec![c, ConsumerMetrics::new("hook", "webhook", 150 * SECOND)],
            provider_kinds: vec![ProviderKind {
                consumer: "poll".into(),
                kind: "resource".into(),
                requests: 2,
                handling_ns: 99,
            }],
            fleet: None,
        }
    }

    #[test]
    fn a_report_round_trips_exactly() {
        let r = sample();
        let json = serde_json::to_vec(&r).unwrap();
        let back = serde_json::from_slice::<RunReport>(&json).unwrap();
        assert_eq!(back.seed, r.seed);
        assert_eq!(back.engine, r.engine);
        assert_eq!(back.provider_kinds, r.provider_kinds);
        assert_eq!(back.consumers.len(), 2);
        for (a, b) in r.consumers.iter().zip(&back.consumers) {
            assert_eq!(a.latency, b.latency);
            assert_eq!(a.latency.max(), b.latency.max());
            assert_eq!(a.latency.min(), b.latency.min());
            assert_eq!(a.latency.len(), b.latency.len());
            assert_eq!(
                crate::report::hgrm::render(&a.latency),
                crate::report::hgrm::render(&b.latency)
            );
            assert_eq!(a.minutes, b.minutes);
            assert_eq!(
                a.events
                    .map(|e| (e.freshness.to_bits(), e.age_ns.to_bits(), e.lost)),
                b.events
                    .map(|e| (e.freshness.to_bits(), e.age_ns.to_bits(), e.lost))
            );
            assert_eq!(
                (a.provider_busy_ns, a.latency_sum_ns, a.latency_max_ns),
                (b.provider_busy_ns, b.latency_sum_ns, b.latency_max_ns)
            );
            assert_eq!(a.completed(), b.completed());
            assert_eq!(a.requests, b.requests);
        }
    }
}
