//! One made-up invoice: who sells to whom, its numbers and dates, its items and amounts, drawn
//! at random in one of six languages (`words.rs`), and how each is printed there (number and date
//! styles, currency signs). `layout.rs` puts it on pages.

use super::words::{Currency, Lang, EUR, LANGS};
use super::Rng;
use serde_json::{json, Value};

pub struct Party {
    pub name: String,
    /// Address lines under the name.
    pub lines: Vec<String>,
}

pub struct Item {
    pub description: String,
    pub quantity: u32,
    pub price: i64,
}

/// How amounts are printed: decimal comma, thousands separator, where the currency goes.
#[derive(Clone, Copy)]
pub struct MoneyStyle {
    pub decimal_comma: bool,
    pub thousands: Option<char>,
    pub currency: Placement,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Placement {
    SymbolBefore,
    SymbolAfter,
    CodeBefore,
    CodeAfter,
    /// Amounts bare; the currency is said once elsewhere (a column head, a line of its own).
    Bare,
}

pub struct Invoice {
    pub lang: &'static Lang,
    pub currency: Currency,
    pub money: MoneyStyle,
    pub date_style: usize,
    pub seller: Party,
    pub buyer: Party,
    pub ship_to: Option<Party>,
    pub number: String,
    pub date: Date,
    pub due: Option<Date>,
    pub delivery: Option<Date>,
    pub customer_no: Option<String>,
    pub order_no: Option<String>,
    pub items: Vec<Item>,
    pub shipping: Option<i64>,
    pub tax_rate: f64,
    /// Whether the net amount and the tax get lines of their own in the totals.
    pub show_subtotal: bool,
    pub show_tax: bool,
    /// Paid already: "amount paid" equals the total and the balance is zero.
    pub paid: bool,
    pub payment_days: i64,
    pub seller_vat: String,
    pub registration: String,
    pub iban: String,
    pub bic: String,
    pub phone: String,
    pub email: String,
    pub web: String,
}

impl Invoice {
    pub fn random(rng: &mut Rng) -> Invoice {
        let lang = &LANGS[rng.below(LANGS.len())];
        let currency = *rng.pick(lang.currencies);
        let money = MoneyStyle {
            decimal_comma: lang.decimal_comma ^ rng.chance(0.1),
            thousands: *rng.pick(&[Some(','), Some('.'), Some(' '), None]),
            currency: *rng.pick(&[
                Placement::SymbolBefore,
                Placement::SymbolAfter,
                Placement::CodeBefore,
                Placement::CodeAfter,
                Placement::Bare,
            ]),
        };
        // A dollar sign alone does not say which dollar: other dollars print their code.
        let money = if currency.symbol == "$" && currency.code != "USD" && money.currency != Placement::Bare {
            MoneyStyle { currency: Placement::CodeBefore, ..money }
        } else {
            money
        };
        let seller = company(lang, rng);
        let buyer_lang = if rng.chance(0.8) { lang } else { &LANGS[rng.below(LANGS.len())] };
        let buyer = if rng.chance(0.25) { person(buyer_lang, rng) } else { company(buyer_lang, rng) };
        let ship_to =
            rng.chance(0.2).then(|| if rng.chance(0.5) { company(buyer_lang, rng) } else { person(lang, rng) });
        let date = Date::from_days(Date { y: 2018, m: 1, d: 1 }.days() + rng.below(9 * 365) as i64);
        let payment_days = *rng.pick(&[7, 10, 14, 14, 30, 30, 45, 60]);
        let n_items = if rng.chance(0.1) { 18 + rng.below(30) } else { 1 + rng.below(9) };
        let items = (0..n_items)
            .map(|_| Item {
                description: rng.pick(lang.products).to_string(),
                quantity: if rng.chance(0.5) { 1 } else { 1 + rng.below(24) as u32 },
                price: (1 + rng.below(50) as i64) * [50, 250, 1000, 5000][rng.below(4)] + rng.below(100) as i64,
            })
            .collect();
        let country = lang.code.to_uppercase();
        Invoice {
            lang,
            currency: if currency.code == "EUR" || rng.chance(0.85) { currency } else { EUR },
            money,
            date_style: rng.below(date_styles(lang)),
            number: invoice_number(rng, date),
            date,
            due: rng.chance(0.7).then(|| date.plus(payment_days)),
            delivery: rng.chance(0.3).then(|| date.plus(-(rng.below(20) as i64))),
            customer_no: rng
                .chance(0.5)
                .then(|| format!("{}{}", rng.pick(&["K-", "C", "", "CU-"]), 10000 + rng.below(90000))),
            order_no: rng
                .chance(0.35)
                .then(|| format!("{}{}", rng.pick(&["PO-", "B", "", "ORD-"]), 1000 + rng.below(900000))),
            items,
            shipping: rng.chance(0.2).then(|| 500 + rng.below(3000) as i64),
            tax_rate: *rng.pick(lang.tax_rates),
            show_subtotal: rng.chance(0.85),
            show_tax: rng.chance(0.9),
            paid: rng.chance(0.15),
            payment_days,
            seller_vat: vat_number(&country, rng),
            registration: format!("{} {}", rng.pick(lang.registration), 10000 + rng.below(900000)),
            iban: iban(&country, rng),
            bic: format!("{}{}{}XXX", letters(rng, 4), country.get(..2).unwrap_or("GB"), letters(rng, 2)),
            phone: format!("+{} {} {}", 30 + rng.below(20), 10 + rng.below(90), 100000 + rng.below(900000)),
            email: format!(
                "{}@{}",
                rng.pick(&["info", "billing", "accounts", "invoice", "office"]),
                domain(&seller.name)
            ),
            web: format!("www.{}", domain(&seller.name)),
            seller,
            buyer,
            ship_to,
        }
    }

