//! What a question asks for: the kind of value (its target) and the words a label for it would
//! carry, widened by a small multilingual lexicon of the labels business documents print.

use crate::model::Target;

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
    /// The question names a year ("... ending december 2023"): prefer values under it.
    pub years: Vec<String>,
}

const STOP: &[&str] = &[
    "what", "whats", "what's", "which", "who", "whom", "when", "where", "how", "is", "are", "was", "were", "the", "a",
    "an", "of", "this", "that", "these", "on", "in", "for", "to", "by", "does", "do", "did", "be", "and", "or", "it",
    "its", "there", "give", "me", "please", "tell", "listed", "shown", "stated", "printed", "document", "page", "with",
    "from", "as", "at", "under", "much", "many", "s", "?", "value", "number,", "unit", "name",
];

/// Groups of label phrases that mean one thing. A question that mentions any phrase of a group
/// (or its key word) looks for labels with any phrase of the group, when the group's values are of
/// the kind the question wants. General business vocabulary
/// in English, German, French, Spanish, Dutch, Italian and Malay; never a vendor's wording.
const LEXICON: &[(&[&str], &[Target], &[&str])] = &[
    (
        &["total", "amount"],
        &[Target::Money],
        &[
            "total",
            "grand total",
            "total due",
            "amount due",
            "balance due",
            "total amount",
            "amount payable",
            "total payable",
            "invoice total",
            "gesamtbetrag",
            "gesamt",
            "summe",
            "endbetrag",
            "rechnungsbetrag",
            "zu zahlen",
            "montant total",
            "total ttc",
            "importe total",
            "totaal",
            "totale",
            "total (incl",
            "amount paid",
            "total incl",
            "jumlah",
            "total rm",
            "rounded total",
            "nett total",
            "net total",
            "brutto",
            "summe brutto",
            "gesamtbrutto",
            "gross total",
            "total gross",
            "bruttobetrag",
        ],
    ),
    (
        &["subtotal", "net", "untaxed"],
        &[Target::Money],
        &[
            "subtotal",
            "sub total",
            "sub-total",
            "net amount",
            "netto",
            "zwischensumme",
            "nettobetrag",
            "total excl",
            "untaxed amount",
            "amount excl",
            "total net",
            "gesamtnetto",
            "summe netto",
        ],
    ),
    (
        &["tax", "vat"],
        &[Target::Money, Target::Percent],
        &[
            "tax",
            "vat",
            "mwst",
            "ust",
            "umsatzsteuer",
            "mehrwertsteuer",
            "gst",
            "sst",
            "tva",
            "iva",
            "btw",
            "sales tax",
            "tax amount",
        ],
    ),
    (
        &["invoice", "number"],
        &[Target::Identifier],
        &[
            "invoice number",
            "invoice no",
            "invoice #",
            "invoice",
            "rechnungsnr",
            "rechnungsnummer",
            "rechnung nr",
            "facture n",
            "número de factura",
            "factuurnummer",
            "bill no",
            "receipt no",
            "inv no",
            "invoice id",
            "document no",
            "belegnummer",
        ],
    ),
    (
        &["date", "issued", "dated"],
        &[Target::Date],
        &[
            "date",
            "invoice date",
            "date of issue",
            "issue date",
            "issued",
            "datum",
            "rechnungsdatum",
            "belegdatum",
            "date de facture",
            "fecha",
            "factuurdatum",
            "data",
            "tarikh",
            "date issued",
            "payment date",
        ],
    ),
    (
        &["due"],
        &[Target::Date],
        &[
            "due date",
            "due",
            "payment due",
            "date due",
            "fällig",
            "fälligkeit",
            "zahlungsziel",
            "zahlbar bis",
            "échéance",
            "vencimiento",
            "pay by",
            "payable by",
        ],
    ),
    (
        &["vendor", "issuer", "seller", "supplier", "company", "issued", "merchant", "store", "shop"],
        &[Target::Name],
        &[
            "from",
            "seller",
            "supplier",
            "vendor",
            "issuer",
            "sold by",
            "provided by",
            "bill from",
            "remit to",
            "company",
            "merchant",
            "payable to",
        ],
    ),
    (
        &["customer", "client", "buyer", "billed"],
        &[Target::Name],
        &[
            "bill to",
            "billed to",
            "customer",
            "client",
            "sold to",
            "kunde",
            "rechnungsempfänger",
            "invoice to",
            "ship to",
        ],
    ),
    (&["currency"], &[Target::Currency], &["currency", "währung", "devise", "moneda", "payment currency"]),
    (&["address", "located"], &[Target::Address], &["address", "adresse", "anschrift", "dirección", "alamat"]),
    (
        &["effective", "commencement"],
        &[Target::Date],
        &["effective date", "effective as of", "dated as of", "made as of", "entered into as of", "as of", "effective"],
    ),
    (
        &["jurisdiction", "governed", "governing", "law"],
        &[Target::Place],
        &["governed by", "laws of", "governing law", "jurisdiction", "courts of", "construed in accordance"],
    ),
    (
        &["term", "duration", "period"],
        &[Target::Period],
        &[
            "term",
            "period of",
            "remain in effect",
            "remain in force",
            "continue for",
            "continuing for",
            "continue in effect",
            "in effect for",
            "duration",
            "expire",
            "terminate",
        ],
    ),
    (&["parties", "party", "between"], &[Target::Name], &["between", "by and between", "party", "parties"]),
    (
        &["other-numbers"],
        &[Target::Identifier],
        &[
            "customer no",
            "customer number",
            "kundennr",
            "kundennummer",
            "order",
            "order no",
            "account",
            "contract",
            "vat number",
            "vat no",
            "tax id",
            "ust-idnr",
            "po",
            "reference",
        ],
    ),
    (
        &["cost-of-revenue"],
        &[Target::Money],
        &[
            "cost of revenue",
            "cost of revenues",
            "cost of sales",
            "cost of goods sold",
            "deferred revenue",
            "unearned revenue",
            "costs of revenue",
            "sales and marketing",
            "selling and marketing",
            "selling, general",
            "marketing and sales",
        ],
    ),
    (
        &["revenue", "revenues", "sales"],
        &[Target::Money],
        &[
            "revenue",
            "revenues",
            "total revenue",
            "total revenues",
            "net revenue",
            "net revenues",
            "net sales",
            "sales",
            "umsatz",
            "umsatzerlöse",
            "turnover",
            "total net sales",
        ],
    ),
];

