//! Free-text answers: names (companies, people), addresses, places (governing law), and
//! sentences. A candidate is a run of words on the page: after or under a matching label, a
//! line that reads like a company name (legal-form suffix, top of the page, large type), the
//! parties of a contract ([`super::parties`]), a run of address-like lines, a state or country named
//! near "governed by". Their words are `assets/lexicon/names.toml` and `places.toml`.

use super::labels::{link, LabelHit, PageText};
use super::lexicon::{is_company_suffix, is_label_phrase, lexicon};
use super::question::Question;
use super::Candidate;
use crate::embed::Meaning;
use crate::model::Target;
use crate::values::{loose, ValueKind};

pub fn candidates(pt: &PageText, q: &Question, hits: &[LabelHit], meaning: &mut Meaning) -> Vec<Candidate> {
    match q.target {
        Target::Name => names(pt, q, hits),
        Target::Address => addresses(pt, hits),
        Target::Place => places(pt, hits),
        _ => sentences(pt, q, hits, meaning),
    }
}

/// How much a run of words reads like a name: letters, few digits, no amounts or dates.
fn name_shape(pt: &PageText, line: usize, start: usize, end: usize) -> f32 {
    let l = &pt.lines[line];
    let text: String = l.printed[start..end].join(" ");
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let digits = text.chars().filter(|c| c.is_ascii_digit()).count();
    // A label ("Date:") is not a name.
    if letters < 2 || end - start > 10 || text.ends_with(':') {
        return 0.0;
    }
    // An amount is one with a currency or decimals: a bare number is as often part of a name
    // ("99 SPEED MART S/B", "7-Eleven").
    let amount = |v: &crate::values::Typed| {
        v.currency.is_some() || l.printed[v.start..v.end].iter().any(|w| w.contains(['.', ',']))
    };
    let valued = l.values.iter().any(|v| {
        v.start < end
            && v.end > start
            && match v.kind {
                ValueKind::Date | ValueKind::Percent => true,
                ValueKind::Money => amount(v),
                _ => false,
            }
    });
    let contact =
        text.contains('@') || text.to_lowercase().starts_with("www") || text.to_lowercase().starts_with("http");
    // "#invoice_number_1" is a code, not a name.
    // A document's title ("TAX INVOICE", "Rechnung") names the kind of paper, not who issued it.
    let titles = &lexicon().names.document_titles;
    if l.norm[start..end].iter().all(|t| titles.contains(t)) {
        return 0.0;
    }
    // Nor is a label without its colon ("BILL TO", "Cliente").
    if is_label_phrase(&l.norm[start..end]) {
        return 0.0;
    }
    let snake = |w: &String| w.trim_matches('_').contains('_');
    if text.starts_with('#') || l.printed[start..end].iter().any(snake) {
        return 0.0;
    }
    let mut s = 1.0 - (digits as f32 / (letters + digits) as f32);
    if valued {
        s *= 0.4;
    }
    if contact {
        s *= 0.3;
    }
    s
}

fn has_suffix(pt: &PageText, line: usize, start: usize, end: usize) -> bool {
    pt.lines[line].printed[start..end].iter().skip(1).any(|w| is_company_suffix(w))
}

