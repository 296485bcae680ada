//! `pagewise-dev gen-invoices OUT`: a training set of made-up digital invoices, laid out like the
//! evaluation sets (`OUT/docs/*.pdf`, `OUT/fields.json`), for fitting the ranking of invoice
//! fields (`fit-ranker`): no labelled real invoices could be had beyond the 8 dev ones, which are
//! kept for checking only. Each invoice is drawn at random — six languages, number and date
//! styles, currencies, the seller's letterhead or logo, the buyer's block and where goods go,
//! details as rows or columns, items over several pages, subtotal, shipping, tax, total, amounts
//! paid, bank details and VAT numbers in the footer — from `--seed` and its own index, so the same
//! command writes the same files, and a larger `--count` keeps the first ones.
//!
//! `pagewise-dev gen-statements OUT`: made-up report pages with income statements and questions
//! about their revenue per period (`OUT/docs/*.pdf`, `OUT/qa.json`, as the revenue tables' dev
//! set): a check of reading figures by row and column on pages no method was shaped on.

mod invoice;
mod layout;
mod statement;
mod words;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use pagewise_engine::{Error, Result};
use pagewise_testkit::PdfBuilder;
use serde_json::{json, Map, Value};

#[derive(Args)]
pub struct GenArgs {
    /// Folder to write (docs/, and fields.json or qa.json)
    out: PathBuf,
    /// How many documents
    #[arg(long, default_value_t = 400)]
    count: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn run(json: bool, args: GenArgs) -> Result<ExitCode> {
    let docs = args.out.join("docs");
    std::fs::create_dir_all(&docs).map_err(|e| io(&docs, e))?;
    let mut truth = Map::new();
    let mut pages = 0;
    for i in 0..args.count {
        let (file, bytes, record, n) = invoice_file(args.seed, i);
        let path = docs.join(&file);
        std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
        truth.insert(file, record);
        pages += n;
    }
    let source = format!(
        "# Made-up invoices for training\n\nWritten by `pagewise-dev gen-invoices {} --count {} --seed {}`: \
         every company, person, number and amount is invented. `fields.json` holds what each \
         invoice prints (null where it prints no such field) and its `language`.\n",
        args.out.display(),
        args.count,
        args.seed
    );
    write_set(&args.out, "fields.json", &Value::Object(truth), &source)?;
    if json {
        println!("{}", json!({ "out": args.out, "invoices": args.count, "pages": pages }));
    } else {
        println!("{} invoices ({pages} pages) in {}", args.count, args.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_statements(json: bool, args: GenArgs) -> Result<ExitCode> {
    let docs = args.out.join("docs");
    std::fs::create_dir_all(&docs).map_err(|e| io(&docs, e))?;
    let mut qa = Vec::new();
    for i in 0..args.count {
        let mut rng = Rng::for_item(args.seed, i);
        let (page, questions) = statement::page(&mut rng);
        let file = format!("statement-{i:04}.pdf");
        let path = docs.join(&file);
        std::fs::write(&path, PdfBuilder::new().page(page).build()).map_err(|e| io(&path, e))?;
        for mut q in questions {
            q["file"] = json!(file);
            qa.push(q);
        }
    }
    let source = format!(
        "# Made-up report pages for checking table reading\n\nWritten by `pagewise-dev gen-statements {} \
         --count {} --seed {}`: every company and figure is invented. `qa.json` asks for the revenue of \
         each period a page's table shows.\n",
        args.out.display(),
        args.count,
        args.seed
    );
    let questions = qa.len();
    write_set(&args.out, "qa.json", &Value::Array(qa), &source)?;
    if json {
        println!("{}", json!({ "out": args.out, "pages": args.count, "questions": questions }));
    } else {
        println!("{} pages, {questions} questions in {}", args.count, args.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The `i`-th invoice of a seed: its file name, PDF, ground truth and page count.
fn invoice_file(seed: u64, i: usize) -> (String, Vec<u8>, Value, usize) {
    let mut rng = Rng::for_item(seed, i);
    let inv = invoice::Invoice::random(&mut rng);
    let pages = layout::draw(&inv, &mut rng);
    let n = pages.len();
    let pdf = pages.into_iter().fold(PdfBuilder::new(), PdfBuilder::page).build();
    (format!("invoice-{i:04}-{}.pdf", inv.lang.code), pdf, inv.truth(), n)
}

/// A set's ground truth (`fields.json` or `qa.json`) and its `SOURCE.md`.
fn write_set(out: &Path, file: &str, truth: &Value, source: &str) -> Result<()> {
    let path = out.join(file);
    let text = serde_json::to_string_pretty(truth).expect("json") + "\n";
    std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    let path = out.join("SOURCE.md");
    std::fs::write(&path, source).map_err(|e| io(&path, e))
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source }
}

/// A small deterministic generator (SplitMix64): the same seed draws the same invoices on every
/// machine and Rust version.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// The generator of the `i`-th document of a seed (each document its own stream, so a
    /// larger count keeps the first documents).
    pub fn for_item(seed: u64, i: usize) -> Rng {
        Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(i as u64))
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// One of some words.
    pub fn word(&mut self, words: &[&'static str]) -> &'static str {
        *self.pick(words)
    }
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for k in (1..items.len()).rev() {
            items.swap(k, self.below(k + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_invoice() {
        assert_eq!(invoice_file(3, 7).1, invoice_file(3, 7).1);
        assert_ne!(invoice_file(3, 7).1, invoice_file(3, 8).1);
    }

    /// What the ground truth says is printed on the invoice, as it prints it.
    #[test]
    fn every_field_the_truth_gives_is_printed() {
        for i in 0..200 {
            let mut rng = Rng::for_item(11, i as usize);
            let inv = invoice::Invoice::random(&mut rng);
            let pages = layout::draw(&inv, &mut rng);
            let printed: Vec<String> = pages.iter().flat_map(|p| p.texts.iter().map(|t| t.text.clone())).collect();
            let has = |s: &str| printed.iter().any(|t| t.contains(s));
            let truth = inv.truth();
            assert!(has(&inv.seller.name), "{i}: vendor");
            assert!(has(&inv.number), "{i}: number");
            assert!(has(&inv.date_text(inv.date)), "{i}: date");
            if let Some(d) = inv.due {
                assert!(has(&inv.date_text(d)), "{i}: due date");
            }
            assert!(has(&inv.amount(inv.total(), true)), "{i}: total");
            if truth["subtotal"].is_number() {
                assert!(has(&inv.amount(inv.subtotal(), true)), "{i}: subtotal");
            }
            if truth["tax"].is_number() {
                assert!(has(&inv.amount(inv.tax(), true)), "{i}: tax");
            }
            let currency = inv.currency;
            assert!(printed.iter().any(|t| t.contains(currency.code) || t.contains(currency.symbol)), "{i}: currency");
        }
    }
}