    /// The items' sum: what a "subtotal" line prints (shipping follows it).
    pub fn subtotal(&self) -> i64 {
        self.items.iter().map(|i| i.price * i.quantity as i64).sum::<i64>()
    }
    /// Tax on the items and the shipping.
    pub fn tax(&self) -> i64 {
        ((self.subtotal() + self.shipping.unwrap_or(0)) as f64 * self.tax_rate / 100.0).round() as i64
    }
    pub fn total(&self) -> i64 {
        self.subtotal() + self.shipping.unwrap_or(0) + self.tax()
    }

    /// The ground truth, as the evaluation sets give it (dates ISO 8601, amounts as numbers, a
    /// field the invoice does not print null).
    pub fn truth(&self) -> Value {
        let amount = |cents: i64| json!(cents as f64 / 100.0);
        json!({
            "vendor": self.seller.name,
            "invoice_number": self.number,
            "date": self.date.iso(),
            "due_date": self.due.map(|d| d.iso()),
            "total": amount(self.total()),
            "subtotal": if self.show_subtotal { amount(self.subtotal()) } else { Value::Null },
            "tax": if self.show_tax { amount(self.tax()) } else { Value::Null },
            "currency": self.currency.code,
            "language": self.lang.code,
        })
    }

    /// An amount as this invoice prints it; `sign` puts the currency on as its style says.
    pub fn amount(&self, cents: i64, sign: bool) -> String {
        let s = self.money;
        let (whole, frac) = (cents.abs() / 100, cents.abs() % 100);
        let digits = whole.to_string();
        let mut grouped = String::new();
        for (k, ch) in digits.chars().enumerate() {
            if k > 0 && (digits.len() - k) % 3 == 0 {
                if let Some(t) = s.thousands.filter(|&t| t != if s.decimal_comma { ',' } else { '.' }) {
                    grouped.push(t);
                }
            }
            grouped.push(ch);
        }
        let number = format!(
            "{}{grouped}{}{frac:02}",
            if cents < 0 { "-" } else { "" },
            if s.decimal_comma { ',' } else { '.' }
        );
        let c = self.currency;
        match (sign, s.currency) {
            (false, _) | (_, Placement::Bare) => number,
            (_, Placement::SymbolBefore) if c.symbol.len() > 2 => format!("{} {number}", c.symbol),
            (_, Placement::SymbolBefore) => format!("{}{number}", c.symbol),
            (_, Placement::SymbolAfter) => format!("{number} {}", c.symbol),
            (_, Placement::CodeBefore) => format!("{} {number}", c.code),
            (_, Placement::CodeAfter) => format!("{number} {}", c.code),
        }
    }

