//! Question sets (`qa.json`): every question asked of its document through the same path as
//! `pagewise ask`; scored per field (or per question when the set names no field) by exact
//! match after normalisation and by ANLS.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use pagewise_engine::{Answering, Extractive, Library, Meaning, Result};
use serde_json::{json, Value};

use super::compare::{anls, expected_texts, matches};
use super::sets::{document_path, import, read_json, set_name, Report};

#[derive(Default)]
struct Tally {
    asked: usize,
    exact: usize,
    anls: f64,
}

pub fn questions(lib: &mut Library, dir: &Path) -> Result<Report> {
    let qa = read_json(&dir.join("qa.json"))?;
    let mut answerer = Extractive::new(Meaning::installed());
    let mut by_field: BTreeMap<String, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut failed = Vec::new();
    // Where the set gives the scale of the answer ("millions"): the answer's, of those right.
    let (mut scaled, mut scale_right) = (0, 0);
    let items: Vec<&Value> = qa.as_array().into_iter().flatten().collect();
    for item in &items {
        let (Some(file), Some(question)) = (item["file"].as_str(), item["question"].as_str()) else { continue };
        let expected = expected_texts(&item["answers"]);
        let field = item["field"].as_str().map(str::to_string).unwrap_or_else(|| short_question(question));
        let id = match import(lib, &document_path(dir, file)) {
            Ok(id) => id,
            Err(e) => {
                failed.push(format!("{file}: {e}"));
                continue;
            }
        };
        let answer = match lib.ask(&id, question, None, &mut Answering::Extractive(&mut answerer)) {
            Ok(a) => a,
            Err(e) => {
                failed.push(format!("{file}: {question}: {e}"));
                continue;
            }
        };
        let (printed, normalized) =
            (answer.answer.clone().unwrap_or_default(), answer.normalized.clone().unwrap_or_default());
        let hit = answer.found && expected.iter().any(|e| matches(&printed, &normalized, e));
        // An exact match (numbers as numbers, dates as dates) is a full one.
        let similarity = match (hit, answer.found) {
            (true, _) => 1.0,
            (false, true) => expected.iter().map(|e| anls(&normalized, e).max(anls(&printed, e))).fold(0.0, f64::max),
            _ => 0.0,
        };
        if let (Some(unit), true) = (item["unit"].as_str().or(item["answers"][0]["unit"].as_str()), hit) {
            scaled += 1;
            scale_right += usize::from(answer.unit.as_deref() == Some(unit));
            if answer.unit.as_deref() != Some(unit) {
                misses.push(format!("{file} [{field}]: unit {unit:?}, answered {:?}", answer.unit));
            }
        }
        let t = by_field.entry(field.clone()).or_default();
        t.asked += 1;
        t.exact += usize::from(hit);
        t.anls += similarity;
        if !hit {
            misses.push(format!(
                "{file} [{field}]: expected {:?}, answered {:?}{}",
                expected.join(" | "),
                printed,
                if answer.found { String::new() } else { " (not found)".into() }
            ));
        }
    }
    let (asked, exact, anls_sum) =
        by_field.values().fold((0, 0, 0.0), |a, t| (a.0 + t.asked, a.1 + t.exact, a.2 + t.anls));
    let mut table = format!(
        "{} — {} questions asked of their documents \
         (extractive answerer)\n",
        set_name(dir),
        asked
    );
    let _ = writeln!(table, "  {:<28} {:>6} {:>8} {:>7}", "field", "asked", "exact", "ANLS");
    let mut fields = Vec::new();
    for (f, t) in &by_field {
        let _ = writeln!(
            table,
            "  {:<28} {:>6} {:>7.1}% {:>7.3}",
            f,
            t.asked,
            100.0 * t.exact as f64 / t.asked.max(1) as f64,
            t.anls / t.asked.max(1) as f64
        );
        fields.push(json!({"field": f, "asked": t.asked, "exact": t.exact, "anls": t.anls / t.asked.max(1) as f64}));
    }
    let _ = writeln!(
        table,
        "  {:<28} {:>6} {:>7.1}% {:>7.3}",
        "all",
        asked,
        100.0 * exact as f64 / asked.max(1) as f64,
        anls_sum / asked.max(1) as f64
    );
    if scaled > 0 {
        let _ = writeln!(table, "  unit (\"in millions\") of the right answers: {scale_right}/{scaled}");
    }
    for m in misses.iter().take(40) {
        let _ = writeln!(table, "    miss  {m}");
    }
    for f in &failed {
        let _ = writeln!(table, "    failed  {f}");
    }
    let json = json!({
        "set": set_name(dir), "kind": "qa", "asked": asked, "exact": exact, "anls": anls_sum / asked.max(1) as f64,
        "fields": fields, "misses": misses, "failed": failed,
        "units": {"asked": scaled, "right": scale_right},
    });
    Ok(Report { table, json })
}

/// A question without a field name, shortened for the table ("revenues for the 12-month ...").
fn short_question(q: &str) -> String {
    let words: Vec<&str> = q.split_whitespace().filter(|w| !w.chars().any(|c| c.is_ascii_digit())).collect();
    words.join(" ").chars().take(28).collect()
}
