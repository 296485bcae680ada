//! Questions about a document: asked of the extractive answerer (kept warm for the session) or
//! of Qwen3-VL looking at the page, each answer kept in the document's history.

use std::sync::atomic::Ordering;

use pagewise_engine::{parse_question, Answer, Answering, Asked, DocId, Meaning, Precision};
use tauri::ipc::Channel;
use tauri::State;

use crate::reply::{blocking, Reply};
use crate::App;

/// Ask about one page (`page`) or the whole document; the answer is kept in its history.
#[tauri::command]
pub async fn ask(app: State<'_, App>, id: DocId, question: String, page: Option<u32>) -> Reply<Answer> {
    let (library, answerer) = (app.library.clone(), app.answerer.clone());
    blocking(move || {
        let lib = library.get()?;
        // One answerer for the session: its cache of embedded wording stays warm. Without the
        // embedding model it works by the words alone, and takes the model once it is installed.
        let mut answerer = answerer.lock().unwrap_or_else(|p| p.into_inner());
        if !answerer.meaning.available() {
            answerer.meaning = Meaning::installed();
        }
        let answer = lib.ask(&id, &question, page, &mut Answering::Extractive(&mut answerer))?;
        lib.record_question(&id, page, &answer)?;
        Ok(answer)
    })
    .await
}

/// Ask the vision-language model (Qwen3-VL, loaded on first use) about a page: its words stream
/// through `tokens` as it writes them; the answer comes back grounded and checked.
#[tauri::command]
pub async fn ask_visual(
    app: State<'_, App>,
    id: DocId,
    question: String,
    page: Option<u32>,
    precision: Precision,
    tokens: Channel<String>,
) -> Reply<Answer> {
    let (library, loaded) = (app.library.clone(), app.loaded.clone());
    blocking(move || {
        let lib = library.get()?;
        parse_question(&question)?;
        let mut model = loaded.answerer(precision)?;
        let mut on_text = |piece: &str| drop(tokens.send(piece.to_string()));
        let max_pixels = pagewise_engine::DEFAULT_MAX_PIXELS;
        let mut answering = Answering::Visual { model: &mut model, max_pixels, on_text: &mut on_text };
        let answer = lib.ask(&id, &question, page, &mut answering)?;
        lib.record_question(&id, page, &answer)?;
        Ok(answer)
    })
    .await
}

/// Get ready for questions about a document just opened (its wording embedded in the
/// background), so that the first answer is as quick as the next.
#[tauri::command]
pub async fn prepare_questions(app: State<'_, App>, id: DocId) -> Reply<()> {
    // Only the latest document opened is prepared.
    let (library, latest) = (app.library.clone(), app.preparing.clone());
    let this = latest.fetch_add(1, Ordering::SeqCst) + 1;
    blocking(move || {
        let still_wanted = || latest.load(Ordering::SeqCst) == this;
        library.get()?.prepare_questions(&id, &mut Meaning::installed(), &still_wanted)
    })
    .await
}

#[tauri::command]
pub async fn questions(app: State<'_, App>, id: DocId) -> Reply<Vec<Asked>> {
    let library = app.library.clone();
    blocking(move || library.get()?.questions(&id)).await
}
