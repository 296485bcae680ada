//! Form sets (`kv.json`): each form image imported and analysed as a user's would be, and its
//! key-values scored against the annotated question → answer links by pair F1. A gold pair
//! counts when one predicted pair's key and value both match it after normalisation (case,
//! spaces and punctuation ignored); beside it, the pairs whose boxes match (the linking right,
//! whatever the reader made of the letters), and accuracy per confidence band.

use std::fmt::Write;
use std::path::Path;

use pagewise_engine::{BBox, KeyValue, Label, LayoutMode, Library, Page, PageLayout, Result};
use serde_json::{json, Value};

use super::field_sets::{Bands, Tally};
use super::ocr_sets::{photo_box, read_image_page};
use super::sets::{read_json, set_name, Report};

/// An annotated link, its boxes in page points.
#[derive(Debug, Clone)]
pub struct GoldPair {
    pub key: String,
    pub value: String,
    pub key_bbox: BBox,
    pub value_bbox: BBox,
}

/// The links of each image of a `kv.json`, boxes scaled from pixels to page points.
pub fn gold_pairs(links: &Value, pixels_per_point: f32) -> Vec<GoldPair> {
    let bbox = |v: &Value| -> Option<BBox> {
        let c: Vec<f32> =
            v.as_array()?.iter().filter_map(|x| x.as_f64()).map(|x| x as f32 / pixels_per_point).collect();
        (c.len() == 4).then(|| BBox::new(c[0], c[1], c[2], c[3]))
    };
    links
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some(GoldPair {
                key: l["key"].as_str()?.to_string(),
                value: l["value"].as_str()?.to_string(),
                key_bbox: bbox(&l["key_bbox"])?,
                value_bbox: bbox(&l["value_bbox"])?,
            })
        })
        .collect()
}