fn names(pt: &PageText, q: &Question, hits: &[LabelHit]) -> Vec<Candidate> {
    let mut out = Vec::new();
    let max_size = pt.page.words.iter().map(|w| w.size).fold(0.0f32, f32::max).max(1.0);
    let avoid: Vec<&LabelHit> = hits.iter().filter(|h| h.avoid).collect();
    let under_avoided = |li: usize| avoid.iter().any(|h| link(pt, h, li, 0, &pt.lines[li].bbox) > 0.5);
    // Each line's pieces, cut once for every label and prior below.
    let pieces: Vec<Vec<(usize, usize)>> = (0..pt.lines.len()).map(|li| pt.pieces(li)).collect();
    // After or under a label.
    for h in hits.iter().filter(|h| !h.avoid) {
        let line = &pt.lines[h.line];
        let rest = (h.end..line.printed.len()).find(|&i| line.printed[i].chars().any(char::is_alphanumeric));
        if let Some(s) = rest {
            let shape = name_shape(pt, h.line, s, line.printed.len());
            if shape > 0.0 {
                let suffix = if has_suffix(pt, h.line, s, line.printed.len()) { 1.0 } else { 0.85 };
                out.push(Candidate::new(
                    pt,
                    h.line,
                    s,
                    line.printed.len(),
                    String::new(),
                    h.score * shape * suffix,
                    Some(pt.span_text(h.line, h.start, h.end)),
                ));
            }
        }
        for li in (0..pt.lines.len()).filter(|li| *li != h.line) {
            for &(a, b) in &pieces[li] {
                let w = link(pt, h, li, a, &pt.span_box(li, a, b));
                if w < 0.5 {
                    continue;
                }
                let shape = name_shape(pt, li, a, b);
                let suffix = if has_suffix(pt, li, a, b) { 1.0 } else { 0.8 };
                let label = Some(pt.span_text(h.line, h.start, h.end));
                out.push(Candidate::new(pt, li, a, b, String::new(), h.score * w * shape * suffix, label));
            }
        }
    }
    // Lines that read like company names (cut after the legal form); near the top, in large
    // type and named again elsewhere on the page (letterhead, footer, bank details) more so.
    let page_text = loose(&pt.lines.iter().map(|l| l.printed.join(" ")).collect::<Vec<_>>().join(" \n "));
    let first_named =
        (0..pt.lines.len()).find(|&li| name_shape(pt, li, 0, pt.lines[li].printed.len()) >= 0.8).unwrap_or(usize::MAX);
    for (li, &(a, b)) in pieces.iter().enumerate().flat_map(|(li, ps)| ps.iter().map(move |p| (li, p))) {
        let l = &pt.lines[li];
        let (s0, n) = org_span(&l.printed[a..b]).map_or((a, b), |(s, e)| (a + s, a + e));
        let shape = name_shape(pt, li, s0, n);
        if shape == 0.0 {
            continue;
        }
        let top = 1.0 - (l.bbox.y0 / pt.page.height.max(1.0)).clamp(0.0, 1.0);
        let size = l.words.iter().map(|&w| pt.page.words[w as usize].size).fold(0.0f32, f32::max) / max_size;
        // The first lines of a page name who issued it, receipts especially.
        let rank = 1.0 / (1.0 + li as f32 * 0.5) + if li == first_named { 0.5 } else { 0.0 };
        let mut prior = 0.1 * top + 0.1 * size + 0.15 * rank;
        if has_suffix(pt, li, s0, n) {
            let name = loose(&pt.span_text(li, s0, n));
            let repeats = page_text.matches(&name).count().saturating_sub(1).min(2);
            prior += 0.35 + 0.1 * repeats as f32;
        }
        if pt.page.page > 1 {
            prior *= 0.6;
        }
        if under_avoided(li) {
            prior *= 0.3;
        }
        out.push(match name_head_above(pt, li, s0, n) {
            Some(above) => {
                let span: Vec<(usize, usize)> =
                    (0..pt.lines[above].printed.len()).map(|w| (above, w)).chain((s0..n).map(|w| (li, w))).collect();
                Candidate::words(pt, &span, prior * shape, None)
            }
            None => Candidate::new(pt, li, s0, n, String::new(), prior * shape, None),
        });
    }
    // A contract's parties are read from its opening clause before anything else.
    if q.terms.iter().any(|t| t == "parties" || t == "party") {
        out.iter_mut().for_each(|c| c.score *= 0.5);
        out.extend(super::parties::candidates(pt));
    }
    for c in &mut out {
        c.normalized =
            c.text.trim_matches(|ch: char| ch == ',' || ch == ':' || ch == ';' || ch.is_whitespace()).to_string();
    }
    out
}

