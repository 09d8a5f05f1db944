//! The README's result figures are generated from the committed `results/` (`hookbench
//! readme`, `crates/report/src/readme.rs`): this fails when a marked section of README.md differs
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
        .args(["readme", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("README.md:3:14: no results folder `no-such-folder`"),
        "{stderr}"
    );
    // A hidden folder (a run's temporary one) is never quoted, even when it holds results.
    let hidden = tmp.path().join("results/.x.tmp-1");
    std::fs::create_dir_all(&hidden).unwrap();
    std::fs::write(hidden.join("summary.csv"), "").unwrap();
    std::fs::write(
        &file,
        "<!-- results:.x.tmp-1:headline -->\n<!-- /results -->\n",
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
        stderr.contains("README.md:1:14: `.x.tmp-1` is a hidden folder"),
        "{stderr}"
    );
}

/// A filtered `cargo bench -- WORD` on a checkout without every results folder regenerates the
/// sections it can, warns about the others and succeeds (it used to exit 1 when
/// `results/stripe-payments/` was missing); only `--check` insists on every folder.
#[test]
fn a_rewrite_keeps_sections_of_missing_folders_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("results");
    // Only one folder, as after `cargo bench -- poll_interval_sweep` on a fresh checkout.
    copy_dir(
        &repo().join("results/poll-interval-sweep"),
        &root.join("poll-interval-sweep"),
    );
    let text = std::fs::read_to_string(repo().join("README.md")).unwrap();
    // The sweep's figures as someone had typed them wrongly: the rewrite must fix those.
    let start = text
        .find("<!-- v:poll-interval-sweep:poll@0:calls_per_min -->")
        .unwrap();
    let at = start + text[start..].find("-->").unwrap() + 3;
    let edited = format!("{}9{}", &text[..at], &text[at..]);
    let file = tmp.path().join("README.md");
    std::fs::write(&file, &edited).unwrap();

    let g = update(&file, &root, false).unwrap();
    assert!(
        g.skipped
            .iter()
            .any(|s| s.contains("results:stripe-payments:headline")),
        "{:?}",
        g.skipped
    );
    assert!(
        g.changed.iter().any(|c| c.contains("inline values")),
        "{:?}",
        g.changed
    );
    let written = std::fs::read_to_string(&file).unwrap();
    let line = |t: &str| {
        t.lines()
            .find(|l| l.contains("<!-- v:poll-interval-sweep:poll@0:calls_per_min -->"))
            .unwrap()
            .to_string()
    };
    assert_eq!(
        line(&written),
        line(&text),
        "the sweep's figure is regenerated"
    );
    // The stripe-payments headline is left exactly as it was.
    let headline = |t: &str| {
        let s = t.find("<!-- results:stripe-payments:headline -->").unwrap();
        let e = s + t[s..].find("<!-- /results -->").unwrap();
        t[s..e].to_string()
    };
    assert_eq!(headline(&written), headline(&edited));

    // Through the command line: a warning and success; --check fails.
    std::fs::write(&file, &edited).unwrap();
    let bin = env!("CARGO_BIN_EXE_hookbench");
    let out = std::process::Command::new(bin)
        .args(["readme", "--results"])
        .arg(&root)
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning") && stderr.contains("results:stripe-payments:headline"),
        "{stderr}"
    );
    let check = std::process::Command::new(bin)
        .args(["readme", "--check", "--results"])
        .arg(&root)
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(2));
    assert!(update(&file, &root, true).is_err());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
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