    pub fn date_text(&self, d: Date) -> String {
        let month = self.lang.months[d.m as usize - 1];
        let short: String = month.chars().take(3).collect();
        let (y, m, dd) = (d.y, d.m, d.d);
        match (self.lang.code, self.date_style) {
            ("en", 0) => format!("{month} {dd}, {y}"),
            ("en", 1) => format!("{dd:02}/{m:02}/{y}"),
            ("en", 2) => format!("{m:02}/{dd:02}/{y}"),
            ("en", 3) => format!("{dd} {short} {y}"),
            ("de", 0) => format!("{dd:02}.{m:02}.{y}"),
            ("de", 1) => format!("{dd}. {month} {y}"),
            ("nl", 0) => format!("{dd:02}-{m:02}-{y}"),
            ("es", 1) => format!("{dd} de {month} de {y}"),
            (_, 1) => format!("{dd} {month} {y}"),
            (_, 0) => format!("{dd:02}/{m:02}/{y}"),
            _ => d.iso(),
        }
    }

    /// The tax label with this invoice's rate filled in.
    pub fn tax_label(&self, label: &str) -> String {
        let rate =
            if self.tax_rate.fract() == 0.0 { format!("{}", self.tax_rate) } else { format!("{:.3}", self.tax_rate) };
        let rate = if rate.contains('.') { rate.trim_end_matches('0').to_string() } else { rate };
        let rate = if self.money.decimal_comma { rate.replace('.', ",") } else { rate };
        label.replace("{rate}", &rate)
    }
}

/// How many date styles `date_text` has for a language (the last is ISO 8601).
fn date_styles(lang: &Lang) -> usize {
    match lang.code {
        "en" => 5,
        _ => 3,
    }
}

fn company(lang: &Lang, rng: &mut Rng) -> Party {
    let base = rng.pick(lang.name_parts).to_string();
    let name = match rng.below(3) {
        0 => format!("{base} {}", rng.pick(lang.legal_forms)),
        1 => format!("{base} {} {}", rng.pick(lang.trades), rng.pick(lang.legal_forms)),
        _ => format!("{} {} {}", rng.pick(lang.surnames), rng.pick(lang.trades), rng.pick(lang.legal_forms)),
    };
    Party { name, lines: address(lang, rng) }
}

fn person(lang: &Lang, rng: &mut Rng) -> Party {
    Party { name: format!("{} {}", rng.pick(lang.first_names), rng.pick(lang.surnames)), lines: address(lang, rng) }
}

fn address(lang: &Lang, rng: &mut Rng) -> Vec<String> {
    let (city, code) = *rng.pick(lang.cities);
    let number = 1 + rng.below(180);
    let street = rng.pick(lang.streets);
    let street = match lang.code {
        "en" | "fr" => format!("{number} {street}"),
        _ => format!("{street} {number}"),
    };
    let town = match lang.code {
        // "London EC1A 1BB", "Austin, TX 78701": the postcode after the town.
        "en" => format!("{city} {code}"),
        _ => format!("{code} {city}"),
    };
    let mut lines = vec![street, town];
    if rng.chance(0.2) {
        lines.insert(1, rng.pick(&["Suite 200", "Building B", "2nd floor", "Unit 4"]).to_string());
    }
    lines
}

fn invoice_number(rng: &mut Rng, date: Date) -> String {
    let n = 1 + rng.below(99999);
    let y = date.y;
    match rng.below(10) {
        0 => format!("INV-{y}-{:04}", n % 10000),
        1 => format!("{y}/{:03}", n % 1000),
        2 => format!("F{:06}", n),
        3 => format!("RE-{}", 10000 + n),
        4 => format!("{}", 100000 + n * 7),
        5 => format!("INV/{y}/{:02}/{:04}", date.m, n % 10000),
        6 => format!("{}-{:04}", letters(rng, 2), n % 10000),
        7 => format!("FA{y}{:05}", n),
        8 => format!("{:08X}-{:04}", rng.next() as u32, n % 10000),
        _ => format!("{y}-{:06}", n),
    }
}

fn letters(rng: &mut Rng, n: usize) -> String {
    (0..n).map(|_| (b'A' + rng.below(26) as u8) as char).collect()
}

fn digits(rng: &mut Rng, n: usize) -> String {
    (0..n).map(|_| (b'0' + rng.below(10) as u8) as char).collect()
}

fn vat_number(country: &str, rng: &mut Rng) -> String {
    match country {
        "NL" => format!("NL{}B01", digits(rng, 9)),
        "ES" => format!("ES{}{}", letters(rng, 1), digits(rng, 8)),
        "FR" | "IT" => format!("{country}{}", digits(rng, 11)),
        "EN" => format!("GB{} {} {}", digits(rng, 3), digits(rng, 4), digits(rng, 2)),
        _ => format!("{country} {} {} {}", digits(rng, 3), digits(rng, 3), digits(rng, 3)),
    }
}

fn iban(country: &str, rng: &mut Rng) -> String {
    let cc = if country == "EN" { "GB" } else { country };
    let body = format!("{cc}{}{}", digits(rng, 2), digits(rng, 18));
    body.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

fn domain(name: &str) -> String {
    let word: String = name
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("{}.com", word.trim_matches('-'))
}

/// A calendar date (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Date {
    pub y: i64,
    pub m: u32,
    pub d: u32,
}

impl Date {
    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    fn days(self) -> i64 {
        let y = if self.m <= 2 { self.y - 1 } else { self.y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (self.m as i64 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + self.d as i64 - 1;
        era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468
    }
    fn from_days(z: i64) -> Date {
        let z = z + 719468;
        let era = z.div_euclid(146097);
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Date { y: yoe + era * 400 + i64::from(m <= 2), m, d }
    }
    pub fn plus(self, days: i64) -> Date {
        Date::from_days(self.days() + days)
    }
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_across_months_and_leap_years() {
        let d = Date { y: 2024, m: 2, d: 20 };
        assert_eq!(d.plus(10).iso(), "2024-03-01");
        assert_eq!(Date { y: 2023, m: 12, d: 25 }.plus(14).iso(), "2024-01-08");
        assert_eq!(Date::from_days(d.days()), d);
    }

    #[test]
    fn amounts_print_in_the_invoices_style() {
        let mut inv = Invoice::random(&mut Rng::new(1));
        inv.currency = EUR;
        inv.money = MoneyStyle { decimal_comma: true, thousands: Some('.'), currency: Placement::SymbolAfter };
        assert_eq!(inv.amount(123456789, true), "1.234.567,89 €");
        inv.money = MoneyStyle { decimal_comma: false, thousands: Some(','), currency: Placement::CodeBefore };
        assert_eq!(inv.amount(100005, true), "EUR 1,000.05");
        // A thousands separator equal to the decimal mark is left out.
        inv.money = MoneyStyle { decimal_comma: false, thousands: Some('.'), currency: Placement::Bare };
        assert_eq!(inv.amount(100005, true), "1000.05");
    }
}
