//! The README's result figures are generated from the committed `results/` (`hookbench
//! readme`, `src/report/readme.rs`): this fails when a marked section of README.md differs
//! from what the results give — a hand-edited number, or results refreshed without
//! regenerating the README.

use hookbench::report::readme::{generate, update};
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn readme_sections_match_the_committed_results() {
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let g = generate(&text, "README.md", &repo().join("results")).unwrap();
    assert!(g.sections >= 3, "the README has its marked sections");
    assert!(
        g.changed.is_empty(),
        "README.md differs from results/ in {:?}: run `cargo run -- readme` and commit",
        g.changed
    );
    assert_eq!(g.text, text);
}

/// The check can fail: a number edited by hand inside a marked section is caught, through
/// the command line, and `hookbench readme` puts the generated one back.
#[test]
fn an_edited_number_is_caught_and_regenerated() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    // The first digit of the first figure (calls/min) of the headline's first row, changed.
    let start = text
        .find("<!-- results:stripe-payments:headline -->")
        .unwrap();
    let row = start + text[start..].find("\n| `").unwrap() + 1;
    let cells = row + text[row..].match_indices(" | ").nth(1).unwrap().0;
    let at = cells + text[cells..].find(|c: char| c.is_ascii_digit()).unwrap();
    let digit = text.as_bytes()[at];
    let other = if digit == b'9' {
        '1'
    } else {
        (digit + 1) as char
    };
    let edited = format!("{}{other}{}", &text[..at], &text[at + 1..]);
    assert_ne!(edited, text);
    let file = tmp.path().join("README.md");
    std::fs::write(&file, &edited).unwrap();
    let bin = env!("CARGO_BIN_EXE_hookbench");
    let results = repo().join("results");
    let check = std::process::Command::new(bin)
        .args(["readme", "--check", "--results"])
        .arg(&results)
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("results:stripe-payments:headline"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        edited,
        "--check writes nothing"
    );
    let fix = std::process::Command::new(bin)
        .args(["readme", "--results"])
        .arg(&results)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        fix.status.success(),
        "{}",
        String::from_utf8_lossy(&fix.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    // Text outside the markers is the author's: never touched.
    let prose = text.replace("The headline it reproduces", "The headline we reproduce");
    std::fs::write(&file, &prose).unwrap();
    let g = update(&file, &results, true).unwrap();
    assert!(g.changed.is_empty());
}

#[test]
fn a_broken_marker_is_bad_input_with_its_location() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("README.md");
    std::fs::write(
        &file,
        "# x\n\n<!-- results:no-such-folder:headline -->\n<!-- /results -->\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hookbench"))
        .arg("readme")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("README.md:3:14: no results folder `no-such-folder`"),
        "{stderr}"
    );
}

/// Inline figures in prose are generated and checked too: a sentence quoting the headline's
/// calls per minute is rewritten from the results, and an edited one is reported.
#[test]
fn inline_values_are_generated_and_checked() {
    let results = repo().join("results");
    let text = "Polling costs <!-- v:stripe-payments:poll-10s:calls_per_min -->1<!-- /v --> calls a minute.\n";
    let g = generate(text, "R.md", &results).unwrap();
    assert_eq!(g.sections, 1);
    assert_eq!(g.changed.len(), 1, "the stale figure 1 is reported");
    let summary = std::fs::read_to_string(results.join("stripe-payments/summary.csv")).unwrap();
    let first_row = summary.lines().nth(1).unwrap();
    assert!(first_row.starts_with("poll-10s,"), "{first_row}");
    // N·60/T = 1,000 · 60 / 10 exactly in every replication (± 0 when replicated).
    assert!(
        g.text.contains("-->6,000<!-- /v -->") || g.text.contains("-->6,000 ± 0<!-- /v -->"),
        "{}",
        g.text
    );
    // Regenerating the regenerated text changes nothing.
    let again = generate(&g.text, "R.md", &results).unwrap();
    assert!(again.changed.is_empty());
    let e = generate(
        "<!-- v:stripe-payments:nobody:calls_per_min -->1<!-- /v -->\n",
        "R.md",
        &results,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("no consumer `nobody`"), "{e}");
    let e = generate(
        "<!-- v:stripe-payments:poll-10s:colour -->1<!-- /v -->\n",
        "R.md",
        &results,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("unknown column `colour`"), "{e}");
}
