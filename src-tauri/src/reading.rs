//! "Read again": a page read anew from its pixels, by the scan reader (OCR) or by PaddleOCR-VL
//! region by region, and kept as the page's words (search, layout, questions and fields then
//! use them). PaddleOCR-VL is loaded on first use; each region's text streams to the UI as it
//! ends, and the job can be cancelled, which leaves the stored page as it was.

use pagewise_engine::{DocId, Library, Precision, RegionReading, Stop};
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::page_view_of;
use crate::reply::{blocking, Reply};
use crate::views::{ReadAgain, ReaderChoice, RegionRead};
use crate::App;

#[tauri::command]
pub async fn read_again(
    app: State<'_, App>,
    id: DocId,
    page: u32,
    reader: ReaderChoice,
    precision: Precision,
    job: u32,
    regions: Channel<RegionRead>,
) -> Reply<ReadAgain> {
    let (library, loaded, guard, pages) =
        (app.library.clone(), app.loaded.clone(), app.jobs.start(job), app.pages.clone());
    let (read, id) = blocking(move || {
        let mut lib = library.get()?;
        let out = match reader {
            ReaderChoice::Ocr => {
                lib.read_by_ocr(&id, page, true)?;
                outcome(&lib, &id, page, reader)?
            }
            ReaderChoice::Vlm => {
                let mut model = loaded.reader(precision)?;
                let mut on_region = |i: usize, n: usize, r: &RegionReading| {
                    let _ = regions.send(RegionRead {
                        region: i as u32 + 1,
                        regions: n as u32,
                        label: r.label,
                        text: r.text.clone(),
                    });
                };
                let (_, read) = lib.read_by_vlm(&id, page, true, &mut model, &mut on_region, &guard.flag)?;
                let mut out = outcome(&lib, &id, page, reader)?;
                out.checked_against = Some(read.checked_against.clone());
                out.confirmed = read.confirmed.iter().filter(|&&c| c).count() as u32;
                out.not_on_page = read.regions.iter().flat_map(|r| r.not_on_page.iter().cloned()).collect();
                out.regions = read.regions.len() as u32;
                out.failed_regions = read
                    .regions
                    .iter()
                    .filter_map(|r| r.error.as_ref().map(|e| format!("{}: {e}", r.label.as_str())))
                    .collect();
                out.loops = read.regions.iter().filter(|r| r.stop == Some(Stop::Loop)).count() as u32;
                out
            }
        };
        Ok((out, id))
    })
    .await?;
    // The page may have been turned upright: its drawn images are stale.
    pages.forget(&id.0);
    Ok(read)
}

/// The page as now stored, with the counts every reader has.
fn outcome(lib: &Library, id: &DocId, page: u32, reader: ReaderChoice) -> pagewise_engine::Result<ReadAgain> {
    let view = page_view_of(lib, id.clone(), page)?;
    Ok(ReadAgain {
        words: view.words.len() as u32,
        lines: view.lines.len() as u32,
        view,
        reader,
        checked_against: None,
        confirmed: 0,
        not_on_page: vec![],
        regions: 0,
        failed_regions: vec![],
        loops: 0,
    })
}
