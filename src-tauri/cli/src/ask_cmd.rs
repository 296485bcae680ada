//! `pagewise ask DOC "QUESTION"`: an answer with its evidence (page and box), or "not found"
//! with the best guesses.

use std::process::ExitCode;

use pagewise_engine::ask::{self, Answer, Extractive};
use pagewise_engine::Result;

use crate::commands::{open, print_json, resolve};
use crate::Ctx;

pub fn ask(ctx: &Ctx, doc: &str, question: &str, page: Option<u32>) -> Result<ExitCode> {
    let mut lib = open(ctx)?;
    let doc = resolve(&mut lib, doc)?;
    let mut answerer = Extractive::new();
    let answer = ask::ask(&lib, &doc.id, question, page, &mut answerer)?;
    if ctx.json {
        print_json(&answer);
    } else {
        print_answer(&answer);
    }
    // Not found is an answer too, but scripts may want to know.
    Ok(if answer.found { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

fn print_answer(a: &Answer) {
    match (&a.answer, a.found) {
        (Some(text), true) => {
            let norm = a.normalized.as_deref().filter(|n| n != text).map(|n| format!("  = {n}")).unwrap_or_default();
            let cur = a.currency.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
            println!("{text}{norm}{cur}");
            for e in &a.evidence {
                println!(
                    "  p.{} [{:.0}, {:.0}, {:.0}, {:.0}] ({}), confidence {:.2}",
                    e.page, e.bbox.x0, e.bbox.y0, e.bbox.x1, e.bbox.y1, e.source, a.confidence
                );
            }
        }
        _ => {
            println!("not found: {}", a.reason.as_deref().unwrap_or("no answer"));
            for g in &a.guesses {
                let at = g.evidence.first().map(|e| format!("p.{}", e.page)).unwrap_or_default();
                println!("  guess {:.2}  {}  {at}", g.confidence, g.answer);
            }
        }
    }
}
