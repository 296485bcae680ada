//! Field sets (`fields.json`): each document extracted with the preset schema that shares most
//! fields with the ground truth (chosen by field names, never by the set's name), then scored per
//! field by exact match after normalisation, list fields by item F1, and overall by F1 over
//! (field, value) pairs as Kleister scores: a value where the truth has none counts against.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use pagewise_engine::SCHEMA_PRESETS;
use pagewise_engine::{Answering, Extractive, FieldSpec, FieldType, FieldValue, Library, Meaning, Result, Schema};
use serde_json::{json, Value};

use super::compare::{expected_texts, matches};
use super::sets::{document_path, import, read_json, set_name, Report};

#[derive(Default, Clone, Copy)]
pub struct Tally {
    /// Documents whose truth has a value (items, for lists).
    pub expected: usize,
    /// Values (items) given.
    pub predicted: usize,
    pub correct: usize,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.expected += o.expected;
        self.predicted += o.predicted;
        self.correct += o.correct;
    }

    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.expected.max(1) as f64
    }

    pub fn f1(&self) -> f64 {
        let p = self.correct as f64 / self.predicted.max(1) as f64;
        let r = self.correct as f64 / self.expected.max(1) as f64;
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

/// Given values by how confident the extractor was (lower bounds of the bands): how often a
/// value in each band is right says whether its confidence means what it says. (Below 0.3: a
/// form's key-values, given from a lower chance of pairing.)
pub const BANDS: [f32; 5] = [0.0, 0.3, 0.5, 0.7, 0.9];

#[derive(Default, Clone, Copy)]
pub struct Bands {
    /// (given, right) per band.
    pub counts: [(usize, usize); BANDS.len()],
}

impl Bands {
    pub fn add(&mut self, confidence: f32, right: bool) {
        let band = BANDS.iter().rposition(|&b| confidence >= b).unwrap_or(0);
        self.counts[band].0 += 1;
        self.counts[band].1 += usize::from(right);
    }

    /// "[0.9, 1.0]  41 / 43  95.3 %" per band with values.
    pub fn lines(&self) -> Vec<String> {
        (0..BANDS.len())
            .filter(|&b| self.counts[b].0 > 0)
            .map(|b| {
                let (given, right) = self.counts[b];
                let upper = BANDS.get(b + 1).map_or("1.0]".to_string(), |u| format!("{u:.1})"));
                let share = 100.0 * right as f64 / given as f64;
                format!("[{:.1}, {upper} {right:>5} / {given:<5} {share:>5.1} %", BANDS[b])
            })
            .collect()
    }

    pub fn json(&self) -> Value {
        let bands: Vec<Value> = (0..BANDS.len())
            .map(|b| json!({"from": BANDS[b], "given": self.counts[b].0, "right": self.counts[b].1}))
            .collect();
        Value::Array(bands)
    }
}

/// The preset that covers most of the truth's fields.
pub fn schema_for(truth: &serde_json::Map<String, Value>) -> Option<(Schema, usize)> {
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

/// The fields a record scores. With `keys_asked` (Kleister) a null value means "not stated",
/// and a value given for it counts against; without it a null only means nobody annotated it,
/// and is not scored.
pub fn scored_fields<'a>(record: &Value, schema: &'a Schema) -> Vec<&'a FieldSpec> {
    let asked: Option<Vec<&str>> =
        record.get("keys_asked").and_then(|k| k.as_array()).map(|a| a.iter().filter_map(|v| v.as_str()).collect());
    let scored = |f: &str| match &asked {
        Some(keys) => keys.contains(&f),
        None => record.get(f).is_some_and(|v| !v.is_null()),
    };
    schema.fields.iter().filter(|f| scored(&f.name)).collect()
}

/// One field of one document scored against its truth: list fields by items, others by exact
/// match after normalisation; what was wrong, said.
pub fn score_field(spec: &FieldSpec, truth: &Value, value: Option<&FieldValue>) -> (Tally, Option<String>) {
    let expected: Vec<String> = expected_texts(truth);
    if spec.kind == FieldType::List {
        let items: Vec<&str> = value.map(|v| v.items.iter().map(|i| i.value.as_str()).collect()).unwrap_or_default();
        let hits = expected.iter().filter(|e| items.iter().any(|i| matches(i, i, e))).count();
        let tally = Tally { expected: expected.len(), predicted: items.len(), correct: hits };
        let miss = (hits < expected.len() || items.len() > hits)
            .then(|| format!("expected {:?}, got {:?}", expected.join(" | "), items.join(" | ")));
        return (tally, miss);
    }
    let (printed, normal) = value.map(|v| (v.text.clone().unwrap_or_default(), v.value.clone())).unwrap_or_default();
    let given = normal.is_some();
    let hit = given && expected.iter().any(|e| matches(&printed, normal.as_deref().unwrap_or(""), e));
    let tally =
        Tally { expected: usize::from(!expected.is_empty()), predicted: usize::from(given), correct: usize::from(hit) };
    let miss = ((!expected.is_empty() || given) && !hit)
        .then(|| format!("expected {:?}, got {:?}", expected.join(" | "), normal.unwrap_or_default()));
    (tally, miss)
}

pub fn fields(lib: &mut Library, dir: &Path) -> Result<Option<Report>> {
    let gt = read_json(&dir.join("fields.json"))?;
    let truth = gt.as_object().cloned().unwrap_or_default();
    let Some((schema, _)) = schema_for(&truth) else { return Ok(None) };
    let mut answerer = Extractive::new(Meaning::installed());
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut failed = Vec::new();
    let mut bands = Bands::default();
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
        for spec in scored_fields(record, &schema) {
            let value = got.fields.iter().find(|v| v.field == spec.name);
            let (score, miss) = score_field(spec, &record[&spec.name], value);
            tallies.entry(spec.name.clone()).or_default().add(&score);
            if let Some(v) = value.filter(|v| v.value.is_some() && spec.kind != FieldType::List) {
                bands.add(v.confidence, score.correct > 0);
            }
            misses.extend(miss.map(|m| format!("{file} [{}]: {m}", spec.name)));
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
        let accuracy = t.accuracy();
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
        all.add(t);
    }
    let _ = writeln!(
        table,
        "  {:<16} {:>8} {:>8} {:>8} {:>8.1}% {:>6.3}",
        "all",
        all.expected,
        all.predicted,
        all.correct,
        100.0 * all.accuracy(),
        all.f1()
    );
    let _ = writeln!(table, "  confidence of the values given (single-valued fields): right / given");
    for line in bands.lines() {
        let _ = writeln!(table, "    {line}");
    }
    for m in misses.iter().take(30) {
        let _ = writeln!(table, "    miss  {m}");
    }
    for f in &failed {
        let _ = writeln!(table, "    failed  {f}");
    }
    let json = json!({
        "set": set_name(dir), "kind": "fields", "schema": schema.name, "documents": truth.len(),
        "fields": rows, "f1": all.f1(), "confidence_bands": bands.json(), "misses": misses, "failed": failed,
    });
    Ok(Some(Report { table, json }))
}
