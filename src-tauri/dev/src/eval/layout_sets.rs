//! Layout sets: DocBank (PDF pages, every token labelled) scores the geometric analyzer's labels
//! per token and its reading order; PubLayNet (page images, region boxes) scores the layout of
//! pages read from pixels (the detector fused with the OCR lines, or either alone).

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use pagewise_engine::layout::analyze::words_to_regions;
use pagewise_engine::{BBox, Label, LayoutMode, Library, Page, PageLayout, Region, RegionSource, Result};
use serde_json::{json, Value};

use super::metrics::{average_precision, kendall_tau, ImageBoxes, LabelCounts};
use super::sets::{import, set_name, Report};
use crate::bench::measure::run_reference;

/// DocBank labels Pagewise can express; abstract, author, date and reference cannot be.
const DOCBANK_SCORED: [&str; 9] =
    ["paragraph", "title", "section", "caption", "footer", "list", "table", "figure", "equation"];

/// Our labels in DocBank's terms. DocBank has no page-header class (running heads are labelled
/// paragraph there) and no key-value class.
fn docbank_label(l: Label) -> &'static str {
    match l {
        Label::Text | Label::PageHeader | Label::KeyValue => "paragraph",
        Label::Title => "title",
        Label::SectionHeader => "section",
        Label::Caption => "caption",
        Label::PageFooter | Label::Footnote => "footer",
        Label::ListItem => "list",
        Label::Table => "table",
        Label::Picture => "figure",
        Label::Formula => "equation",
    }
}

/// Our labels in PubLayNet's terms (captions and footnotes are text there; running heads,
/// footers and formulas are not annotated).
fn publaynet_label(l: Label) -> Option<&'static str> {
    Some(match l {
        Label::Text | Label::Caption | Label::Footnote | Label::KeyValue => "text",
        Label::Title | Label::SectionHeader => "title",
        Label::ListItem => "list",
        Label::Table => "table",
        Label::Picture => "figure",
        Label::PageHeader | Label::PageFooter | Label::Formula => return None,
    })
}

/// A DocBank page as read, for the reference: sample, PDF, page index from 0, the page, its tokens.
type ReadPage = (String, PathBuf, u32, Page, Vec<Value>);

/// Token labels and reading ranks of one analyzer over the DocBank pages.
#[derive(Default)]
struct DocbankScores {
    counts: LabelCounts,
    /// (sample, tau, two columns, reference order usable)
    taus: Vec<(String, f64, bool, bool)>,
}

impl DocbankScores {
    fn add(&mut self, sample: &str, page: &Page, layout: &PageLayout, tokens: &[Value]) {
        let (page_counts, ranks, columns) = score_docbank_page(page, layout, tokens);
        for (e, pred) in page_counts {
            self.counts.add(&e, pred.as_deref());
        }
        self.taus.push((sample.to_string(), kendall_tau(&ranks), columns.two_column, !columns.interleaved));
    }

    /// Mean tau over the pages whose reference is a reading order: all, single-column,
    /// two-column; and over every page.
    fn tau_means(&self) -> (f64, f64, f64, f64) {
        let mean = |v: Vec<f64>| if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
        let usable: Vec<&(String, f64, bool, bool)> = self.taus.iter().filter(|t| t.3).collect();
        (
            mean(usable.iter().map(|t| t.1).collect()),
            mean(usable.iter().filter(|t| !t.2).map(|t| t.1).collect()),
            mean(usable.iter().filter(|t| t.2).map(|t| t.1).collect()),
            mean(self.taus.iter().map(|t| t.1).collect()),
        )
    }
}

