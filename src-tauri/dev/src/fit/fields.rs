//! `pagewise-dev fit-ranker TRAIN_SET... [--check DEV_SET...]`: fit the ranking of answer
//! candidates (`engine/src/ask/ranker.rs`) on training sets with field ground truth, report it
//! by k-fold cross-validation (folds by document) beside the hand scores, check it on dev sets
//! (never fitted on), and write the weights file the product compiles in. Every figure goes
//! through the product's own extraction (`extract_field`) and the evaluation's scoring.

use super::boost::{boost_choice, BoostArgs, Boosting};
use super::logistic::{self, Group};
use super::{fold_of, weights_text};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use pagewise_engine::ask::forms::FORM_FIELD;
use pagewise_engine::ask::labels::PageText;
use pagewise_engine::ask::ranker::{self, Fitted, Logistic, Ranker, FEATURES};
use pagewise_engine::ask::Candidate;
use pagewise_engine::ask::{Question, FOUND};
use pagewise_engine::extract::extract_field;
use pagewise_engine::{Error, Extractive, FieldType, Library, Meaning, Result, Schema};
use serde_json::{json, Value};

use crate::eval::compare::{expected_texts, matches};
use crate::eval::field_sets::{schema_for, score_field, scored_fields, Bands, Tally};
use crate::eval::sets::{document_path, import, read_json, set_name};

#[derive(Args)]
pub struct FitArgs {
    /// Training sets (directories with fields.json), e.g. ../shared/eval/train-*
    #[arg(required = true)]
    sets: Vec<PathBuf>,
    /// Dev sets to check the fitted ranking on (never fitted on)
    #[arg(long, num_args = 1..)]
    check: Vec<PathBuf>,
    /// Cross-validation folds (by document)
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Where to write the weights (the product compiles in assets/ranking/fields.json)
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep the imported documents in this library between runs (scans are read once)
    #[arg(long, value_name = "DIR")]
    imports: Option<PathBuf>,
    #[command(flatten)]
    boosting: BoostArgs,
}

/// Trees added to each single value's conditional logit by default: chosen by cross-validation
/// on the training receipts (shipped 75.9 % exact linear, 78.1 % with 50 trees, 78.5 % with 100,
/// 77.4 % with 300: the sets are small, more trees learn them by heart).
const TREES: usize = 100;

/// One document of a set, ready for questions.
struct Doc {
    set: String,
    file: String,
    record: Value,
    schema: Arc<Schema>,
    prepared: pagewise_engine::ask::Prepared,
}

