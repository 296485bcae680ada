//! The word lists the answerer reads documents with: legal-form suffixes of company names, ...

/// Legal-form words that end company names.
const COMPANY_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "sdn",
    "llc",
    "l.l.c",
    "ltd",
    "limited",
    "gmbh",
    "ag",
    "bv",
    "b.v",
    "nv",
    "n.v",
    "sa",
    "s.a",
    "sarl",
    "sas",
    "spa",
    "s.p.a",
    "srl",
    "bhd",
    "berhad",
    "corp",
    "corporation",
    "co",
    "company",
    "plc",
    "kg",
    "ug",
    "oy",
    "ab",
    "pty",
    "pte",
    "lp",
    "llp",
    "l.p",
    "enterprise",
    "enterprises",
    "trading",
    "holdings",
    "group",
    "gbr",
    "e.k",
    "s.l",
    "s.r.o",
    "sp",
    "kft",
    "ohg",
];

/// Does `word` end a company name (`Inc.`, `GmbH`, `Sdn`...)?
pub fn is_company_suffix(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '.').trim_end_matches('.').to_lowercase();
    COMPANY_SUFFIXES.contains(&w.as_str())
}
