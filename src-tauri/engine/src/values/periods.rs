//! Reporting periods as column heads and questions name them: "Q1 2021", "H1 2021", "9M 2021",
//! "Three months ended March 31, 2021", "Years Ended December 31," over "2023", "FY 2021/22",
//! "the 12-month period ending 2021-12-31". A period is the year it ends in, the month it ends
//! with and how many months it spans, each only where the text says it. Also the scale a table
//! states its amounts in ("in millions", "€ thousand", "EUR bn").

use super::lexicon::lexicon;
use super::{date_at, month, Locale};

/// A reporting period, as far as a text names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportPeriod {
    /// The year the period ends in.
    pub year: Option<u32>,
    /// The month it ends with (1-12).
    pub end_month: Option<u32>,
    /// How many months it spans.
    pub months: Option<u32>,
}

impl ReportPeriod {
    pub fn parse(text: &str, locale: Locale) -> ReportPeriod {
        let words = lexicon();
        let p = &words.periods;
        let mut out = ReportPeriod::default();
        // A date ("March 31, 2021", "2021-12-31") ends the period.
        let coarse: Vec<&str> = text.split_whitespace().collect();
        let mut i = 0;
        while i < coarse.len() {
            match date_at(&coarse[i..], locale) {
                Some((n, iso)) => {
                    out.end_month = iso[5..7].parse().ok();
                    i += n;
                }
                None => i += 1,
            }
        }
        let mut years: Vec<u32> = Vec::new();
        let mut tokens: Vec<String> = Vec::new();
        for w in &coarse {
            // A fiscal year over two calendar years ends in the second: "2021/22", "2021-2022".
            if let Some(y) = split_year(w) {
                years.push(y);
                continue;
            }
            // ("Q1'21" keeps its year glued on.)
            let lower = w.to_lowercase().replace(['\'', '’'], "").replace(['–', '—', '-', '/'], " ");
            tokens.extend(
                lower
                    .split(|c: char| {
                        c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '"' | '’' | '.' | '?' | '!')
                    })
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            );
        }
        let (mut quarters, mut halves, mut months, mut names) = (Vec::new(), Vec::new(), None, Vec::new());
        let (mut quarter_word, mut half_word, mut year_word) = (false, false, false);
        for (k, t) in tokens.iter().enumerate() {
            let next = tokens.get(k + 1).map(String::as_str).unwrap_or("");
            let count = t.parse::<u32>().ok().or_else(|| words.number_words.get(t.as_str()).copied());
            // "first quarter", "1. Quartal"; but "three quarters" count, "a quarter" is any.
            let digits = t.parse::<u32>().ok().filter(|n| (1..=4).contains(n));
            let ordinal = p.ordinals.get(t.as_str()).copied().or(digits);
            if let Some(y) = year_of(t) {
                years.push(y);
            } else if let Some((n, y)) = tagged(t, 'q') {
                quarters.push(n);
                years.extend(y);
            } else if let Some((n, y)) = tagged(t, 'h').filter(|(n, _)| *n <= 2) {
                halves.push(n);
                years.extend(y);
            } else if let Some(n) =
                t.strip_suffix('m').and_then(|d| d.parse::<u32>().ok()).filter(|n| (1..=12).contains(n))
            {
                months = Some(n);
            } else if let (Some(n), true) = (count, next == "quarters") {
                months = Some(3 * n);
            } else if let Some(y) = t.strip_prefix("fy").and_then(fiscal_year) {
                years.push(y);
                year_word = true;
            } else if let (Some(n), true) = (ordinal, p.quarter.contains(next)) {
                quarters.push(n);
            } else if let (Some(n), true) = (ordinal, p.half.contains(next)) {
                halves.push(n);
            } else if let (Some(n), true) = (count, p.month.contains(next)) {
                months = Some(n);
            } else if p.quarter.contains(t) {
                quarter_word = true;
            } else if p.half.contains(t) {
                half_word = true;
            } else if p.year.contains(t) {
                year_word = true;
            } else if let Some(m) = month(t).filter(|_| t != "may" || next.parse::<u32>().is_ok()) {
                // ("may" is a month only beside a number.)
                names.push(m);
            }
        }
        out.year = years.last().copied();
        // "Q1-Q3" spans three quarters.
        if let (Some(&a), Some(&b)) = (quarters.first(), quarters.last()) {
            if b >= a {
                out.months = Some(3 * (b - a + 1));
                out.end_month = Some(3 * b);
            }
        } else if let Some(&h) = halves.last() {
            out.months = Some(6);
            out.end_month = Some(6 * h);
        }
        // "Jan. 1 - Mar. 31": from one month to another.
        if let (Some(&a), Some(&b)) = (names.first(), names.last()) {
            if names.len() >= 2 && a != b && out.months.is_none() {
                out.months = Some((b + 12 - a) % 12 + 1);
            }
            out.end_month = out.end_month.or(Some(b));
        }
        out.months = out.months.or(months).or(if quarter_word {
            Some(3)
        } else if half_word {
            Some(6)
        } else if year_word {
            Some(12)
        } else {
            None
        });
        out
    }

    pub fn is_empty(&self) -> bool {
        *self == ReportPeriod::default()
    }

    /// How well figures under a column headed by this period answer a question about `asked`
    /// (0..1): 1 where all the question names agrees, low where the year, the span or the end
    /// month differs; a bare year heads a year's figures. A question that names no period
    /// takes any column; a column without a head is unknown (0.5).
    pub fn fit(&self, asked: &ReportPeriod) -> f32 {
        let Some(want) = asked.year else { return 1.0 };
        if self.is_empty() {
            return 0.5;
        }
        let differ = |a: Option<u32>, b: Option<u32>| matches!((a, b), (Some(x), Some(y)) if x != y);
        if self.year.is_some_and(|y| y != want) {
            0.1
        } else if differ(self.months, asked.months) || differ(self.end_month, asked.end_month) {
            0.15
        } else if self.year.is_none() {
            0.6
        } else {
            // A bare year heads a year's figures; a year asked bare is the whole year.
            match (self.months, asked.months) {
                (None, Some(m)) | (Some(m), None) if m != 12 => 0.45,
                (None, _) => 0.9,
                _ => 1.0,
            }
        }
    }
}