/// DocBank pages scored by token labels and reading order; with `beside_pymupdf`, PyMuPDF's
/// layout on the same pages scored by the same rule, side by side.
pub fn docbank(lib: &mut Library, dir: &Path, gt: &Value, mode: LayoutMode, beside_pymupdf: bool) -> Result<Report> {
    let mut ours = DocbankScores::default();
    let mut failed = 0;
    let mut read: Vec<ReadPage> = Vec::new();
    let pages = gt["pages"].as_object().cloned().unwrap_or_default();
    for (sample, p) in &pages {
        let pdf = dir.join(p["pdf"].as_str().unwrap_or_default());
        let page_no = p["page_index0"].as_u64().unwrap_or(0) as u32 + 1;
        let id = import(lib, &pdf)?;
        let layouts = lib.document_layout(&id, mode)?;
        let (Some(layout), Ok(page)) = (layouts.iter().find(|l| l.page == page_no), lib.page(&id, page_no)) else {
            eprintln!("{sample}: page {page_no} missing");
            continue;
        };
        if let Some(e) = &layout.error {
            eprintln!("{sample}: page {page_no} could not be analysed: {}", e.message);
            failed += 1;
        }
        let tokens = p["tokens"].as_array().cloned().unwrap_or_default();
        ours.add(sample, &page, layout, &tokens);
        read.push((sample.clone(), pdf, page_no - 1, page, tokens));
    }
    let reference = if beside_pymupdf { pymupdf_scores(&read) } else { None };
    let mut table =
        format!("{} — {} pages, token labels (DocBank), layout mode {}\n", set_name(dir), pages.len(), mode.as_str());
    let theirs_head =
        if reference.is_some() { format!(" {:>27}", "PyMuPDF layout: P / R / F1") } else { String::new() };
    let _ = writeln!(
        table,
        "  {:<10} {:>9} {:>7} {:>6} {:>7}{theirs_head}",
        "label", "precision", "recall", "F1", "tokens"
    );
    let scores = ours.counts.scores();
    let theirs = reference.as_ref().map(|(r, _)| r.counts.scores()).unwrap_or_default();
    for (l, p, r, f, n) in scores.iter().filter(|s| s.4 > 0) {
        let beside = match theirs.iter().find(|t| &t.0 == l) {
            Some((_, tp, tr, tf, _)) => format!(" {tp:>11.3} / {tr:.3} / {tf:.3}"),
            None if reference.is_some() => format!(" {:>27}", "-"),
            None => String::new(),
        };
        let _ = writeln!(table, "  {l:<10} {p:>9.3} {r:>7.3} {f:>6.3} {n:>7}{beside}");
    }
    let macro_f1 = ours.counts.macro_f1();
    let (tau_all, tau_one, tau_two, tau_every) = ours.tau_means();
    let usable = ours.taus.iter().filter(|t| t.3).count();
    let _ = writeln!(table, "  macro F1 over the labels present: {macro_f1:.3}");
    if failed > 0 {
        let _ = writeln!(table, "  {failed} pages could not be analysed (see above); their tokens count as missed");
    }
    let _ = writeln!(
        table,
        "  reading order, Kendall tau against DocBank's token order: mean {tau_all:.3} \
         ({} single-column pages {tau_one:.3}, {} two-column pages {tau_two:.3})",
        ours.taus.iter().filter(|t| t.3 && !t.2).count(),
        ours.taus.iter().filter(|t| t.3 && t.2).count()
    );
    let _ = writeln!(
        table,
        "    {} pages left out, where the reference order runs across both columns line by line; \
         over every page: {tau_every:.3}",
        ours.taus.len() - usable
    );
    let mut reference_json = Value::Null;
    if let Some((r, (version, seconds))) = &reference {
        let (r_all, _, _, r_every) = r.tau_means();
        let _ = writeln!(
            table,
            "  PyMuPDF layout {version} (pymupdf4llm, measured only) on the same pages: macro F1 {:.3}, tau {r_all:.3} \
             (every page {r_every:.3}); {:.0} ms a page",
            r.counts.macro_f1(),
            1000.0 * seconds / read.len().max(1) as f64
        );
        reference_json = json!({"tool": "pymupdf4llm", "version": version, "macro_f1": r.counts.macro_f1(),
            "tau_mean": r_all, "tau_every_page": r_every, "seconds": seconds, "labels": label_json(&r.counts)});
    }
    let tau_pages: Vec<_> = ours
        .taus
        .iter()
        .map(|(s, t, two, ok)| json!({"page": s, "tau": t, "two_column": two, "reference_usable": ok}))
        .collect();
    let json = json!({
        "set": set_name(dir), "kind": "docbank", "mode": mode, "pages": pages.len(),
        "failed": failed, "macro_f1": macro_f1,
        "labels": label_json(&ours.counts),
        "confusion": ours.counts.confusion,
        "tau_mean": tau_all, "tau_single_column": tau_one, "tau_two_column": tau_two,
        "tau_every_page": tau_every,
        "tau_pages": tau_pages,
        "pymupdf": reference_json,
    });
    Ok(Report { table, json })
}

