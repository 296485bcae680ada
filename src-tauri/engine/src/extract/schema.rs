//! Extraction schemas: TOML files naming fields, their types and the questions that find them.
//! Presets (`invoice`, `receipt`, `contract`) ship in `assets/schemas/`; a user's file has the same
//! shape (start from a preset: `pagewise schema invoice > mine.toml`). Errors name the line.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::Target;
use crate::{Error, Result};

pub const PRESETS: [(&str, &str); 3] = [
    ("invoice", include_str!("../../../../assets/schemas/invoice.toml")),
    ("receipt", include_str!("../../../../assets/schemas/receipt.toml")),
    ("contract", include_str!("../../../../assets/schemas/contract.toml")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Date,
    Money,
    Number,
    Percent,
    Enum,
    List,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Questions asked in order (at least one); `aliases` are label words, asked as "What is the X?".
    #[serde(default)]
    pub questions: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// What a text, enum or list field holds: name, address, place, identifier, period, currency.
    #[serde(default)]
    pub target: Option<String>,
    /// A regular expression the value (as printed) must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The allowed values of an enum field.
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "field")]
    pub fields: Vec<FieldSpec>,
}

impl FieldSpec {
    /// What kind of answer the field's questions want.
    pub fn target(&self) -> Target {
        match self.kind {
            FieldType::Date => Target::Date,
            FieldType::Money | FieldType::Number => Target::Money,
            FieldType::Percent => Target::Percent,
            FieldType::Text | FieldType::Enum | FieldType::List => {
                self.target.as_deref().and_then(Target::parse).unwrap_or(Target::Text)
            }
        }
    }

    /// The questions to ask: the given ones, then one per alias.
    pub fn all_questions(&self) -> Vec<String> {
        let mut qs = self.questions.clone();
        qs.extend(self.aliases.iter().map(|a| format!("What is the {a}?")));
        qs
    }
}

/// The line (1-based) of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The line where `name = "..."` first (or, with `nth`, again) appears.
fn line_of_name(text: &str, name: &str, nth: usize) -> usize {
    let needle = format!("\"{name}\"");
    text.match_indices(&needle)
        .filter(|(i, _)| text[..*i].rsplit('\n').next().is_some_and(|l| l.trim_start().starts_with("name")))
        .nth(nth)
        .map_or(1, |(i, _)| line_of(text, i))
}

impl Schema {
    /// A preset by name, or a TOML file.
    pub fn load(spec: &str) -> Result<Schema> {
        if let Some((_, text)) = PRESETS.iter().find(|(n, _)| *n == spec) {
            return Schema::parse(text, Path::new(&format!("preset:{spec}")));
        }
        let path = PathBuf::from(spec);
        if !path.is_file() {
            return Err(Error::BadSchema {
                path,
                line: 0,
                detail: format!(
                    "no such schema file, and not a preset (presets: {})",
                    PRESETS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        Schema::parse(&text, &path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Schema> {
        let bad = |line: usize, detail: String| Error::BadSchema { path: path.to_path_buf(), line, detail };
        let schema: Schema = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            bad(line, e.message().to_string())
        })?;
        if schema.fields.is_empty() {
            return Err(bad(1, "a schema needs at least one [[field]]".into()));
        }
        for (i, f) in schema.fields.iter().enumerate() {
            let line = line_of_name(text, &f.name, 0);
            if f.name.trim().is_empty() || !f.name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
                return Err(bad(line, format!("field name '{}' must be letters, digits, '_' or '-'", f.name)));
            }
            if schema.fields[..i].iter().any(|g| g.name == f.name) {
                return Err(bad(line_of_name(text, &f.name, 1), format!("duplicate field name '{}'", f.name)));
            }
            if f.all_questions().is_empty() {
                return Err(bad(line, format!("field '{}' needs at least one question (or alias)", f.name)));
            }
            if let Some(t) = &f.target {
                if Target::parse(t).is_none() {
                    return Err(bad(
                        line,
                        format!(
                            "field '{}': unknown target '{t}' \
                             (name, address, place, identifier, period, currency, date, money, percent, text)",
                            f.name
                        ),
                    ));
                }
            }
            if f.kind == FieldType::Enum && f.values.is_empty() {
                return Err(bad(line, format!("enum field '{}' needs `values`", f.name)));
            }
            if let Some(p) = &f.pattern {
                regex::Regex::new(p).map_err(|e| {
                    bad(line, format!("field '{}': pattern is not a valid regular expression ({e})", f.name))
                })?;
            }
        }
        Ok(schema)
    }

    /// The schema's TOML as shipped (for presets) so a user can start from it.
    pub fn preset_text(name: &str) -> Option<&'static str> {
        PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse() {
        for (name, _) in PRESETS {
            let s = Schema::load(name).unwrap();
            assert_eq!(s.name, name);
            assert!(!s.fields.is_empty());
        }
    }

    fn err(text: &str) -> (usize, String) {
        match Schema::parse(text, Path::new("x.toml")) {
            Err(Error::BadSchema { line, detail, .. }) => (line, detail),
            other => panic!("expected a schema error, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_line() {
        let (line, detail) = err("name = \"s\"\n[[field]]\nname = \"a\"\ntype = \"colour\"\nquestions = [\"q?\"]\n");
        assert_eq!(line, 4, "{detail}");
        assert!(detail.contains("colour"), "{detail}");
        let (line, detail) = err("name = \"s\"\n[[field]]\nname = \"a\"\ntype = \"text\"\nquestions = [\"q?\"]\n\
                                  [[field]]\nname = \"a\"\ntype = \"date\"\nquestions = [\"q?\"]\n");
        assert_eq!(line, 7);
        assert!(detail.contains("duplicate"), "{detail}");
        let (_, detail) = err("name = \"s\"\n[[field]]\nname = \"a\"\ntype = \"enum\"\nquestions = [\"q?\"]\n");
        assert!(detail.contains("values"));
        let (line, _) =
            err("name = \"s\"\n[[field]]\nname = \"a\"\ntype = \"text\"\nquestions = [\"q?\"]\npattern = \"(\"\n");
        assert_eq!(line, 3);
    }
}
