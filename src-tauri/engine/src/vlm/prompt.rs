//! Prompts as the model expects them: the model's own chat template (Jinja, rendered with
//! minijinja and Python-compatible string methods, as transformers renders it), each image
//! placeholder expanded to one token per merged patch, then the model's tokenizer.

use std::path::Path;

use minijinja::{context, Environment, Error as JinjaError, ErrorKind};
use serde_json::{json, Value};
use tokenizers::Tokenizer;

use crate::{Error, Result};

/// One chat message's content, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Image,
    Text(String),
}

pub struct Prompter {
    model: String,
    tokenizer: Tokenizer,
    template: String,
    image_token: String,
    merge: usize,
}

fn model_error(model: &str, detail: impl Into<String>) -> Error {
    Error::Model { model: model.into(), detail: detail.into() }
}

/// The chat template a model folder ships: `chat_template.jinja`, `chat_template.json`, or the
/// `chat_template` key of `tokenizer_config.json`.
fn read_template(model: &str, dir: &Path) -> Result<String> {
    if let Ok(text) = std::fs::read_to_string(dir.join("chat_template.jinja")) {
        return Ok(text);
    }
    for file in ["chat_template.json", "tokenizer_config.json"] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else { continue };
        let value: Value =
            serde_json::from_str(&text).map_err(|e| model_error(model, format!("{file} is not valid JSON ({e})")))?;
        if let Some(template) = value.get("chat_template").and_then(|t| t.as_str()) {
            return Ok(template.to_string());
        }
    }
    Err(model_error(model, "no chat template (chat_template.jinja, chat_template.json or tokenizer_config.json)"))
}

impl Prompter {
    pub fn load(model: &str, dir: &Path, image_token: &str, merge: usize) -> Result<Prompter> {
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| model_error(model, format!("tokenizer.json: {e}")))?;
        if tokenizer.token_to_id(image_token).is_none() {
            return Err(model_error(model, format!("the tokenizer has no {image_token} token")));
        }
        Ok(Prompter {
            model: model.into(),
            tokenizer,
            template: read_template(model, dir)?,
            image_token: image_token.into(),
            merge,
        })
    }

    /// The chat template applied to one user message, with the assistant's turn opened.
    pub fn render(&self, parts: &[Part]) -> Result<String> {
        let content: Vec<Value> = parts
            .iter()
            .map(|p| match p {
                Part::Image => json!({"type": "image"}),
                Part::Text(t) => json!({"type": "text", "text": t}),
            })
            .collect();
        let messages = json!([{"role": "user", "content": content}]);
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |message: String| -> std::result::Result<String, JinjaError> {
            Err(JinjaError::new(ErrorKind::InvalidOperation, message))
        });
        env.add_template("chat", &self.template)
            .map_err(|e| model_error(&self.model, format!("chat template: {e}")))?;
        let template = env.get_template("chat").expect("just added");
        template
            .render(context! { messages => messages, add_generation_prompt => true })
            .map_err(|e| model_error(&self.model, format!("chat template: {e}")))
    }

    /// Token ids of a rendered prompt, each image placeholder expanded for its image's grid.
    pub fn encode(&self, prompt: &str, grids: &[[usize; 3]]) -> Result<Vec<u32>> {
        let pieces: Vec<&str> = prompt.split(self.image_token.as_str()).collect();
        if pieces.len() - 1 != grids.len() {
            return Err(model_error(
                &self.model,
                format!("{} image placeholders for {} images", pieces.len() - 1, grids.len()),
            ));
        }
        let mut expanded = String::from(pieces[0]);
        for (grid, piece) in grids.iter().zip(&pieces[1..]) {
            let count = grid.iter().product::<usize>() / (self.merge * self.merge);
            expanded.push_str(&self.image_token.repeat(count));
            expanded.push_str(piece);
        }
        let encoding =
            self.tokenizer.encode(expanded, true).map_err(|e| model_error(&self.model, format!("tokenizer: {e}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32], skip_special: bool) -> String {
        self.tokenizer.decode(ids, skip_special).unwrap_or_default()
    }

    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }
}
