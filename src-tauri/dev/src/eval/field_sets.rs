//! Field sets (`fields.json`): each document extracted with the preset schema that shares most
//! fields with the ground truth (chosen by field names, never by the set's name), then scored per
//! field by exact match after normalisation, list fields by item F1, and overall by F1 over
//! (field, value) pairs as Kleister scores: a value where the truth has none counts against.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use pagewise_engine::{Answering, Extractive, FieldType, Library, Meaning, Result, Schema, SCHEMA_PRESETS};
use serde_json::{json, Value};

use super::compare::{expected_texts, loose, matches};
use super::sets::{document_path, import, read_json, set_name, Report};

#[derive(Default)]
struct Tally {
    /// Documents whose truth has a value (items, for lists).
    expected: usize,
    /// Values (items) given.
    predicted: usize,
    correct: usize,
}

impl Tally {
    fn f1(&self) -> f64 {
        let p = self.correct as f64 / self.predicted.max(1) as f64;
        let r = self.correct as f64 / self.expected.max(1) as f64;
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

/// The preset that covers most of the truth's fields.
fn schema_for(truth: &serde_json::Map<String, Value>) -> Option<(Schema, usize)> {
    // Fields the truth actually gives somewhere (a key that is always null says nothing).
    let keys: Vec<&String> = truth
        .values()
        .filter_map(|v| v.as_object())
        .flat_map(|o| o.iter().filter(|(_, v)| !v.is_null()).map(|(k, _)| k))
        .collect();
    SCHEMA_PRESETS
        .iter()
        .filter_map(|(name, _)| Schema::load(name).ok())
        .map(|s| {
            let shared = s.fields.iter().filter(|f| keys.contains(&&f.name)).count();
            (s, shared)
        })
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
}

pub fn fields(lib: &mut Library, dir: &Path) -> Result<Option<Report>> {
    let gt = read_json(&dir.join("fields.json"))?;
    let truth = gt.as_object().cloned().unwrap_or_default();
    let Some((schema, _)) = schema_for(&truth) else { return Ok(None) };
    let mut answerer = Extractive::new(Meaning::installed());
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut failed = Vec::new();
    for (file, record) in &truth {
        let id = match import(lib, &document_path(dir, file)) {
            Ok(id) => id,
            Err(e) => {
                failed.push(format!("{file}: {e}"));
                continue;
            }
        };
        let got = match lib.extract_document(&id, &schema, &mut Answering::Extractive(&mut answerer)) {
            Ok(g) => g,
            Err(e) => {
                failed.push(format!("{file}: {e}"));
                continue;
            }
        };
        // With `keys_asked` (Kleister) a null value means "not stated", and a value given for it
        // counts against; without it a null only means nobody annotated it, and is not scored.
        let asked: Option<Vec<&str>> =
            record.get("keys_asked").and_then(|k| k.as_array()).map(|a| a.iter().filter_map(|v| v.as_str()).collect());
        let scored = |f: &str| match &asked {
            Some(keys) => keys.contains(&f),
            None => record.get(f).is_some_and(|v| !v.is_null()),
        };
        for spec in schema.fields.iter().filter(|f| scored(&f.name)) {
            let expected: Vec<String> = expected_texts(&record[&spec.name]);
            let value = got.fields.iter().find(|v| v.field == spec.name);
            let t = tallies.entry(spec.name.clone()).or_default();
            if spec.kind == FieldType::List {
                let items: Vec<&str> =
                    value.map(|v| v.items.iter().map(|i| i.value.as_str()).collect()).unwrap_or_default();
                let hits = expected.iter().filter(|e| items.iter().any(|i| loose(i) == loose(e))).count();
                t.expected += expected.len();
                t.predicted += items.len();
                t.correct += hits;
                if hits < expected.len() || items.len() > hits {
                    misses.push(format!(
                        "{file} [{}]: expected {:?}, got {:?}",
                        spec.name,
                        expected.join(" | "),
                        items.join(" | ")
                    ));
                }
                continue;
            }
            let (printed, normal) =
                value.map(|v| (v.text.clone().unwrap_or_default(), v.value.clone())).unwrap_or_default();
            let given = normal.is_some();
            let hit = given && expected.iter().any(|e| matches(&printed, normal.as_deref().unwrap_or(""), e));
            t.expected += usize::from(!expected.is_empty());
            t.predicted += usize::from(given);
            t.correct += usize::from(hit);
            if (!expected.is_empty() || given) && !hit {
                misses.push(format!(
                    "{file} [{}]: expected {:?}, got {:?}",
                    spec.name,
                    expected.join(" | "),
                    normal.unwrap_or_default()
                ));
            }
        }
    }
    let mut table =
        format!("{} — {} documents extracted with the `{}` schema\n", set_name(dir), truth.len(), schema.name);
    let _ = writeln!(
        table,
        "  {:<16} {:>8} {:>8} {:>8} {:>9} {:>6}",
        "field", "expected", "given", "correct", "accuracy", "F1"
    );
    let mut rows = Vec::new();
    let mut all = Tally::default();
    for (field, t) in &tallies {
        let accuracy = t.correct as f64 / t.expected.max(1) as f64;
        let _ = writeln!(
            table,
            "  {:<16} {:>8} {:>8} {:>8} {:>8.1}% {:>6.3}",
            field,
            t.expected,
            t.predicted,
            t.correct,
            100.0 * accuracy,
            t.f1()
        );
        rows.push(json!({
            "field": field, "expected": t.expected, "given": t.predicted, "correct": t.correct,
            "accuracy": accuracy, "f1": t.f1(),
        }));
        all.expected += t.expected;
        all.predicted += t.predicted;
        all.correct += t.correct;
    }
    let _ = writeln!(
        table,
        "  {:<16} {:>8} {:>8} {:>8} {:>8.1}% {:>6.3}",
        "all",
        all.expected,
        all.predicted,
        all.correct,
        100.0 * all.correct as f64 / all.expected.max(1) as f64,
        all.f1()
    );
    for m in misses.iter().take(30) {
        let _ = writeln!(table, "    miss  {m}");
    }
    for f in &failed {
        let _ = writeln!(table, "    failed  {f}");
    }
    let json = json!({
        "set": set_name(dir), "kind": "fields", "schema": schema.name, "documents": truth.len(),
        "fields": rows, "f1": all.f1(), "misses": misses, "failed": failed,
    });
    Ok(Some(Report { table, json }))
}
