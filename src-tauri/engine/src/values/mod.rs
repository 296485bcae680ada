//! Typed values as documents print them, and their normal forms: dates to ISO 8601, amounts to
//! a plain decimal with an ISO 4217 currency code, percentages, durations ("two (2) years" ->
//! "2 years"). Values are found over a line's words, so each keeps the words (and so the boxes)
//! it was read from. Shared by questions (`ask`) and field extraction (`extract`).

pub mod lexicon;
pub mod periods;

use serde::{Deserialize, Serialize};

use lexicon::lexicon;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    Date,
    Money,
    Percent,
    Period,
    Currency,
}

/// A value found in a run of words `start..end` of a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Typed {
    pub kind: ValueKind,
    pub start: usize,
    pub end: usize,
    pub normalized: String,
    /// For money: the currency printed beside the amount, if any.
    pub currency: Option<&'static str>,
}

/// How a document writes its dates: `03/04/2023` is 3 April (day first) or 4 March.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale {
    pub day_first: bool,
}

impl Default for Locale {
    fn default() -> Self {
        Locale { day_first: true }
    }
}

/// Decide the date order from the document itself: numeric dates that can only be read one way
/// decide; otherwise US dollars and English suggest month first, anything else day first.
pub fn guess_locale(text: &str) -> Locale {
    let (mut day_first, mut month_first) = (0, 0);
    for token in text.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')') {
        if let Some((a, b, _)) = numeric_date_parts(token) {
            if a > 12 && b <= 12 {
                day_first += 1;
            } else if b > 12 && a <= 12 {
                month_first += 1;
            }
        }
    }
    // Dates written out say it too: "September 4, 2012" is month-first style, "4 September 2012"
    // day-first.
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        if month(w).is_some() && w.chars().all(char::is_alphabetic) && w.len() >= 3 {
            let next_is_day = words.get(i + 1).is_some_and(|n| day_number(n).is_some())
                && words.get(i + 2).is_some_and(|n| year_number(n).is_some());
            let prev_is_day = i > 0
                && day_number(words[i - 1]).is_some()
                && words.get(i + 1).is_some_and(|n| year_number(n).is_some());
            month_first += usize::from(next_is_day);
            day_first += usize::from(prev_is_day);
        }
    }
    if day_first != month_first {
        return Locale { day_first: day_first > month_first };
    }
    let lower = text.to_lowercase();
    let english =
        lexicon().locale.english_words.iter().filter(|w| lower.split_whitespace().any(|t| t == *w)).count() >= 2;
    let dollars = lower.contains('$') || lower.contains("usd");
    // As whole words, without the punctuation around them ("Delaware.", "U.S.," read "delaware",
    // "u.s"); "Maine" and "Washington" are left out (a word and a surname too).
    let bare = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
    let padded = format!(" {} ", lower.split_whitespace().map(bare).collect::<Vec<_>>().join(" "));
    let american = lexicon().locale.american_words.iter().any(|w| {
        let words: Vec<String> = w.split_whitespace().map(bare).collect();
        padded.contains(&format!(" {} ", words.join(" ")))
    });
    Locale { day_first: !(english && (dollars || american)) }
}

/// A month name or its abbreviation (`Mar`, `Sept.`, `Dez`) in the languages invoices come in.
pub fn month(token: &str) -> Option<u32> {
    let t = token.trim_end_matches(['.', ',']).to_lowercase();
    if t.len() < 3 {
        return None;
    }
    let months = &lexicon().months;
    months.names.get(&t).copied().or_else(|| {
        // Three- or four-letter abbreviations ("Mar", "Sept.", "Dez").
        let head: String = t.chars().take(3).collect();
        let ok_len = t.chars().count() <= 4;
        (ok_len)
            .then(|| months.abbreviations.iter().find_map(|list| list.iter().position(|a| *a == head)))
            .flatten()
            .map(|i| i as u32 + 1)
    })
}

