//! A made-up report page with an income statement or a table of key figures, and questions
//! about its revenue in each period it shows (`pagewise-dev gen-statements`): years, quarters,
//! half years, a quarter beside the nine months to date, fiscal years that end in June; heads as
//! "2023", "Q1 2023", "H1 2023", "9M 2023", "FY 2022/23", or a spanning "Three months ended
//! March 31," over a row of years; a notes column, a change column, units in the title or the
//! head ("€ million", "(in thousands, except per share data)"), revenue under other names and
//! beside rows that also say "revenue" or "sales" ("Cost of sales", "Product revenue"); or key
//! figures set the other way round, periods down the rows and items across the head.

use super::Rng;
use pagewise_testkit::{helvetica_width, PdfPage, TextItem};
use serde_json::{json, Value};

const W: f32 = 595.0;
const H: f32 = 842.0;
const MONTHS: [&str; 12] = super::words::LANGS[0].months;
const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// A column of figures: the period it covers.
#[derive(Clone, Copy)]
struct Period {
    year: u32,
    end_month: u32,
    months: u32,
}

impl Period {
    fn end(&self) -> String {
        format!("{}-{:02}-{:02}", self.year, self.end_month, DAYS[self.end_month as usize - 1])
    }
}

/// How the heads of the columns name their periods.
#[derive(Clone, Copy, PartialEq)]
enum Heads {
    /// "2023" (or "Q1 2023", "H1 2023", "9M 2023", "FY 2022/23") in one line.
    Short,
    /// A spanning "Three months ended March 31," over a row of years.
    Spanning,
}

