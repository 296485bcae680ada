//! Qwen3-VL in Pagewise against transformers (scripts/vlm_reference.py) on a tiny random
//! checkpoint of the same architecture and a real receipt image: the chat template's prompt,
//! the processor's pixel values and grid, input ids, 3-D positions, vision features, logits and
//! greedy tokens; and the processor with Qwen3-VL's own settings on three real pages. The same for
//! PaddleOCR-VL (scripts/paddleocr_vl_reference.py) on a region of the receipt.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use pagewise_engine::vlm::image_prep::{Pixels, PreprocessorConfig};
use pagewise_engine::vlm::paddleocr_vl::{PaddleOcrVl, Task};
use pagewise_engine::vlm::prompt::Part;
use pagewise_engine::vlm::qwen3_vl::rope_positions;
use pagewise_engine::vlm::{Precision, Vlm};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vlm")
}

fn eval_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PAGEWISE_EVAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} is absent (the parity images are real pages from the evaluation sets)", dir.display());
        None
    }
}

fn expected(name: &str) -> (Value, HashMap<String, Tensor>) {
    let json =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join(format!("{name}.expected.json"))).unwrap())
            .unwrap();
    let tensors =
        candle_core::safetensors::load(fixtures().join(format!("{name}.expected.safetensors")), &Device::Cpu).unwrap();
    (json, tensors)
}

/// Largest absolute difference, and the reference's largest magnitude.
fn max_diff(ours: &Tensor, reference: &Tensor) -> (f32, f32) {
    assert_eq!(ours.dims(), reference.dims());
    let ours = ours.to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let reference = reference.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let diff = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    (diff, reference.iter().map(|v| v.abs()).fold(0f32, f32::max))
}

fn ids(value: &Value) -> Vec<u32> {
    value.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect()
}