/// "FY2023", "FY23" (after "fy"): the year.
fn fiscal_year(digits: &str) -> Option<u32> {
    match digits.len() {
        2 => digits.parse::<u32>().ok().map(|y| 2000 + y),
        4 => year_of(digits),
        _ => None,
    }
}

/// "2021/22", "2021-2022", "2021/2022": the second year.
fn split_year(w: &str) -> Option<u32> {
    let (a, b) = w.trim_matches(|c: char| !c.is_ascii_digit()).split_once(['/', '-', '–'])?;
    let first = year_of(a)?;
    let second = match b.len() {
        2 => 100 * (first / 100) + b.parse::<u32>().ok()?,
        4 => year_of(b)?,
        _ => return None,
    };
    (second == first + 1).then_some(second)
}

/// Four digits that are a year of reports (1900 to 2099).
pub(crate) fn year_of(t: &str) -> Option<u32> {
    (t.len() == 4 && t.chars().all(|c| c.is_ascii_digit()))
        .then(|| t.parse().ok())
        .flatten()
        .filter(|y| (1900..2100).contains(y))
}

/// "q1", "1q", "q1'21" with `tag` 'q' (a quarter), "h2", "2h" with 'h' (a half): its number,
/// and the year when one is glued on ("1q21").
fn tagged(t: &str, tag: char) -> Option<(u32, Option<u32>)> {
    let mut chars = t.chars();
    let (a, b) = (chars.next()?, chars.next()?);
    let rest: String = chars.collect();
    let n = if a == tag {
        b.to_digit(10)?
    } else if b == tag {
        a.to_digit(10)?
    } else {
        return None;
    };
    if !(1..=4).contains(&n) {
        return None;
    }
    match rest.len() {
        0 => Some((n, None)),
        2 if rest.chars().all(|c| c.is_ascii_digit()) => Some((n, Some(2000 + rest.parse::<u32>().ok()?))),
        4 => Some((n, Some(year_of(&rest)?))),
        _ => None,
    }
}

