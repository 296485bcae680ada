//! Page image → the vision encoder's input, as the Qwen2-VL/Qwen3-VL and PaddleOCR-VL image
//! processors do it: a size that keeps the aspect ratio, is a multiple of patch × merge and stays
//! within the pixel budget ("smart resize"); PIL's bicubic resampling (bit-exact, 8-bit two-pass);
//! scaling to [0, 1] and normalising; for Qwen, patches in merge-block order, each frame repeated
//! over the temporal patch; for PaddleOCR-VL, the resized image itself (its encoder cuts patches
//! with a convolution).

use image::RgbImage;
use serde::Deserialize;

use crate::{Error, Result};

/// The parts of a model's `preprocessor_config.json` that matter here.
#[derive(Debug, Clone, Deserialize)]
pub struct PreprocessorConfig {
    pub patch_size: usize,
    pub temporal_patch_size: usize,
    pub merge_size: usize,
    pub image_mean: [f32; 3],
    pub image_std: [f32; 3],
    #[serde(default = "default_rescale")]
    pub rescale_factor: f32,
    /// The pixel budget; older PaddleOCR-VL folders give `min_pixels`/`max_pixels` instead.
    #[serde(default)]
    pub size: Option<PixelBudget>,
    #[serde(default)]
    pub min_pixels: Option<usize>,
    #[serde(default)]
    pub max_pixels: Option<usize>,
}

fn default_rescale() -> f32 {
    1.0 / 255.0
}

/// `shortest_edge` and `longest_edge` are, for these processors, the minimum and maximum pixel
/// counts (not edge lengths).
#[derive(Debug, Clone, Deserialize)]
pub struct PixelBudget {
    pub shortest_edge: usize,
    pub longest_edge: usize,
}

/// Patches of one image: rows of `channels × temporal × patch × patch` values, and the grid
/// (t, h, w) in patches.
#[derive(Debug, Clone)]
pub struct Patches {
    pub values: Vec<f32>,
    pub row_len: usize,
    pub grid_thw: [usize; 3],
}

/// An image normalised to `(3, height, width)` at the size the processor chose, and its grid
/// (1, height, width) in patches.
#[derive(Debug, Clone)]
pub struct Pixels {
    pub values: Vec<f32>,
    pub height: usize,
    pub width: usize,
    pub grid_thw: [usize; 3],
}

/// Height and width: multiples of `factor`, pixel count within [min, max], aspect kept.
pub fn smart_resize(
    height: usize,
    width: usize,
    factor: usize,
    min_pixels: usize,
    max_pixels: usize,
) -> Result<(usize, usize)> {
    let (h, w, f) = (height as f64, width as f64, factor as f64);
    if height == 0 || width == 0 || h.max(w) / h.min(w) > 200.0 {
        return Err(Error::Model {
            model: "vlm".into(),
            detail: format!("a {width}x{height} image cannot be read (aspect ratio above 200 or empty)"),
        });
    }
    // Python's round() rounds halves to even.
    let round = |x: f64| x.round_ties_even();
    let (mut h_bar, mut w_bar) = (round(h / f) * f, round(w / f) * f);
    if h_bar * w_bar > max_pixels as f64 {
        let beta = (h * w / max_pixels as f64).sqrt();
        h_bar = f.max((h / beta / f).floor() * f);
        w_bar = f.max((w / beta / f).floor() * f);
    } else if h_bar * w_bar < min_pixels as f64 {
        let beta = (min_pixels as f64 / (h * w)).sqrt();
        h_bar = (h * beta / f).ceil() * f;
        w_bar = (w * beta / f).ceil() * f;
    }
    Ok((h_bar as usize, w_bar as usize))
}

/// PaddleOCR-VL's variant: a side shorter than `factor` is first brought up to it (aspect kept),
/// so that a single text line a few pixels high is still read.
pub fn smart_resize_thin(
    height: usize,
    width: usize,
    factor: usize,
    min_pixels: usize,
    max_pixels: usize,
) -> Result<(usize, usize)> {
    let (mut h, mut w) = (height, width);
    if h > 0 && w > 0 {
        if h < factor {
            w = (w as f64 * factor as f64 / h as f64).round_ties_even() as usize;
            h = factor;
        }
        if w < factor {
            h = (h as f64 * factor as f64 / w as f64).round_ties_even() as usize;
            w = factor;
        }
    }
    smart_resize(h, w, factor, min_pixels, max_pixels)
}