impl Question {
    pub fn parse(text: &str) -> Question {
        Question::build(text, None)
    }

    /// A question whose kind of answer is known (a schema field's type).
    pub fn for_target(text: &str, target: Target) -> Question {
        Question::build(text, Some(target))
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
        let terms: Vec<String> = words
            .iter()
            .filter(|w| !STOP.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()))
            .cloned()
            .collect();
        let mut labels: Vec<String> = Vec::new();
        for (keys, kinds, phrases) in LEXICON {
            // Only labels of the kind asked for: "invoice" in "the invoice date" is no date label.
            if keys.iter().any(|k| has(k)) && (kinds.contains(&target) || target == Target::Text) {
                labels.extend(phrases.iter().map(|p| p.to_string()));
            }
        }
        // "due date" asks for the due date, not the invoice date; "net" revenues are still revenues.
        if has("due") {
            labels.retain(|l| {
                ![
                    "date",
                    "invoice date",
                    "issue date",
                    "datum",
                    "rechnungsdatum",
                    "date of issue",
                    "data",
                    "fecha",
                    "payment date",
                ]
                .contains(&l.as_str())
            });
        }
        let mut avoid: Vec<String> = Vec::new();
        // Asked for a part of the total (net amount, tax): the total itself is what to avoid.
        if ["subtotal", "untaxed", "net", "tax", "vat"].iter().any(|w| has(w)) && target == Target::Money {
            let total = LEXICON.iter().find(|(keys, _, _)| keys[0] == "total").map(|(_, _, p)| *p).unwrap_or_default();
            labels.retain(|l| !total.contains(&l.as_str()));
            avoid.extend(total.iter().map(|p| p.to_string()));
        }
        let mut contrast = |asked: &[&str], unless: &[&str], group: &str| {
            if asked.iter().any(|w| has(w)) && !unless.iter().any(|w| has(w)) {
                avoid.extend(
                    LEXICON
                        .iter()
                        .find(|(keys, _, _)| keys[0] == group)
                        .into_iter()
                        .flat_map(|(_, _, p)| p.iter().map(|s| s.to_string())),
                );
            }
        };
        contrast(&["date", "dated", "issued"], &["due"], "due");
        contrast(&["total", "amount"], &["subtotal", "tax", "vat", "net", "untaxed"], "subtotal");
        contrast(&["total", "amount"], &["tax", "vat"], "tax");
        contrast(
            &["vendor", "issuer", "seller", "supplier", "company", "merchant", "store", "shop"],
            &["customer", "client", "buyer"],
            "customer",
        );
        contrast(&["number", "no", "#"], &["customer", "order", "account"], "other-numbers");
        contrast(&["revenue", "revenues", "sales"], &["cost"], "cost-of-revenue");
        avoid.retain(|a| !labels.contains(a));
        labels.sort();
        labels.dedup();
        let years = words
            .iter()
            .filter(|w| w.len() == 4 && w.starts_with("20") && w.chars().all(|c| c.is_ascii_digit()))
            .cloned()
            .collect();
        Question { text: text.trim().to_string(), target, terms, labels, avoid, years }
    }
}

fn target_of(lower: &str, has: &dyn Fn(&str) -> bool) -> Target {
    let any = |ws: &[&str]| ws.iter().any(|w| has(w));
    let money = [
        "total", "amount", "subtotal", "sum", "price", "cost", "tax", "revenue", "revenues", "sales", "balance", "fee",
        "paid", "much",
    ];
    // "the currency of the total" asks for a currency; "revenues (number, unit and currency)"
    // for an amount: the subject comes first.
    let first = |ws: &[&str]| ws.iter().filter_map(|w| lower.find(w)).min();
    let currency_first = match (first(&["currency"]), first(&money)) {
        (Some(c), Some(m)) => c < m,
        (Some(_), None) => true,
        _ => false,
    };
    if currency_first {
        Target::Currency
    } else if lower.contains('%') || any(&["percent", "percentage", "rate"]) {
        Target::Percent
    } else if any(&money) {
        Target::Money
    } else if any(&["date", "when", "dated", "day"]) {
        Target::Date
    } else if any(&["term", "duration", "long"]) {
        Target::Period
    } else if any(&["jurisdiction", "governed", "governing", "law", "state", "country"]) {
        Target::Place
    } else if any(&["address", "located", "where"]) {
        Target::Address
    } else if any(&["number", "no", "id", "reference", "code", "iban", "account", "#"]) {
        Target::Identifier
    } else if any(&[
        "who", "name", "company", "vendor", "issuer", "seller", "supplier", "party", "parties", "customer", "buyer",
        "merchant", "store",
    ]) {
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
        assert_eq!(q.years, vec!["2023"]);
        assert!(q.terms.contains(&"revenues".to_string()));
    }
}