fn label_json(counts: &LabelCounts) -> Vec<Value> {
    counts
        .scores()
        .iter()
        .map(|(l, p, r, f, n)| json!({"label": l, "precision": p, "recall": r, "f1": f, "tokens": n}))
        .collect()
}

/// PyMuPDF's layout of the pages read, scored like ours: its boxes become regions (its
/// classes are DocLayNet's, as ours; one it has that we lack counts as text), each word in the
/// smallest box holding its centre, the regions in its order, the words of each in the page's
/// reading order (as ours: the words' order inside a region is neither's to claim). Returns
/// the scores, its version and its seconds over all pages.
fn pymupdf_scores(read: &[ReadPage]) -> Option<(DocbankScores, (String, f64))> {
    let args: Vec<std::ffi::OsString> =
        read.iter().map(|(_, pdf, index, _, _)| format!("{}:{index}", pdf.display()).into()).collect();
    let out = run_reference(".venv-pymupdf", "scripts/pymupdf_layout.py", &args)
        .map_err(|e| eprintln!("PyMuPDF's layout not measured: {e}"))
        .ok()?;
    let mut scores = DocbankScores::default();
    let mut seconds = 0.0;
    for ((sample, _, _, page, tokens), arg) in read.iter().zip(&args) {
        let got = &out["pages"][arg.to_string_lossy().as_ref()];
        seconds += got["seconds"].as_f64().unwrap_or(0.0);
        let mut regions: Vec<Region> = got["boxes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| {
                let c: Vec<f32> = b["bbox"].as_array()?.iter().filter_map(|v| v.as_f64()).map(|v| v as f32).collect();
                let bbox = BBox::new(*c.first()?, *c.get(1)?, *c.get(2)?, *c.get(3)?);
                let label = Label::ALL
                    .into_iter()
                    .find(|l| l.as_str().eq_ignore_ascii_case(b["class"].as_str().unwrap_or_default()))
                    .unwrap_or(Label::Text);
                Some(Region::new(label, bbox, vec![], String::new(), 1.0, RegionSource::Detector))
            })
            .collect();
        words_to_regions(page, &mut regions);
        let layout =
            PageLayout { page: page.page, width: page.width, height: page.height, regions, pairs: vec![], error: None };
        scores.add(sample, page, &layout, tokens);
    }
    Some((scores, (out["version"].as_str().unwrap_or("?").to_string(), seconds)))
}

