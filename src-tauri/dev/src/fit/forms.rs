//! `pagewise-dev fit-pairs SET... [--folds 5] [--out assets/ranking/pairs.json]`: fit the
//! key-value model of forms read from pixels (`engine/src/layout/pairs.rs`) on sets with
//! `kv.json` (annotated question → answer links), report it by k-fold cross-validation (folds by
//! form) with the product's own decoding and the evaluation's scoring, choose the threshold a
//! pair must reach by that cross-validation, and write the weights file the product compiles in.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pagewise_engine::fitted::Logistic;
use pagewise_engine::layout::pairs::{self, KeyCandidates, PairModel, FEATURES};
use pagewise_engine::layout::pieces::{self, Piece};
use pagewise_engine::{Error, KeyValue, Library, Result};
use serde_json::json;

use super::boost::{boost_choice, BoostArgs, Boosting};
use super::logistic::{fit_choice, Group};
use super::{fold_of, weights_text};
use crate::eval::field_sets::{Bands, Tally};
use crate::eval::form_sets::{gold_pairs, mostly_inside, score_pairs, GoldPair};
use crate::eval::ocr_sets::read_image_page;
use crate::eval::sets::{read_json, set_name};

#[derive(Args)]
pub struct FitPairsArgs {
    /// Sets with kv.json (form images and their key-value links), e.g. ../shared/eval/fields-forms-funsd
    #[arg(required = true)]
    sets: Vec<PathBuf>,
    /// Cross-validation folds (by form)
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Where to write the weights (the product compiles in assets/ranking/pairs.json)
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep the imported forms in this library between runs (scans are read once)
    #[arg(long, value_name = "DIR")]
    imports: Option<PathBuf>,
    #[command(flatten)]
    boosting: BoostArgs,
}

/// A form as read, cut into pieces, with the truth: each key piece's value heads.
struct Form {
    file: String,
    pieces: Vec<Piece>,
    cands: Vec<KeyCandidates>,
    gold: Vec<GoldPair>,
    truth: HashMap<usize, Vec<usize>>,
    /// Gold pairs whose key and value pieces the candidates reach (an upper bound on recall).
    reachable: usize,
    /// Why the others are not: [no value piece, no key piece, key and value in one piece, not a candidate].
    unreachable: [usize; 4],
}

/// Trees added to the pairs' conditional logit by default: chosen by cross-validation on FUNSD
/// (pair F1 0.310 linear, 0.316 with 100 trees, 0.322 with 300, 0.321 with 500).
const TREES: usize = 300;

/// Thresholds tried for the chance a pair must reach.
const THRESHOLDS: [f32; 16] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8];