/// One page and its questions (each `{question, answers, unit, currency}`; the caller adds
/// the file).
pub fn page(rng: &mut Rng) -> (PdfPage, Vec<Value>) {
    let year = 2015 + rng.below(10) as u32;
    let groups: Vec<Vec<Period>> = match rng.below(5) {
        // Years, latest first; a fiscal year may end in June or September.
        0 | 1 => {
            let end = *rng.pick(&[12, 12, 12, 6, 9]);
            vec![(0..2 + rng.below(2) as u32).map(|k| Period { year: year - k, end_month: end, months: 12 }).collect()]
        }
        2 => {
            let q = 1 + rng.below(4) as u32;
            vec![(0..2).map(|k| Period { year: year - k, end_month: 3 * q, months: 3 }).collect()]
        }
        3 => vec![(0..2).map(|k| Period { year: year - k, end_month: 6, months: 6 }).collect()],
        _ => {
            let q = 2 + rng.below(2) as u32;
            vec![
                (0..2).map(|k| Period { year: year - k, end_month: 3 * q, months: 3 }).collect(),
                (0..2).map(|k| Period { year: year - k, end_month: 3 * q, months: 3 * q }).collect(),
            ]
        }
    };
    let heads = if rng.chance(0.5) { Heads::Short } else { Heads::Spanning };
    let (currency, sign) = *rng.pick(&[("EUR", "€"), ("EUR", "EUR"), ("USD", "$"), ("GBP", "£"), ("CHF", "CHF")]);
    let scale = *rng.pick(&["millions", "millions", "thousands", "billions"]);
    let unit_text = unit_text(rng, scale, sign);
    let mut s = Sheet { page: PdfPage::new(W, H), size: 8.0 + rng.below(3) as f32 * 0.5 };
    let m = 50.0;
    let mut y = 60.0;
    let company = format!(
        "{} {}",
        rng.word(&["Nordwerk", "Helion", "Castell", "Brightwater", "Aurion", "Vantage"]),
        rng.word(&["AG", "SE", "Group", "Inc.", "plc", "N.V."])
    );
    s.text(
        m,
        y,
        9.0,
        false,
        &format!("{company} · {} Report {year}", rng.word(&["Annual", "Interim", "Half-Year", "Quarterly"])),
    );
    y += 40.0;
    let title = rng.word(&[
        "Consolidated Statement of Income",
        "Key Figures",
        "Group Income Statement",
        "Results of Operations",
        "Consolidated Statements of Operations",
    ]);
    s.text(m, y, 13.0, true, title);
    y += 18.0;
    let unit_in_title = rng.chance(0.5);
    if unit_in_title {
        s.text(m, y, s.size, false, &unit_text);
        y += 16.0;
    }
    if rng.chance(0.5) {
        for line in [
            "The following table shows the development of the main items of the income statement",
            "for the periods presented. Figures are rounded; totals may not add up exactly.",
        ] {
            s.text(m, y, s.size, false, line);
            y += s.size * 1.4;
        }
        y += 10.0;
    }
    let periods: Vec<Period> = groups.iter().flatten().copied().collect();
    // Key figures of single periods may be set with the periods down the rows.
    if groups.len() == 1 && heads == Heads::Short && rng.chance(0.3) {
        let label = rng.word(&["Revenue", "Revenues", "Net sales", "Sales"]);
        let base = 200.0 + rng.below(40_000) as f64;
        let revenue: Vec<f64> = periods
            .iter()
            .map(|p| (base * p.months as f64 / 12.0 * (1.0 - 0.06 * (year - p.year) as f64)).round())
            .collect();
        let german = rng.chance(0.25);
        let unit = (!unit_in_title).then_some(unit_text.as_str());
        let y = periods_down(rng, &mut s, y, &periods, label, &revenue, unit, german);
        s.text(m, y + 20.0, s.size - 1.0, false, "Figures for prior periods have been adjusted where stated.");
        let questions = questions(rng, &periods, &revenue, scale, currency);
        return (s.page, questions);
    }
    // Columns from the right edge: figures right-aligned; a change column last.
    let pitch = if periods.len() > 3 { 58.0 } else { 62.0 + rng.below(20) as f32 };
    let change = rng.chance(0.3);
    let notes = rng.chance(0.3);
    let right = W - m - if change { pitch } else { 0.0 };
    let col_right: Vec<f32> = (0..periods.len()).map(|k| right - pitch * (periods.len() - 1 - k) as f32).collect();
    let size = s.size;
    // Heads.
    if heads == Heads::Spanning {
        let (mut k, mut spanning_lines) = (0, 1);
        for g in &groups {
            let p = g[0];
            let what = match p.months {
                12 => {
                    if p.end_month == 12 {
                        "Year ended".to_string()
                    } else {
                        "Fiscal year ended".to_string()
                    }
                }
                n => format!("{} months ended", ["Three", "Six", "Nine"][n as usize / 3 - 1]),
            };
            let date = format!("{} {},", MONTHS[p.end_month as usize - 1], DAYS[p.end_month as usize - 1]);
            let (x0, x1) = (col_right[k] - pitch + 12.0, col_right[k + g.len() - 1]);
            // On one line where it fits over its columns, else on two.
            let one = format!("{what} {date}");
            let lines = if helvetica_width(&one, size) < x1 - x0 { vec![one] } else { vec![what, date] };
            for (n, text) in lines.iter().enumerate() {
                let at = y + n as f32 * size * 1.3;
                s.text((x0 + x1 - helvetica_width(text, size)) / 2.0, at, size, true, text);
            }
            spanning_lines = spanning_lines.max(lines.len());
            k += g.len();
        }
        y += size * (0.2 + 1.3 * spanning_lines as f32);
    }
    let texts: Vec<String> = periods
        .iter()
        .map(|p| if heads == Heads::Spanning { p.year.to_string() } else { short_head(rng, p) })
        .collect();
    // A head wider than its column wraps before its year ("2nd quarter" over "2019").
    let wrap = texts.iter().any(|t| helvetica_width(t, size) > pitch - 8.0);
    if wrap {
        y += size * 1.3;
    }
    if !unit_in_title {
        s.text(m, y, size, false, &unit_text);
    }
    let note_x = col_right[0] - pitch - 8.0;
    if notes {
        s.right(note_x, y, size, true, "Note");
    }
    for (k, text) in texts.iter().enumerate() {
        match text.rsplit_once(' ').filter(|_| wrap) {
            Some((first, year)) => {
                s.right(col_right[k], y - size * 1.3, size, true, first);
                s.right(col_right[k], y, size, true, year);
            }
            None => s.right(col_right[k], y, size, true, text),
        }
    }
    if change {
        s.right(W - m, y, size, true, rng.word(&["Change", "Change in %", "+/-"]));
    }
    y += 4.0;
    s.page.rules.push((m, y, W - m, y));
    y += size * 1.6;
    // Rows: revenue among others that say "revenue" or "sales" too.
    let revenue_label = rng.word(&[
        "Revenue",
        "Revenues",
        "Net sales",
        "Sales",
        "Total revenues",
        "Net revenues",
        "Total revenue",
        "Operating revenue",
    ]);
    let breakdown = revenue_label.starts_with("Total") && rng.chance(0.7);
    let base = 200.0 + rng.below(40_000) as f64;
    let revenue: Vec<f64> = periods
        .iter()
        .map(|p| {
            (base * p.months as f64 / 12.0 * (1.0 - 0.06 * (year - p.year) as f64 + 0.01 * rng.below(5) as f64)).round()
        })
        .collect();
    let mut rows: Vec<(String, Vec<f64>)> = Vec::new();
    if breakdown {
        let share = 0.55 + 0.05 * rng.below(5) as f64;
        let a: Vec<f64> = revenue.iter().map(|r| (r * share).round()).collect();
        rows.push(("Product revenue".into(), a.clone()));
        rows.push(("Service revenue".into(), revenue.iter().zip(&a).map(|(r, a)| r - a).collect()));
    } else if rng.chance(0.3) {
        rows.push(("Order intake".into(), revenue.iter().map(|r| (r * 1.07).round()).collect()));
    }
    let answer_row = rows.len();
    rows.push((revenue_label.into(), revenue.clone()));
    let cost = if revenue_label.contains("ales") { "Cost of sales" } else { "Cost of revenue" };
    let mut share = 0.55 + 0.02 * rng.below(10) as f64;
    for label in [
        cost,
        "Gross profit",
        "Selling expenses",
        "General and administrative expenses",
        "Research and development costs",
        "Operating profit (EBIT)",
        "Income taxes",
        "Net income",
    ] {
        share *= if label == "Gross profit" { 0.8 } else { 0.6 };
        rows.push((label.into(), revenue.iter().map(|r| (r * share).round()).collect()));
    }
    let german = rng.chance(0.25);
    for (r, (label, values)) in rows.iter().enumerate() {
        s.text(m, y, size, r == answer_row && rng.chance(0.3), label);
        if notes && r % 2 == 0 {
            s.right(note_x, y, size, false, &(3 + r).to_string());
        }
        for (k, v) in values.iter().enumerate() {
            let mut text = figure(*v, german);
            if r == 0 && sign == "$" {
                text = format!("$ {text}");
            }
            s.right(col_right[k], y, size, false, &text);
        }
        if change && values[1] != 0.0 {
            s.right(W - m, y, size, false, &format!("{:.1}%", 100.0 * (values[0] / values[1] - 1.0)));
        }
        y += size * 1.6;
    }
    s.text(m, y + 20.0, size - 1.0, false, "Figures for prior periods have been adjusted where stated in the notes.");
    let questions = questions(rng, &periods, &revenue, scale, currency);
    (s.page, questions)
}

