//! Image files with known properties: EXIF orientation, stated DPI, several TIFF pages.

use std::io::Cursor;

use image::{ImageFormat, Rgb, RgbImage};

/// A white page of `w` x `h` pixels with a dark bar in its top-left corner, so that a test can
/// tell which way up a decoded image is.
pub fn marked_page(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| if x < w / 4 && y < h / 8 { Rgb([20, 20, 20]) } else { Rgb([250, 250, 250]) })
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).expect("encode");
    out
}

pub fn png_page(w: u32, h: u32) -> Vec<u8> {
    encode(&marked_page(w, h), ImageFormat::Png)
}

pub fn webp_page(w: u32, h: u32) -> Vec<u8> {
    encode(&marked_page(w, h), ImageFormat::WebP)
}

/// A JPEG of `w` x `h` stored pixels carrying an EXIF Orientation tag (1..=8).
pub fn jpeg_with_orientation(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    with_exif_orientation(&encode(&marked_page(w, h), ImageFormat::Jpeg), orientation)
}

/// `jpeg` with an EXIF Orientation tag (1..=8) put in front of its data, as cameras write it.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    // APP1 "Exif\0\0" + little-endian TIFF header + one IFD entry: 0x0112 SHORT 1 = orientation.
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A TIFF with one page per size given.
pub fn multipage_tiff(sizes: &[(u32, u32)]) -> Vec<u8> {
    use tiff::encoder::{colortype, TiffEncoder};
    let mut out = Cursor::new(Vec::new());
    {
        let mut enc = TiffEncoder::new(&mut out).expect("tiff encoder");
        for &(w, h) in sizes {
            let img = marked_page(w, h);
            enc.write_image::<colortype::RGB8>(w, h, img.as_raw()).expect("tiff page");
        }
    }
    out.into_inner()
}
