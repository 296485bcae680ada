//! Photos of documents: the page found in the photo (its four corners) and straightened by
//! perspective correction, cropped to the page. A photo whose page fills the frame (a flat
//! scan), or with no page standing out from its background, is left alone.
//!
//! The page is the largest bright blob of a small grey copy of the photo (paper against a
//! darker table, thresholded by Otsu's method), its holes (the print) filled, if it is shaped
//! like a quadrilateral: its corners are the blob's extreme points along the two diagonals, and
//! the blob must fill the quadrilateral they make.

#[cfg(any(test, feature = "dev-api"))]
use image::Rgb;
use image::RgbImage;
use rayon::prelude::*;

use crate::model::Corners;
use crate::render::luma;

/// The longer side of the grey copy the page is looked for in.
const SEARCH_SIDE: u32 = 400;
/// The least difference of mean brightness between paper and background (0-255).
const MIN_CONTRAST: f64 = 40.0;
/// The page's least and most share of the photo.
const PAGE_SHARE: (f64, f64) = (0.15, 0.95);
/// The least share of the corners' quadrilateral the page blob fills.
const MIN_FILL: f64 = 0.85;
/// The most of the photo outside the page that may be as bright as paper: a photo's page lies
/// on a darker background, where a box drawn on a white form encloses a bright blob too.
const MAX_BRIGHT_AROUND: f64 = 0.3;
/// Corners closer than this share of the photo's sides to its own corners: a flat scan.
const FLAT: f32 = 0.02;

/// The page's corners in the photo, or `None` when there is no page to straighten.
pub fn find_page(photo: &RgbImage) -> Option<Corners> {
    let (w, h) = photo.dimensions();
    let step = (w.max(h).div_ceil(SEARCH_SIDE)).max(1);
    let (sw, sh) = (w / step, h / step);
    if sw < 8 || sh < 8 {
        return None;
    }
    let grey = shrunk_grey(photo, step, sw, sh);
    let cut = otsu(&grey, MIN_CONTRAST)?;
    let (cols, rows) = (sw as usize, sh as usize);
    let blob = largest_blob(&grey.iter().map(|&g| g > cut).collect::<Vec<_>>(), cols, rows);
    let page = with_holes_filled(&blob, cols, rows);
    let share = page as f64 / (sw * sh) as f64;
    if !(PAGE_SHARE.0..=PAGE_SHARE.1).contains(&share) {
        return None;
    }
    let point = |i: usize| ((i % sw as usize) as f32, (i / sw as usize) as f32);
    let extreme =
        |key: &dyn Fn((f32, f32)) -> f32| blob.iter().map(|&i| point(i)).max_by(|a, b| key(*a).total_cmp(&key(*b)));
    let corners =
        [extreme(&|(x, y)| -x - y)?, extreme(&|(x, y)| x - y)?, extreme(&|(x, y)| x + y)?, extreme(&|(x, y)| y - x)?];
    if (page as f64) < MIN_FILL * quad_area(&corners) as f64
        || bright_around(&grey, cut, cols, &corners) > MAX_BRIGHT_AROUND
    {
        return None;
    }
    // Blob pixels are cells of `step` pixels: a corner is the far edge of its cell.
    let scale = |(x, y): (f32, f32), (dx, dy): (f32, f32)| {
        (((x + dx) * step as f32).clamp(0.0, w as f32), ((y + dy) * step as f32).clamp(0.0, h as f32))
    };
    let full = Corners([
        scale(corners[0], (0.0, 0.0)),
        scale(corners[1], (1.0, 0.0)),
        scale(corners[2], (1.0, 1.0)),
        scale(corners[3], (0.0, 1.0)),
    ]);
    let frame = [(0.0, 0.0), (w as f32, 0.0), (w as f32, h as f32), (0.0, h as f32)];
    let flat = full
        .0
        .iter()
        .zip(frame)
        .all(|(c, f)| (c.0 - f.0).abs() <= FLAT * w as f32 && (c.1 - f.1).abs() <= FLAT * h as f32);
    (!flat).then_some(full)
}

