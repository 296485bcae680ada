//! What a question asks for: the kind of value (its target) and the words a label for it would
//! carry, widened by a small multilingual lexicon of the labels business documents print
//! (`assets/lexicon/labels.toml` and `questions.toml`, read by [`super::lexicon`]).

use super::lexicon::lexicon;
use crate::model::Target;
use crate::values::lexicon::Words;
use crate::values::periods::ReportPeriod;
use crate::values::Locale;

/// A question, understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub text: String,
    pub target: Target,
    /// Content words of the question (lowercase, stop words dropped).
    pub terms: Vec<String>,
    /// Label phrases that mean the same as the question's subject (lowercase).
    pub labels: Vec<String>,
    /// Labels of things easily confused with the subject (the due date when the invoice date
    /// is asked, the customer when the vendor is): values under them count against.
    pub avoid: Vec<String>,
    /// The reporting period the question names ("... the 12 month period ending december
    /// 2023"): values in a table column headed by it are preferred.
    pub period: ReportPeriod,
    /// Names of the label groups the question brought in ("date", "effective"...), in the
    /// lexicon's order (general before specific): the last chooses the fitted ranking model.
    pub roles: Vec<String>,
}

impl Question {
    pub fn parse(text: &str) -> Question {
        Question::build(text, None)
    }

    /// A question whose kind of answer is known (a schema field's type).
    pub fn for_target(text: &str, target: Target) -> Question {
        Question::build(text, Some(target))
    }

    /// The content words that name the subject, without those that only say which period
    /// ("ending", "December").
    pub fn subject(&self) -> Vec<&str> {
        let period_words = &lexicon().questions.period_words;
        self.terms
            .iter()
            .filter(|t| crate::values::month(t).is_none() && !period_words.contains(t))
            .map(String::as_str)
            .collect()
    }

    fn build(text: &str, target: Option<Target>) -> Question {
        let lower = text.to_lowercase();
        let words: Vec<String> = lower
            .split(|c: char| !(c.is_alphanumeric() || c == '%' || c == '#'))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        let has = |w: &str| words.iter().any(|x| x == w);
        let target = target.unwrap_or_else(|| target_of(&lower, &has));
        let lex = lexicon();
        let terms: Vec<String> = words
            .iter()
            .filter(|w| !lex.questions.stop_words.contains(w) && !w.chars().all(|c| c.is_ascii_digit()))
            .cloned()
            .collect();
        let rules = &lex.labels;
        let mut labels: Vec<String> = Vec::new();
        let mut roles: Vec<String> = Vec::new();
        for group in &rules.groups {
            // Only labels of the kind asked for: "invoice" in "the invoice date" is no date label.
            if group.keys.any(has) && (group.targets.contains(&target) || target == Target::Text) {
                labels.extend(group.phrases.iter().cloned());
                roles.push(group.name.clone());
            }
        }
        // "due date" asks for the due date, not the invoice date.
        for narrow in rules.narrow.iter().filter(|n| n.asked.any(has)) {
            labels.retain(|l| !narrow.drop.contains(l));
        }
        let mut avoid: Vec<String> = Vec::new();
        // Asked for a part of the total (net amount, tax): the total itself is what to avoid.
        for part in rules.part_of.iter().filter(|p| p.asked.any(has) && target == Target::Money) {
            let whole = rules.group(&part.whole).map(|g| g.phrases.as_slice()).unwrap_or_default();
            labels.retain(|l| !whole.contains(l));
            avoid.extend(whole.iter().cloned());
        }
        // Things easily confused: the due date when the invoice date is asked, the customer when
        // the vendor is.
        for contrast in rules.contrasts.iter().filter(|c| c.asked.any(has) && !c.unless.any(has)) {
            avoid.extend(rules.group(&contrast.avoid).into_iter().flat_map(|g| g.phrases.iter().cloned()));
        }
        avoid.retain(|a| !labels.contains(a));
        labels.sort();
        labels.dedup();
        let period = ReportPeriod::parse(text, Locale::default());
        Question { text: text.trim().to_string(), target, terms, labels, avoid, period, roles }
    }
}

/// The kind of value a question asks for, from its words (`questions.toml`'s targets).
fn target_of(lower: &str, has: &dyn Fn(&str) -> bool) -> Target {
    let words = &lexicon().questions.targets;
    // "the currency of the total" asks for a currency; "revenues (number, unit and currency)"
    // for an amount: the subject comes first.
    let first = |ws: &Words| ws.iter().filter_map(|w| lower.find(w)).min();
    let currency_first = match (first(&words.currency), first(&words.money)) {
        (Some(c), Some(m)) => c < m,
        (Some(_), None) => true,
        _ => false,
    };
    if currency_first {
        Target::Currency
    } else if lower.contains('%') || words.percent.any(has) {
        Target::Percent
    } else if words.money.any(has) {
        Target::Money
    } else if words.date.any(has) {
        Target::Date
    } else if words.period.any(has) {
        Target::Period
    } else if words.place.any(has) {
        Target::Place
    } else if words.address.any(has) {
        Target::Address
    } else if words.identifier.any(has) {
        Target::Identifier
    } else if words.name.any(has) {
        Target::Name
    } else {
        Target::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_of_common_questions() {
        let t = |q: &str| Question::parse(q).target;
        assert_eq!(t("What is the total?"), Target::Money);
        assert_eq!(t("When is this due?"), Target::Date);
        assert_eq!(t("What is the invoice number?"), Target::Identifier);
        assert_eq!(t("Who are the parties?"), Target::Name);
        assert_eq!(t("Who is the issuer of the invoice?"), Target::Name);
        assert_eq!(t("What's the date of the invoice?"), Target::Date);
        assert_eq!(t("What is the currency?"), Target::Currency);
        assert_eq!(t("What is the currency of the total?"), Target::Currency);
        assert_eq!(t("What are the revenues for 2021? (give number, unit and currency)"), Target::Money);
        assert_eq!(t("What is the VAT %?"), Target::Percent);
        assert_eq!(t("What is the term (duration) of this agreement?"), Target::Period);
        assert_eq!(t("Under which jurisdiction is this agreement governed?"), Target::Place);
        assert_eq!(t("What is the address of the store?"), Target::Address);
        assert_eq!(t("What are the revenues for the 12-month period ending 2021-12-31?"), Target::Money);
    }

    #[test]
    fn labels_widen_the_question() {
        let q = Question::parse("What is the due date?");
        assert!(q.labels.contains(&"zahlungsziel".to_string()));
        assert!(!q.labels.contains(&"invoice date".to_string()));
        let q = Question::parse("What are the revenues for the 12 month period ending december 2023?");
        assert_eq!((q.period.year, q.period.months, q.period.end_month), (Some(2023), Some(12), Some(12)));
        assert!(q.terms.contains(&"revenues".to_string()));
    }
}