pub fn run(json: bool, args: FitArgs) -> Result<ExitCode> {
    let scratch = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
    let mut lib = Library::open(args.imports.as_deref().unwrap_or(scratch.path()))?;
    let train = load(&mut lib, &args.sets)?;
    let dev = load(&mut lib, &args.check)?;
    let mut answerer = Extractive::new(Meaning::installed());
    let folds = args.folds.max(2);
    let fold_of = |d: &Doc| fold_of(&d.file, folds);
    let boosting = args.boosting.boosting(TREES);
    let samples: Vec<Vec<Asked>> = train.iter().map(|d| samples(d, &mut answerer)).collect();

    // The hand scores alone, then each fold scored by a ranking fitted on the others.
    let hand = Arc::new(Ranker::default());
    let mut report = Scores::default();
    for d in train.iter().chain(&dev) {
        report.add("hand", d, score(d, &mut answerer, &hand));
    }
    let by_fold: Vec<Ranker> = (0..folds)
        .map(|fold| fit(train.iter().zip(&samples).filter(|(d, _)| fold_of(d) != fold), &args.sets, boosting))
        .collect();
    for (fold, fitted) in by_fold.iter().enumerate() {
        let fitted = Arc::new(fitted.clone());
        for d in train.iter().filter(|d| fold_of(d) == fold) {
            report.add("cross-validated", d, score(d, &mut answerer, &fitted));
        }
    }
    // A model is kept where it beat the hand scores in cross-validation over its fields: a
    // better F1 (fewer wrong values) without fewer right ones. The others keep the hand scores'
    // order, calibrated.
    let all = fit(train.iter().zip(&samples), &args.sets, boosting);
    let mut kept = BTreeSet::new();
    let mut dropped = Vec::new();
    for key in all.models.keys() {
        let fields: BTreeSet<(String, String)> = train
            .iter()
            .zip(&samples)
            .flat_map(|(d, asked)| asked.iter().filter(|a| &a.key == key).map(|a| (d.set.clone(), a.field.clone())))
            .collect();
        let (fitted, by_hand) = (report.total("cross-validated", &fields), report.total("hand", &fields));
        if fitted.f1() <= by_hand.f1() || fitted.correct < by_hand.correct {
            dropped.push(format!(
                "{key} (cross-validated F1 {:.3}, {} right; by hand {:.3}, {} right)",
                fitted.f1(),
                fitted.correct,
                by_hand.f1(),
                by_hand.correct
            ));
        } else {
            kept.insert(key.clone());
        }
    }
    // What ships, cross-validated the same way: the kept models and the calibrations.
    for (fold, fitted) in by_fold.into_iter().enumerate() {
        let shipped = Arc::new(shipped(fitted, &kept));
        for d in train.iter().filter(|d| fold_of(d) == fold) {
            report.add("shipped (CV)", d, score(d, &mut answerer, &shipped));
        }
    }
    let all = shipped(all, &kept);
    let all = Arc::new(all);
    for d in &dev {
        report.add("shipped", d, score(d, &mut answerer, &all));
    }
    let out = args.out.unwrap_or_else(|| PathBuf::from("assets/ranking/fields.json"));
    let text = weights_text(&*all);
    std::fs::write(&out, text).map_err(|e| Error::Io { path: out.clone(), source: e })?;
    if json {
        println!(
            "{}",
            json!({ "scores": report.json(), "models": all.models.keys().collect::<Vec<_>>(),
                "calibrations": all.calibrations.keys().collect::<Vec<_>>(), "dropped": dropped, "out": out })
        );
    } else {
        print!("{}", report.table());
        println!(
            "weights: {} ({} models: {}; {} calibrations: {})",
            out.display(),
            all.models.len(),
            all.models.keys().cloned().collect::<Vec<_>>().join(", "),
            all.calibrations.len(),
            all.calibrations.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        for d in &dropped {
            println!("not kept, no better than the hand scores: {d}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn load(lib: &mut Library, sets: &[PathBuf]) -> Result<Vec<Doc>> {
    let mut docs = Vec::new();
    for dir in sets {
        if !dir.join("fields.json").is_file() {
            eprintln!("{}: no fields.json (field ground truth); skipped", dir.display());
            continue;
        }
        let truth = read_json(&dir.join("fields.json"))?;
        let truth = truth.as_object().cloned().unwrap_or_default();
        let Some((schema, _)) = schema_for(&truth) else {
            eprintln!("{}: no schema preset shares a field with its fields.json; skipped", dir.display());
            continue;
        };
        let schema = Arc::new(schema);
        for (file, record) in &truth {
            match import(lib, &document_path(dir, file)).and_then(|id| lib.prepare(&id, None)) {
                Ok(prepared) => docs.push(Doc {
                    set: set_name(dir),
                    file: file.clone(),
                    record: record.clone(),
                    schema: schema.clone(),
                    prepared,
                }),
                Err(e) => eprintln!("{}/{file}: {e}; skipped", set_name(dir)),
            }
        }
    }
    Ok(docs)
}

/// One question asked of one document: its model's key, whether it is a choice of one value
/// (not a list's items), and its candidates with whether each is the truth (or one of its items).
struct Asked {
    field: String,
    key: String,
    choice: bool,
    candidates: Group,
}

fn samples(d: &Doc, answerer: &mut Extractive) -> Vec<Asked> {
    let pages: Vec<PageText> = d.prepared.view();
    let mut out = Vec::new();
    for spec in scored_fields(&d.record, &d.schema) {
        let expected = expected_texts(&d.record[&spec.name]);
        for text in spec.all_questions() {
            let q = Question::for_target(&text, spec.target());
            // Filled form fields keep their own scores; the ranking never sees them.
            let mut candidates = answerer.hand_scored(&pages, &q);
            candidates.retain(|c| c.source != FORM_FIELD);
            let features = ranker::features(&candidates, &pages);
            let right = |c: &Candidate| expected.iter().any(|e| matches(&c.text, &c.normalized, e));
            out.push(Asked {
                field: spec.name.clone(),
                key: ranker::model_key(&q, &pages),
                choice: spec.kind != FieldType::List,
                candidates: candidates.iter().zip(features).map(|(c, x)| (x.to_vec(), right(c))).collect(),
            });
        }
    }
    out
}

/// A ranking fitted on these documents' questions: a model per question kind that has both
/// right and wrong candidates (a choice of one value with its trees).
fn fit<'a>(docs: impl Iterator<Item = (&'a Doc, &'a Vec<Asked>)>, sets: &[PathBuf], boosting: Boosting) -> Ranker {
    // Per key: whether a choice, the questions' candidates, and the documents asked.
    let mut by_key: BTreeMap<String, (bool, Vec<Group>, usize)> = BTreeMap::new();
    for (_, asked) in docs {
        let mut seen = BTreeSet::new();
        for a in asked {
            let entry = by_key.entry(a.key.clone()).or_insert((a.choice, Vec::new(), 0));
            entry.1.push(a.candidates.clone());
            if seen.insert(&a.key) {
                entry.2 += 1;
            }
        }
    }
    let sets: Vec<String> = sets.iter().map(|s| set_name(s)).collect();
    let calibrations = by_key
        .iter()
        .filter_map(|(key, (choice, groups, _))| Some((key.clone(), calibrate(*choice, groups)?)))
        .collect();
    let models = by_key
        .into_iter()
        .filter(|(_, (_, groups, _))| {
            let labels = || groups.iter().flatten().map(|(_, y)| *y);
            labels().any(|y| y) && labels().any(|y| !y)
        })
        .map(|(key, (choice, groups, documents))| {
            let candidates = groups.iter().map(Vec::len).sum();
            let model = if choice {
                boost_choice(&groups, logistic::fit_choice(&groups), boosting)
            } else {
                logistic::fit(&groups)
            };
            (key, Fitted { model, choice, sets: sets.clone(), documents, candidates })
        })
        .collect();
    Ranker { version: 1, features: FEATURES.iter().map(|f| f.to_string()).collect(), models, calibrations }
}

/// `P(right | hand score)` for a kind of question that asks for one value, from the best
/// candidate of each question (the value it gives). Rising, and through `FOUND` at `FOUND`: a
/// calibration says how sure a value is, never which value is given or whether (those the
/// hand scores chose, kept because a fitted model did no better). A list's items keep their hand
/// scores (how many are listed hangs on them).
fn calibrate(choice: bool, groups: &[Group]) -> Option<Logistic> {
    let best = |g: &Group| g.iter().max_by(|a, b| a.0[0].total_cmp(&b.0[0])).map(|(x, y)| (x[0], *y));
    let samples: Vec<(f32, bool)> = groups.iter().filter_map(best).collect();
    let given = || samples.iter().filter(|(x, _)| *x >= FOUND);
    if !choice || !given().any(|(_, y)| *y) || !given().any(|(_, y)| !*y) {
        return None;
    }
    let mut calibration = logistic::fit_through(&samples, FOUND, FOUND);
    // Rising, if little: where the hand scores say nothing of being right (a contract's term),
    // their values are all nearly as doubtful as the least sure value given, in the same order.
    calibration.weights[0] = calibration.weights[0].max(MIN_SLOPE);
    Some(calibration)
}

/// The least rise of a calibration, in logits per unit of hand score: confidences are shown to
/// three places, and hand scores 0.005 apart stay apart (a flatter one would round a value far
/// below `FOUND` up to it, and give it).
const MIN_SLOPE: f32 = 1.0;

/// A fitted ranking as it ships: the kept models, and for every other kind of question the
/// calibration of its hand scores.
fn shipped(mut ranking: Ranker, kept: &BTreeSet<String>) -> Ranker {
    ranking.models.retain(|key, _| kept.contains(key));
    ranking.calibrations.retain(|key, _| !kept.contains(key));
    ranking
}

/// Each scored field of a document extracted as the product does, with this ranking.
fn score(d: &Doc, answerer: &mut Extractive, ranking: &Arc<Ranker>) -> Vec<(String, Tally, Option<f32>)> {
    answerer.ranker = ranking.clone();
    let pages: Vec<PageText> = d.prepared.view();
    scored_fields(&d.record, &d.schema)
        .into_iter()
        .map(|spec| {
            let value = extract_field(spec, &pages, answerer);
            let (tally, _) = score_field(spec, &d.record[&spec.name], Some(&value));
            let confidence = value.value.is_some().then_some(value.confidence);
            (spec.name.clone(), tally, confidence)
        })
        .collect()
}

/// Tallies per (ranking, set, field), and given values' correctness per confidence band.
#[derive(Default)]
struct Scores {
    fields: BTreeMap<(String, String, String), Tally>,
    bands: BTreeMap<(String, String), Bands>,
}

impl Scores {
    fn add(&mut self, ranking: &str, d: &Doc, scored: Vec<(String, Tally, Option<f32>)>) {
        let set = if ranking == "shipped" { format!("{} (dev)", d.set) } else { d.set.clone() };
        for (field, tally, confidence) in scored {
            self.fields.entry((ranking.into(), set.clone(), field)).or_default().add(&tally);
            // Single-valued fields only (a list's items are scored one by one).
            if let (Some(c), true) = (confidence, tally.expected <= 1 && tally.predicted <= 1) {
                self.bands.entry((ranking.into(), set.clone())).or_default().add(c, tally.correct > 0);
            }
        }
    }

    /// One ranking's tally over these (set, field)s.
    fn total(&self, ranking: &str, fields: &BTreeSet<(String, String)>) -> Tally {
        let mut t = Tally::default();
        for ((r, set, field), tally) in &self.fields {
            if r == ranking && fields.contains(&(set.clone(), field.clone())) {
                t.add(tally);
            }
        }
        t
    }

    fn table(&self) -> String {
        let mut t = String::new();
        let row = |t: &mut String, ranking: &str, set: &str, field: &str, tally: &Tally| {
            let (e, g, c) = (tally.expected, tally.predicted, tally.correct);
            let (accuracy, f1) = (100.0 * tally.accuracy(), tally.f1());
            let _ = writeln!(t, "{ranking:<16} {set:<36} {field:<15} {e:>8} {g:>6} {c:>7} {accuracy:>8.1}% {f1:>6.3}");
        };
        let _ = writeln!(
            t,
            "{:<16} {:<36} {:<15} {:>8} {:>6} {:>7} {:>9} {:>6}",
            "ranking", "set", "field", "expected", "given", "correct", "accuracy", "F1"
        );
        let mut totals: BTreeMap<(String, String), Tally> = BTreeMap::new();
        for ((ranking, set, field), tally) in &self.fields {
            row(&mut t, ranking, set, field, tally);
            totals.entry((ranking.clone(), set.clone())).or_default().add(tally);
        }
        for ((ranking, set), tally) in &totals {
            row(&mut t, ranking, set, "all", tally);
        }
        let _ = writeln!(t, "\nconfidence of the values given (single-valued fields): right / given");
        for ((ranking, set), bands) in &self.bands {
            for line in bands.lines() {
                let _ = writeln!(t, "{ranking:<16} {set:<36} {line}");
            }
        }
        t
    }

    fn json(&self) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|((ranking, set, field), t)| json!({"ranking": ranking, "set": set, "field": field, "expected": t.expected, "given": t.predicted, "correct": t.correct, "accuracy": t.accuracy(), "f1": t.f1()}))
            .collect();
        let bands: Vec<Value> = self
            .bands
            .iter()
            .map(|((ranking, set), b)| json!({"ranking": ranking, "set": set, "bands": b.json()}))
            .collect();
        json!({ "fields": fields, "bands": bands })
    }
}