/// A question about the revenue of each period, worded three ways.
fn questions(rng: &mut Rng, periods: &[Period], revenue: &[f64], scale: &str, currency: &str) -> Vec<Value> {
    periods
        .iter()
        .zip(revenue)
        .map(|(p, v)| {
            let question = match rng.below(3) {
                0 => format!(
                    "What are the revenues for the {}-month period ending {}? (give number, unit and currency)",
                    p.months,
                    p.end()
                ),
                1 => format!(
                    "What are the revenues for the {} month period ending {} {}?",
                    p.months,
                    MONTHS[p.end_month as usize - 1].to_lowercase(),
                    p.year
                ),
                _ => format!(
                    "What were the revenues in the {} months ended {} {}, {}?",
                    p.months,
                    MONTHS[p.end_month as usize - 1],
                    DAYS[p.end_month as usize - 1],
                    p.year
                ),
            };
            json!({"question": question, "answers": [v], "unit": scale, "currency": currency})
        })
        .collect()
}

/// Key figures set the other way round from `y` down: a head of items ("Revenue", "EBIT", ...)
/// across, each period's row below it, its head at the left ("2023", "FY 2022/23", "Q1 2023").
#[allow(clippy::too_many_arguments)]
fn periods_down(
    rng: &mut Rng,
    s: &mut Sheet,
    mut y: f32,
    periods: &[Period],
    revenue_label: &str,
    revenue: &[f64],
    unit: Option<&str>,
    german: bool,
) -> f32 {
    let (m, size) = (50.0, s.size);
    let items: [(&str, f64); 4] = [
        (revenue_label, 1.0),
        ("EBIT", 0.11),
        ("Net income", 0.07),
        (rng.word(&["Free cash flow", "Investments"]), 0.05),
    ];
    let pitch = 85.0 + rng.below(15) as f32;
    let col_right: Vec<f32> = (0..items.len()).map(|k| W - m - pitch * (items.len() - 1 - k) as f32).collect();
    if let Some(unit) = unit {
        s.text(m, y, size, false, unit);
    }
    for ((item, _), &right) in items.iter().zip(&col_right) {
        s.right(right, y, size, true, item);
    }
    y += 4.0;
    s.page.rules.push((m, y, W - m, y));
    y += size * 1.6;
    for (p, r) in periods.iter().zip(revenue) {
        let head = short_head(rng, p);
        s.text(m, y, size, false, &head);
        for ((_, share), &right) in items.iter().zip(&col_right) {
            s.right(right, y, size, false, &figure((r * share).round(), german));
        }
        y += size * 1.6;
    }
    y
}