/// The scale a word states amounts in ("millions", "€m", "TEUR", "000s"), if it is one.
pub fn scale_word(token: &str) -> Option<&'static str> {
    let t = token.trim_matches(|c: char| matches!(c, '(' | ')' | ',' | '.' | ':' | ';' | '\'' | '’')).to_lowercase();
    let scales = &lexicon().periods.scales;
    if scales.thousands.contains(&t) || t == "000" || t == "000s" {
        Some("thousands")
    } else if scales.millions.contains(&t) {
        Some("millions")
    } else if scales.billions.contains(&t) {
        Some("billions")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> (Option<u32>, Option<u32>, Option<u32>) {
        let r = ReportPeriod::parse(text, Locale { day_first: false });
        (r.year, r.end_month, r.months)
    }

    #[test]
    fn column_heads_name_their_periods() {
        assert_eq!(p("Q1 2021"), (Some(2021), Some(3), Some(3)));
        assert_eq!(p("3rd quarter 2022"), (Some(2022), Some(9), Some(3)));
        assert_eq!(p("1. Quartal 2021"), (Some(2021), Some(3), Some(3)));
        assert_eq!(p("H1 2021"), (Some(2021), Some(6), Some(6)));
        assert_eq!(p("Q1–Q3 2021"), (Some(2021), Some(9), Some(9)));
        assert_eq!(p("9M 2021"), (Some(2021), None, Some(9)));
        assert_eq!(p("Three months ended March 31, 2021"), (Some(2021), Some(3), Some(3)));
        assert_eq!(p("Years Ended December 31, 2023"), (Some(2023), Some(12), Some(12)));
        assert_eq!(p("Jan. 1 – Mar. 31, 2021"), (Some(2021), Some(3), Some(3)));
        assert_eq!(p("FY 2021/22"), (Some(2022), None, Some(12)));
        assert_eq!(p("FY2023"), (Some(2023), None, Some(12)));
        assert_eq!(p("Q4'22"), (Some(2022), Some(12), Some(3)));
        assert_eq!(p("the first three quarters of 2023"), (Some(2023), None, Some(9)));
        assert_eq!(p("a quarter"), (None, None, Some(3)));
        assert_eq!(p("2020"), (Some(2020), None, None));
        assert_eq!(p("€ million"), (None, None, None));
        assert_eq!(p("Change in %"), (None, None, None));
    }

    #[test]
    fn questions_name_their_periods() {
        assert_eq!(
            p("What are the revenues for the 12-month period ending 2021-12-31?"),
            (Some(2021), Some(12), Some(12))
        );
        assert_eq!(p("the revenues for the 12 month period ending december 2023?"), (Some(2023), Some(12), Some(12)));
        assert_eq!(p("the 3-month period ending 2021-03-31"), (Some(2021), Some(3), Some(3)));
    }

    #[test]
    fn a_head_fits_the_question_that_names_its_period() {
        let at = |t: &str| ReportPeriod::parse(t, Locale::default());
        let asked = at("the 3-month period ending 2021-03-31");
        assert_eq!(at("Q1 2021").fit(&asked), 1.0);
        assert!(at("Q1 2020").fit(&asked) < 0.2);
        assert!(at("H1 2021").fit(&asked) < 0.2);
        assert!(at("2021").fit(&asked) < at("Q1 2021").fit(&asked));
        let year = at("ending december 2023, 12 months");
        assert!(at("2023").fit(&year) >= 0.9 && at("2022").fit(&year) < 0.2);
        assert_eq!(at("2023").fit(&ReportPeriod::default()), 1.0);
        assert!(at("Q1 2023").fit(&at("in 2023")) < at("2023").fit(&at("in 2023")));
    }

    #[test]
    fn scale_words() {
        assert_eq!(scale_word("millions"), Some("millions"));
        assert_eq!(scale_word("(in"), None);
        assert_eq!(scale_word("thousands,"), Some("thousands"));
        assert_eq!(scale_word("TEUR"), Some("thousands"));
        assert_eq!(scale_word("€m"), Some("millions"));
        assert_eq!(scale_word("bn"), Some("billions"));
    }
}
