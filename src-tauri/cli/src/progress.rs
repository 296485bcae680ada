//! Progress bars on stderr from the engine's Progress events (hidden when stderr is not a
//! terminal, so scripts and tests see clean output).

use indicatif::{ProgressBar, ProgressStyle};
use pagewise_engine::Progress;

pub struct ImportBars {
    files: ProgressBar,
}

impl ImportBars {
    pub fn new() -> Self {
        let files = ProgressBar::new(0);
        files.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} files  {msg}  ({eta} left)")
                .expect("template")
                .progress_chars("=> "),
        );
        ImportBars { files }
    }

    pub fn on(&self, event: &Progress) {
        match event {
            Progress::JobStarted { files, .. } => self.files.set_length(*files as u64),
            Progress::FileStarted { path, .. } => self.files.set_message(short(path)),
            Progress::PageRead { page, pages, .. } if *pages > 20 => {
                self.files.set_message(format!("page {page}/{pages}"))
            }
            Progress::FileFinished { .. } => self.files.inc(1),
            Progress::JobFinished { .. } => self.files.finish_and_clear(),
            _ => {}
        }
    }

    /// Print a line above the bar without tearing it.
    pub fn println(&self, line: &str) {
        self.files.suspend(|| println!("{line}"));
    }
}

/// The first search by meaning embeds every page once: a bar of pages while it does.
pub struct EmbeddingBar {
    pages: ProgressBar,
}

impl EmbeddingBar {
    pub fn new() -> Self {
        let pages = ProgressBar::new(0);
        pages.set_style(
            ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} pages embedded for search by meaning ({eta} left)",
            )
            .expect("template")
            .progress_chars("=> "),
        );
        EmbeddingBar { pages }
    }

    pub fn on(&self, event: &Progress) {
        if let Progress::Embedding { done, total } = event {
            self.pages.set_length(*total);
            self.pages.set_position(*done);
            if done >= total {
                self.pages.finish_and_clear();
            }
        }
    }
}

fn short(path: &str) -> String {
    let name = std::path::Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.chars().count() > 40 {
        name.chars().take(39).chain(['…']).collect()
    } else {
        name
    }
}