/// The page inside `corners`, straightened: as wide as its longer horizontal side and as high
/// as its longer vertical side, each pixel sampled (bilinear) where the perspective maps it.
pub fn straighten(photo: &RgbImage, corners: &Corners) -> RgbImage {
    let (out_w, out_h) = straightened_size(corners);
    let Some(h) = page_to_photo(corners) else { return photo.clone() };
    let mut out = RgbImage::new(out_w, out_h);
    let h = h.map(|v| v as f32);
    out.par_chunks_mut(3 * out_w as usize).enumerate().for_each(|(v, row)| {
        // The map's numerators and denominator are linear along a row: stepped, not recomputed.
        let v = v as f32 + 0.5;
        let (mut nx, mut ny, mut nz) =
            (h[0] * 0.5 + h[1] * v + h[2], h[3] * 0.5 + h[4] * v + h[5], h[6] * 0.5 + h[7] * v + 1.0);
        for px in row.chunks_exact_mut(3) {
            let z = 1.0 / nz;
            px.copy_from_slice(&bilinear(photo, nx * z - 0.5, ny * z - 0.5));
            (nx, ny, nz) = (nx + h[0], ny + h[3], nz + h[6]);
        }
    });
    out
}

/// The straightened page's size in pixels: its longer horizontal and vertical sides.
pub fn straightened_size(corners: &Corners) -> (u32, u32) {
    let c = corners.0;
    let dist = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let w = dist(c[0], c[1]).max(dist(c[3], c[2])).round().max(1.0) as u32;
    let h = dist(c[0], c[3]).max(dist(c[1], c[2])).round().max(1.0) as u32;
    (w, h)
}

/// Where a point of the straightened page (in its pixels) lies in the photo.
pub fn photo_point(corners: &Corners, (x, y): (f32, f32)) -> (f32, f32) {
    let Some(h) = page_to_photo(corners) else { return (x, y) };
    let (x, y) = (x as f64, y as f64);
    let z = h[6] * x + h[7] * y + 1.0;
    (((h[0] * x + h[1] * y + h[2]) / z) as f32, ((h[3] * x + h[4] * y + h[5]) / z) as f32)
}

