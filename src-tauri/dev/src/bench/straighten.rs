//! `pagewise-dev bench straighten`: milliseconds to find the page in a photo and straighten it,
//! on a made-up photo of the given size (a page at an angle, in perspective, on a table).

use std::process::ExitCode;
use std::time::Instant;

use pagewise_engine::read::straighten::{find_page, made_up_photo, straighten};
use pagewise_engine::Result;
use serde_json::json;

pub fn run(json: bool, megapixels: f32, repeat: u32) -> Result<ExitCode> {
    let h = (megapixels * 1e6 * 3.0 / 4.0).sqrt().round().max(8.0);
    let w = (h * 4.0 / 3.0).round();
    let page = [(0.18 * w, 0.10 * h), (0.80 * w, 0.16 * h), (0.76 * w, 0.92 * h), (0.10 * w, 0.86 * h)];
    let photo = made_up_photo(w as u32, h as u32, page);
    let (mut find_ms, mut warp_ms) = (f64::MAX, f64::MAX);
    let mut size = (0, 0);
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let Some(corners) = find_page(&photo) else {
            eprintln!("no page found in the made-up photo");
            return Ok(ExitCode::FAILURE);
        };
        let found = t.elapsed().as_secs_f64() * 1e3;
        let flat = straighten(&photo, &corners);
        find_ms = find_ms.min(found);
        warp_ms = warp_ms.min(t.elapsed().as_secs_f64() * 1e3 - found);
        size = flat.dimensions();
    }
    let mp = photo.width() as f64 * photo.height() as f64 / 1e6;
    if json {
        println!(
            "{}",
            json!({"photo": [photo.width(), photo.height()], "megapixels": mp, "page": [size.0, size.1],
                   "find_ms": find_ms, "straighten_ms": warp_ms, "total_ms": find_ms + warp_ms,
                   "threads": rayon::current_num_threads()})
        );
    } else {
        println!(
            "photo {} x {} ({mp:.1} MP), page straightened to {} x {}: find {find_ms:.1} ms, straighten \
             {warp_ms:.1} ms, total {:.1} ms (target < 100 ms; best of {repeat}, {} threads)",
            photo.width(),
            photo.height(),
            size.0,
            size.1,
            find_ms + warp_ms,
            rayon::current_num_threads()
        );
    }
    Ok(ExitCode::SUCCESS)
}