/// The line above that starts a company name whose line is only its legal form ("POPULAR
/// BOOK" over "CO. (M) SDN BHD") or closes a bracket the line above opened ("HARDWARE (SETIA"
/// over "ALAM) SDN BHD"): just above it, under or over it, a name's shape with no digits (and no
/// legal form of its own, unless the bracket says the name goes on). One line only: a name over
/// three lines keeps its first.
fn name_head_above(pt: &PageText, li: usize, start: usize, end: usize) -> Option<usize> {
    if start > 0 || li == 0 {
        return None;
    }
    let (above, this) = (&pt.lines[li - 1], &pt.lines[li]);
    let bracket = |w: &String| w.starts_with('(') && w.ends_with(')');
    let only_form = this.printed[start..end].iter().all(|w| is_company_suffix(w) || bracket(w));
    let opened = |l: &super::labels::LineText| {
        let text = l.printed.join(" ");
        text.matches('(').count() as i32 - text.matches(')').count() as i32
    };
    let closes = this.printed[start].contains(')') && !this.printed[start].contains('(') && opened(above) > 0;
    let close = this.bbox.y0 - above.bbox.y1 < 0.8 * this.bbox.height();
    let over = above.bbox.x0 < this.bbox.x1 && this.bbox.x0 < above.bbox.x1;
    let plain = above.printed.len() <= 5 && !above.printed.join(" ").chars().any(|c| c.is_ascii_digit());
    let own_form = above.printed.iter().any(|w| is_company_suffix(w));
    let head = name_shape(pt, li - 1, 0, above.printed.len()) >= 0.8 && (closes || !own_form);
    ((only_form || closes) && close && over && plain && head).then_some(li - 1)
}

/// A company name inside a line: the words before a legal form, back to a separator (`–`, `|`,
/// a colon) and at most six words: "Papoo Software & Media GmbH – Auguststr. 4" -> 0..5.
fn org_span(words: &[String]) -> Option<(usize, usize)> {
    let mut end = (1..words.len()).find(|&k| is_company_suffix(&words[k]))? + 1;
    // Legal forms come in runs: "Enterprise Sdn Bhd", "Co. (M) Bhd".
    let bracket =
        |w: &str| w.starts_with('(') && w.ends_with(')') && w.len() <= 12 && !w.chars().any(|c| c.is_ascii_digit());
    // "GmbH & Co. KG": a partnership whose partner is a company.
    let joined = |k: usize| words[k] == "&" && words.get(k + 1).is_some_and(|w| is_company_suffix(w));
    while end < words.len()
        && (is_company_suffix(&words[end])
            || joined(end)
            || (bracket(&words[end]) && words.get(end + 1).is_some_and(|w| is_company_suffix(w))))
    {
        end += 1;
    }
    let sep = |w: &String| matches!(w.as_str(), "–" | "—" | "-" | "|" | "•" | "·") || w.ends_with(':');
    let start = (0..end - 1).rev().find(|&k| sep(&words[k])).map_or(0, |k| k + 1).max(end.saturating_sub(7));
    (end - start >= 2).then_some((start, end))
}

/// A line of contact details or a heading ("TEL", "TAX INVOICE"): never part of an address.
/// `text` is the line's words, lowercase.
fn not_address(text: &str) -> bool {
    lexicon().places.not_address.any(|w| text.contains(w))
}

fn address_cues(pt: &PageText, li: usize) -> usize {
    let l = &pt.lines[li];
    let words = &lexicon().places;
    let text = l.printed.join(" ").to_lowercase();
    if not_address(&text) {
        return 0;
    }
    // A VAT number ("VAT No GB 123 4567 89") has the digits and "No" of a street address.
    if l.norm.iter().any(|t| words.tax_number_words.contains(t)) {
        return 0;
    }
    // The company's own line and its registration number ("(81109-A)", "249336-T") are not its
    // address; a postcode ("39100 BRINCHANG,") has no bracket or check letter.
    let registration = |w: &String| {
        (w.starts_with('(') || w.contains('-'))
            && w.trim_matches(|c: char| c == '(' || c == ')')
                .split('-')
                .next()
                .is_some_and(|d| d.len() >= 5 && d.chars().all(|c| c.is_ascii_digit()))
    };
    if l.printed.iter().skip(1).any(|w| is_company_suffix(w))
        || (l.printed.len() <= 2 && l.printed.iter().any(registration))
    {
        return 0;
    }
    let mut cues = 0;
    if l.norm.iter().any(|t| words.street_words.contains(t)) {
        cues += 2;
    }
    if has_postcode(l) {
        cues += 2;
    }
    if text.chars().any(|c| c.is_ascii_digit()) && text.chars().any(char::is_alphabetic) {
        cues += 1;
    }
    if text.contains(',') {
        cues += 1;
    }
    if words.places.any(|p| text.contains(&p.to_lowercase())) {
        cues += 1;
    }
    cues
}

