//! Reading a stored page again, on request: by OCR (a scan left unread, a digital page whose
//! text layer is garbage), or by PaddleOCR-VL region by region. With `save` the reading replaces
//! the page's words in the library (search, layout and extraction then use it).

use std::sync::atomic::{AtomicBool, Ordering};

use image::RgbImage;

use super::Library;
use crate::layout::analyze::{cover_unplaced_words, detector_page};
use crate::layout::detector;
use crate::model::{BBox, DocId, Label, Page, PageLayout, PageSource, Reading, Region, RegionSource};
use crate::read::ocr::page::PDF_PIXELS;
use crate::read::ocr::reader::Reader;
use crate::read::ocr::{self, OcrPage};
use crate::read::page_of;
use crate::read::vlm::{read_regions, RegionReading, VlmReading};
use crate::vlm::paddleocr_vl::PaddleOcrVl;
use crate::{render, Error, Result};

/// `page` read from `img` (its pixels as the page stands) by OCR: the reading's words and
/// upright size, its turn added to the page's own. The OCR page's own turn is the one it made.
pub(super) fn read_by_ocr(page: &Page, img: &RgbImage) -> Result<(Page, OcrPage)> {
    let read = ocr::read_image(Reader::get()?, img, page.width / img.width().max(1) as f32)?;
    let turned = (page.turned + read.reading.turned) % 360;
    let reading = Reading {
        rotation: page.rotation,
        turned,
        photo_corners: page.photo_corners,
        graphics: page.graphics.clone(),
        ..read.reading.clone()
    };
    Ok((page_of(page.page, reading), read))
}

impl Library {
    /// Read a stored page again from its pixels by OCR. With `save` the reading replaces the
    /// page's words in the library.
    pub fn read_by_ocr(&mut self, id: &DocId, no: u32, save: bool) -> Result<(Page, OcrPage)> {
        let before = self.store.page(id, no)?;
        let (page, read) = read_by_ocr(&before, &self.pixels(id, no, PDF_PIXELS)?)?;
        if save {
            self.store.replace_reading(id, &page)?;
        }
        Ok((page, read))
    }

    /// Read a stored page again with PaddleOCR-VL, region by region (see [`crate::read::vlm`]):
    /// the regions come from the layout detector over the page's other reading (its text layer,
    /// its stored OCR words, or the scan reader run now), which the model's words are checked
    /// against. Blocks of words the detector misses get regions of their own; with neither
    /// detector regions nor words, the whole page is one text region. With `save` the reading
    /// replaces the page's words in the library (source `vlm`). Setting `cancel` stops the
    /// reading ([`Error::Cancelled`]); the stored page is then left as it was.
    pub fn read_by_vlm(
        &mut self,
        id: &DocId,
        no: u32,
        save: bool,
        model: &mut PaddleOcrVl,
        on_region: &mut dyn FnMut(usize, usize, &RegionReading),
        cancel: &AtomicBool,
    ) -> Result<(Page, VlmReading)> {
        let before = self.store.page(id, no)?;
        let img = self.pixels(id, no, PDF_PIXELS)?;
        let (reference, img, checked_against) = match before.source {
            PageSource::TextLayer | PageSource::Ocr if !before.words.is_empty() => {
                let against = if before.source == PageSource::Ocr { "ocr" } else { "text-layer" };
                (before.clone(), img, against)
            }
            _ => match read_by_ocr(&before, &img) {
                Ok((page, read)) => (page, render::turn(img, read.reading.turned), "ocr"),
                Err(_) => (before.clone(), img, "nothing"),
            },
        };
        let scale = reference.width / img.width().max(1) as f32;
        let detected = detector::installed().and_then(|model| detector_page(&reference, &img, model));
        let mut layout = detected.unwrap_or_else(|_| PageLayout {
            page: no,
            width: reference.width,
            height: reference.height,
            regions: vec![],
            pairs: vec![],
            error: None,
        });
        cover_unplaced_words(&mut layout, &reference);
        if layout.regions.is_empty() {
            // Nothing detected and no other reading: the whole page as one text region.
            let whole = BBox::new(0.0, 0.0, reference.width, reference.height);
            layout.regions.push(Region::new(Label::Text, whole, vec![], String::new(), 1.0, RegionSource::Geometric));
        }
        let read = read_regions(model, &img, scale, &layout, &reference.words, checked_against, on_region, cancel);
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let page = page_of(no, read.reading_on(&reference));
        if save {
            self.store.replace_reading(id, &page)?;
        }
        Ok((page, read))
    }
}
