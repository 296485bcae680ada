//! What a run of text looks like it is, from its words alone: a label ending in ':', a list
//! marker, the start of a caption, a section number, a heading (with its size and weight), a
//! formula, a page number; and a text's signature, for finding what repeats across pages.

/// "Invoice No: 123": the number of words in the label (1 to 4, the last ending with ':'),
/// when a value follows on the same line.
pub fn inline_label(texts: &[&str]) -> Option<usize> {
    let k = texts.iter().take(4).position(|t| t.ends_with(':') && t.len() > 1)? + 1;
    let label_ok = texts[..k].iter().all(|t| t.chars().any(char::is_alphabetic))
        && texts[0].chars().next().is_some_and(|c| c.is_alphabetic());
    (label_ok && k < texts.len() && texts.len() <= k + 8).then_some(k)
}

pub fn is_list_marker(t: &str) -> bool {
    const BULLETS: [&str; 14] = [
        "•", "◦", "▪", "‣", "-", "–", "—", // bullets, a hyphen and dashes
        "*", "·", "○", "■", "□", "►", "✓",
    ];
    if BULLETS.contains(&t) {
        return true;
    }
    let inner = t.trim_start_matches('(').trim_end_matches(['.', ')']);
    let closed = t.ends_with('.') || t.ends_with(')');
    let numeric = !inner.is_empty() && inner.len() <= 2 && inner.chars().all(|c| c.is_ascii_digit());
    let letter = inner.len() == 1 && inner.chars().all(|c| c.is_ascii_lowercase());
    let roman = !inner.is_empty() && inner.len() <= 4 && inner.chars().all(|c| "ivx".contains(c));
    closed && (numeric || letter || roman)
        || (t.starts_with('[')
            && t.ends_with(']')
            && t[1..t.len() - 1].chars().all(|c| c.is_ascii_digit())
            && t.len() > 2)
}

pub fn is_caption_start(first: &str, second: Option<&str>) -> bool {
    const WORDS: [&str; 10] =
        ["figure", "fig.", "fig", "table", "tab.", "chart", "exhibit", "scheme", "algorithm", "listing"];
    let lower = first.to_lowercase();
    let starts_upper = first.chars().next().is_some_and(char::is_uppercase);
    // "Figure 3:", "Fig. 2.", "Table IV" - the word then a number; or "Figure3:" in one word.
    let numbered = |s: &str| {
        let s = s.trim_end_matches([':', '.', ')', '|']);
        !s.is_empty()
            && (s.chars().all(|c| c.is_ascii_digit() || c == '.' || c.is_ascii_uppercase() && "IVXL".contains(c))
                || s.len() <= 4 && s.chars().next().is_some_and(|c| c.is_ascii_digit()))
    };
    starts_upper
        && (WORDS.contains(&lower.as_str()) && second.is_some_and(numbered)
            || WORDS.iter().any(|w| lower.strip_prefix(w).is_some_and(|rest| !rest.is_empty() && numbered(rest))))
}

/// "4", "2.1", "3.2.1.", "B.", "IV." - how sections are numbered.
pub fn is_section_number(t: &str) -> bool {
    let digits = t.chars().next().is_some_and(|c| c.is_ascii_digit())
        && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        && t.len() <= 8;
    let letter = t.len() == 2 && t.ends_with('.') && t.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    let roman = t.len() >= 2 && t.len() <= 6 && t.ends_with('.') && t[..t.len() - 1].chars().all(|c| "IVX".contains(c));
    digits || letter || roman
}

/// How a run of text is set: its size against the body text's, its weight, and whether
/// capitals stand out on its page (not where the body is set in capitals: a receipt, a telex).
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub size: f32,
    pub body: f32,
    pub bold: bool,
    pub caps_stand_out: bool,
}