/// Per scored token: its DocBank label and ours. Also the reading rank of each matched token
/// (in DocBank's order) and whether the page is set in two columns.
fn score_docbank_page(
    page: &Page,
    layout: &PageLayout,
    tokens: &[Value],
) -> (Vec<(String, Option<String>)>, Vec<usize>, ReferenceColumns) {
    let mut region_of = vec![None; page.words.len()];
    let mut rank = vec![usize::MAX; page.words.len()];
    let mut k = 0;
    for r in &layout.regions {
        for &w in &r.words {
            region_of[w as usize] = Some(r.label);
            rank[w as usize] = k;
            k += 1;
        }
    }
    let (sx, sy) = (page.width / 1000.0, page.height / 1000.0);
    let token_box = |t: &Value| {
        let v = |i: usize| t[i].as_f64().unwrap_or(0.0) as f32;
        BBox::new(v(1) * sx, v(2) * sy, v(3) * sx, v(4) * sy)
    };
    // DocBank puts "figure" on a placeholder token (##LTFigure##) covering the figure, and
    // leaves the words drawn inside it "paragraph": they count as the figure's.
    let figures: Vec<BBox> = tokens.iter().filter(|t| t[0] == "##LTFigure##").map(token_box).collect();
    let mut labels = Vec::new();
    let mut ranks = Vec::new();

    for t in tokens {
        let b = token_box(t);
        let centre = ((b.x0 + b.x1) / 2.0, (b.y0 + b.y1) / 2.0);
        let in_figure = figures.iter().any(|f| f.contains_point(centre));
        let label = if in_figure { "figure" } else { t[5].as_str().unwrap_or_default() };
        let region_at = || {
            layout
                .regions
                .iter()
                .filter(|r| r.bbox.contains_point(centre))
                .min_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
                .map(|r| r.label)
        };
        // Other placeholders (##LTLine##, ...) are strokes of drawings, not text: not scored.
        let token = t[0].as_str().unwrap_or_default();
        if token.starts_with("##LT") && token != "##LTFigure##" {
            continue;
        }
        let placeholder = token == "##LTFigure##";
        let word = if placeholder { None } else { nearest_word(page, centre) };
        let predicted = word.and_then(|w| region_of[w]).or_else(region_at).map(docbank_label);
        if DOCBANK_SCORED.contains(&label) {
            labels.push((label.to_string(), predicted.map(str::to_string)));
        }
        if let Some(w) = word.filter(|&w| rank[w] != usize::MAX) {
            ranks.push(rank[w]);
        }
    }
    (labels, ranks, reference_columns(tokens))
}

/// How the reference order runs: the page's token lines (consecutive tokens on one baseline)
/// sit in the left half, the right half, or across. Two columns when both halves hold a fifth
/// of the lines; and the order reads column by column unless it jumps between the halves
/// more than a few times (DocBank's order is the PDF's extraction order, which on some pages
/// runs across both columns line by line).
pub struct ReferenceColumns {
    pub two_column: bool,
    pub interleaved: bool,
}

fn reference_columns(tokens: &[Value]) -> ReferenceColumns {
    let mut sides: Vec<u8> = Vec::new(); // 0 left, 1 right, 2 across
    let mut line: Option<(f64, f64, f64)> = None; // (y centre, x0, x1)
    let flush = |l: Option<(f64, f64, f64)>, sides: &mut Vec<u8>| {
        if let Some((_, x0, x1)) = l {
            sides.push(if x1 < 500.0 {
                0
            } else if x0 > 500.0 {
                1
            } else {
                2
            });
        }
    };
    for t in tokens.iter().filter(|t| !t[0].as_str().unwrap_or_default().starts_with("##")) {
        let v = |i: usize| t[i].as_f64().unwrap_or(0.0);
        let y = (v(2) + v(4)) / 2.0;
        match line.as_mut() {
            Some(l) if (l.0 - y).abs() <= 4.0 && v(1) >= l.2 - 2.0 => {
                l.2 = v(3);
            }
            _ => {
                flush(line.take(), &mut sides);
                line = Some((y, v(1), v(3)));
            }
        }
    }
    flush(line, &mut sides);
    let n = sides.len().max(1);
    let count = |s: u8| sides.iter().filter(|&&x| x == s).count();
    let two_column = count(0) * 5 >= n && count(1) * 5 >= n;
    let halves: Vec<u8> = sides.into_iter().filter(|&s| s < 2).collect();
    let jumps = halves.windows(2).filter(|w| w[0] != w[1]).count();
    ReferenceColumns { two_column, interleaved: two_column && jumps > 12 }
}