/// The perspective map from the straightened page's pixels to the photo's.
fn page_to_photo(corners: &Corners) -> Option<[f64; 8]> {
    let (w, h) = straightened_size(corners);
    let (w, h) = (w as f32, h as f32);
    homography(&[(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], &corners.0)
}

/// Mean grey of each `step` x `step` cell.
fn shrunk_grey(photo: &RgbImage, step: u32, sw: u32, sh: u32) -> Vec<u8> {
    (0..sh)
        .into_par_iter()
        .flat_map_iter(|y| {
            (0..sw).map(move |x| {
                let mut sum = 0u32;
                for yy in y * step..(y + 1) * step {
                    for xx in x * step..(x + 1) * step {
                        sum += luma(photo.get_pixel(xx, yy).0) as u32;
                    }
                }
                (sum / (step * step)) as u8
            })
        })
        .collect()
}

/// Otsu's threshold of `grey`, if the two classes' means differ by at least `min_contrast`.
fn otsu(grey: &[u8], min_contrast: f64) -> Option<u8> {
    let mut hist = [0f64; 256];
    for &g in grey {
        hist[g as usize] += 1.0;
    }
    let total = grey.len() as f64;
    let sum_all: f64 = hist.iter().enumerate().map(|(i, n)| i as f64 * n).sum();
    let (mut below, mut sum_below, mut best) = (0.0, 0.0, None::<(f64, u8, f64)>);
    for (t, &n) in hist.iter().enumerate().take(255) {
        below += n;
        sum_below += t as f64 * n;
        let above = total - below;
        if below == 0.0 || above == 0.0 {
            continue;
        }
        let (m0, m1) = (sum_below / below, (sum_all - sum_below) / above);
        let between = below * above * (m1 - m0).powi(2);
        if best.is_none_or(|(b, _, _)| between > b) {
            best = Some((between, t as u8, m1 - m0));
        }
    }
    best.filter(|&(_, _, contrast)| contrast >= min_contrast).map(|(_, t, _)| t)
}

/// The cells of the largest 4-connected blob of `on` cells.
fn largest_blob(on: &[bool], w: usize, h: usize) -> Vec<usize> {
    let mut seen = vec![false; on.len()];
    let mut best: Vec<usize> = Vec::new();
    for start in 0..on.len() {
        if on[start] && !seen[start] {
            let blob = flood(&[start], on, &mut seen, w, h);
            if blob.len() > best.len() {
                best = blob;
            }
        }
    }
    best
}

/// How many cells a blob covers with its holes: every cell but those its outside reaches from
/// the frame's edge.
fn with_holes_filled(blob: &[usize], w: usize, h: usize) -> usize {
    let mut outside = vec![true; w * h];
    for &i in blob {
        outside[i] = false;
    }
    let on_edge = |i: usize| i % w == 0 || i % w == w - 1 || i / w == 0 || i / w == h - 1;
    let edge: Vec<usize> = (0..w * h).filter(|&i| outside[i] && on_edge(i)).collect();
    let mut seen = vec![false; w * h];
    w * h - flood(&edge, &outside, &mut seen, w, h).len()
}

/// The `on` cells 4-connected to `seeds` (themselves `on`), marked in `seen`.
fn flood(seeds: &[usize], on: &[bool], seen: &mut [bool], w: usize, h: usize) -> Vec<usize> {
    let mut stack: Vec<usize> = seeds.iter().copied().filter(|&i| !std::mem::replace(&mut seen[i], true)).collect();
    let mut found = Vec::new();
    while let Some(i) = stack.pop() {
        found.push(i);
        let (x, y) = (i % w, i / w);
        let next =
            [(x > 0).then(|| i - 1), (x + 1 < w).then(|| i + 1), (y > 0).then(|| i - w), (y + 1 < h).then(|| i + w)];
        for j in next.into_iter().flatten() {
            if on[j] && !seen[j] {
                seen[j] = true;
                stack.push(j);
            }
        }
    }
    found
}

/// The share of the cells outside the quadrilateral `corners` (cell units, in order) that are
/// brighter than `cut`; 0 when none is outside.
fn bright_around(grey: &[u8], cut: u8, cols: usize, corners: &[(f32, f32); 4]) -> f64 {
    let (mut outside, mut bright) = (0usize, 0usize);
    for (i, &g) in grey.iter().enumerate() {
        if !inside(corners, ((i % cols) as f32 + 0.5, (i / cols) as f32 + 0.5)) {
            outside += 1;
            bright += usize::from(g > cut);
        }
    }
    if outside == 0 {
        0.0
    } else {
        bright as f64 / outside as f64
    }
}

/// Is `p` inside the polygon `corners` (even-odd rule)?
fn inside(corners: &[(f32, f32); 4], p: (f32, f32)) -> bool {
    let mut odd = false;
    for i in 0..4 {
        let (a, b) = (corners[i], corners[(i + 1) % 4]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < a.0 + (p.1 - a.1) * (b.0 - a.0) / (b.1 - a.1) {
            odd = !odd;
        }
    }
    odd
}

/// Area of a quadrilateral (shoelace), its corners in order.
fn quad_area(c: &[(f32, f32); 4]) -> f32 {
    let mut twice = 0.0;
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        twice += a.0 * b.1 - b.0 * a.1;
    }
    twice.abs() / 2.0
}

/// The perspective map taking each `from` point to its `to` point: [h0..h7] with
/// x' = (h0 x + h1 y + h2) / (h6 x + h7 y + 1), y' = (h3 x + h4 y + h5) / (same). None when the
/// points are degenerate (three on a line).
fn homography(from: &[(f32, f32); 4], to: &[(f32, f32); 4]) -> Option<[f64; 8]> {
    let mut a = [[0f64; 9]; 8];
    for k in 0..4 {
        let ((x, y), (u, v)) = ((from[k].0 as f64, from[k].1 as f64), (to[k].0 as f64, to[k].1 as f64));
        a[2 * k] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * k + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..8 {
            if row != col {
                let f = a[row][col] / a[col][col];
                for k in col..9 {
                    a[row][k] -= f * a[col][k];
                }
            }
        }
    }
    let mut h = [0f64; 8];
    for (i, v) in h.iter_mut().enumerate() {
        *v = a[i][8] / a[i][i];
    }
    Some(h)
}

/// The photo's colour at (x, y), blended from the four pixels around it; white outside.
#[inline]
fn bilinear(photo: &RgbImage, x: f32, y: f32) -> [u8; 3] {
    let (w, h) = (photo.width() as usize, photo.height() as usize);
    if !(x >= 0.0 && y >= 0.0 && x <= (w - 1) as f32 && y <= (h - 1) as f32) {
        return [255; 3];
    }
    let (x0, y0) = (x as usize, y as usize);
    let (dx, dy) = (usize::from(x0 + 1 < w) * 3, usize::from(y0 + 1 < h) * 3 * w);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let src = photo.as_raw();
    let at = 3 * (y0 * w + x0);
    std::array::from_fn(|k| {
        let p = |i: usize| src[i + k] as f32;
        let top = p(at) + (p(at + dx) - p(at)) * fx;
        let bottom = p(at + dy) + (p(at + dy + dx) - p(at + dy)) * fx;
        (top + (bottom - top) * fy + 0.5) as u8
    })
}

#[cfg(any(test, feature = "dev-api"))] // tests and `pagewise-dev bench straighten`
/// A `w` x `h` photo: a dark, grainy table and on it a white page with black text bars,
/// the page's corners at `page` (top-left, top-right, bottom-right, bottom-left).
pub fn made_up_photo(w: u32, h: u32, page: [(f32, f32); 4]) -> RgbImage {
    let paper = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
    let to_paper = homography(&page, &paper).unwrap();
    let mut noise = 0x2545_f491u32;
    RgbImage::from_fn(w, h, |x, y| {
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        let (x, y) = (x as f64 + 0.5, y as f64 + 0.5);
        let z = to_paper[6] * x + to_paper[7] * y + 1.0;
        let u = (to_paper[0] * x + to_paper[1] * y + to_paper[2]) / z;
        let v = (to_paper[3] * x + to_paper[4] * y + to_paper[5]) / z;
        let grain = (noise % 20) as u8;
        if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) {
            // Text lines: bars across the page's width, and a mark at its top left.
            let line = (0.1..0.9).contains(&u) && ((v * 20.0).fract() < 0.3) && v > 0.2;
            let mark = u < 0.15 && v < 0.12 && u > 0.05 && v > 0.04;
            if line || mark {
                Rgb([30 + grain, 30, 30])
            } else {
                Rgb([235 - grain, 232, 225])
            }
        } else {
            Rgb([70 + grain, 60 + grain, 50])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: (f32, f32), b: (f32, f32), by: f32) -> bool {
        (a.0 - b.0).abs() <= by && (a.1 - b.1).abs() <= by
    }

    #[test]
    fn a_page_photographed_at_an_angle_is_found_and_straightened() {
        let page = [(180.0, 120.0), (820.0, 190.0), (760.0, 1080.0), (90.0, 990.0)];
        let img = made_up_photo(1000, 1200, page);
        let found = find_page(&img).expect("a page");
        for (f, p) in found.0.iter().zip(page) {
            assert!(near(*f, p, 12.0), "{found:?} vs {page:?}");
        }
        let flat = straighten(&img, &found);
        let (w, h) = flat.dimensions();
        assert!((640..=680).contains(&w) && (880..=920).contains(&h), "{w} x {h}");
        // The mark sits at the straightened page's top left, the table is gone from its edges.
        let dark = |x: u32, y: u32| flat.get_pixel(x, y).0[0] < 100;
        assert!(dark(w / 10, h * 8 / 100), "the mark");
        assert!(!dark(w / 2, h / 10) && !dark(w - 5, h / 2), "paper, not the table");
        // Text bars run straight across: a row inside a bar is dark from one end to the other.
        let bar = (h / 4..h * 9 / 10).find(|&y| dark(w / 2, y)).unwrap();
        let bar = bar + 3;
        assert!((w / 8..w * 7 / 8).all(|x| dark(x, bar)), "row {bar} is one bar");
    }

    #[test]
    fn a_flat_scan_a_photo_without_a_page_and_a_strip_are_left_alone() {
        let scan = made_up_photo(800, 1000, [(-5.0, -5.0), (805.0, -5.0), (805.0, 1005.0), (-5.0, 1005.0)]);
        assert_eq!(find_page(&scan), None);
        let table = RgbImage::from_fn(800, 600, |x, y| Rgb([(x % 7 * 9) as u8 + 60, (y % 5 * 11) as u8 + 60, 70]));
        assert_eq!(find_page(&table), None);
        assert_eq!(find_page(&RgbImage::new(1, 20_000)), None);
        // A scanned form: a thick box drawn on a white page holds a bright blob of its own, but
        // the page around it is as bright as it: no photo of a page.
        let form = RgbImage::from_fn(800, 1000, |x, y| {
            let frame = |v: u32, lo: u32, hi: u32| (lo..lo + 8).contains(&v) || (hi - 8..hi).contains(&v);
            let in_box = (100..700).contains(&x) && (200..900).contains(&y);
            let edge = in_box && (frame(x, 100, 700) || frame(y, 200, 900));
            if edge || (y % 40 < 6 && (120..680).contains(&x) && !in_box) {
                Rgb([20, 20, 20])
            } else {
                Rgb([245; 3])
            }
        });
        assert_eq!(find_page(&form), None);
        assert_eq!(find_page(&RgbImage::new(0, 0)), None);
    }

    #[test]
    fn a_point_of_the_straightened_page_is_found_again_in_the_photo() {
        let corners = Corners([(180.0, 120.0), (820.0, 190.0), (760.0, 1080.0), (90.0, 990.0)]);
        let (w, h) = straightened_size(&corners);
        let (w, h) = (w as f32, h as f32);
        for (page, photo) in [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)].into_iter().zip(corners.0) {
            assert!(near(photo_point(&corners, page), photo, 0.01), "{page:?}");
        }
        // The page's centre is where the page's diagonals cross in the photo (460.4, 584.1), not
        // the corners' mean (462.5, 595).
        let centre = photo_point(&corners, (w / 2.0, h / 2.0));
        assert!(near(centre, (460.4, 584.1), 0.5), "{centre:?}");
    }

    #[test]
    fn the_perspective_map_takes_each_corner_to_its_place() {
        let from = [(0.0, 0.0), (100.0, 0.0), (100.0, 50.0), (0.0, 50.0)];
        let to = [(10.0, 5.0), (90.0, 12.0), (95.0, 70.0), (3.0, 60.0)];
        let h = homography(&from, &to).unwrap();
        for (f, t) in from.iter().zip(to) {
            let (x, y) = (f.0 as f64, f.1 as f64);
            let z = h[6] * x + h[7] * y + 1.0;
            assert!(near(
                (((h[0] * x + h[1] * y + h[2]) / z) as f32, ((h[3] * x + h[4] * y + h[5]) / z) as f32),
                t,
                1e-3
            ));
        }
        assert_eq!(homography(&from, &[(0.0, 0.0); 4]), None);
    }
}