impl PreprocessorConfig {
    /// Qwen3-VL's processor settings (16-pixel patches, 2×2 merging, mean and std 0.5) with the
    /// given pixel budget.
    pub fn qwen3_vl(min_pixels: usize, max_pixels: usize) -> PreprocessorConfig {
        PreprocessorConfig {
            patch_size: 16,
            temporal_patch_size: 2,
            merge_size: 2,
            image_mean: [0.5; 3],
            image_std: [0.5; 3],
            rescale_factor: default_rescale(),
            size: Some(PixelBudget { shortest_edge: min_pixels, longest_edge: max_pixels }),
            min_pixels: None,
            max_pixels: None,
        }
    }

    /// PaddleOCR-VL's processor settings (14-pixel patches, 2×2 merging, mean and std 0.5).
    pub fn paddleocr_vl(min_pixels: usize, max_pixels: usize) -> PreprocessorConfig {
        PreprocessorConfig {
            patch_size: 14,
            temporal_patch_size: 1,
            ..PreprocessorConfig::qwen3_vl(min_pixels, max_pixels)
        }
    }

    /// (min, max) pixel counts.
    pub fn budget(&self) -> Result<(usize, usize)> {
        match (&self.size, self.min_pixels, self.max_pixels) {
            (Some(size), _, _) => Ok((size.shortest_edge, size.longest_edge)),
            (None, Some(min), Some(max)) => Ok((min, max)),
            _ => Err(Error::Model {
                model: "vlm".into(),
                detail: "preprocessor_config.json gives no pixel budget (size or min_pixels/max_pixels)".into(),
            }),
        }
    }

    fn normalise(&self, resized: &[u8], at: usize, c: usize) -> f32 {
        (resized[at * 3 + c] as f32 * self.rescale_factor - self.image_mean[c]) / self.image_std[c]
    }

    /// The resized, normalised image in channel-major order (PaddleOCR-VL's encoder input).
    pub fn pixels(&self, image: &RgbImage) -> Result<Pixels> {
        let (min, max) = self.budget()?;
        let factor = self.patch_size * self.merge_size;
        let (h, w) = smart_resize_thin(image.height() as usize, image.width() as usize, factor, min, max)?;
        let resized = resize_bicubic_pil(image, w, h);
        let values = (0..3)
            .flat_map(|c| (0..h * w).map(move |at| (c, at)))
            .map(|(c, at)| self.normalise(&resized, at, c))
            .collect();
        Ok(Pixels { values, height: h, width: w, grid_thw: [1, h / self.patch_size, w / self.patch_size] })
    }