/// A postcode: 4 to 6 digits (most of Europe and Asia, US ZIP codes), or the two parts of a
/// British ("BS1 5TX", "SW1A 1AA") or Canadian ("K1A 0B1") one.
fn has_postcode(l: &super::labels::LineText) -> bool {
    if l.norm.iter().any(|t| t.len() >= 4 && t.len() <= 6 && t.chars().all(|c| c.is_ascii_digit())) {
        return true;
    }
    let shape = |t: &str| -> String {
        t.trim_end_matches([',', '.'])
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    '9'
                } else if c.is_ascii_uppercase() {
                    'A'
                } else {
                    '?'
                }
            })
            .collect()
    };
    l.printed.windows(2).any(|p| {
        let (outward, inward) = (shape(&p[0]), shape(&p[1]));
        let british = ["A9", "A99", "AA9", "AA99", "A9A", "AA9A"].contains(&outward.as_str()) && inward == "9AA";
        let canadian = outward == "A9A" && inward == "9A9";
        british || canadian
    })
}

/// A line of at most `words` words of letters alone: a state, a country, a district.
fn is_region(l: &super::labels::LineText, words: usize) -> bool {
    l.printed.len() <= words
        && l.norm.iter().all(|t| t.len() >= 2 && t.chars().all(char::is_alphabetic))
        && !not_address(&l.printed.join(" ").to_lowercase())
}

/// Runs of consecutive address-like lines; the run's first line may follow a name.
fn addresses(pt: &PageText, hits: &[LabelHit]) -> Vec<Candidate> {
    let mut out = Vec::new();
    let cues: Vec<usize> = (0..pt.lines.len()).map(|li| address_cues(pt, li)).collect();
    // Line k follows line k - 1 closely enough to go on with its address.
    let close = |k: usize| k < pt.lines.len() && pt.lines[k].bbox.y0 - pt.lines[k - 1].bbox.y1 <= 2.0 * pt.line_height;
    for start in 0..pt.lines.len() {
        if cues[start] == 0 {
            continue;
        }
        let mut total = 0;
        for end in start..(start + 5).min(pt.lines.len()) {
            if end > start && !close(end) {
                break;
            }
            // A short line of words is the state or country after the postcode line ("JOHOR."),
            // or the district before it ("SETAPAK." or "BANDAR BARU PERMAS JAYA" between the
            // street and "53200, KUALA LUMPUR").
            let region = end > start
                && (is_region(&pt.lines[end], 3) && has_postcode(&pt.lines[end - 1])
                    || is_region(&pt.lines[end], 5) && close(end + 1) && has_postcode(&pt.lines[end + 1]));
            if cues[end] == 0 && !region {
                break;
            }
            total += cues[end].max(1);
            let label = hits
                .iter()
                .filter(|h| !h.avoid)
                .map(|h| h.score * link(pt, h, start, 0, &pt.lines[start].bbox))
                .fold(0.0f32, f32::max);
            let top = 1.0 - (pt.lines[start].bbox.y0 / pt.page.height.max(1.0)).clamp(0.0, 1.0);
            // More address cues, more likely; never capped, so the whole address beats its start.
            let score = 0.65 * (1.0 - (-(total as f32) / 6.0).exp()) * (0.6 + 0.4 * top) + 0.4 * label;
            out.push(Candidate::lines(pt, start, end + 1, score));
        }
    }
    out
}