fn unit_text(rng: &mut Rng, scale: &str, sign: &str) -> String {
    let one = scale.trim_end_matches('s');
    match rng.below(4) {
        0 => format!("{sign} {one}"),
        1 => format!("in {sign} {scale}"),
        2 => format!("({sign} in {scale}, except per share data)"),
        _ => format!(
            "(in {scale} of {})",
            match sign {
                "€" | "EUR" => "euros",
                "$" => "U.S. dollars",
                "£" => "pounds",
                _ => "Swiss francs",
            }
        ),
    }
}

fn short_head(rng: &mut Rng, p: &Period) -> String {
    let q = p.end_month / 3;
    match p.months {
        12 if p.end_month == 12 => {
            if rng.chance(0.5) {
                p.year.to_string()
            } else {
                format!("FY {}", p.year)
            }
        }
        12 => format!("FY {}/{:02}", p.year - 1, p.year % 100),
        3 => {
            if rng.chance(0.5) {
                format!("Q{q} {}", p.year)
            } else {
                format!("{} quarter {}", ["1st", "2nd", "3rd", "4th"][q as usize - 1], p.year)
            }
        }
        6 => {
            if rng.chance(0.5) {
                format!("H1 {}", p.year)
            } else {
                format!("6M {}", p.year)
            }
        }
        n => {
            if rng.chance(0.5) {
                format!("{n}M {}", p.year)
            } else {
                format!("Q1-Q{q} {}", p.year)
            }
        }
    }
}

/// An amount as a report prints it: grouped thousands (a comma, or a dot in German style).
fn figure(v: f64, german: bool) -> String {
    let digits = format!("{}", v.abs() as u64);
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(if german { '.' } else { ',' });
        }
        out.push(c);
    }
    if v < 0.0 {
        format!("({out})")
    } else {
        out
    }
}

struct Sheet {
    page: PdfPage,
    size: f32,
}

impl Sheet {
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, s: &str) {
        self.page.texts.push(TextItem { x, baseline: y, size, bold, text: s.into() });
    }
    fn right(&mut self, right: f32, y: f32, size: f32, bold: bool, s: &str) {
        self.text(right - helvetica_width(s, size), y, size, bold, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every answer is printed on its page, and every question names a period.
    #[test]
    fn every_answer_is_on_its_page() {
        for i in 0..100 {
            let (page, questions) = page(&mut Rng::new(i));
            let printed: Vec<&str> = page.texts.iter().map(|t| t.text.as_str()).collect();
            for q in &questions {
                let v = q["answers"][0].as_f64().unwrap();
                assert!(
                    [figure(v, false), figure(v, true)].iter().any(|f| printed.iter().any(|t| t.ends_with(f.as_str()))),
                    "{i}: {v} in {printed:?}"
                );
            }
            assert!(!questions.is_empty());
        }
    }
}
