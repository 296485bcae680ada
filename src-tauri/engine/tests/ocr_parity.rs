//! Parity of the OCR networks (PP-OCRv6 small det/rec, PP-LCNet orientation) on the candle
//! graph runner with onnxruntime (`scripts/ocr_reference.py` wrote tests/fixtures/ocr/
//! expected.json from the same crops of a page we render from our own demo invoice), of the CTC
//! decoder with the reference's decoding, and of whole pages read by our reader with RapidOCR's
//! pipeline on onnxruntime (expected-pages.json). Skips visibly when the models are not
//! installed (and, for pages from ../shared/eval, when that is absent).

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use pagewise_engine::models;
use pagewise_engine::nn::graph::Graph;
use pagewise_engine::read::ocr::ctc::{decode, Alphabet, Scores};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model(name: &str) -> Option<Graph> {
    // As the front ends do at start-up (each test that runs a network loads one first).
    pagewise_engine::tune_process();
    match models::model_file(name) {
        Ok(path) => Some(Graph::from_onnx(&std::fs::read(path).unwrap()).unwrap()),
        Err(e) => {
            println!("SKIP OCR parity: {e}");
            None
        }
    }
}

/// The crop (top, left, height, width) of the page image, as v / 255.
fn crop(gray: &image::GrayImage, b: &Value) -> (Vec<f32>, usize, usize) {
    let n: Vec<u32> = b.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    let (t, l, h, w) = (n[0], n[1], n[2], n[3]);
    let v = (t..t + h)
        .flat_map(|y| (l..l + w).map(move |x| (y, x)))
        .map(|(y, x)| gray.get_pixel(x, y).0[0] as f32 / 255.0)
        .collect();
    (v, h as usize, w as usize)
}

fn three_channels(planes: [Vec<f32>; 3], h: usize, w: usize) -> Tensor {
    Tensor::from_vec(planes.concat(), (1, 3, h, w), &Device::Cpu).unwrap()
}

#[test]
fn ppocr_networks_match_onnxruntime() {
    let (Some(det), Some(cls), Some(rec)) = (model("ocr-det"), model("ocr-cls"), model("ocr-rec")) else { return };
    let expected: Value =
        serde_json::from_slice(&std::fs::read(repo().join("tests/fixtures/ocr/expected.json")).unwrap()).unwrap();
    let gray = image::open(repo().join("tests/fixtures/detector/invoice-p1.png")).unwrap().to_luma8();

    let line = |b: &Value| {
        let (v, h, w) = crop(&gray, b);
        let n: Vec<f32> = v.iter().map(|x| (x - 0.5) / 0.5).collect();
        (three_channels([n.clone(), n.clone(), n], h, w), h, w)
    };
    let (input, h, w) = line(&expected["crops"]["det"]);
    let prob = det.run(input).unwrap().remove(0).flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let e = &expected["det"];
    let frac = prob.iter().filter(|&&p| p > 0.3).count() as f64 / prob.len() as f64;
    assert!((frac - e["above_0_3"].as_f64().unwrap()).abs() < 1e-3, "text pixels {frac} vs {}", e["above_0_3"]);
    let (bh, bw) = (h / 8, w / 8);
    for (gy, row) in e["grid8"].as_array().unwrap().iter().enumerate() {
        for (gx, want) in row.as_array().unwrap().iter().enumerate() {
            let sum: f32 =
                (0..bh).flat_map(|y| (0..bw).map(move |x| (gy * bh + y) * w + gx * bw + x)).map(|i| prob[i]).sum();
            let got = sum / (bh * bw) as f32;
            assert!((got as f64 - want.as_f64().unwrap()).abs() < 2e-3, "det block ({gy}, {gx}): {got} vs {want}");
        }
    }

    let c =
        cls.run(line(&expected["crops"]["cls"]).0).unwrap().remove(0).flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for (got, want) in c.iter().zip(expected["cls"].as_array().unwrap()) {
        assert!((*got as f64 - want.as_f64().unwrap()).abs() < 1e-4, "cls {c:?} vs {}", expected["cls"]);
    }

    let r = rec.run(line(&expected["crops"]["rec"]).0).unwrap().remove(0);
    let (_, steps, classes) = r.dims3().unwrap();
    let probs = r.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let e = &expected["rec"];
    for (t, (k, m)) in e["argmax"].as_array().unwrap().iter().zip(e["max"].as_array().unwrap()).enumerate() {
        let row = &probs[t * classes..(t + 1) * classes];
        let (best, p) = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap();
        assert_eq!(best as u64, k.as_u64().unwrap(), "rec step {t}");
        assert!((*p as f64 - m.as_f64().unwrap()).abs() < 1e-3, "rec step {t}: {p} vs {m}");
    }
    let alphabet = Alphabet::from_keys(&rec.metadata["character"], classes).unwrap();
    let from_probs = decode(&probs, steps, &alphabet, Scores::Probabilities);
    assert_eq!(from_probs.text, e["text"].as_str().unwrap());
    // As the reader runs it: without the final softmax, decoding the scores before it.
    let mut rec = rec;
    assert!(rec.drop_final_softmax(3), "the recogniser ends in a softmax over its classes");
    let logits =
        rec.run(line(&expected["crops"]["rec"]).0).unwrap().remove(0).flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let from_logits = decode(&logits, steps, &alphabet, Scores::Logits);
    assert_eq!(from_logits.text, from_probs.text);
    assert!(
        (from_logits.confidence - from_probs.confidence).abs() < 1e-5,
        "{} vs {}",
        from_logits.confidence,
        from_probs.confidence
    );
}