#[test]
fn tiny_qwen3_vl_matches_transformers() {
    let Some(eval) = eval_dir() else { return };
    let (want, tensors) = expected("qwen3-vl-tiny");
    let mut model = Vlm::load("qwen3-vl-tiny", &fixtures().join("qwen3-vl-tiny"), Precision::F32).unwrap();

    let question = want["question"].as_str().unwrap();
    let prompt = model.prompter().render(&[Part::Image, Part::Text(question.into())]).unwrap();
    assert_eq!(prompt, want["prompt"].as_str().unwrap(), "chat template rendering");

    let image = image::open(eval.join(want["image"].as_str().unwrap())).unwrap().to_rgb8();
    let patches = model.preprocessor().patches(&image).unwrap();
    let grid: Vec<usize> =
        want["image_grid_thw"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    assert_eq!(patches.grid_thw.to_vec(), grid);
    let pixels =
        Tensor::from_slice(&patches.values, (patches.values.len() / patches.row_len, patches.row_len), &Device::Cpu)
            .unwrap();
    let (diff, _) = max_diff(&pixels, &tensors["pixel_values"]);
    eprintln!("pixel values: max |diff| {diff:.5}");
    // Both sides resize alike (PIL's bicubic, bit-exact); the JPEG decoders may differ by a level.
    assert!(diff <= 2.5 / 127.5, "pixel values differ by {diff}");

    let input_ids = model.prompter().encode(&prompt, &[patches.grid_thw]).unwrap();
    assert_eq!(input_ids, ids(&want["input_ids"]), "input ids");
    let config = model.model_mut().config.clone();
    let (positions, delta) = rope_positions(&input_ids, config.image_token_id, &[patches.grid_thw], 2).unwrap();
    assert_eq!(delta, want["rope_delta"].as_i64().unwrap());
    let reference_positions = tensors["position_ids"].to_vec2::<i64>().unwrap();
    for (axis, row) in reference_positions.iter().enumerate() {
        assert_eq!(&positions.iter().map(|p| p[axis]).collect::<Vec<_>>(), row, "3-D positions, axis {axis}");
    }

    // From the reference's own pixel values, so that the model is compared on identical input.
    let reference_patches = pagewise_engine::vlm::image_prep::Patches {
        values: tensors["pixel_values"].flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        row_len: patches.row_len,
        grid_thw: patches.grid_thw,
    };
    let (embeds, deepstack) = model.model_mut().encode_image(&reference_patches).unwrap();
    let (diff, scale) = max_diff(&embeds, &tensors["vision_embeds"]);
    eprintln!("vision embeddings: max |diff| {diff:.2e} (values up to {scale:.2})");
    assert!(diff < 1e-4 * scale.max(1.0));
    for (i, d) in deepstack.iter().enumerate() {
        let (diff, scale) = max_diff(d, &tensors[&format!("deepstack_{i}")]);
        assert!(diff < 1e-4 * scale.max(1.0), "deepstack {i}: {diff}");
    }
    let logits = model.model_mut().prefill(&input_ids, Some(&reference_patches), true).unwrap().squeeze(0).unwrap();
    let (diff, scale) = max_diff(&logits, &tensors["logits"]);
    eprintln!("logits: max |diff| {diff:.2e} (values up to {scale:.2})");
    assert!(diff < 1e-3 * scale.max(1.0));

    // Greedy decoding from the real image through Pagewise's whole path.
    let greedy = ids(&want["greedy_tokens"]);
    let mut streamed = String::new();
    let generation = model.generate(Some(&image), question, greedy.len(), &mut |piece| {
        streamed.push_str(piece);
        true
    });
    let generation = generation.unwrap();
    assert_eq!(generation.tokens, greedy, "greedy tokens");
    assert_eq!(generation.prompt_tokens, input_ids.len());
    assert_eq!(streamed, generation.text, "streamed pieces add up to the answer");
}

#[test]
fn qwen3_vl_processor_on_real_pages() {
    let Some(eval) = eval_dir() else { return };
    let (want, tensors) = expected("qwen3-vl-preprocess");
    let config = PreprocessorConfig::qwen3_vl(65536, 16_777_216);
    for (i, page) in want.as_array().unwrap().iter().enumerate() {
        let image = image::open(eval.join(page["image"].as_str().unwrap())).unwrap().to_rgb8();
        let patches = config.patches(&image).unwrap();
        let grid: Vec<usize> =
            page["grid_thw"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        assert_eq!(patches.grid_thw.to_vec(), grid, "{}", page["image"]);
        let rows = patches.values.len() / patches.row_len;
        let pixels = Tensor::from_slice(&patches.values, (rows, patches.row_len), &Device::Cpu).unwrap();
        let (diff, _) = max_diff(&pixels.mean(1).unwrap(), &tensors[&format!("patch_mean_{i}")]);
        let picked = pixels
            .index_select(&Tensor::new(&[0u32, rows as u32 / 2, rows as u32 - 1], &Device::Cpu).unwrap(), 0)
            .unwrap();
        let (row_diff, _) = max_diff(&picked, &tensors[&format!("rows_{i}")]);
        eprintln!("{}: grid {grid:?}, patch means max |diff| {diff:.5}, rows {row_diff:.5}", page["image"]);
        assert!(diff < 0.01 && row_diff <= 2.5 / 127.5, "{}", page["image"]);
    }
}

/// Qwen3-VL-2B at full size with random weights: loads within the memory its manifest states and
/// generates end to end. Ignored by default (about a minute and 8 GB); run with
/// `cargo test --release -p pagewise-engine --test vlm_parity -- --ignored`.
#[test]
#[ignore]
fn full_size_qwen3_vl_generates_within_its_memory() {
    use pagewise_engine::vlm::qwen3_vl::{Config, Qwen3Vl};
    use pagewise_engine::vlm::{generate, random_weights};
    let config =
        Config::parse("qwen3-vl-2b-instruct", include_str!("../../../models/configs/qwen3-vl-2b-instruct.config.json"))
            .unwrap();
    let mut model =
        Qwen3Vl::load(config.clone(), random_weights::random_var_builder(DType::F32), Precision::F32).unwrap();
    let prep = PreprocessorConfig::qwen3_vl(65536, 65536);
    let image = image::RgbImage::from_fn(300, 400, |x, y| image::Rgb([(x % 255) as u8, (y % 255) as u8, 128]));
    let patches = prep.patches(&image).unwrap();
    let image_tokens = patches.grid_thw.iter().product::<usize>() / 4;
    let mut ids = vec![100, 200, config.vision_start_token_id];
    ids.extend(std::iter::repeat_n(config.image_token_id, image_tokens));
    ids.extend([config.vision_end_token_id, 300, 400]);
    let mut next = generate::argmax(&model.prefill(&ids, Some(&patches), false).unwrap()).unwrap();
    for _ in 0..3 {
        next = generate::argmax(&model.step(next).unwrap()).unwrap();
        assert!((next as usize) < config.text_config.vocab_size);
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    let manifest = pagewise_engine::models::hub_model("qwen3-vl-2b-instruct").unwrap();
    eprintln!("peak memory {:.1} GB", peak_kib as f64 / 1e6 * 1.024);
    assert!(
        (peak_kib as f64 * 1024.0) < manifest.min_memory_gb as f64 * 1e9,
        "more memory than the manifest's minimum"
    );
}

/// The reference's patches (`(n, 3, p, p)` in grid order) put back into one `(3, h, w)` image.
fn unpatchify(patches: &Tensor, grid: [usize; 3], patch: usize) -> Pixels {
    let values = patches.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let (gh, gw) = (grid[1], grid[2]);
    let (h, w) = (gh * patch, gw * patch);
    let mut image = vec![0f32; 3 * h * w];
    for (i, v) in values.iter().enumerate() {
        let (px, py, c, cell) = (i % patch, i / patch % patch, i / (patch * patch) % 3, i / (3 * patch * patch));
        let (y, x) = (cell / gw * patch + py, cell % gw * patch + px);
        image[(c * h + y) * w + x] = *v;
    }
    Pixels { values: image, height: h, width: w, grid_thw: grid }
}

#[test]
fn tiny_paddleocr_vl_matches_transformers() {
    let Some(eval) = eval_dir() else { return };
    let (want, tensors) = expected("paddleocr-vl-tiny");
    let mut model =
        PaddleOcrVl::load("paddleocr-vl-tiny", &fixtures().join("paddleocr-vl-tiny"), Precision::F32).unwrap();

    let prompt = model.prompter().render(&[Part::Image, Part::Text(Task::Text.prompt().into())]).unwrap();
    assert_eq!(prompt, want["prompt"].as_str().unwrap(), "chat template rendering");

    let region: Vec<u32> = want["region"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    let page = image::open(eval.join(want["image"].as_str().unwrap())).unwrap().to_rgb8();
    let image =
        image::imageops::crop_imm(&page, region[0], region[1], region[2] - region[0], region[3] - region[1]).to_image();
    let pixels = model.preprocessor().pixels(&image).unwrap();
    let grid: Vec<usize> =
        want["image_grid_thw"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    assert_eq!(pixels.grid_thw.to_vec(), grid);
    let reference = unpatchify(&tensors["pixel_values"], pixels.grid_thw, 14);
    let ours = Tensor::new(pixels.values.as_slice(), &Device::Cpu).unwrap();
    let (diff, _) = max_diff(&ours, &Tensor::new(reference.values.as_slice(), &Device::Cpu).unwrap());
    eprintln!("pixel values: max |diff| {diff:.5}");
    assert!(diff <= 2.5 / 127.5, "pixel values differ by {diff}");

    let input_ids = model.prompt_ids(pixels.grid_thw, Task::Text).unwrap();
    assert_eq!(input_ids, ids(&want["input_ids"]), "input ids");
    let (positions, delta) =
        rope_positions(&input_ids, model.net.config.image_token_id, &[pixels.grid_thw], 2).unwrap();
    assert_eq!(delta, want["rope_delta"].as_i64().unwrap());
    for (axis, row) in tensors["position_ids"].to_vec2::<i64>().unwrap().iter().enumerate() {
        assert_eq!(&positions.iter().map(|p| p[axis]).collect::<Vec<_>>(), row, "3-D positions, axis {axis}");
    }

    // From the reference's own pixel values, so that the model is compared on identical input.
    let embeds = model.net.encode_image(&reference).unwrap();
    let (diff, scale) = max_diff(&embeds, &tensors["vision_embeds"]);
    eprintln!("vision embeddings: max |diff| {diff:.2e} (values up to {scale:.2})");
    assert!(diff < 1e-4 * scale.max(1.0));
    let logits = model.net.prefill(&input_ids, &reference).unwrap().flatten_all().unwrap();
    let last = tensors["logits"].get(input_ids.len() - 1).unwrap();
    let (diff, scale) = max_diff(&logits, &last);
    eprintln!("last logits: max |diff| {diff:.2e} (values up to {scale:.2})");
    assert!(diff < 1e-3 * scale.max(1.0));

    // Greedy decoding from the real region through Pagewise's whole path.
    let greedy = ids(&want["greedy_tokens"]);
    let mut streamed = String::new();
    let generation = model
        .read(&image, Task::Text, greedy.len(), &mut |piece| {
            streamed.push_str(piece);
            true
        })
        .unwrap();
    assert_eq!(generation.tokens, greedy, "greedy tokens");
    assert_eq!(streamed, generation.text, "streamed pieces add up to the text");
}

#[test]
fn paddleocr_vl_processor_on_real_pages() {
    let Some(eval) = eval_dir() else { return };
    let (want, tensors) = expected("paddleocr-vl-preprocess");
    let config = PreprocessorConfig::paddleocr_vl(147_384, 2_822_400);
    for (i, page) in want.as_array().unwrap().iter().enumerate() {
        let image = image::open(eval.join(page["image"].as_str().unwrap())).unwrap().to_rgb8();
        let pixels = config.pixels(&image).unwrap();
        let grid: Vec<usize> =
            page["grid_thw"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        assert_eq!(pixels.grid_thw.to_vec(), grid, "{}", page["image"]);
        // Our image cut into the reference's patch rows: (cell, channel, py, px).
        let chw = Tensor::from_slice(&pixels.values, (3, grid[1], 14, grid[2], 14), &Device::Cpu).unwrap();
        let rows = chw.permute((1, 3, 0, 2, 4)).unwrap().reshape((grid[1] * grid[2], 3 * 14 * 14)).unwrap();
        let n = rows.dim(0).unwrap() as u32;
        let (diff, _) = max_diff(&rows.mean(1).unwrap(), &tensors[&format!("patch_mean_{i}")]);
        let picked = rows.index_select(&Tensor::new(&[0u32, n / 2, n - 1], &Device::Cpu).unwrap(), 0).unwrap();
        let (row_diff, _) = max_diff(&picked, &tensors[&format!("rows_{i}")]);
        eprintln!("{}: grid {grid:?}, patch means max |diff| {diff:.5}, rows {row_diff:.5}", page["image"]);
        assert!(diff < 0.01 && row_diff <= 2.5 / 127.5, "{}", page["image"]);
    }
}

/// The 8-bit path: both tiny models loaded at `Precision::Q8` (language-model weights quantised
/// in blocks of 32) give the reference's logits within the rounding of their weights (each
/// weight is off by up to half a step of 1/127 of its block's largest; over the layers that
/// reaches 1-2 % of the largest logit, where f32 agrees to 1e-6), and the reference's first
/// greedy token.
#[test]
fn eight_bit_language_models_stay_close_to_transformers() {
    let Some(eval) = eval_dir() else { return };
    let (want, tensors) = expected("paddleocr-vl-tiny");
    let model = PaddleOcrVl::load("paddleocr-vl-tiny", &fixtures().join("paddleocr-vl-tiny"), Precision::Q8).unwrap();
    let input_ids = ids(&want["input_ids"]);
    let grid: Vec<usize> =
        want["image_grid_thw"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let reference = unpatchify(&tensors["pixel_values"], [grid[0], grid[1], grid[2]], 14);
    let mut net = model.net;
    let logits = net.prefill(&input_ids, &reference).unwrap().flatten_all().unwrap();
    let (diff, scale) = max_diff(&logits, &tensors["logits"].get(input_ids.len() - 1).unwrap());
    eprintln!("paddleocr-vl q8 last logits: max |diff| {diff:.2e} (values up to {scale:.2})");
    assert!(diff > 0.0 && diff < 4e-2 * scale.max(1.0), "{diff}");
    let greedy = ids(&want["greedy_tokens"]);
    assert_eq!(logits.argmax(0).unwrap().to_scalar::<u32>().unwrap(), greedy[0]);
    // A decoding step (the 8-bit matrix-vector kernel) against the f32 model's, which matches
    // the reference above.
    let mut exact =
        PaddleOcrVl::load("paddleocr-vl-tiny", &fixtures().join("paddleocr-vl-tiny"), Precision::F32).unwrap().net;
    exact.prefill(&input_ids, &reference).unwrap();
    let (step, step_exact) = (net.step(greedy[0]).unwrap(), exact.step(greedy[0]).unwrap());
    let (diff, scale) = max_diff(&step, &step_exact);
    eprintln!("paddleocr-vl q8 decoding step: max |diff| {diff:.2e} (values up to {scale:.2})");
    assert!(diff > 0.0 && diff < 4e-2 * scale.max(1.0), "{diff}");

    let (want, tensors) = expected("qwen3-vl-tiny");
    let mut model = Vlm::load("qwen3-vl-tiny", &fixtures().join("qwen3-vl-tiny"), Precision::Q8).unwrap();
    let grid: Vec<usize> =
        want["image_grid_thw"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let patches = pagewise_engine::vlm::image_prep::Patches {
        values: tensors["pixel_values"].flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        row_len: tensors["pixel_values"].dim(1).unwrap(),
        grid_thw: [grid[0], grid[1], grid[2]],
    };
    let input_ids = ids(&want["input_ids"]);
    let logits = model.model_mut().prefill(&input_ids, Some(&patches), true).unwrap().squeeze(0).unwrap();
    let (diff, scale) = max_diff(&logits, &tensors["logits"]);
    eprintln!("qwen3-vl q8 logits: max |diff| {diff:.2e} (values up to {scale:.2})");
    assert!(diff > 0.0 && diff < 4e-2 * scale.max(1.0), "{diff}");
    let last = logits.get(input_ids.len() - 1).unwrap();
    assert_eq!(last.argmax(0).unwrap().to_scalar::<u32>().unwrap(), ids(&want["greedy_tokens"])[0]);
    let _ = eval;
}

/// Regions are read one after the other until the cancel flag is set: the tiny reader reads both
/// regions of a page, and none once cancelled.
#[test]
fn a_cancelled_page_reading_stops_between_regions() {
    use pagewise_engine::model::{Label, PageLayout, Region, RegionSource};
    use pagewise_engine::read::vlm::read_regions;
    use std::sync::atomic::AtomicBool;
    let mut model =
        PaddleOcrVl::load("paddleocr-vl-tiny", &fixtures().join("paddleocr-vl-tiny"), Precision::F32).unwrap();
    let page = image::RgbImage::from_fn(400, 200, |x, y| {
        if (x / 20 + y / 20) % 2 == 0 {
            image::Rgb([20, 20, 20])
        } else {
            image::Rgb([240, 240, 240])
        }
    });
    let region = |y0: f32| {
        Region::new(
            Label::Text,
            pagewise_engine::BBox::new(10.0, y0, 390.0, y0 + 80.0),
            vec![],
            String::new(),
            1.0,
            RegionSource::Geometric,
        )
    };
    let layout = PageLayout {
        page: 1,
        width: 400.0,
        height: 200.0,
        regions: vec![region(10.0), region(110.0)],
        pairs: vec![],
        error: None,
    };
    let mut read = |cancel: bool| {
        read_regions(&mut model, &page, 1.0, &layout, &[], "nothing", &mut |_, _, _| {}, &AtomicBool::new(cancel))
    };
    let all = read(false);
    assert_eq!(all.regions.len(), 2);
    assert!(all.regions.iter().all(|r| r.error.is_none() && r.tokens > 0), "{:?}", all.regions);
    assert!(read(true).regions.is_empty());
}