pub fn run(json: bool, args: FitPairsArgs) -> Result<ExitCode> {
    let scratch = tempfile::tempdir().map_err(|e| Error::Io { path: std::env::temp_dir(), source: e })?;
    let mut lib = Library::open(args.imports.as_deref().unwrap_or(scratch.path()))?;
    let forms = load(&mut lib, &args.sets)?;
    if forms.is_empty() {
        return Err(Error::Library { path: args.sets[0].clone(), detail: "no form with kv.json could be read".into() });
    }
    let folds = args.folds.max(2);
    let boosting = args.boosting.boosting(TREES);
    // Each fold's forms scored by a model fitted on the other folds.
    let mut cv: Vec<Chances> = vec![Vec::new(); forms.len()];
    for fold in 0..folds {
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..forms.len()).partition(|&i| fold_of(&forms[i].file, folds) != fold);
        let model = fit(&forms, &train, boosting);
        for i in test {
            cv[i] = chances(&forms[i], &model);
        }
    }
    let by_threshold: Vec<(f32, Scores)> = THRESHOLDS.iter().map(|&t| (t, score(&forms, &cv, t))).collect();
    let (threshold, best) =
        by_threshold.iter().max_by(|a, b| a.1.text.f1().total_cmp(&b.1.text.f1())).cloned().expect("thresholds");

    let model = fit(&forms, &(0..forms.len()).collect::<Vec<_>>(), boosting);
    let in_sample: Vec<Chances> = forms.iter().map(|f| chances(f, &model)).collect();
    let fitted = score(&forms, &in_sample, threshold);
    let keys = forms.iter().map(|f| f.gold.len()).sum::<usize>();
    let weights = PairModel {
        version: 1,
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        model: Some(model),
        threshold,
        sets: args.sets.iter().map(|s| set_name(s)).collect(),
        documents: forms.len(),
        keys,
    };
    let out = args.out.unwrap_or_else(|| PathBuf::from("assets/ranking/pairs.json"));
    let text = weights_text(&weights);
    std::fs::write(&out, text).map_err(|e| Error::Io { path: out.clone(), source: e })?;

    let reachable = forms.iter().map(|f| f.reachable).sum::<usize>();
    let unreachable: [usize; 4] = std::array::from_fn(|i| forms.iter().map(|f| f.unreachable[i]).sum());
    if json {
        let rows: Vec<_> =
            by_threshold.iter().map(|(t, s)| json!({"threshold": t, "cross_validated": s.json()})).collect();
        println!(
            "{}",
            json!({"forms": forms.len(), "gold": keys, "reachable": reachable, "threshold": threshold,
                   "cross_validated": best.json(), "in_sample": fitted.json(), "by_threshold": rows, "out": out})
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = format!(
        "{} forms, {keys} annotated key-values; {reachable} ({:.1} %) have key and value pieces the candidates reach\n",
        forms.len(),
        100.0 * reachable as f64 / keys.max(1) as f64
    );
    let _ = writeln!(
        table,
        "  out of reach: {} without a value piece, {} without a key piece, {} key and value in one piece, \
         {} not a candidate",
        unreachable[0], unreachable[1], unreachable[2], unreachable[3]
    );
    let _ = writeln!(table, "  {folds}-fold cross-validation, pair F1 by threshold (text matches / boxes match):");
    for (t, s) in &by_threshold {
        let _ = writeln!(table, "    {t:.2}  {:.3} / {:.3}", s.text.f1(), s.boxes.f1());
    }
    let _ = writeln!(table, "  threshold {threshold:.2} (best cross-validated F1)");
    for (name, s) in [("cross-validated", &best), ("fitted on all, in-sample", &fitted)] {
        let _ = writeln!(table, "  {name}: {}", s.line());
        for l in s.bands.lines() {
            let _ = writeln!(table, "      {l}");
        }
    }
    print!("{table}");
    println!("weights: {}", out.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Default)]
struct Scores {
    text: Tally,
    boxes: Tally,
    bands: Bands,
}

impl Scores {
    fn line(&self) -> String {
        let p = |t: &Tally| t.correct as f64 / t.predicted.max(1) as f64;
        format!(
            "pair F1 {:.3} (precision {:.3}, recall {:.3}; {} of {} found, {} given); boxes match F1 {:.3}",
            self.text.f1(),
            p(&self.text),
            self.text.accuracy(),
            self.text.correct,
            self.text.expected,
            self.text.predicted,
            self.boxes.f1()
        )
    }

    fn json(&self) -> serde_json::Value {
        json!({"f1": self.text.f1(), "found": self.text.correct, "given": self.text.predicted,
               "gold": self.text.expected, "boxes_f1": self.boxes.f1(), "bands": self.bands.json()})
    }
}

/// A form's chances under one model, one list per key candidate.
type Chances = Vec<Vec<f32>>;

fn chances(f: &Form, model: &Logistic) -> Chances {
    f.cands.iter().map(|c| model.choice(&c.features)).collect()
}

/// The model fitted on the forms `train` names: the conditional logit, then its trees.
fn fit(forms: &[Form], train: &[usize], boosting: Boosting) -> Logistic {
    let groups: Vec<Group> = train
        .iter()
        .flat_map(|&i| {
            let f = &forms[i];
            f.cands.iter().map(|c| {
                let heads = f.truth.get(&c.key);
                c.values
                    .iter()
                    .zip(&c.features)
                    .map(|(v, x)| (x.clone(), heads.is_some_and(|h| h.contains(v))))
                    .collect()
            })
        })
        .collect();
    boost_choice(&groups, fit_choice(&groups), boosting)
}

/// Every form decoded from its chances as the product decodes them, and scored.
fn score(forms: &[Form], chances: &[Chances], threshold: f32) -> Scores {
    let mut s = Scores::default();
    for (f, c) in forms.iter().zip(chances) {
        let found: Vec<KeyValue> = pairs::decode(&f.pieces, &f.cands, c, threshold);
        let (text, boxes) = score_pairs(&found.iter().collect::<Vec<_>>(), &f.gold, &mut s.bands);
        s.text.add(&text);
        s.boxes.add(&boxes);
    }
    s
}

fn load(lib: &mut Library, sets: &[PathBuf]) -> Result<Vec<Form>> {
    let mut forms = Vec::new();
    for dir in sets {
        if !dir.join("kv.json").is_file() {
            eprintln!("{}: no kv.json (key-value links); skipped", dir.display());
            continue;
        }
        let gt = read_json(&dir.join("kv.json"))?;
        for (file, links) in gt["pages"].as_object().into_iter().flatten() {
            let read = match read_image_page(lib, &dir.join("images").join(file)) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{}/{file}: {e}; skipped", set_name(dir));
                    continue;
                }
            };
            let gold = gold_pairs(links, read.pixels_per_point);
            let pieces = pieces::pieces(&read.page);
            let cands = pairs::candidates(&read.page, &pieces);
            let (truth, mut unreachable) = truth(&pieces, &gold);
            let reachable =
                truth.iter().map(|(k, heads)| heads.iter().filter(|h| cands[*k].values.contains(h)).count()).sum();
            unreachable[3] = gold.len() - reachable - unreachable[..3].iter().sum::<usize>();
            forms.push(Form { file: file.clone(), pieces, cands, gold, truth, reachable, unreachable });
        }
    }
    Ok(forms)
}