/// The word whose box holds the point, or the nearest within 3 points.
fn nearest_word(page: &Page, (x, y): (f32, f32)) -> Option<usize> {
    let dist = |i: usize| {
        let b = page.words[i].bbox;
        let dx = (b.x0 - x).max(x - b.x1).max(0.0);
        let dy = (b.y0 - y).max(y - b.y1).max(0.0);
        dx.hypot(dy)
    };
    (0..page.words.len())
        .map(|i| (i, dist(i)))
        .filter(|(_, d)| *d <= 3.0)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

pub fn publaynet(lib: &mut Library, dir: &Path, gt: &Value, mode: LayoutMode) -> Result<Report> {
    let classes = ["text", "title", "list", "table", "figure"];
    let mut per_class: HashMap<&str, Vec<ImageBoxes>> = HashMap::new();
    let pages = gt["pages"].as_object().cloned().unwrap_or_default();
    let mut failed = 0;
    for (file, p) in &pages {
        let id = import(lib, &dir.join("images").join(file))?;
        let layouts = lib.document_layout(&id, mode)?;
        let Some(layout) = layouts.first() else { continue };
        if let Some(e) = &layout.error {
            eprintln!("{file}: {}", e.message);
            failed += 1;
        }
        let scale = p["width"].as_f64().unwrap_or(1.0) as f32 / layout.width.max(1e-3);
        for class in classes {
            let truth = p["blocks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|b| b["label"] == class)
                .map(|b| {
                    let v: Vec<f32> =
                        b["bbox_xyxy"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap_or(0.0) as f32).collect();
                    [v[0], v[1], v[2], v[3]]
                })
                .collect();
            let predicted = layout
                .regions
                .iter()
                .filter(|r| publaynet_label(r.label) == Some(class))
                .map(|r| (r.confidence, [r.bbox.x0 * scale, r.bbox.y0 * scale, r.bbox.x1 * scale, r.bbox.y1 * scale]))
                .collect();
            per_class.entry(class).or_default().push(ImageBoxes { truth, predicted });
        }
    }
    let mut table = format!(
        "{} — {} page images, region boxes (PubLayNet), layout mode {} ({})\n",
        set_name(dir),
        pages.len(),
        mode.as_str(),
        match mode {
            LayoutMode::Auto => "the CDLA detector fused with the OCR lines",
            LayoutMode::Detector => "the CDLA detector alone",
            LayoutMode::Geometric => "the geometric analysis of the OCR lines",
        }
    );
    let _ = writeln!(table, "  {:<7} {:>7} {:>12} {:>6}", "class", "AP@0.5", "AP@.5:.95", "boxes");
    let mut rows = Vec::new();
    for class in classes {
        let images = &per_class[class];
        let n: usize = images.iter().map(|i| i.truth.len()).sum();
        if n == 0 {
            continue;
        }
        let ap50 = average_precision(images, 0.5);
        let ap = (0..10).map(|k| average_precision(images, 0.5 + 0.05 * k as f32)).sum::<f64>() / 10.0;
        let _ = writeln!(table, "  {class:<7} {ap50:>7.3} {ap:>12.3} {n:>6}");
        rows.push((class, ap50, ap, n));
    }
    let map50 = rows.iter().map(|r| r.1).sum::<f64>() / rows.len().max(1) as f64;
    let map = rows.iter().map(|r| r.2).sum::<f64>() / rows.len().max(1) as f64;
    let _ = writeln!(
        table,
        "  mAP@0.5 {map50:.3}   mAP@0.5:0.95 {map:.3}   \
         (over the {} classes present; CDLA has no list class, its reference class stands in)",
        rows.len()
    );
    if failed > 0 {
        let _ = writeln!(table, "  {failed} pages could not be analysed (see above)");
    }
    let per_class: Vec<_> =
        rows.iter().map(|(c, a, b, n)| json!({"class": c, "ap50": a, "ap50_95": b, "boxes": n})).collect();
    let json = json!({
        "set": set_name(dir), "kind": "publaynet", "mode": mode, "pages": pages.len(),
        "map50": map50, "map50_95": map, "failed": failed,
        "classes": per_class,
    });
    Ok(Report { table, json })
}
