//! Sweeps: one scenario file, many runs.
//!
//! A `[sweep]` table maps one to three dotted parameter paths to lists of values; every
//! combination is a *point* (the Cartesian product, parameters in the order of their paths'
//! names, the first outermost), a full run of the scenario on the same seed with those
//! values substituted. Paths address the file's own keys (`workload.mean_change_interval`,
//! `provider.workers`, `duration`, …); `consumer.<name>.<field>` addresses the consumer with
//! that name.
//!
//! ```toml
//! [sweep]
//! "consumer.poll.interval" = ["1s", "10s", "1m", "5m", "15m"]
//! ```
//!
//! Substitution happens on the parsed TOML document, before validation, so each point is
//! checked exactly like a hand-written file, and an error names the point and its values.

use super::load::{self, ScenarioErrors, Seg};
use super::validate::{self, Plan};
use super::Scenario;
use std::path::Path;
use toml::{Table, Value};

/// Most parameters in one sweep.
pub const MAX_PARAMS: usize = 3;
/// Most values per parameter.
pub const MAX_VALUES: usize = 50;

/// One run of a (possibly swept) scenario.
#[derive(Debug, Clone)]
pub struct Point {
    /// 0-based index in expansion order (first parameter outermost).
    pub index: usize,
    /// `(path, value as written)` for each swept parameter; empty without a sweep.
    pub params: Vec<(String, String)>,
    /// The validated plan of this point.
    pub plan: Plan,
}

/// A value as it is written in a CSV cell: strings bare, everything else as TOML prints it.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Expands the scenario in `text` (already parsed as `base`, validated as `base_plan`) into
/// its points: just the base plan without a `[sweep]`.
pub fn expand(
    text: &str,
    file: &Path,
    base: &Scenario,
    base_plan: Plan,
) -> Result<Vec<Point>, ScenarioErrors> {
    let Some(sweep) = &base.sweep else {
        return Ok(vec![Point {
            index: 0,
            params: Vec::new(),
            plan: base_plan,
        }]);
    };
    let located = |path: Vec<Seg>, message: String| load::locate(text, file, &path, message);
    let mut errors = Vec::new();
    if sweep.is_empty() || sweep.len() > MAX_PARAMS {
        errors.push(located(
            vec![Seg::Key("sweep".into())],
            format!("expected 1 to {MAX_PARAMS} parameters, like \"consumer.poll.interval\" = [\"10s\", \"1m\"]"),
        ));
    }
    let doc: Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            return Err(ScenarioErrors(vec![located(
                Vec::new(),
                e.message().to_string(),
            )]))
        }
    };
    let mut params: Vec<(String, Vec<Value>)> = Vec::new();
    for (path, values) in sweep {
        let at = vec![Seg::Key("sweep".into()), Seg::Key(path.clone())];
        let Some(list) = values
            .as_array()
            .filter(|l| !l.is_empty() && l.len() <= MAX_VALUES)
        else {
            errors.push(located(
                at,
                format!("expected a list of 1 to {MAX_VALUES} values"),
            ));
            continue;
        };
        let mut probe = doc.clone();
        if let Err(m) = set(&mut probe, path, list[0].clone()) {
            errors.push(located(at, m));
            continue;
        }
        params.push((path.clone(), list.clone()));
    }
    if !errors.is_empty() {
        return Err(ScenarioErrors(errors));
    }
    let mut combos: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for (path, values) in &params {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((path.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    let base_dir = file.parent().unwrap_or(Path::new("."));
    let mut points = Vec::new();
    for (index, combo) in combos.into_iter().enumerate() {
        let mut t = doc.clone();
        t.remove("sweep");
        let label = combo
            .iter()
            .map(|(p, v)| format!("{p} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let fail = |m: String| {
            let path = combo.first().map(|(p, _)| p.clone()).unwrap_or_default();
            located(
                vec![Seg::Key("sweep".into()), Seg::Key(path)],
                format!("sweep point {index} ({label}): {m}"),
            )
        };
        for (path, v) in &combo {
            if let Err(m) = set(&mut t, path, v.clone()) {
                errors.push(fail(m));
            }
        }
        let scenario: Scenario = match t.try_into() {
            Ok(s) => s,
            Err(e) => {
                errors.push(fail(e.to_string()));
                continue;
            }
        };
        match validate::plan(&scenario, base_dir) {
            Ok(plan) => points.push(Point {
                index,
                params: combo.iter().map(|(p, v)| (p.clone(), cell(v))).collect(),
                plan,
            }),
            Err(problems) => errors.extend(problems.into_iter().map(|p| {
                fail(format!(
                    "key `{}`: {}",
                    load::path_string(&p.path),
                    p.message
                ))
            })),
        }
    }
    if errors.is_empty() {
        Ok(points)
    } else {
        Err(ScenarioErrors(errors))
    }
}

/// Sets `value` at dotted `path` in a scenario document.
fn set(doc: &mut Table, path: &str, value: Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{path}` is not a dotted key path"));
    }
    if parts[0] == "sweep" || parts[0] == "name" {
        return Err(format!("`{path}` cannot be swept"));
    }
    let (mut table, rest) = if parts[0] == "consumer" {
        if parts.len() < 3 {
            return Err(format!(
                "`{path}`: expected consumer.<name>.<field>, like consumer.poll.interval"
            ));
        }
        let name = parts[1];
        let consumers = doc
            .get_mut("consumer")
            .and_then(Value::as_array_mut)
            .ok_or("the scenario has no consumers")?;
        let c = consumers
            .iter_mut()
            .filter_map(Value::as_table_mut)
            .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
            .ok_or_else(|| format!("`{path}`: no consumer named `{name}`"))?;
        (c, &parts[2..])
    } else {
        (doc, &parts[..])
    };
    for (i, part) in rest.iter().enumerate() {
        if i + 1 == rest.len() {
            table.insert(part.to_string(), value);
            return Ok(());
        }
        table = table
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("`{path}`: `{part}` is not a table"))?;
    }
    Ok(())
}
