//! `pagewise ask DOC "QUESTION"`: an answer with its evidence (page and box), or "not found"
//! with the best guesses.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use pagewise_engine::{
    parse_question, Answer, Answering, Extractive, Meaning, Result, Vlm, NEEDS_READER, VISUAL_MODEL,
};

use crate::context::{open, print_json, resolve, Ctx};

#[derive(Debug, Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum Engine {
    Extractive,
    Vlm,
}

/// `--dtype`: how the vision-language model's weights are held.
#[derive(Debug, Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum Precision {
    /// f32 (the default)
    F32,
    /// bf16: half the memory, slow prefill
    Bf16,
    /// the language model in 8 bits: decoding about 3x faster, about half the memory
    Q8,
}

impl Precision {
    pub fn engine(self) -> pagewise_engine::Precision {
        match self {
            Precision::F32 => pagewise_engine::Precision::F32,
            Precision::Bf16 => pagewise_engine::Precision::Bf16,
            Precision::Q8 => pagewise_engine::Precision::Q8,
        }
    }
}

pub fn ask(
    ctx: &Ctx,
    doc: &str,
    question: &str,
    page: Option<u32>,
    engine: Engine,
    max_pixels: usize,
    dtype: Precision,
) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let doc = resolve(&mut lib, doc)?;
    let answer = match engine {
        Engine::Extractive => {
            lib.ask(&doc.id, question, page, &mut Answering::Extractive(&mut Extractive::new(Meaning::installed())))?
        }
        Engine::Vlm => {
            parse_question(question)?;
            let mut model = Vlm::load_installed(VISUAL_MODEL, dtype.engine())?;
            // The model's words as they come, on stderr when it is a terminal.
            let stream = std::io::stderr().is_terminal() && !ctx.json;
            let mut on_text = |piece: &str| {
                if stream {
                    eprint!("{piece}");
                    let _ = std::io::stderr().flush();
                }
            };
            let mut answering = Answering::Visual { model: &mut model, max_pixels, on_text: &mut on_text };
            let answer = lib.ask(&doc.id, question, page, &mut answering)?;
            if stream {
                eprintln!();
            }
            answer
        }
    };
    if ctx.json {
        print_json(&answer);
    } else {
        print_answer(&answer);
    }
    // Not found is an answer too, but scripts may want to know.
    Ok(if answer.found { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

fn print_answer(a: &Answer) {
    if let Some(c) = &a.checks {
        let flagged = if c.not_on_page.is_empty() {
            String::new()
        } else {
            format!("; not on the page: {}", c.not_on_page.join(", "))
        };
        let looped = if c.loop_cut { "; a repetition loop was cut" } else { "" };
        println!(
            "[{}: {} tokens, prefill {:.0} ms, decode {:.0} ms; evidence from {}{flagged}{looped}]",
            c.model, c.tokens, c.prefill_ms, c.decode_ms, c.grounded_by
        );
    }
    match (&a.answer, a.found) {
        (Some(text), true) => {
            let norm = a.normalized.as_deref().filter(|n| n != text).map(|n| format!("  = {n}")).unwrap_or_default();
            let cur = a.currency.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
            let unit = a.unit.as_deref().map(|u| format!(" (in {u})")).unwrap_or_default();
            println!("{text}{norm}{cur}{unit}");
            for e in &a.evidence {
                println!(
                    "  p.{} [{:.0}, {:.0}, {:.0}, {:.0}] ({}), confidence {:.2}",
                    e.page, e.bbox.x0, e.bbox.y0, e.bbox.x1, e.bbox.y1, e.source, a.confidence
                );
            }
        }
        _ => {
            let reason = a.reason.as_deref().unwrap_or("no answer");
            let hint = if reason.starts_with(NEEDS_READER) {
                " (read them with `pagewise text DOC --reader ocr --save`)"
            } else {
                ""
            };
            println!("not found: {reason}{hint}");
            if let (Some(text), Some(_)) = (&a.answer, &a.checks) {
                println!("  the model said: {text}");
            }
            for g in &a.guesses {
                let at = g.evidence.first().map(|e| format!("p.{}", e.page)).unwrap_or_default();
                println!("  guess {:.2}  {}  {at}", g.confidence, g.answer);
            }
        }
    }
}
