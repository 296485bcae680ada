//! Parity of the candle detector with the reference (rapid-layout's pipeline on onnxruntime,
//! `scripts/detector_reference.py`): the same images give the same boxes, classes and scores
//! within a tolerance. The expected outputs are committed; the runtime is not needed here.

use std::path::{Path, PathBuf};

use pagewise_engine::layout::detector::{self, picodet::iou_of};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check(expected_file: &Path, image_dir: &Path) -> usize {
    // As the front ends do at start-up.
    pagewise_engine::tune_process();
    let det = match detector::installed() {
        Ok(d) => d,
        Err(e) => {
            println!("SKIP detector parity: {e}");
            return 0;
        }
    };
    let expected: Value = serde_json::from_slice(&std::fs::read(expected_file).unwrap()).unwrap();
    let mut compared = 0;
    for (name, boxes) in expected["images"].as_object().unwrap() {
        let img = image::open(image_dir.join(name)).unwrap().to_rgb8();
        let ours = det.detect(&img, detector::CONFIDENCE, detector::NMS_IOU).unwrap();
        let reference = boxes.as_array().unwrap();
        for r in reference {
            let label = r["label"].as_str().unwrap();
            let score = r["score"].as_f64().unwrap() as f32;
            let b: Vec<f32> = r["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
            let b = [b[0], b[1], b[2], b[3]];
            let best = ours
                .iter()
                .filter(|d| det.classes[d.class] == label)
                .max_by(|x, y| iou_of(&x.bbox, &b).total_cmp(&iou_of(&y.bbox, &b)));
            // A reference box scoring at the threshold may fall on either side of it.
            if score < detector::CONFIDENCE + 0.02 && best.is_none() {
                continue;
            }
            let d = best.unwrap_or_else(|| panic!("{name}: no {label} box for the reference's {b:?} ({score})"));
            assert!(iou_of(&d.bbox, &b) > 0.95, "{name}: {label} {:?} vs reference {b:?}", d.bbox);
            assert!((d.score - score).abs() < 0.02, "{name}: {label} score {} vs reference {score}", d.score);
            compared += 1;
        }
        let strong = ours.iter().filter(|d| d.score >= detector::CONFIDENCE + 0.02).count();
        let strong_ref =
            reference.iter().filter(|r| r["score"].as_f64().unwrap() as f32 >= detector::CONFIDENCE + 0.02).count();
        assert_eq!(strong, strong_ref, "{name}: {strong} confident boxes, reference has {strong_ref}");
    }
    compared
}

#[test]
fn detector_matches_onnxruntime_on_generated_pages() {
    let fixtures = repo().join("tests/fixtures/detector");
    let n = check(&fixtures.join("expected.json"), &fixtures);
    println!("compared {n} boxes on generated pages");
}

#[test]
fn detector_matches_onnxruntime_on_publaynet_pages() {
    let images = repo().join("../shared/eval/layout-publaynet-examples/images");
    if !images.is_dir() {
        println!("SKIP detector parity on PubLayNet: {} is absent", images.display());
        return;
    }
    let n = check(&repo().join("tests/fixtures/detector/expected-publaynet.json"), &images);
    println!("compared {n} boxes on PubLayNet pages");
}