pub fn is_heading(text: &str, lines: usize, words: usize, set: Setting, first: &str) -> bool {
    let Setting { size, body, bold, caps_stand_out } = set;
    let trimmed = text.trim();
    if lines > 2 || words > 16 || trimmed.len() < 2 || trimmed.ends_with(',') {
        return false;
    }
    let sentence = trimmed.ends_with('.')
        && !trimmed
            .split_whitespace()
            .next()
            .is_some_and(|w| w.ends_with('.') && w.len() <= 4 && w.chars().next().is_some_and(|c| c.is_ascii_digit()));
    let letters: Vec<char> = trimmed.chars().filter(|c| c.is_alphabetic()).collect();
    let has_word = trimmed.split_whitespace().any(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 3);
    let numbered = is_section_number(first) && words >= 2;
    // "2.1.1 [X] ∼ δ": a subsection's number may head a title of symbols alone.
    let subsection = numbered && !first.starts_with('0') && first.trim_end_matches('.').contains('.');
    if sentence || !(has_word && letters.len() >= 2 || subsection) {
        return false;
    }
    let caps = caps_stand_out && letters.iter().all(|c| c.is_uppercase()) && words <= 6 && letters.len() >= 4;
    // Capitals and section numbers are often set a little smaller (small caps).
    size >= 1.12 * body
        || (bold && size >= 0.9 * body && words <= 12)
        || (numbered && words <= 10 && size >= 0.85 * body && lines == 1)
        || (caps && size >= 0.85 * body)
}

/// Mostly mathematics: operators, Greek letters, single-letter symbols, few ordinary words.
pub fn is_formula(text: &str) -> bool {
    const MATH: &str = "=+−×÷∑∫∏√∞≤≥≈≠∈∉∂∇±∓⊂⊆∪∩→←↔⇒⇔∀∃^_|<>∼≡\
                        αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ";
    // A receipt's "=====" or ">>> THANK YOU <<<" is decoration, not mathematics.
    let decoration = |t: &&str| t.chars().count() >= 3 && t.chars().all(|c| "=<>-*_~".contains(c) && t.starts_with(c));
    let text: String = text
        .lines()
        .map(|l| l.split_whitespace().filter(|t| !decoration(t)).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    let tokens: Vec<&str> = text.split_whitespace().collect();
    // Prose with some mathematics in it has runs of words; the line that leads into a
    // displayed formula ends with a few ("so that", "and we define").
    let (longest, trailing) = prose_runs(&tokens);
    if tokens.is_empty() || longest >= 4 || trailing >= 2 {
        return false;
    }
    let math_chars = text.chars().filter(|c| MATH.contains(*c)).count();
    let wordy = tokens
        .iter()
        .filter(|t| {
            t.chars().filter(|c| c.is_alphabetic()).count() >= 4
                && t.chars().all(|c| c.is_alphabetic() || ",.;:".contains(c))
        })
        .count();
    let has_relation = text.contains(['=', '≤', '≥', '≈', '∈', '→', '<', '>', '∼', '≡']);
    // "(12)", "(3.4a)" or "(B.35)" ending a line: a numbered display equation.
    let numbered = text.lines().filter_map(|l| l.split_whitespace().last()).any(is_equation_number);
    let share = wordy as f32 / tokens.len() as f32;
    math_chars >= 2 && has_relation && share < 0.3 || numbered && (has_relation || math_chars >= 1) && share < 0.4
}

fn is_equation_number(t: &str) -> bool {
    let Some(inner) = t.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else { return false };
    // An appendix letter before the number: "(B.35)", "(A1)".
    let number = inner.strip_prefix(|c: char| c.is_ascii_uppercase()).map_or(inner, |n| n.trim_start_matches('.'));
    number.chars().next().is_some_and(|c| c.is_ascii_digit()) && inner.chars().count() <= 6
}

/// The longest run of ordinary words in a row ("is by definition true in the"), and the run it
/// ends with: a displayed formula has a few words at most ("for all", "if and only").
fn prose_runs(tokens: &[&str]) -> (usize, usize) {
    let word = |t: &&str| {
        let t = t.trim_end_matches([',', '.', ';', ':']);
        t.chars().count() >= 2 && t.chars().all(char::is_alphabetic) && !MATH_NAMES.contains(&t)
    };
    let runs: Vec<usize> = tokens.split(|t| !word(t)).map(<[&str]>::len).collect();
    (runs.iter().copied().max().unwrap_or(0), runs.last().copied().unwrap_or(0))
}

/// No ordinary word in it ("1 (0) (0)", "σf (B)D(B)dB + Z"): a piece of a formula or of a
/// chart, not of prose.
pub fn is_wordless(text: &str) -> bool {
    !text.split_whitespace().any(|t| {
        let t = t.trim_end_matches([',', '.', ';', ':']);
        t.chars().count() >= 3 && t.chars().all(char::is_alphabetic) && !MATH_NAMES.contains(&t)
    })
}

/// Function names set upright in formulas, which read like words.
const MATH_NAMES: [&str; 16] =
    ["sin", "cos", "tan", "log", "ln", "exp", "lim", "max", "min", "sup", "inf", "det", "arg", "mod", "dx", "dt"];

pub fn is_page_number(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let t = t.trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace());
    let t = t.strip_prefix("page").unwrap_or(t).trim();
    let digits_only = |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit());
    digits_only(t)
        || t.split_once(" of ").is_some_and(|(a, b)| digits_only(a.trim()) && digits_only(b.trim()))
        || (!t.is_empty() && t.len() <= 5 && t.chars().all(|c| "ivxlc".contains(c)))
}

