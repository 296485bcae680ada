//! Text files a user hands Pagewise: extraction schemas (TOML) and, for models, the hub
//! manifests (TOML) and an installed model's receipt (JSON, on disk where anyone may edit it).

use std::path::Path;

use pagewise_engine::models::hub::{FileSpec, HubModel, Receipt};
use pagewise_engine::{Schema, SCHEMA_PRESETS};

use super::outcome_name;

pub const SCHEMA_TOKENS: &[&[u8]] = &[
    b"[[field]]\n",
    b"name = ",
    b"type = ",
    b"\"text\"",
    b"\"date\"",
    b"\"money\"",
    b"\"number\"",
    b"\"percent\"",
    b"\"enum\"",
    b"\"list\"",
    b"questions = [",
    b"aliases = [",
    b"values = [",
    b"target = ",
    b"\"currency\"",
    b"pattern = ",
    b"'^(a|b)*$'",
    b"'(?P<x>\\\\d+'",
    b"required = true",
    b"description = ",
    b"\"\"\"",
    b"'''",
    b"\\u00e9",
    b"{ name = \"x\" }",
    b"[field]\n",
    b"\n",
    b"#",
    b"=",
    b",",
    b"]",
];

pub const MANIFEST_TOKENS: &[&[u8]] = &[
    b"id = ",
    b"repo = ",
    b"revision = ",
    b"\"0123456789abcdef0123456789abcdef01234567\"",
    b"model_type = ",
    b"approx_bytes = ",
    b"min_memory_gb = ",
    b"[[files]]\n",
    b"size = ",
    b"sha256 = ",
    b"\"files\":",
    b"\"checked_against\":",
    b"\"revision\":",
    b"\"name\":",
    b"\"size\":",
    b"null",
    b"18446744073709551615",
    b"-1",
    b"[{}]",
    b"\"\\ud800\"",
    b"\n",
    b"=",
    b",",
    b"{",
    b"}",
];

/// The shipped presets, and the shapes a user's file takes (enum values, patterns, aliases).
pub fn schema_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = SCHEMA_PRESETS.iter().map(|(_, text)| text.as_bytes().to_vec()).collect();
    seeds.push(
        b"name = \"mine\"\ndescription = \"d\"\n[[field]]\nname = \"kind\"\ntype = \"enum\"\nvalues = [\"a\", \"b\"]\n\
          aliases = [\"kind\"]\nrequired = true\n[[field]]\nname = \"ref\"\ntype = \"text\"\ntarget = \"identifier\"\n\
          pattern = '^[A-Z]{2}-\\d+$'\nquestions = [\"What is the reference?\"]\n"
            .to_vec(),
    );
    seeds
}

/// Parse as a file given by path would be (`Schema::load` reads it as UTF-8 text).
pub fn schema(input: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(input) else {
        return "not UTF-8".into();
    };
    match Schema::parse(text, Path::new("fuzz.toml")) {
        Ok(schema) => {
            let questions: usize = schema.fields.iter().map(|f| f.all_questions().len()).sum();
            let targets: Vec<_> = schema.fields.iter().map(|f| f.target()).collect();
            format!(
                "{} field(s), questions {}, targets {}",
                schema.fields.len().min(4),
                questions.min(4),
                targets.len()
            )
        }
        Err(e) => outcome_name(&e.to_string()),
    }
}

/// The shipped hub manifests, and a receipt as `install` writes it.
pub fn manifest_seeds() -> Vec<Vec<u8>> {
    let receipt = Receipt {
        id: "paddleocr-vl".into(),
        repo: "PaddlePaddle/PaddleOCR-VL".into(),
        revision: "0123456789abcdef0123456789abcdef01234567".into(),
        checked_against: "manifest".into(),
        files: vec![
            FileSpec { name: "config.json".into(), size: Some(1234), sha256: Some("ab".repeat(32)) },
            FileSpec { name: "model.safetensors".into(), size: None, sha256: None },
        ],
    };
    vec![
        include_bytes!("../../../../../models/hub/paddleocr-vl.toml").to_vec(),
        include_bytes!("../../../../../models/hub/qwen3-vl-2b-instruct.toml").to_vec(),
        serde_json::to_vec_pretty(&receipt).expect("a receipt serialises"),
    ]
}

/// A manifest as `HubModel::parse` reads it, and a receipt as `hub::receipt` reads it.
pub fn manifest(input: &[u8]) -> String {
    let as_manifest = match std::str::from_utf8(input).map(|text| HubModel::parse("fuzz", text)) {
        Err(_) => "not UTF-8".into(),
        Ok(Ok(model)) => format!("manifest ok, {} ({} files)", model.version_label().len(), model.files.len().min(4)),
        Ok(Err(e)) => outcome_name(&e.to_string()),
    };
    let as_receipt = match serde_json::from_slice::<Receipt>(input) {
        Ok(r) => format!("receipt ok ({} files)", r.files.len().min(4)),
        Err(e) => format!("receipt: {:?}", e.classify()),
    };
    format!("{as_manifest}; {as_receipt}")
}