/// States and countries named on lines with (or just after) a governing-law label; a name may
/// run over a line break ("the State of New / Jersey").
fn places(pt: &PageText, hits: &[LabelHit]) -> Vec<Candidate> {
    let toks = pt.tokens();
    let word = |k: usize| -> &str { pt.lines[toks[k].0].printed[toks[k].1].trim_matches(|c: char| !c.is_alphabetic()) };
    let mut out = Vec::new();
    for k in 0..toks.len() {
        for place in lexicon().places.places.iter() {
            let parts: Vec<&str> = place.split(' ').collect();
            if k + parts.len() > toks.len() || !parts.iter().enumerate().all(|(i, p)| word(k + i) == *p) {
                continue;
            }
            let (li, wi) = toks[k];
            let near = hits
                .iter()
                .filter(|h| !h.avoid && (h.line == li && h.start <= wi || h.line + 2 >= li && h.line < li))
                .map(|h| h.score * if h.line == li { 1.0 } else { 0.8 })
                .fold(0.0f32, f32::max);
            let mut c = Candidate::words(pt, &toks[k..k + parts.len()], 0.05 + 0.9 * near, None);
            c.normalized = place.to_string();
            out.push(c);
        }
    }
    out
}

/// Free text: the line that shares most words (and meaning) with the question.
fn sentences(pt: &PageText, q: &Question, hits: &[LabelHit], meaning: &mut Meaning) -> Vec<Candidate> {
    let texts: Vec<String> = pt.lines.iter().map(|l| l.printed.join(" ")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let sims = meaning.similarities(&q.text, &refs);
    let mut out = Vec::new();
    for (li, l) in pt.lines.iter().enumerate() {
        let overlap = q.terms.iter().filter(|t| l.norm.contains(t)).count() as f32 / q.terms.len().max(1) as f32;
        let label = hits.iter().filter(|h| h.line == li && !h.avoid).map(|h| h.score).fold(0.0f32, f32::max);
        let sim = sims.as_ref().map_or(0.0, |s| s[li].max(0.0));
        out.push(Candidate::new(
            pt,
            li,
            0,
            l.printed.len(),
            texts[li].clone(),
            0.4 * overlap + 0.3 * label + 0.4 * sim,
            None,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ask::labels::{norm_token, LineText};

    fn line(text: &str) -> LineText {
        let printed: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        let norm = printed.iter().map(|w| norm_token(w)).collect();
        LineText { words: vec![], bbox: crate::model::BBox::new(0.0, 0.0, 1.0, 1.0), printed, norm, values: vec![] }
    }

    /// The address candidates on a page of these rows: the best one's text, and every one's.
    fn address_texts(rows: &[&str]) -> (String, Vec<String>) {
        let page = crate::ask::tests::page_of_rows(rows);
        let pt = PageText::new(&page, None, crate::values::Locale::default());
        let found = addresses(&pt, &[]);
        let best = found.iter().max_by(|a, b| a.score.total_cmp(&b.score)).unwrap().text.clone();
        (best, found.into_iter().map(|c| c.text).collect())
    }

    #[test]
    fn an_address_runs_over_its_district_line_to_the_postcode() {
        let (best, _) = address_texts(&[
            "SYARIKAT PERNIAGAAN GIN KEE",
            "NO 290, JALAN AIR PANAS.",
            "SETAPAK.",
            "53200, KUALA LUMPUR.",
            "TEL:03-40210276",
        ]);
        assert_eq!(best, "NO 290, JALAN AIR PANAS. SETAPAK. 53200, KUALA LUMPUR.");
        // Without a postcode after it, a line of words ends the run.
        let (_, all) = address_texts(&["NO 290, JALAN AIR PANAS.", "THANK YOU", "PLEASE COME AGAIN"]);
        assert!(all.iter().all(|c| c == "NO 290, JALAN AIR PANAS."));
    }

    #[test]
    fn names_stop_at_a_columns_gap_keep_their_legal_form_and_are_never_labels() {
        let mut page = crate::ask::tests::page_of_rows(&[
            "Dubois Bâtiment SA Facture",
            "BILL TO",
            "Wagner Logistik GmbH & Co. KG",
            "Sternberg UG (haftungsbeschränkt)",
        ]);
        // The title stands a column's gap right of the letterhead's name, on its baseline.
        let title = page.lines[0].words[3] as usize;
        page.words[title].bbox = crate::model::BBox::new(450.0, 100.0, 520.0, 112.0);
        let pt = PageText::new(&page, None, crate::values::Locale::default());
        let q = Question::for_target("Who is the issuer of the invoice?", Target::Name);
        let found: Vec<String> = names(&pt, &q, &[]).into_iter().filter(|c| c.score > 0.0).map(|c| c.text).collect();
        for name in ["Dubois Bâtiment SA", "Wagner Logistik GmbH & Co. KG", "Sternberg UG (haftungsbeschränkt)"] {
            assert!(found.iter().any(|f| f == name), "{name} in {found:?}");
        }
        assert!(found.iter().all(|f| !f.contains("Facture") && f != "BILL TO"), "{found:?}");
    }

    #[test]
    fn a_name_whose_line_is_only_its_legal_form_starts_on_the_line_above() {
        let page = crate::ask::tests::page_of_rows(&[
            "POPULAR BOOK",
            "CO. (M) SDN BHD",
            "Tel 03-1234",
            "Cash Sale",
            "TRENDYMAX (M) SDN. BHD.",
        ]);
        let pt = PageText::new(&page, None, crate::values::Locale::default());
        let q = Question::for_target("Who is the vendor?", Target::Name);
        let found: Vec<String> = names(&pt, &q, &[]).into_iter().map(|c| c.text).collect();
        assert!(found.iter().any(|f| f == "POPULAR BOOK CO. (M) SDN BHD"), "{found:?}");
        assert!(!found.iter().any(|f| f == "CO. (M) SDN BHD"), "{found:?}");
        // A name of its own before the legal form keeps its line.
        assert!(found.iter().any(|f| f == "TRENDYMAX (M) SDN. BHD."), "{found:?}");
        assert!(!found.iter().any(|f| f.starts_with("Cash Sale TRENDYMAX")), "{found:?}");
    }

    #[test]
    fn a_bare_number_in_a_name_is_no_amount_and_a_registration_line_no_address() {
        let rows = [
            "99 SPEED MART S/B (519537-X)",
            "Company No 20965-",
            "176 JLN SUNGEI BESI",
            "57100 KUALA LUMPUR",
            "Telephone: 03-9221345",
            "Total 3.70",
        ];
        let page = crate::ask::tests::page_of_rows(&rows);
        let pt = PageText::new(&page, None, crate::values::Locale::default());
        let q = Question::for_target("Who is the vendor?", Target::Name);
        let found = names(&pt, &q, &[]);
        let best = found.iter().max_by(|a, b| a.score.total_cmp(&b.score)).unwrap();
        assert_eq!(best.text, "99 SPEED MART S/B");
        assert!(name_shape(&pt, 0, 0, 4) >= 0.8, "a bare number is no amount");
        assert!(name_shape(&pt, 5, 0, 2) < 0.5, "an amount with decimals still reads as no name");
        assert_eq!(address_texts(&rows).0, "176 JLN SUNGEI BESI 57100 KUALA LUMPUR");
    }

    #[test]
    fn a_postcode_line_of_two_words_and_a_district_of_four_go_on_with_the_address() {
        let (best, _) = address_texts(&[
            "PASAR MINI JIN SENG",
            "379, JALAN PERMAS SATU,",
            "BANDAR BARU PERMAS JAYA",
            "39100 BRINCHANG,",
            "CAMERON HIGHLANDS, PAHANG",
            "TEL:07-3874904",
        ]);
        assert_eq!(best, "379, JALAN PERMAS SATU, BANDAR BARU PERMAS JAYA 39100 BRINCHANG, CAMERON HIGHLANDS, PAHANG");
        // A heading or a contact label after the postcode is no state.
        for after in ["TEL", "TAX INVOICE"] {
            let (_, all) = address_texts(&["129, JALAN TUN H.S LEE,", "50000 KUALA LUMPUR.", after]);
            assert!(all.iter().all(|c| !c.contains(after)), "{after}");
        }
    }

    #[test]
    fn postcodes_of_several_countries() {
        for address in [
            "81200 Johor Bahru",
            "10115 Berlin",
            "Springfield, IL 62704",
            "Bristol BS1 5TX",
            "London SW1A 1AA",
            "Leeds LS11 5QT,",
            "Ottawa ON K1A 0B1",
        ] {
            assert!(has_postcode(&line(address)), "{address}");
        }
        for not in ["Total 13.75", "Table 2 of 3", "A4 PAPER", "Room B2 3rd floor", "GB 123"] {
            assert!(!has_postcode(&line(not)), "{not}");
        }
    }
}