/// Each gold pair's key piece (the one of its pieces nearest the value) and value head (its
/// first piece): the piece that must choose, and the piece it must choose.
/// Also how many gold pairs have no value piece, no key piece, or one piece for both.
fn truth(pieces: &[Piece], gold: &[GoldPair]) -> (HashMap<usize, Vec<usize>>, [usize; 4]) {
    let mut unreachable = [0; 4];
    let inside = |b: &pagewise_engine::BBox| -> Vec<usize> {
        let grown = b.grow(2.0);
        (0..pieces.len()).filter(|&i| mostly_inside(&pieces[i].bbox, &grown)).collect()
    };
    let mut truth: HashMap<usize, Vec<usize>> = HashMap::new();
    for g in gold {
        let values = inside(&g.value_bbox);
        let Some(&head) = values.iter().min_by(|&&a, &&b| {
            (pieces[a].bbox.y0, pieces[a].bbox.x0).partial_cmp(&(pieces[b].bbox.y0, pieces[b].bbox.x0)).expect("finite")
        }) else {
            let merged = (0..pieces.len()).any(|i| {
                pieces[i].bbox.grow(2.0).overlap_area(&g.key_bbox) > 0.5 * g.key_bbox.area()
                    && pieces[i].bbox.grow(2.0).overlap_area(&g.value_bbox) > 0.5 * g.value_bbox.area()
            });
            unreachable[if merged { 2 } else { 0 }] += 1;
            continue;
        };
        let hb = pieces[head].bbox;
        let distance = |i: &usize| {
            let b = pieces[*i].bbox;
            (hb.x0 - b.x1).max(0.0) + (hb.y0 - b.y1).max(0.0) + (hb.y0 - b.y0).abs() * 0.1
        };
        let keys: Vec<usize> = inside(&g.key_bbox).into_iter().filter(|k| !values.contains(k)).collect();
        match keys.iter().min_by(|a, b| distance(a).total_cmp(&distance(b))) {
            Some(key) => truth.entry(*key).or_default().push(head),
            None if values
                .iter()
                .any(|&v| pieces[v].bbox.grow(2.0).overlap_area(&g.key_bbox) > 0.5 * g.key_bbox.area()) =>
            {
                unreachable[2] += 1
            }
            None => unreachable[1] += 1,
        }
    }
    (truth, unreachable)
}
