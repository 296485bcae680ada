//! The parties of a contract, as its opening clause defines them: a name (capitalised words,
//! often ending in a legal form) followed by the term the contract calls it by (`JDA Software
//! Group, Inc., a Delaware corporation ("JDA")`), and names inside the "between X and Y" clause.
//! Its words (connectors, defined terms that are no party) are `assets/lexicon/names.toml`.

use super::labels::PageText;
use super::lexicon::{is_company_suffix, lexicon};
use super::Candidate;

/// Part of a defined term or a parenthetical, never of a party's name.
fn quoted(w: &str) -> bool {
    w.contains(['(', ')', '"', '“', '”'])
}

fn starts_upper(w: &str) -> bool {
    w.trim_start_matches(['(', '"', '“', '\'']).chars().next().is_some_and(|c| c.is_uppercase())
}

/// The quoted term of a parenthetical definition starting at token `k`: `("JDA")`, `(the
/// "Company")`, `(together with ..., "RHI")`, within a few tokens.
fn defined_term(word: &dyn Fn(usize) -> String, k: usize, n: usize) -> Option<String> {
    if !word(k).starts_with('(') {
        return None;
    }
    let mut text = String::new();
    for j in k..(k + 14).min(n) {
        text.push_str(&word(j));
        text.push(' ');
        if word(j).contains(')') {
            break;
        }
    }
    let open = text.find(['"', '“'])?;
    let rest = &text[open + text[open..].chars().next()?.len_utf8()..];
    let close = rest.find(['"', '”'])?;
    Some(rest[..close].trim().to_string())
}

pub fn candidates(pt: &PageText) -> Vec<Candidate> {
    let toks = pt.tokens();
    let n = toks.len().min(600);
    let word = |k: usize| -> String { pt.lines[toks[k].0].printed[toks[k].1].clone() };
    let names = &lexicon().names;
    let clause = (0..n).find(|&k| matches!(word(k).to_lowercase().as_str(), "between" | "among"));
    let mut out = Vec::new();
    let mut k = 0;
    while k < n {
        let w = word(k);
        // "a Delaware corporation", "an address at One Penumbra Place", "1700 Broadway": no party.
        let before = if k > 0 { word(k - 1).to_lowercase() } else { String::new() };
        let preceded_by_article = matches!(before.as_str(), "a" | "an" | "the" | "this" | "at" | "in")
            || before.chars().any(|c| c.is_ascii_digit());
        if !starts_upper(&w) || quoted(&w) {
            k += 1;
            continue;
        }
        if preceded_by_article {
            // Skip the whole capitalised run ("at One Penumbra Place, Alameda").
            k += 1;
            while k < n && (starts_upper(&word(k)) || word(k).chars().any(|c| c.is_ascii_digit())) {
                k += 1;
            }
            continue;
        }
        // A run of capitalised words (and connectors, and legal forms).
        let start = k;
        let mut end = k;
        while end < n {
            let t = word(end);
            let ok = (starts_upper(&t) && !quoted(&t))
                || is_company_suffix(&t)
                || (names.connectors.contains(&t.to_lowercase()) && end + 1 < n && starts_upper(&word(end + 1)));
            if !ok || end - start >= 10 {
                break;
            }
            end += 1;
            if t.ends_with(['.', ';']) && !is_company_suffix(&t) && t.chars().filter(|c| c.is_alphabetic()).count() > 2
            {
                break;
            }
        }
        let run: Vec<String> = (start..end).map(word).collect();
        let text = run.join(" ");
        let has_suffix = run.iter().skip(1).any(|t| is_company_suffix(t));
        let definition = (end..(end + 12).min(n)).find_map(|j| defined_term(&word, j, n));
        let defined = definition.as_deref().is_some_and(|d| !names.not_parties.contains(&d.to_lowercase()));
        let in_clause = clause.is_some_and(|c| start > c && start < c + 80);
        let all_caps_heading =
            run.len() > 2 && run.iter().all(|t| t.chars().filter(|c| c.is_alphabetic()).all(|c| c.is_uppercase()));
        let score = match (defined, has_suffix, in_clause) {
            (true, _, true) => 0.85,
            (false, true, true) => 0.75,
            (true, _, false) => 0.6,
            (false, true, false) => 0.4,
            _ => 0.0,
        };
        // One capitalised word ("Affiliates") is a defined term's echo, not a party's name.
        if score > 0.0
            && (run.len() >= 2 || has_suffix)
            && !text.to_lowercase().contains("agreement")
            && !all_caps_heading
        {
            let span: Vec<(usize, usize)> = toks[start..end].to_vec();
            out.push(Candidate::words(pt, &span, score, Some("party".into())));
        }
        k = end.max(k + 1);
    }
    out
}
