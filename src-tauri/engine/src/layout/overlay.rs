//! Layout drawn over a page image: a tinted, outlined box per region in its label's colour, a
//! tag with its reading-order number and label, and a line through the regions in reading
//! order. Text is drawn with a built-in 3x5 pixel font, so no font file is needed.

use image::RgbaImage;

use crate::model::PageLayout;

/// Draw `layout` (page points) over `img` (the page rendered at any size).
pub fn draw(img: &mut RgbaImage, layout: &PageLayout) {
    let scale = img.width() as f32 / layout.width.max(1.0);
    let px = |v: f32| (v * scale).round() as i64;
    let mut centres = Vec::new();
    for r in &layout.regions {
        let [cr, cg, cb] = r.label.colour();
        let (x0, y0, x1, y1) = (px(r.bbox.x0), px(r.bbox.y0), px(r.bbox.x1), px(r.bbox.y1));
        fill(img, x0, y0, x1, y1, [cr, cg, cb], 0.12);
        for t in 0..2 {
            rect_outline(img, x0 - t, y0 - t, x1 + t, y1 + t, [cr, cg, cb]);
        }
        let tag = format!("{} {}", r.order + 1, r.label.as_str().to_uppercase());
        let (tw, th) = (tag.chars().count() as i64 * 8, 12);
        let ty = if y0 - th >= 0 { y0 - th } else { y0 };
        fill(img, x0, ty, x0 + tw + 2, ty + th, [cr, cg, cb], 0.9);
        text(img, x0 + 2, ty + 1, &tag, [255, 255, 255], 2);
        centres.push(((x0 + x1) / 2, (y0 + y1) / 2));
    }
    for pair in centres.windows(2) {
        line(img, pair[0], pair[1], [220, 20, 60]);
    }
    for &(x, y) in &centres {
        fill(img, x - 3, y - 3, x + 3, y + 3, [220, 20, 60], 1.0);
    }
}

fn blend(img: &mut RgbaImage, x: i64, y: i64, c: [u8; 3], alpha: f32) {
    if x < 0 || y < 0 || x >= img.width() as i64 || y >= img.height() as i64 {
        return;
    }
    let p = img.get_pixel_mut(x as u32, y as u32);
    for k in 0..3 {
        p[k] = (p[k] as f32 * (1.0 - alpha) + c[k] as f32 * alpha).round() as u8;
    }
    p[3] = 255;
}

fn fill(img: &mut RgbaImage, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3], alpha: f32) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            blend(img, x, y, c, alpha);
        }
    }
}

fn rect_outline(img: &mut RgbaImage, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
    line(img, (x0, y0), (x1, y0), c);
    line(img, (x0, y1), (x1, y1), c);
    line(img, (x0, y0), (x0, y1), c);
    line(img, (x1, y0), (x1, y1), c);
}

/// Bresenham's line, its ends clamped to just outside the image.
fn line(img: &mut RgbaImage, a: (i64, i64), b: (i64, i64), c: [u8; 3]) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let clamp = |(x, y): (i64, i64)| (x.clamp(-1, w), y.clamp(-1, h));
    let ((mut x, mut y), (x1, y1)) = (clamp(a), clamp(b));
    let (dx, dy) = ((x1 - x).abs(), -(y1 - y).abs());
    let (sx, sy) = (if x < x1 { 1 } else { -1 }, if y < y1 { 1 } else { -1 });
    let mut err = dx + dy;
    loop {
        blend(img, x, y, c, 1.0);
        if x == x1 && y == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += sx;
        }
        if e2 <= dx {
            err += dx;
            y += sy;
        }
    }
}

/// 3x5 glyphs, five rows of three bits each (most significant bit on the left).
fn glyph(c: char) -> [u8; 5] {
    match c.to_ascii_uppercase() {
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'J' => [1, 1, 1, 5, 2],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'O' => [2, 5, 5, 5, 2],
        'P' => [6, 5, 6, 4, 4],
        'Q' => [2, 5, 5, 6, 3],
        'R' => [6, 5, 6, 5, 5],
        'S' => [3, 4, 2, 1, 6],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'V' => [5, 5, 5, 5, 2],
        'W' => [5, 5, 7, 7, 5],
        'X' => [5, 5, 2, 5, 5],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [6, 1, 2, 4, 7],
        '3' => [6, 1, 2, 1, 6],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 6, 1, 6],
        '6' => [3, 4, 7, 5, 7],
        '7' => [7, 1, 2, 2, 2],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 6],
        '-' => [0, 0, 7, 0, 0],
        _ => [0; 5],
    }
}

fn text(img: &mut RgbaImage, x: i64, y: i64, s: &str, c: [u8; 3], scale: i64) {
    for (i, ch) in s.chars().enumerate() {
        let g = glyph(ch);
        let gx = x + i as i64 * 4 * scale;
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) != 0 {
                    let (px, py) = (gx + col * scale, y + row as i64 * scale);
                    fill(img, px, py, px + scale, py + scale, c, 1.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BBox, Label, Region, RegionSource};
    use image::Rgba;

    #[test]
    fn draws_inside_the_image_whatever_the_boxes() {
        let mut img = RgbaImage::from_pixel(100, 140, Rgba([255, 255, 255, 255]));
        let regions = vec![
            Region::new(
                Label::Title,
                BBox::new(10.0, 10.0, 90.0, 30.0),
                vec![],
                "T".into(),
                1.0,
                RegionSource::Geometric,
            ),
            Region::new(
                Label::Table,
                BBox::new(-50.0, 100.0, 1e6, 1e6),
                vec![],
                String::new(),
                1.0,
                RegionSource::Geometric,
            ),
        ];
        draw(&mut img, &PageLayout { page: 1, width: 100.0, height: 140.0, regions, pairs: vec![], error: None });
        assert_ne!(*img.get_pixel(10, 20), Rgba([255, 255, 255, 255]), "the title's outline is drawn");
    }
}