fn numeric_date_parts(token: &str) -> Option<(u32, u32, u32)> {
    let t = token.trim_matches(|c: char| !c.is_ascii_digit());
    let sep = t.chars().find(|c| matches!(c, '/' | '.' | '-'))?;
    let parts: Vec<&str> = t.split(sep).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.len() > 4 || !p.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
    (parts[0].len() <= 2 && parts[1].len() <= 2 && (parts[2].len() == 2 || parts[2].len() == 4))
        .then_some((n[0], n[1], n[2]))
}

fn full_year(y: u32) -> u32 {
    match y {
        0..=69 => 2000 + y,
        70..=99 => 1900 + y,
        _ => y,
    }
}

fn iso(y: u32, m: u32, d: u32) -> Option<String> {
    let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    ((1..=12).contains(&m) && d >= 1 && d <= days[m as usize - 1] && (1900..=2100).contains(&y))
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

fn day_number(token: &str) -> Option<u32> {
    let t = token.trim_end_matches([',', '.']).to_lowercase();
    let digits = t.trim_end_matches("st").trim_end_matches("nd").trim_end_matches("rd").trim_end_matches("th");
    (digits.len() <= 2 && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

fn year_number(token: &str) -> Option<u32> {
    let t = token.trim_end_matches(['.', ',', ')', ';']);
    (t.len() == 4 && t.chars().all(|c| c.is_ascii_digit())).then(|| t.parse().ok()).flatten()
}

/// A date at the start of `words`: how many words it takes and its ISO form.
pub fn date_at(words: &[&str], locale: Locale) -> Option<(usize, String)> {
    let w0 = *words.first()?;
    // 2023-03-20, 20.03.2023, 03/20/23, 17-03-18
    let t = w0.trim_matches(|c: char| !c.is_ascii_digit());
    if let Some(rest) = t.get(..4).filter(|y| y.chars().all(|c| c.is_ascii_digit())) {
        let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
        if parts.len() == 3 && parts[0] == rest && parts[1].len() <= 2 && parts[2].len() <= 2 {
            let n: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
            if n.len() == 3 {
                return iso(n[0], n[1], n[2]).map(|d| (1, d));
            }
        }
    }
    if let Some((a, b, y)) = numeric_date_parts(w0) {
        let (d, m) = if (locale.day_first && a <= 31 && b <= 12) || a > 12 { (a, b) } else { (b, a) };
        return iso(full_year(y), m, d).map(|d| (1, d));
    }
    // 20-Mar-2023, 20 March 2023, 7. Mai 2014, 13th of November 2023
    let split: Vec<&str> =
        if w0.contains('-') && w0.chars().any(char::is_alphabetic) { w0.split('-').collect() } else { vec![] };
    if split.len() == 3 {
        if let (Some(d), Some(m), Some(y)) = (day_number(split[0]), month(split[1]), split[2].parse::<u32>().ok()) {
            return iso(full_year(y), m, d).map(|iso| (1, iso));
        }
    }
    // "13th of November", "5 de enero de 2023".
    let joiner =
        |k: usize| usize::from(words.get(k).is_some_and(|w| ["of", "de", "del"].contains(&w.to_lowercase().as_str())));
    if let Some(d) = day_number(w0) {
        let skip = joiner(1);
        let skip_year = joiner(2 + skip);
        if let (Some(m), Some(y)) =
            (words.get(1 + skip).and_then(|w| month(w)), words.get(2 + skip + skip_year).and_then(|w| year_number(w)))
        {
            return iso(y, m, d).map(|iso| (3 + skip + skip_year, iso));
        }
    }
    // March 20, 2023 / Nov 13 2023
    if let Some(m) = month(w0) {
        if let (Some(d), Some(y)) =
            (words.get(1).and_then(|w| day_number(w)), words.get(2).and_then(|w| year_number(w)))
        {
            return iso(y, m, d).map(|iso| (3, iso));
        }
    }
    None
}

/// ISO 4217 code for a currency sign or code as printed.
pub fn currency_code(token: &str) -> Option<&'static str> {
    let t = token.trim_matches(|c: char| c == ':' || c == ',' || c == '(' || c == ')');
    let currency = &lexicon().currency;
    if let Some(code) = currency.signs.get(t) {
        return Some(code.as_str());
    }
    let upper = t.to_uppercase();
    currency.codes.iter().find(|c| *c == upper && (t == upper || t.len() == 3))
}

/// An amount printed with grouping and a decimal mark in either convention: `1,234.56`,
/// `1.234,56`, `34,73`, `(12.00)`, `-5`. Returns the value.
pub fn parse_number(token: &str) -> Option<f64> {
    let mut t = token.trim_end_matches(['*', ':', ';']).trim();
    let negative = (t.starts_with('(') && t.ends_with(')')) || t.starts_with('-') || t.ends_with('-');
    t = t.trim_matches(|c: char| c == '(' || c == ')' || c == '-' || c == '+');
    t = t.trim_end_matches(['.', ',']);
    if t.is_empty()
        || !t.starts_with(|c: char| c.is_ascii_digit())
        || !t.chars().all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | '\'' | '\u{a0}' | ' '))
    {
        return None;
    }
    let t: String = t.chars().filter(|c| !matches!(c, '\'' | '\u{a0}' | ' ')).collect();
    let last_sep = t.rfind([',', '.']);
    let decimal = match last_sep {
        None => None,
        Some(i) => {
            let digits_after = t.len() - i - 1;
            let seps = t.matches([',', '.']).count();
            let same_kind_only = t.matches(&t[i..i + 1]).count() == seps;
            // `1,234` and `1.234.567` group thousands; `34,73` and `1,234.5` mark decimals.
            if digits_after == 3 && same_kind_only {
                None
            } else {
                Some(i)
            }
        }
    };
    let cleaned: String = match decimal {
        Some(i) => format!("{}.{}", t[..i].replace([',', '.'], ""), &t[i + 1..]),
        None => t.replace([',', '.'], ""),
    };
    let v: f64 = cleaned.parse().ok()?;
    Some(if negative { -v } else { v })
}

