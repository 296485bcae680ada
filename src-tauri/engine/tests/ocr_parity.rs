//! Parity of the PP-OCRv5 networks on the candle graph runner with onnxruntime
//! (`scripts/ocr_reference.py` wrote tests/fixtures/ocr/expected.json from the same crops of a
//! page we render from our own demo invoice), and of the CTC decoder with the reference's
//! decoding. Skips visibly when the models are not installed.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use pagewise_engine::models;
use pagewise_engine::nn::graph::Graph;
use pagewise_engine::ocr::ctc::{decode, Alphabet};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model(name: &str) -> Option<Graph> {
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
    let v = (t..t + h).flat_map(|y| (l..l + w).map(move |x| (y, x))).map(|(y, x)| gray.get_pixel(x, y).0[0] as f32 / 255.0).collect();
    (v, h as usize, w as usize)
}

fn three_channels(planes: [Vec<f32>; 3], h: usize, w: usize) -> Tensor {
    Tensor::from_vec(planes.concat(), (1, 3, h, w), &Device::Cpu).unwrap()
}

#[test]
fn ppocr_networks_match_onnxruntime() {
    let (Some(det), Some(cls), Some(rec)) = (model("ocr-det"), model("ocr-cls"), model("ocr-rec")) else { return };
    let expected: Value = serde_json::from_slice(&std::fs::read(repo().join("tests/fixtures/ocr/expected.json")).unwrap()).unwrap();
    let gray = image::open(repo().join("tests/fixtures/detector/invoice-p1.png")).unwrap().to_luma8();

    let (d, h, w) = crop(&gray, &expected["crops"]["det"]);
    let (mean, std) = ([0.485f32, 0.456, 0.406], [0.229f32, 0.224, 0.225]);
    let planes = [0, 1, 2].map(|c| d.iter().map(|v| (v - mean[c]) / std[c]).collect::<Vec<f32>>());
    let prob = det.run(three_channels(planes, h, w)).unwrap().remove(0).flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let e = &expected["det"];
    let frac = prob.iter().filter(|&&p| p > 0.3).count() as f64 / prob.len() as f64;
    assert!((frac - e["above_0_3"].as_f64().unwrap()).abs() < 1e-3, "text pixels {frac} vs {}", e["above_0_3"]);
    let (bh, bw) = (h / 8, w / 8);
    for (gy, row) in e["grid8"].as_array().unwrap().iter().enumerate() {
        for (gx, want) in row.as_array().unwrap().iter().enumerate() {
            let sum: f32 = (0..bh).flat_map(|y| (0..bw).map(move |x| (gy * bh + y) * w + gx * bw + x)).map(|i| prob[i]).sum();
            let got = sum / (bh * bw) as f32;
            assert!((got as f64 - want.as_f64().unwrap()).abs() < 2e-3, "det block ({gy}, {gx}): {got} vs {want}");
        }
    }

    let line = |b: &Value| {
        let (v, h, w) = crop(&gray, b);
        let n: Vec<f32> = v.iter().map(|x| (x - 0.5) / 0.5).collect();
        three_channels([n.clone(), n.clone(), n], h, w)
    };
    let c = cls.run(line(&expected["crops"]["cls"])).unwrap().remove(0).flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for (got, want) in c.iter().zip(expected["cls"].as_array().unwrap()) {
        assert!((*got as f64 - want.as_f64().unwrap()).abs() < 1e-4, "cls {c:?} vs {}", expected["cls"]);
    }

    let r = rec.run(line(&expected["crops"]["rec"])).unwrap().remove(0);
    let (_, steps, classes) = r.dims3().unwrap();
    let probs = r.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let e = &expected["rec"];
    for (t, (k, m)) in e["argmax"].as_array().unwrap().iter().zip(e["max"].as_array().unwrap()).enumerate() {
        let row = &probs[t * classes..(t + 1) * classes];
        let (best, p) = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap();
        assert_eq!(best as u64, k.as_u64().unwrap(), "rec step {t}");
        assert!((*p as f64 - m.as_f64().unwrap()).abs() < 1e-3, "rec step {t}: {p} vs {m}");
    }
    let keys = std::fs::read_to_string(models::model_file("ocr-keys").unwrap()).unwrap();
    let alphabet = Alphabet::from_keys(&keys, classes).unwrap();
    assert_eq!(decode(&probs, steps, &alphabet).0, e["text"].as_str().unwrap());
}

#[test]
fn the_reader_reads_a_rendered_invoice() {
    let reader = match pagewise_engine::ocr::reader::Reader::get() {
        Ok(r) => r,
        Err(e) => {
            println!("SKIP OCR reader: {e}");
            return;
        }
    };
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