/// The process's OCR reader, or a visible skip line when its models are not installed.
fn reader() -> Option<&'static pagewise_engine::read::ocr::reader::Reader> {
    pagewise_engine::tune_process();
    pagewise_engine::read::ocr::reader::Reader::get().map_err(|e| println!("SKIP OCR reader: {e}")).ok()
}

#[test]
fn the_reader_reads_a_rendered_invoice() {
    let Some(reader) = reader() else { return };
    let img = image::open(repo().join("tests/fixtures/detector/invoice-p1.png")).unwrap().to_rgb8();
    let lines = reader.read(&img).unwrap();
    let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    println!("read {} lines: {text:?}", lines.len());
    for want in ["INVOICE", "Northwind Office Supplies", "Description"] {
        assert!(text.iter().any(|t| t.contains(want)), "no line reads {want:?}: {text:?}");
    }
    assert!(lines.iter().all(|l| l.confidence >= 0.5 && l.bbox[2] > l.bbox[0]));
    let blank = image::RgbImage::from_pixel(400, 300, image::Rgb([255, 255, 255]));
    assert!(reader.read(&blank).unwrap().is_empty(), "a blank page has no text");
    let strip = image::RgbImage::from_pixel(2000, 1, image::Rgb([0, 0, 0]));
    assert!(reader.read(&strip).unwrap().is_empty(), "a 1-pixel-high image has no text");
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let inter = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0) * (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = |r: &[f32; 4]| (r[2] - r[0]) * (r[3] - r[1]);
    inter / (area(a) + area(b) - inter).max(1e-6)
}

#[test]
fn whole_pages_read_as_the_reference_pipeline_reads_them() {
    let Some(reader) = reader() else { return };
    let expected: Value =
        serde_json::from_slice(&std::fs::read(repo().join("tests/fixtures/ocr/expected-pages.json")).unwrap()).unwrap();
    for (page, lines) in expected["pages"].as_object().unwrap() {
        let path = match page.strip_prefix("eval:") {
            Some(rest) => repo().join("../shared/eval").join(rest),
            None => repo().join(page),
        };
        if !path.is_file() {
            println!("SKIP OCR page {page}: ../shared/eval is absent");
            continue;
        }
        let ours = reader.read(&image::open(&path).unwrap().to_rgb8()).unwrap();
        let (mut boxed, mut same) = (0, 0);
        let lines = lines.as_array().unwrap();
        for l in lines {
            let b: Vec<f32> = l["box"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            let b = [b[0], b[1], b[2], b[3]];
            let best = ours.iter().max_by(|x, y| iou(&x.bbox, &b).total_cmp(&iou(&y.bbox, &b)));
            if let Some(m) = best.filter(|m| iou(&m.bbox, &b) >= 0.5) {
                boxed += 1;
                if m.text == l["text"].as_str().unwrap() {
                    same += 1;
                } else {
                    println!("  {page}: {:?} (ours) vs {:?}", m.text, l["text"]);
                }
            }
        }
        let n = lines.len();
        println!("{page}: {} lines (reference {n}); {boxed} boxes match (IoU >= 0.5), {same} read alike", ours.len());
        assert!(boxed as f32 >= 0.9 * n as f32, "{page}: only {boxed} of {n} reference lines found");
        assert!(same as f32 >= 0.85 * n as f32, "{page}: only {same} of {n} reference lines read alike");
    }
}