/// An amount at the start of `words`, with a currency sign or code before or after it:
/// `$279.84`, `EUR 34,73`, `34,73 €`, `RM9.00`, `119.95`.
pub fn money_at(words: &[&str]) -> Option<(usize, f64, Option<&'static str>)> {
    let w0 = *words.first()?;
    // A sign glued to the number: $279.84, RM9.00, 9.00€
    let split = w0.find(|c: char| c.is_ascii_digit()).filter(|&i| i > 0 && currency_code(&w0[..i]).is_some());
    if let Some(i) = split {
        let v = parse_number(&w0[i..])?;
        return Some((1, v, currency_code(&w0[..i])));
    }
    if let Some(code) = currency_code(w0) {
        let v = words.get(1).and_then(|w| amount_token(w))?;
        return Some((2, v, Some(code)));
    }
    let glued_after = w0
        .rfind(|c: char| c.is_ascii_digit())
        .map(|i| i + 1)
        .filter(|&i| i < w0.len() && currency_code(&w0[i..]).is_some());
    if let Some(i) = glued_after {
        return Some((1, parse_number(&w0[..i])?, currency_code(&w0[i..])));
    }
    let v = amount_token(w0)?;
    // A sign after an amount is its currency ("34,73 €") unless it leads the next amount
    // ("720,653 $ 557,690").
    let leads_next = words.get(2).is_some_and(|w| amount_token(w).is_some());
    match words.get(1).and_then(|w| currency_code(w)).filter(|_| !leads_next) {
        Some(code) => Some((2, v, Some(code))),
        None => Some((1, v, None)),
    }
}

/// A number that looks like money: has a decimal part of two digits, or grouping, or is a
/// plain integer (kept: totals print as `9` too).
fn amount_token(token: &str) -> Option<f64> {
    let t = token.trim_end_matches(['*', ':', ';']);
    // Dates and times are not amounts.
    if numeric_date_parts(t).is_some() || t.contains(':') {
        return None;
    }
    parse_number(t)
}

/// A percentage at the start of `words`: `19%`, `19 %`, `7,5%`.
pub fn percent_at(words: &[&str]) -> Option<(usize, String)> {
    let w0 = *words.first()?;
    let (num, used) = match w0.strip_suffix('%').or_else(|| w0.trim_end_matches([')', ',', '.']).strip_suffix('%')) {
        Some(n) => (n, 1),
        None if words.get(1).is_some_and(|w| w.starts_with('%')) => (w0, 2),
        None => return None,
    };
    let v = parse_number(num.trim_start_matches('('))?;
    Some((used, format!("{}%", trim_float(v))))
}