/// A text with each run of digits masked, so "Page 9" and "Page 10" repeat as one header.
pub fn signature(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for w in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let mut in_number = false;
        for c in w.chars() {
            if c.is_ascii_digit() && !in_number {
                out.push('#');
            } else if !c.is_ascii_digit() {
                out.push(c.to_ascii_lowercase());
            }
            in_number = c.is_ascii_digit();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(size: f32, body: f32, bold: bool) -> Setting {
        Setting { size, body, bold, caps_stand_out: true }
    }

    #[test]
    fn captions_lists_pages_and_formulas_are_recognised() {
        assert!(is_caption_start("Figure", Some("3:")));
        assert!(is_caption_start("Fig.", Some("12.")));
        assert!(is_caption_start("TABLE", Some("IV")));
        assert!(is_caption_start("Table1:", None));
        assert!(!is_caption_start("Table", Some("tennis")));
        assert!(!is_caption_start("figure", Some("3")));
        for m in ["•", "1.", "(a)", "iv)", "[12]", "-"] {
            assert!(is_list_marker(m), "{m}");
        }
        for m in ["1999.", "word", "(abc)"] {
            assert!(!is_list_marker(m), "{m}");
        }
        for p in ["12", "Page 3", "page 3 of 10", "- 4 -", "xii"] {
            assert!(is_page_number(p), "{p}");
        }
        assert!(!is_page_number("Introduction"));
        assert!(is_formula("E = mc^2 + α β"));
        assert!(!is_formula("The value of the parameter is equal to the mean = 3 of all samples"));
        assert!(is_formula("x = y (12)"));
        assert!(is_formula("X > 0, T > 0, (2.33)"));
        assert!(!is_formula("Proof The identity (2.15), for d = r = k + 1, is by definition true in the initial"));
        assert!(is_formula("f(x) = sin x + cos x for all x ∈ R"));
        assert!(is_formula("Y 1 − x ,  (B.35)\n(1 − α)") && !is_formula("see (B.35) and (A1)"));
        assert!(!is_formula("vS,n+1 = 1, so that") && !is_formula("of N → ∞, and we define"));
        assert!(is_wordless("σf (B)D(B)dB + Z B0 exp") && !is_wordless("where x = 1"));
        assert!(!is_formula(">>> THANK YOU <<<") && !is_formula("========") && is_formula("x >= 2 y"));
        assert!(!is_formula("(γs)") && !is_formula("a (−U(q))"), "multi-byte characters after a parenthesis");
        assert_eq!(signature("Page 12 of 40"), "page # of #");
        assert_eq!(signature("Results  9"), signature("Results 10"));
        assert_eq!(inline_label(&["Invoice", "No:", "12345"]), Some(2));
        assert_eq!(inline_label(&["Note:"]), None);
    }

    #[test]
    fn headings_need_size_weight_or_numbering() {
        assert!(is_heading("2.1 Related work", 1, 3, set(10.0, 10.0, false), "2.1"));
        assert!(is_heading("2.1.1 [X] ∼ δ", 1, 4, set(10.0, 10.0, false), "2.1.1"));
        assert!(!is_heading("0.5 x ∼ δ", 1, 4, set(10.0, 10.0, false), "0.5"));
        assert!(is_heading("Results", 1, 1, set(12.0, 10.0, false), "Results"));
        assert!(is_heading("INTRODUCTION", 1, 1, set(10.0, 10.0, false), "INTRODUCTION"));
        // Where the body is set in capitals, capitals set no heading apart.
        let caps_body = Setting { caps_stand_out: false, ..set(10.0, 10.0, false) };
        assert!(!is_heading("INTRODUCTION", 1, 1, caps_body, "INTRODUCTION"));
        assert!(!is_heading("Results", 1, 1, set(10.0, 10.0, false), "Results"));
        assert!(!is_heading("This is a sentence that ends.", 1, 6, set(10.0, 10.0, true), "This"));
    }
}