/// Text as compared: lower case, letters and digits only.
pub fn normalise(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Does most of `inner` lie inside `outer`?
pub fn mostly_inside(inner: &BBox, outer: &BBox) -> bool {
    inner.overlap_area(outer) >= 0.5 * inner.area().max(1e-3)
}

/// Boxes that are the same thing: each mostly covers the other.
fn same_box(a: &BBox, b: &BBox) -> bool {
    let o = a.overlap_area(b);
    o >= 0.5 * a.area().max(1e-3) && o >= 0.5 * b.area().max(1e-3)
}

/// Pair F1 tallies of one page: by text and by boxes; each gold pair matched once. Each
/// prediction's confidence goes into `bands` with whether its text matched.
pub fn score_pairs(predicted: &[&KeyValue], gold: &[GoldPair], bands: &mut Bands) -> (Tally, Tally) {
    let (mut by_text, mut by_box) = (vec![false; gold.len()], vec![false; gold.len()]);
    for p in predicted {
        let (k, v) = (normalise(&p.key), normalise(&p.value));
        let hit =
            (0..gold.len()).find(|&g| !by_text[g] && normalise(&gold[g].key) == k && normalise(&gold[g].value) == v);
        if let Some(g) = hit {
            by_text[g] = true;
        }
        bands.add(p.confidence, hit.is_some());
        let placed = (0..gold.len()).find(|&g| {
            !by_box[g] && same_box(&p.key_bbox, &gold[g].key_bbox) && same_box(&p.value_bbox, &gold[g].value_bbox)
        });
        if let Some(g) = placed {
            by_box[g] = true;
        }
    }
    let tally = |hits: &[bool]| Tally {
        expected: gold.len(),
        predicted: predicted.len(),
        correct: hits.iter().filter(|&&h| h).count(),
    };
    (tally(&by_text), tally(&by_box))
}

pub fn key_values(lib: &mut Library, dir: &Path, mode: LayoutMode) -> Result<Report> {
    let gt = read_json(&dir.join("kv.json"))?;
    let pages = gt["pages"].as_object().cloned().unwrap_or_default();
    let (mut by_text, mut by_box, mut bands) = (Tally::default(), Tally::default(), Bands::default());
    let mut placed = Placed::default();
    let mut failed = Vec::new();
    let mut misses: Vec<String> = Vec::new();
    for (file, links) in &pages {
        let read = match read_image_page(lib, &dir.join("images").join(file)) {
            Ok(r) => r,
            Err(e) => {
                failed.push(format!("{file}: {e}"));
                continue;
            }
        };
        let mut layout = match lib.page_layout(&read.id, 1, mode) {
            Ok(l) => l,
            Err(e) => {
                failed.push(format!("{file}: {e}"));
                continue;
            }
        };
        // A page straightened from a photo: its layout in the photo's frame, as its words are.
        if let Some(in_photo) = photo_box(&read.page) {
            layout.regions.iter_mut().for_each(|r| r.bbox = in_photo(r.bbox));
            for p in layout.pairs.iter_mut().chain(layout.regions.iter_mut().filter_map(|r| r.pair.as_mut())) {
                (p.key_bbox, p.value_bbox) = (in_photo(p.key_bbox), in_photo(p.value_bbox));
            }
        }
        let gold = gold_pairs(links, read.pixels_per_point);
        placed.add(&read.page, &layout, &gold);
        let predicted: Vec<&KeyValue> = layout.key_values().collect();
        let (t, b) = score_pairs(&predicted, &gold, &mut bands);
        by_text.add(&t);
        by_box.add(&b);
        if misses.len() < 12 {
            if let Some(g) = gold.iter().find(|g| !predicted.iter().any(|p| normalise(&p.key) == normalise(&g.key))) {
                misses.push(format!("{file}: no pair for key {:?} (value {:?})", g.key, g.value));
            }
        }
    }
    let precision = |t: &Tally| t.correct as f64 / t.predicted.max(1) as f64;
    let mut table = format!(
        "{} — {} forms, {} annotated key-values (layout mode {mode:?})\n",
        set_name(dir),
        pages.len(),
        by_text.expected
    );
    for (name, t) in [("text matches", &by_text), ("boxes match", &by_box)] {
        let _ = writeln!(
            table,
            "  pair F1 ({name}): {:.3}  precision {:.3}  recall {:.3}  ({} of {} found, {} given)",
            t.f1(),
            precision(t),
            t.accuracy(),
            t.correct,
            t.expected,
            t.predicted
        );
    }
    let _ = writeln!(table, "  {}", placed.line());
    let _ = writeln!(table, "  pairs given, by confidence (text right / given):");
    for line in bands.lines() {
        let _ = writeln!(table, "    {line}");
    }
    for m in &misses {
        let _ = writeln!(table, "    {m}");
    }
    for f in &failed {
        let _ = writeln!(table, "  not scored: {f}");
    }
    let figures = |t: &Tally| {
        json!({"f1": t.f1(), "precision": precision(t), "recall": t.accuracy(),
               "found": t.correct, "gold": t.expected, "given": t.predicted})
    };
    let json = json!({
        "set": set_name(dir),
        "kind": "key-values",
        "forms": pages.len(),
        "by_text": figures(&by_text),
        "by_box": figures(&by_box),
        "bands": bands.json(),
        "annotated_words": placed.json(),
        "failed": failed,
    });
    Ok(Report { table, json })
}

/// Where the words of the annotated keys and answers went in the layout: the measure
/// that a scanned form is read as text, not called a picture.
#[derive(Debug, Default)]
struct Placed {
    text: usize,
    picture: usize,
    nowhere: usize,
}

impl Placed {
    /// Words whose centre lies in a gold key or answer box, each counted once.
    fn add(&mut self, page: &Page, layout: &PageLayout, gold: &[GoldPair]) {
        let mut label = vec![None; page.words.len()];
        for r in &layout.regions {
            for &w in &r.words {
                label[w as usize] = Some(r.label);
            }
        }
        for (w, word) in page.words.iter().enumerate() {
            let c = word.bbox.center();
            if !gold.iter().any(|g| g.key_bbox.contains_point(c) || g.value_bbox.contains_point(c)) {
                continue;
            }
            match label[w] {
                Some(Label::Picture) => self.picture += 1,
                Some(_) => self.text += 1,
                None => self.nowhere += 1,
            }
        }
    }

    fn total(&self) -> usize {
        (self.text + self.picture + self.nowhere).max(1)
    }

    fn line(&self) -> String {
        let share = |n: usize| 100.0 * n as f64 / self.total() as f64;
        format!(
            "annotated key and answer words in text regions (any label but picture): {:.1} % \
             (in a picture {:.1} %, in no region {:.1} %; {} words)",
            share(self.text),
            share(self.picture),
            share(self.nowhere),
            self.text + self.picture + self.nowhere
        )
    }

    fn json(&self) -> Value {
        json!({"in_text": self.text, "in_picture": self.picture, "in_no_region": self.nowhere,
               "share_in_text": self.text as f64 / self.total() as f64})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: &str, kb: [f32; 4], vb: [f32; 4]) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
            key_bbox: BBox::new(kb[0], kb[1], kb[2], kb[3]),
            value_bbox: BBox::new(vb[0], vb[1], vb[2], vb[3]),
            confidence: 0.95,
        }
    }

    #[test]
    fn a_pair_counts_once_when_key_and_value_match_after_normalisation() {
        let gold = gold_pairs(
            &json!([
                {"key": "Date:", "value": "5/6/93", "key_bbox": [0, 0, 20, 10], "value_bbox": [30, 0, 60, 10]},
                {"key": "Name", "value": "J. Smith", "key_bbox": [0, 20, 20, 30], "value_bbox": [30, 20, 60, 30]},
            ]),
            1.0,
        );
        let right = kv("date", "5 / 6 / 93", [0.0, 0.0, 20.0, 10.0], [30.0, 0.0, 60.0, 10.0]);
        let twice = right.clone();
        let key_only = kv("Name", "Name", [0.0, 20.0, 20.0, 30.0], [0.0, 20.0, 20.0, 30.0]);
        let mut bands = Bands::default();
        let (text, boxes) = score_pairs(&[&right, &twice, &key_only], &gold, &mut bands);
        assert_eq!((text.expected, text.predicted, text.correct), (2, 3, 1));
        assert_eq!(boxes.correct, 1);
        assert_eq!(bands.counts[4], (3, 1), "all three in the top band");
    }
}