/// Lowercase words and numbers only, one space apart: "JDA Software Group, Inc." and
/// "Jda Software Group Inc." read the same.
pub fn loose(s: &str) -> String {
    s.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Plain decimal without trailing zeros: 19 -> "19", 7.5 -> "7.5".
pub fn trim_float(v: f64) -> String {
    let s = format!("{:.4}", v);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A decimal with two places, as amounts are written in exports.
pub fn money_string(v: f64) -> String {
    format!("{v:.2}")
}

/// A duration at the start of `words`: `2 years`, `two (2) years`, `twenty-four months`,
/// `a period of one year` (from `one`). Normal form `{n} {unit}s`.
pub fn period_at(words: &[&str]) -> Option<(usize, String)> {
    let w0 = words.first()?.trim_matches(|c: char| c == '(' || c == ')' || c == ',').to_lowercase();
    let n =
        w0.parse::<u32>().ok().filter(|n| *n > 0 && *n < 1000).or_else(|| lexicon().number_words.get(&w0).copied())?;
    let mut i = 1;
    // "two (2) years"
    if words.get(i).is_some_and(|w| {
        w.starts_with('(') && w.trim_matches(|c: char| !c.is_ascii_digit()).parse::<u32>().ok() == Some(n)
    }) {
        i += 1;
    }
    let unit_word = words.get(i)?.trim_end_matches([',', '.', ';', ')']).to_lowercase();
    let unit = ["year", "month", "week", "day"]
        .into_iter()
        .find(|u| unit_word == *u || unit_word == format!("{u}s") || unit_word == format!("{u}-"))?;
    // Whole years are said in years: "twelve (12) months" is "1 year".
    let (n, unit) = if unit == "month" && n % 12 == 0 { (n / 12, "year") } else { (n, unit) };
    let plural = if n == 1 { "" } else { "s" };
    Some((i + 1, format!("{n} {unit}{plural}")))
}

/// An amount whose thousands are grouped by spaces, the groups printed close together (`tight[k]`:
/// word k is followed at a space's width, not a column's): `2 700,54`, `€ 1 234 567.89`,
/// `50 052,16 EUR`. A quantity and a price in two columns (`15   150.07`) stay apart.
fn spaced_money_at(words: &[&str], tight: &[bool]) -> Option<(usize, f64, Option<&'static str>)> {
    let lead = *words.first()?;
    // A currency before it: `EUR 2 570,80`.
    if let Some(code) = currency_code(lead).filter(|_| words.len() > 2) {
        let (n, v, cur) = spaced_money_at(&words[1..], tight.get(1..).unwrap_or(&[]))?;
        return Some((n + 1, v, cur.or(Some(code))));
    }
    let digits = lead.trim_start_matches(|c: char| !c.is_ascii_digit());
    let is_group = |w: &str| w.len() == 3 && w.bytes().all(|b| b.is_ascii_digit());
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut joined = lead.to_string();
    let mut n = 1;
    let mut decimals = false;
    while tight.get(n - 1) == Some(&true) {
        let Some(next) = words.get(n) else { break };
        // The last group may carry the decimals and a currency: `700,54`, `052.16€`.
        let head: String = next.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !is_group(&head) {
            break;
        }
        joined.push_str(next);
        n += 1;
        if next.len() > 3 {
            decimals = next[3..].starts_with([',', '.']);
            break;
        }
    }
    if n == 1 {
        return None;
    }
    let mut rest = vec![joined.as_str()];
    rest.extend_from_slice(&words[n..]);
    // Only an amount with cents or a currency: digits grouped by threes with nothing else are a
    // phone or registration number ("030 123 456").
    money_at(&rest).filter(|(_, _, cur)| decimals || cur.is_some()).map(|(used, v, cur)| (used + n - 1, v, cur))
}

/// Every typed value in a line's words, longest first where they overlap.
pub fn find_values(words: &[&str], locale: Locale) -> Vec<Typed> {
    find_values_spaced(words, &[], locale)
}

/// As [`find_values`], where `tight[k]` says word k is followed at a space's width (not a gap
/// between columns), so amounts with thousands grouped by spaces are read whole.
pub fn find_values_spaced(words: &[&str], tight: &[bool], locale: Locale) -> Vec<Typed> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let rest = &words[i..];
        let found = if let Some((n, iso)) = date_at(rest, locale) {
            Some(Typed { kind: ValueKind::Date, start: i, end: i + n, normalized: iso, currency: None })
        } else if let Some((n, p)) = percent_at(rest) {
            Some(Typed { kind: ValueKind::Percent, start: i, end: i + n, normalized: p, currency: None })
        } else if let Some((n, p)) = period_at(rest).filter(|(n, _)| *n >= 2) {
            Some(Typed { kind: ValueKind::Period, start: i, end: i + n, normalized: p, currency: None })
        } else if let Some((n, v, cur)) =
            spaced_money_at(rest, tight.get(i..).unwrap_or(&[])).or_else(|| money_at(rest))
        {
            Some(Typed { kind: ValueKind::Money, start: i, end: i + n, normalized: money_string(v), currency: cur })
        } else {
            currency_code(rest[0]).filter(|c| rest[0].len() == 3 || *c != "MYR").map(|code| Typed {
                kind: ValueKind::Currency,
                start: i,
                end: i + 1,
                normalized: code.to_string(),
                currency: Some(code),
            })
        };
        match found {
            Some(t) => {
                i = t.end;
                out.push(t);
            }
            None => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str, day_first: bool) -> Option<String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        date_at(&words, Locale { day_first }).map(|(_, d)| d)
    }

    #[test]
    fn dates_in_many_conventions() {
        assert_eq!(date("2023-03-20", true).as_deref(), Some("2023-03-20"));
        assert_eq!(date("20.03.2023", true).as_deref(), Some("2023-03-20"));
        assert_eq!(date("03/04/2023", true).as_deref(), Some("2023-04-03"));
        assert_eq!(date("03/04/2023", false).as_deref(), Some("2023-03-04"));
        assert_eq!(date("13/04/2023", false).as_deref(), Some("2023-04-13"), "impossible month decides");
        assert_eq!(date("17-03-18", true).as_deref(), Some("2018-03-17"));
        assert_eq!(date("7. Mai 2014", true).as_deref(), Some("2014-05-07"));
        assert_eq!(date("March 20, 2023", true).as_deref(), Some("2023-03-20"));
        assert_eq!(date("Nov 13 2023", true).as_deref(), Some("2023-11-13"));
        assert_eq!(date("4th of September 2012", true).as_deref(), Some("2012-09-04"));
        assert_eq!(date("20-Mar-2023", true).as_deref(), Some("2023-03-20"));
        assert_eq!(date("5 de enero de 2023", true).as_deref(), Some("2023-01-05"));
        assert_eq!(date("22 maggio 2024", true).as_deref(), Some("2024-05-22"));
        assert_eq!(date("3 mei 2021", true).as_deref(), Some("2021-05-03"));
        assert_eq!(date("31/02/2023", true), None);
        assert_eq!(date("12.50", true), None);
    }

    #[test]
    fn locale_from_the_document() {
        assert!(guess_locale("Date 25/12/2018 Total RM 9.00").day_first);
        assert!(!guess_locale("Invoice date 12/25/2018 the total $9.00").day_first);
        assert!(!guess_locale("the invoice date 03/04/2023 and total $9.00").day_first);
        // An American contract without dollars: its state says month first.
        assert!(!guess_locale("the Agreement dated 1/6/2012 and the laws of Delaware.").day_first);
        assert!(!guess_locale("the Agreement dated 1/6/2012 and the U.S. Securities Act").day_first);
        assert!(guess_locale("the Agreement dated 1/6/2012 and the laws of England").day_first);
        assert!(guess_locale("Rechnungsdatum 03.04.2023 Summe 9,00 EUR").day_first);
        assert!(!guess_locale("made as of September 4, 2012 and signed 9/4/12").day_first);
        assert!(guess_locale("made on 4 September 2012 and signed 9/4/12").day_first);
    }

    #[test]
    fn amounts_in_both_conventions() {
        assert_eq!(parse_number("1,234.56"), Some(1234.56));
        assert_eq!(parse_number("1.234,56"), Some(1234.56));
        assert_eq!(parse_number("34,73"), Some(34.73));
        assert_eq!(parse_number("1,234"), Some(1234.0));
        assert_eq!(parse_number("(12.00)"), Some(-12.0));
        assert_eq!(parse_number("1 234,50"), Some(1234.5));
        assert_eq!(parse_number("abc"), None);
        fn w(s: &str) -> Vec<&str> {
            s.split_whitespace().collect()
        }
        assert_eq!(money_at(&w("$279.84")), Some((1, 279.84, Some("USD"))));
        assert_eq!(money_at(&w("EUR 34,73")), Some((2, 34.73, Some("EUR"))));
        assert_eq!(money_at(&w("34,73 €")), Some((2, 34.73, Some("EUR"))));
        assert_eq!(money_at(&w("RM9.00")), Some((1, 9.0, Some("MYR"))));
        assert_eq!(money_at(&w("12:30")), None);
        assert_eq!(money_at(&w("720,653 $ 557,690")), Some((1, 720653.0, None)));
    }

    #[test]
    fn percents_periods_and_currencies() {
        assert_eq!(percent_at(&["19%"]), Some((1, "19%".into())));
        assert_eq!(percent_at(&["7,5", "%"]), Some((2, "7.5%".into())));
        assert_eq!(period_at(&["two", "(2)", "years"]), Some((3, "2 years".into())));
        assert_eq!(period_at(&["18", "months."]), Some((2, "18 months".into())));
        assert_eq!(period_at(&["twenty-four", "months"]), Some((2, "2 years".into())));
        assert_eq!(period_at(&["one", "year"]), Some((2, "1 year".into())));
        assert_eq!(currency_code("usd"), Some("USD"));
        assert_eq!(currency_code("€"), Some("EUR"));
        assert_eq!(currency_code("the"), None);
    }

    #[test]
    fn thousands_grouped_by_spaces_are_read_whole_when_printed_close() {
        let money = |s: &str, tight: &[bool]| {
            let words: Vec<&str> = s.split_whitespace().collect();
            find_values_spaced(&words, tight, Locale::default())
                .into_iter()
                .map(|t| (t.normalized, t.start, t.end))
                .collect::<Vec<_>>()
        };
        assert_eq!(money("Total 2 700,54 €", &[false, true, false]), vec![("2700.54".into(), 1, 4)]);
        assert_eq!(money("€ 1 234 567.89", &[false, true, true, false]), vec![("1234567.89".into(), 0, 4)]);
        assert_eq!(money("EUR 2 570,80", &[true, true]), vec![("2570.80".into(), 0, 3)]);
        // A quantity and a price in columns of their own.
        assert_eq!(
            money("15 150.07 2251.05", &[false, false, false]),
            vec![("15.00".into(), 0, 1), ("150.07".into(), 1, 2), ("2251.05".into(), 2, 3)]
        );
        // Digits grouped by threes with no cents and no currency: a phone number, not an amount.
        assert_eq!(money("030 123 456", &[true, true]).len(), 3);
        assert_eq!(money("1 250 EUR", &[true, true]), vec![("1250.00".into(), 0, 3)]);
        // Not a group of three: two numbers.
        assert_eq!(money("2 70,54", &[true, false]), vec![("2.00".into(), 0, 1), ("70.54".into(), 1, 2)]);
    }

    #[test]
    fn values_in_a_line_keep_their_words() {
        let words: Vec<&str> = "Invoice Date: March 20, 2023 Total EUR 1.234,56 VAT 19%".split_whitespace().collect();
        let found = find_values(&words, Locale::default());
        let kinds: Vec<(ValueKind, &str, usize, usize)> =
            found.iter().map(|t| (t.kind, t.normalized.as_str(), t.start, t.end)).collect();
        assert_eq!(
            kinds,
            vec![
                (ValueKind::Date, "2023-03-20", 2, 5),
                (ValueKind::Money, "1234.56", 6, 8),
                (ValueKind::Percent, "19%", 9, 10)
            ]
        );
    }
}
