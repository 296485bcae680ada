//! Preparing images for the PaddlePaddle-trained models the way their reference pipelines
//! do: OpenCV's bilinear resize, and BGR planes normalised per channel.

use image::RgbImage;

/// The ImageNet statistics PaddleDetection and PaddleOCR normalise with (applied to the B, G,
/// R planes in that order, as their pipelines do).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// RGB bytes (`w` x `h`) as three planes B, G, R, each `h` rows of `pitch` values (the
/// columns past `w` stay 0, padding), plane c normalised as (v / 255 - mean[c]) / std[c].
pub fn bgr_planes(rgb: &[u8], w: usize, h: usize, pitch: usize, mean: [f32; 3], std: [f32; 3]) -> Vec<f32> {
    let mut data = vec![0f32; 3 * h * pitch];
    for (i, px) in rgb.chunks_exact(3).enumerate().take(w * h) {
        let (y, x) = (i / w, i % w);
        for c in 0..3 {
            data[c * h * pitch + y * pitch + x] = (px[2 - c] as f32 / 255.0 - mean[c]) / std[c];
        }
    }
    data
}

/// Bilinear resize of RGB bytes as OpenCV's `INTER_LINEAR` does it (half-pixel centres, no
/// antialiasing, 11-bit fixed-point weights), so inputs match the reference pipeline.
pub fn resize_bilinear(img: &RgbImage, out_w: usize, out_h: usize) -> Vec<u8> {
    const ONE: i64 = 2048;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let taps = |out: usize, inp: usize| -> Vec<(usize, usize, i64)> {
        let scale = inp as f64 / out as f64;
        (0..out)
            .map(|x| {
                let f = (x as f64 + 0.5) * scale - 0.5;
                let mut s = f.floor() as isize;
                let mut frac = f - s as f64;
                if s < 0 {
                    s = 0;
                    frac = 0.0;
                }
                if s as usize >= inp - 1 {
                    s = inp as isize - 1;
                    frac = 0.0;
                }
                let s = s as usize;
                let wgt = (frac * ONE as f64).round() as i64;
                (s, (s + 1).min(inp - 1), wgt)
            })
            .collect()
    };
    let (xt, yt) = (taps(out_w, w), taps(out_h, h));
    let src = img.as_raw();
    // Horizontal pass per source row, in fixed point.
    let row = |y: usize| -> Vec<i64> {
        let r = &src[y * w * 3..(y + 1) * w * 3];
        let mut o = vec![0i64; out_w * 3];
        for (x, &(s0, s1, f)) in xt.iter().enumerate() {
            for c in 0..3 {
                o[x * 3 + c] = r[s0 * 3 + c] as i64 * (ONE - f) + r[s1 * 3 + c] as i64 * f;
            }
        }
        o
    };
    let mut out = vec![0u8; out_w * out_h * 3];
    let mut cache: Option<(usize, Vec<i64>, usize, Vec<i64>)> = None;
    for (y, &(s0, s1, f)) in yt.iter().enumerate() {
        let (r0, r1) = match &cache {
            Some((a, ra, b, rb)) if *a == s0 && *b == s1 => (ra.clone(), rb.clone()),
            _ => (row(s0), row(s1)),
        };
        for i in 0..out_w * 3 {
            let v = (r0[i] * (ONE - f) + r1[i] * f + (1 << 21)) >> 22;
            out[y * out_w * 3 + i] = v.clamp(0, 255) as u8;
        }
        cache = Some((s0, r0, s1, r1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_keeps_a_flat_image_flat_and_hits_corners() {
        let img = RgbImage::from_pixel(50, 30, image::Rgb([10, 200, 77]));
        let out = resize_bilinear(&img, 17, 41);
        assert!(out.chunks(3).all(|p| p == [10, 200, 77]));
        let tall = RgbImage::from_fn(1, 20_000, |_, y| image::Rgb([(y % 256) as u8, 0, 0]));
        assert_eq!(resize_bilinear(&tall, 608, 800).len(), 608 * 800 * 3);
    }

    #[test]
    fn planes_are_bgr_normalised_and_padded() {
        let planes = bgr_planes(&[255, 0, 51], 1, 1, 2, [0.0; 3], [1.0, 1.0, 0.5]);
        assert_eq!(planes, vec![0.2, 0.0, 0.0, 0.0, 2.0, 0.0]);
    }
}
