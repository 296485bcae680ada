//! The vocabulary typed values are read with (month names, number words, currency signs and
//! codes): `assets/lexicon/values.toml`, compiled into the program and parsed once. Also the
//! word list type and the parser that the answerer's lexicon ([`crate::ask::lexicon`]) shares.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A list of words or phrases, compared whole, in the order the file gives them.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Words(Vec<String>);

impl Words {
    pub fn contains(&self, word: &str) -> bool {
        self.0.iter().any(|w| w == word)
    }

    /// Does any word of the list pass `f`?
    pub fn any(&self, f: impl Fn(&str) -> bool) -> bool {
        self.0.iter().any(|w| f(w))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// Parses a lexicon file compiled into the program. The files are checked by unit tests, so a
/// malformed one never reaches a user.
pub fn parse<T: DeserializeOwned>(file: &str, text: &str) -> T {
    toml::from_str(text).unwrap_or_else(|e| panic!("assets/lexicon/{file} is malformed: {e}"))
}

/// `values.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    pub months: Months,
    /// Number words that count a duration ("two", "twenty-four") and their values.
    pub number_words: BTreeMap<String, u32>,
    pub currency: Currencies,
    pub locale: LocaleWords,
    pub periods: PeriodWords,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Months {
    /// Lists of twelve three-letter heads (January first), one per language, tried in order.
    pub abbreviations: Vec<Vec<String>>,
    /// Month names (lowercase) and their numbers.
    pub names: BTreeMap<String, u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Currencies {
    /// ISO 4217 codes.
    pub codes: Words,
    /// Signs and printed forms (`$`, `RM`, `Fr.`) and the codes they stand for.
    pub signs: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocaleWords {
    /// Common English words (with dollars, they suggest month-first dates).
    pub english_words: Words,
    /// Words and names only American documents print (with English, month-first dates).
    pub american_words: Words,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodWords {
    pub quarter: Words,
    pub half: Words,
    /// Words that make a period a (fiscal) year.
    pub year: Words,
    pub month: Words,
    pub ordinals: BTreeMap<String, u32>,
    pub scales: Scales,
}

/// Words that state the unit of a table's amounts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scales {
    pub thousands: Words,
    pub millions: Words,
    pub billions: Words,
}

static LEXICON: LazyLock<Lexicon> =
    LazyLock::new(|| parse("values.toml", include_str!("../../../../assets/lexicon/values.toml")));

/// The vocabulary of typed values.
pub fn lexicon() -> &'static Lexicon {
    &LEXICON
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_toml_parses_and_holds_together() {
        let lex = lexicon();
        for list in &lex.months.abbreviations {
            assert_eq!(list.len(), 12, "{list:?}");
            assert!(list.iter().all(|a| a.chars().count() == 3 && *a == a.to_lowercase()), "{list:?}");
        }
        for (name, m) in &lex.months.names {
            assert!((1..=12).contains(m) && *name == name.to_lowercase(), "{name} = {m}");
        }
        assert!(lex.number_words.iter().all(|(w, n)| *n > 0 && *w == w.to_lowercase()));
        let codes: Vec<&str> = lex.currency.codes.iter().collect();
        assert!(codes.iter().all(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase())), "{codes:?}");
        for (sign, code) in &lex.currency.signs {
            assert!(lex.currency.codes.contains(code), "{sign} stands for {code}, which is no known code");
        }
        assert!(lex.locale.english_words.iter().count() >= 2);
        let p = &lex.periods;
        assert!(p.ordinals.values().all(|n| (1..=4).contains(n)));
        for words in [&p.quarter, &p.half, &p.year, &p.month, &p.scales.thousands, &p.scales.millions] {
            assert!(words.iter().all(|w| w == w.to_lowercase()), "{:?}", words.iter().collect::<Vec<_>>());
        }
    }
}
