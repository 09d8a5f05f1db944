//! README's `provider_fleet` paragraph quotes `results/provider_fleet/fleet.csv`, written by
//! `cargo bench`. The README generator reads summary.csv only, so this test holds the quoted
//! fleet figures equal to the file: a re-run that moves a number fails here until the
//! paragraph is updated.

use std::collections::HashMap;
use std::path::Path;

fn rows() -> Vec<HashMap<String, String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/provider_fleet/fleet.csv");
    let mut r = csv::Reader::from_path(&path).expect("results/provider_fleet/fleet.csv");
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn row<'a>(
    rows: &'a [HashMap<String, String>],
    queue: &str,
    workers: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r["queue"] == queue && r["workers"] == workers)
        .unwrap_or_else(|| panic!("no fleet.csv row for {queue} with {workers} workers"))
}

fn num(r: &HashMap<String, String>, col: &str) -> f64 {
    r[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?}", r[col]))
}

/// Thousands separators, as the README writes counts.
fn grouped(n: f64) -> String {
    let s = format!("{}", n.round() as u64);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn the_readme_quotes_fleet_csv() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find("### The provider's side: 100,000 endpoints")
        .expect("the provider_fleet section");
    let section = &readme[start
        ..start
            + readme[start..]
                .find("\n## ")
                .unwrap_or(readme.len() - start)];
    let rows = rows();
    let main = row(&rows, "fifo", "200");
    let fifo100 = row(&rows, "fifo", "100");
    let fair100 = row(&rows, "fair", "100");
    let polls = num(main, "polling_requests");
    let expected = [
        format!("{:.1} M\nevents", num(main, "events") / 1e6),
        format!("{:.1} M attempts", num(main, "attempts") / 1e6),
        format!(
            "{:.0} % of worker time busy",
            num(main, "worker_busy_share") * 100.0
        ),
        format!(
            "healthy endpoints' p99 {:.1} s",
            num(main, "healthy_p99_ms") / 1e3
        ),
        format!("{} messages given up", grouped(num(main, "lost"))),
        format!(
            "backlog peaking at {} messages",
            grouped(num(main, "backlog_peak"))
        ),
        format!("({:.1} MB)", num(main, "storage_peak_bytes") / 1e6),
        format!("({:.0} % busy)", num(fifo100, "worker_busy_share") * 100.0),
        format!("{:.1} s with FIFO", num(fifo100, "healthy_p99_ms") / 1e3),
        format!(
            "{:.0} s with round robin",
            num(fair100, "healthy_p99_ms") / 1e3
        ),
        format!("{:.0} M requests", polls / 1e6),
        format!(
            "({:.0} × the delivery attempts)",
            polls / num(main, "attempts")
        ),
        format!(
            "{:.1} % of them empty",
            num(main, "polling_wasted") / polls * 100.0
        ),
        format!("{:.1} s median", num(main, "polling_p50_ms") / 1e3),
        format!("{:.1} s p99", num(main, "polling_p99_ms") / 1e3),
    ];
    let flat = section.replace('\n', " ");
    for e in expected {
        let e = e.replace('\n', " ");
        assert!(flat.contains(&e), "README's provider_fleet section should say {e:?} (from results/provider_fleet/fleet.csv)");
    }
}