    pub fn patches(&self, image: &RgbImage) -> Result<Patches> {
        let (min, max) = self.budget()?;
        let factor = self.patch_size * self.merge_size;
        let (h, w) = smart_resize(image.height() as usize, image.width() as usize, factor, min, max)?;
        let resized = resize_bicubic_pil(image, w, h);
        let (ps, ms, tp) = (self.patch_size, self.merge_size, self.temporal_patch_size);
        let (gh, gw) = (h / ps, w / ps);
        let row_len = 3 * tp * ps * ps;
        let mut values = Vec::with_capacity(gh * gw * row_len);
        let pixel = |c: usize, y: usize, x: usize| self.normalise(&resized, y * w + x, c);
        // Order (block row, block col, row in block, col in block) × (channel, t, py, px).
        for by in 0..gh / ms {
            for bx in 0..gw / ms {
                for my in 0..ms {
                    for mx in 0..ms {
                        let (py0, px0) = ((by * ms + my) * ps, (bx * ms + mx) * ps);
                        for c in 0..3 {
                            for _ in 0..tp {
                                for py in 0..ps {
                                    for px in 0..ps {
                                        values.push(pixel(c, py0 + py, px0 + px));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(Patches { values, row_len, grid_thw: [1, gh, gw] })
    }
}

/// PIL's bicubic filter (a = -0.5), support 2.
fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Per output pixel: the first input pixel and the fixed-point weights (PIL's precompute_coeffs
/// and normalize_coeffs_8bpc).
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = 2.0 * filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let weights: Vec<f64> = (xmin..xmax).map(|x| bicubic((x as f64 - center + 0.5) / filterscale)).collect();
            let total: f64 = weights.iter().sum();
            let fixed = weights
                .iter()
                .map(|w| {
                    let w = if total != 0.0 { w / total } else { *w };
                    let scaled = w * (1u64 << PRECISION_BITS) as f64;
                    (if w < 0.0 { scaled - 0.5 } else { scaled + 0.5 }) as i32
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

fn clip8(v: i64) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

/// One resampling pass over packed RGB along rows (`horizontal`) or columns.
fn resample_pass(src: &[u8], in_w: usize, in_h: usize, out_len: usize, horizontal: bool) -> Vec<u8> {
    let round = 1i64 << (PRECISION_BITS - 1);
    let (in_len, across) = if horizontal { (in_w, in_h) } else { (in_h, in_w) };
    let (out_w, out_h) = if horizontal { (out_len, in_h) } else { (in_w, out_len) };
    let coeffs = coefficients(in_len, out_len);
    let mut out = vec![0u8; out_w * out_h * 3];
    for line in 0..across {
        for (o, (first, k)) in coeffs.iter().enumerate() {
            for c in 0..3 {
                let sample = |i: usize| {
                    if horizontal {
                        src[(line * in_w + first + i) * 3 + c]
                    } else {
                        src[((first + i) * in_w + line) * 3 + c]
                    }
                };
                let sum: i64 = k.iter().enumerate().map(|(i, &w)| sample(i) as i64 * w as i64).sum();
                let at = if horizontal { line * out_w + o } else { o * out_w + line };
                out[at * 3 + c] = clip8(sum + round);
            }
        }
    }
    out
}

/// `Image.resize((w, h), Image.BICUBIC)` on an RGB image, bit for bit as Pillow 13 does it: two
/// 8-bit passes, the vertical one first when the height shrinks by more than twice as many
/// pixels as the width. Returns packed RGB.
pub fn resize_bicubic_pil(image: &RgbImage, out_w: usize, out_h: usize) -> Vec<u8> {
    let (in_w, in_h) = (image.width() as usize, image.height() as usize);
    let shrink_h = in_h as i64 - out_h as i64;
    let vertical_first = shrink_h > 0 && shrink_h > (in_w as i64 - out_w as i64) * 2;
    let mut pixels = image.as_raw().to_vec();
    let (mut w, mut h) = (in_w, in_h);
    let order = if vertical_first { [false, true] } else { [true, false] };
    for horizontal in order {
        if horizontal && out_w != w {
            pixels = resample_pass(&pixels, w, h, out_w, true);
            w = out_w;
        } else if !horizontal && out_h != h {
            pixels = resample_pass(&pixels, w, h, out_h, false);
            h = out_h;
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_resize_keeps_multiples_and_the_budget() {
        assert_eq!(smart_resize(1013, 463, 32, 65536, 16_777_216).unwrap(), (1024, 448));
        let (h, w) = smart_resize(9000, 7000, 32, 65536, 1_000_000).unwrap();
        assert!(h % 32 == 0 && w % 32 == 0 && h * w <= 1_000_000);
        let (h, w) = smart_resize(20, 20, 32, 65536, 16_777_216).unwrap();
        assert!(h * w >= 65536);
        assert!(smart_resize(1, 500, 32, 1, 100).is_err(), "aspect ratio above 200");
    }

    #[test]
    fn a_thin_line_is_brought_up_to_one_block() {
        // 10 px high: first 28 x 840, then within the budget.
        assert_eq!(smart_resize_thin(10, 300, 28, 3136, 1_000_000).unwrap(), (28, 840));
        assert!(smart_resize(10, 300, 28, 3136, 1_000_000).unwrap().0 >= 28);
    }

    #[test]
    fn resizing_a_flat_image_keeps_its_colour() {
        let image = RgbImage::from_pixel(37, 23, image::Rgb([200, 10, 90]));
        let out = resize_bicubic_pil(&image, 64, 32);
        assert!(out.chunks(3).all(|p| p == [200, 10, 90]));
    }
}
