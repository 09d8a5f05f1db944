//! README's `provider_fleet` section quotes `results/provider_fleet/fleet.csv`, written by
//! `cargo bench`: its figures are a generated `results:provider_fleet:fleet` section
//! (`report::fleet::quote`, which `tests/readme.rs` holds equal to the results). This test
//! checks what that section must say, from the file itself: every point's healthy
//! endpoints' p99 with its 95 % half-width, the polling counterfactual, and the number of
//! replications; and that the key-figures table has the fleet's row.

use hookbench::report::fmt;
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

fn num(r: &HashMap<String, String>, col: &str) -> Option<f64> {
    r.get(col).and_then(|v| v.parse().ok())
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
    assert!(
        section.contains("<!-- results:provider_fleet:fleet -->"),
        "the figures are a generated section"
    );
    let flat = section.replace('\n', " ");
    let rows = rows();
    assert!(rows.len() >= 4, "a sweep over queue, cap and workers");
    let reps = num(&rows[0], "replications").unwrap_or(1.0);
    assert!(reps >= 3.0, "replicated, so the figures carry half-widths");
    assert!(flat.contains(&format!("over {reps} replications")));
    for r in &rows {
        let p99 = fmt::duration_ci_ms(num(r, "healthy_p99_ms"), num(r, "healthy_p99_ms_ci95"));
        assert!(
            p99.contains(" ± "),
            "{p99}: a replicated p99 has a half-width"
        );
        assert!(
            flat.contains(&p99),
            "README's provider_fleet section should quote the healthy p99 {p99:?} of the row {r:?}"
        );
    }
    let polls = num(&rows[0], "polling_requests").expect("polling_requests");
    let want = format!("{:.1} M requests", polls / 1e6);
    assert!(flat.contains(&want), "{want}");
    let key = readme
        .lines()
        .find(|l| l.starts_with("| [provider_fleet](results/provider_fleet/report.md)"))
        .expect("the key-figures row");
    assert!(
        key.contains("healthy p99") && key.contains(&format!("sim, {reps} × ")),
        "{key}"
    );
}
