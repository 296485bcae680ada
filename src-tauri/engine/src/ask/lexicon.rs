//! The answerer's vocabulary, from the data files of `assets/lexicon/`: the label groups and
//! the rules that contrast them (`labels.toml`), question words (`questions.toml`), words of
//! company and party names (`names.toml`), places and address words (`places.toml`). The files
//! are compiled into the program and parsed once, on first use; unit tests parse every one, so a
//! malformed file fails the tests rather than a user's question. (Typed values have their own,
//! [`crate::values::lexicon`].)

use std::sync::LazyLock;

use serde::Deserialize;

use crate::model::Target;
use crate::values::lexicon::{parse, Words};

/// Everything the answerer reads documents and questions with.
#[derive(Debug)]
pub struct Lexicon {
    pub labels: Labels,
    pub questions: Questions,
    pub names: Names,
    pub places: Places,
}

/// `labels.toml`: groups of label phrases that mean one thing, and how questions use them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    #[serde(rename = "group")]
    pub groups: Vec<LabelGroup>,
    /// Labels a question's words rule out ("due" drops "invoice date").
    pub narrow: Vec<Narrow>,
    /// Questions for a part of an amount (the tax of the total).
    pub part_of: Vec<PartOf>,
    /// Things easily confused: values under the contrasting group's labels count against.
    #[serde(rename = "contrast")]
    pub contrasts: Vec<Contrast>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelGroup {
    pub name: String,
    /// Question words that bring the group in.
    pub keys: Words,
    /// The kinds of value its labels label.
    pub targets: Vec<Target>,
    /// The label phrases (lowercase).
    pub phrases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Narrow {
    pub asked: Words,
    pub drop: Words,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartOf {
    pub asked: Words,
    /// The group of the whole.
    pub whole: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contrast {
    pub asked: Words,
    pub unless: Words,
    /// The group to avoid.
    pub avoid: String,
}

impl Labels {
    pub fn group(&self, name: &str) -> Option<&LabelGroup> {
        self.groups.iter().find(|g| g.name == name)
    }
}

/// `questions.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Questions {
    pub stop_words: Words,
    /// Words that only say which period ("ending December 2023").
    pub period_words: Words,
    pub targets: TargetWords,
}

/// The words that make a question ask for each kind of value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetWords {
    pub currency: Words,
    pub percent: Words,
    pub money: Words,
    pub date: Words,
    pub period: Words,
    pub place: Words,
    pub address: Words,
    pub identifier: Words,
    pub name: Words,
}

/// `names.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    pub company_suffixes: Words,
    pub document_titles: Words,
    pub connectors: Words,
    pub not_parties: Words,
}

/// `places.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Places {
    /// States and countries, as printed.
    pub places: Words,
    pub not_address: Words,
    pub tax_number_words: Words,
    pub street_words: Words,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| Lexicon {
    labels: parse("labels.toml", include_str!("../../../../assets/lexicon/labels.toml")),
    questions: parse("questions.toml", include_str!("../../../../assets/lexicon/questions.toml")),
    names: parse("names.toml", include_str!("../../../../assets/lexicon/names.toml")),
    places: parse("places.toml", include_str!("../../../../assets/lexicon/places.toml")),
});

/// The answerer's vocabulary.
pub fn lexicon() -> &'static Lexicon {
    &LEXICON
}

/// Does `word` end a company name (`Inc.`, `GmbH`, `Sdn`...)?
pub fn is_company_suffix(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '.').trim_end_matches('.').to_lowercase();
    lexicon().names.company_suffixes.contains(&w)
}

/// A word as labels are matched: lowercase, without surrounding punctuation (`Invoice-No.:` ->
/// `invoice-no`).
pub fn norm_token(t: &str) -> String {
    t.trim_matches(|c: char| !(c.is_alphanumeric() || c == '#' || c == '%')).to_lowercase()
}

/// Every label phrase of every group, as its words normalised one space apart.
static LABEL_PHRASES: LazyLock<std::collections::HashSet<String>> = LazyLock::new(|| {
    let phrase = |p: &String| p.split_whitespace().map(norm_token).collect::<Vec<_>>().join(" ");
    lexicon().labels.groups.iter().flat_map(|g| g.phrases.iter().map(phrase)).collect()
});

/// Are these normalised words, all of them, a label the lexicon knows ("bill to", "cliente")?
pub fn is_label_phrase(norm_words: &[String]) -> bool {
    !norm_words.is_empty() && LABEL_PHRASES.contains(&norm_words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowercase(words: &Words) -> bool {
        words.iter().all(|w| !w.is_empty() && w == w.to_lowercase())
    }

    /// Every file parses (an unknown target name, a misspelt key or a missing list is an
    /// error), and its parts refer to each other and to what the code reads.
    #[test]
    fn the_lexicon_files_parse_and_hold_together() {
        let lex = lexicon();
        let labels = &lex.labels;
        let mut names: Vec<&str> = labels.groups.iter().map(|g| g.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), labels.groups.len(), "group names are unique");
        for g in &labels.groups {
            assert!(lowercase(&g.keys) && !g.targets.is_empty() && !g.phrases.is_empty(), "group {}", g.name);
            assert!(g.phrases.iter().all(|p| !p.is_empty() && *p == p.to_lowercase()), "group {}", g.name);
        }
        let phrase = |p: &str| labels.groups.iter().any(|g| g.phrases.iter().any(|q| q == p));
        for n in &labels.narrow {
            assert!(n.drop.iter().all(phrase), "narrow: every label dropped is some group's");
        }
        for p in &labels.part_of {
            assert!(labels.group(&p.whole).is_some(), "part_of: no group {}", p.whole);
        }
        for c in &labels.contrasts {
            assert!(labels.group(&c.avoid).is_some(), "contrast: no group {}", c.avoid);
        }
        // Phrases the answerer reads by their wording (extractive.rs).
        for p in ["grand total", "subtotal", "tax amount", "due date"] {
            assert!(phrase(p), "labels.toml lost '{p}'");
        }
        let q = &lex.questions;
        let t = &q.targets;
        for words in [&q.stop_words, &q.period_words, &t.currency, &t.percent, &t.money, &t.date, &t.period]
            .into_iter()
            .chain([&t.place, &t.address, &t.identifier, &t.name])
        {
            assert!(lowercase(words));
        }
        let n = &lex.names;
        assert!([&n.company_suffixes, &n.document_titles, &n.connectors, &n.not_parties].into_iter().all(lowercase));
        let p = &lex.places;
        assert!([&p.not_address, &p.tax_number_words, &p.street_words].into_iter().all(lowercase));
        assert!(p.places.iter().all(|place| place.starts_with(char::is_uppercase)));
    }

    #[test]
    fn company_suffixes_are_read_without_their_punctuation() {
        assert!(is_company_suffix("Inc.") && is_company_suffix("S.p.A.") && is_company_suffix("(GmbH)"));
        assert!(!is_company_suffix("Software"));
    }
}
