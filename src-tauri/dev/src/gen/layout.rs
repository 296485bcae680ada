//! Putting a made-up invoice on A4 pages in one of many arrangements, chosen at random: the
//! seller's letterhead left, right or centred, with or without a logo, or only in the footer;
//! the buyer's block left or right, with or without a label, under a sender line as in a window
//! envelope; the invoice's numbers and dates as rows of labels and values or as a row of columns;
//! an items table that runs onto more pages; totals, payment terms, bank details and a footer.

use super::invoice::{Invoice, Party, Placement};
use super::Rng;
use pagewise_testkit::{helvetica_width, PdfPage, TextItem};

const W: f32 = 595.0;
const H: f32 = 842.0;

/// Pages being written, with a pen that moves down them.
struct Sheet {
    pages: Vec<PdfPage>,
    /// The page being written.
    current: usize,
    margin: f32,
    size: f32,
}

impl Sheet {
    fn page(&mut self) -> &mut PdfPage {
        &mut self.pages[self.current]
    }
    fn new_page(&mut self) {
        self.pages.push(PdfPage::new(W, H));
        self.current = self.pages.len() - 1;
    }
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, s: &str) {
        self.page().texts.push(TextItem { x, baseline: y, size, bold, text: s.into() });
    }
    /// Text ending at `right`.
    fn right(&mut self, right: f32, y: f32, size: f32, bold: bool, s: &str) {
        self.text(right - helvetica_width(s, size), y, size, bold, s);
    }
    fn centre(&mut self, y: f32, size: f32, bold: bool, s: &str) {
        self.text((W - helvetica_width(s, size)) / 2.0, y, size, bold, s);
    }
    fn rule(&mut self, x0: f32, y: f32, x1: f32) {
        self.page().rules.push((x0, y, x1, y));
    }
    fn right_edge(&self) -> f32 {
        W - self.margin
    }
}

/// Where the seller's name stands at the top.
#[derive(Clone, Copy, PartialEq)]
enum Letterhead {
    Left,
    Right,
    Centre,
    /// No name at the top: a logo there, the name in the sender line and the footer.
    LogoOnly,
    /// A "From" block beside the buyer's, as invoicing services print.
    FromBlock,
}

pub fn draw(inv: &Invoice, rng: &mut Rng) -> Vec<PdfPage> {
    let mut sheet = Sheet {
        pages: vec![PdfPage::new(W, H)],
        current: 0,
        margin: 36.0 + rng.below(25) as f32,
        size: 8.5 + rng.below(3) as f32 * 0.5,
    };
    let lang = inv.lang;
    let letterhead = *rng.pick(&[
        Letterhead::Left,
        Letterhead::Left,
        Letterhead::Right,
        Letterhead::Centre,
        Letterhead::LogoOnly,
        Letterhead::FromBlock,
    ]);
    let (m, size) = (sheet.margin, sheet.size);
    let right = sheet.right_edge();
    let colon = if rng.chance(0.5) { ":" } else { "" };
    let label = |s: &str| if s.ends_with(':') { s.to_string() } else { format!("{s}{colon}") };

    // Letterhead: the seller's name, and its address in small print.
    let mut y = m + 20.0;
    let name_size = 12.0 + rng.below(11) as f32;
    let logo = letterhead == Letterhead::LogoOnly || rng.chance(0.35);
    let mut lx = m;
    if logo {
        // Centred above a centred name, else at the left (beside a name on the left or right).
        let x0 = if letterhead == Letterhead::Centre { (W - 70.0) / 2.0 } else { m };
        sheet.page().logos.push((x0, y - 16.0, x0 + 70.0, y + 19.0));
        if letterhead == Letterhead::Left {
            lx = m + 80.0;
        }
        if letterhead == Letterhead::Centre {
            y += 40.0;
        }
    }
    let small = size - 1.0;
    let address_below = |sheet: &mut Sheet, y: &mut f32, at: &dyn Fn(&mut Sheet, f32, &str)| {
        for line in inv.seller.lines.iter().chain([&format!("{} {}", lang.phone, inv.phone), &inv.email]) {
            *y += small + 3.0;
            at(sheet, *y, line);
        }
    };
    match letterhead {
        Letterhead::Left => {
            sheet.text(lx, y, name_size, true, &inv.seller.name);
            y += 4.0;
            address_below(&mut sheet, &mut y, &|s, y, t| s.text(lx, y, small, false, t));
        }
        Letterhead::Right => {
            sheet.right(right, y, name_size, true, &inv.seller.name);
            y += 4.0;
            address_below(&mut sheet, &mut y, &|s, y, t| s.right(right, y, small, false, t));
        }
        Letterhead::Centre => {
            sheet.centre(y, name_size, true, &inv.seller.name);
            let line = inv.seller.lines.join(" · ");
            y += small + 6.0;
            sheet.centre(y, small, false, &line);
        }
        Letterhead::LogoOnly | Letterhead::FromBlock => y += 20.0,
    }

    // The title, at the top right or under the letterhead.
    let title = rng.word(lang.title);
    // "Rechnung Nr." and the like go on with the number.
    let numbered_title = [".", "°", "º"].iter().any(|e| title.ends_with(e)) && title.len() > 9;
    let title = if numbered_title { format!("{title} {}", inv.number) } else { title.to_string() };
    let title = title.as_str();
    let title_size = 16.0 + rng.below(11) as f32;
    // At the top right only where it clears the letterhead.
    let name_end =
        if letterhead == Letterhead::Left { lx + helvetica_width(&inv.seller.name, name_size) } else { m + 80.0 };
    let top_free = matches!(letterhead, Letterhead::Left | Letterhead::LogoOnly | Letterhead::FromBlock)
        && name_end + 30.0 < right - helvetica_width(title, title_size);
    if top_free && rng.chance(0.5) {
        sheet.right(right, m + 20.0, title_size, true, title);
    } else {
        y += title_size + 14.0;
        sheet.text(m, y, title_size, true, title);
    }

    // The buyer's block (and the seller's, or where goods go), with the invoice's details beside.
    let top = y.max(140.0) + 20.0 + rng.below(30) as f32;
    let buyer_right = letterhead == Letterhead::FromBlock || rng.chance(0.2);
    let half = (m + right) / 2.0 + 10.0;
    let (bx, other_x) = if buyer_right { (half, m) } else { (m, half) };
    let mut y_buyer = top;
    if letterhead == Letterhead::LogoOnly || (letterhead != Letterhead::FromBlock && rng.chance(0.3)) {
        let sender = std::iter::once(inv.seller.name.as_str())
            .chain(inv.seller.lines.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" · ");
        sheet.text(bx, y_buyer, 6.5, false, &sender);
        sheet.rule(bx, y_buyer + 2.0, bx + helvetica_width(&sender, 6.5));
        y_buyer += 14.0;
    }
    let buyer_label = (letterhead == Letterhead::FromBlock || rng.chance(0.6)).then(|| label(rng.word(lang.bill_to)));
    let mut bottom = block(&mut sheet, bx, y_buyer, buyer_label.as_deref(), &inv.buyer, rng.chance(0.5));
    if letterhead == Letterhead::FromBlock {
        let from = label(rng.word(lang.from));
        let seller = Party { name: inv.seller.name.clone(), lines: inv.seller.lines.clone() };
        bottom = bottom.max(block(&mut sheet, other_x, top, Some(&from), &seller, true));
    } else if let Some(ship) = &inv.ship_to {
        bottom = bottom.max(block(&mut sheet, other_x, top, Some(&label(rng.word(lang.ship_to))), ship, false));
    }

    // The invoice's details.
    let mut details =
        vec![(label(rng.word(lang.number)), inv.number.clone()), (label(rng.word(lang.date)), inv.date_text(inv.date))];
    if let Some(d) = inv.delivery {
        details.push((label(rng.word(lang.delivery)), inv.date_text(d)));
    }
    if let Some(d) = inv.due {
        details.push((label(rng.word(lang.due)), inv.date_text(d)));
    }
    if let Some(c) = &inv.customer_no {
        details.push((label(rng.word(lang.customer_no)), c.clone()));
    }
    if let Some(o) = &inv.order_no {
        details.push((label(rng.word(lang.order_no)), o.clone()));
    }
    if inv.money.currency == Placement::Bare && rng.chance(0.5) {
        details.push((label(lang.currency), inv.currency.code.into()));
    }
    rng.shuffle(&mut details[2..]);
    // Beside the buyer's block as rows, or under the blocks as a row of columns (where a second
    // block stands beside the buyer's).
    let columns = rng.chance(0.3) || letterhead == Letterhead::FromBlock || (inv.ship_to.is_some() && !buyer_right);
    let mut y = if columns {
        let y = bottom + 24.0;
        let step = (right - m) / details.len().min(4) as f32;
        for (k, (l, v)) in details.iter().enumerate() {
            let (row, col) = (k / 4, k % 4);
            let x = m + step * col as f32;
            sheet.text(x, y + row as f32 * 26.0, size - 0.5, true, l.trim_end_matches(':'));
            sheet.text(x, y + row as f32 * 26.0 + size + 4.0, size, false, v);
        }
        y + ((details.len() + 3) / 4) as f32 * 26.0
    } else {
        let widest = |texts: Vec<&String>| texts.iter().map(|t| helvetica_width(t, size * 1.1)).fold(0.0, f32::max);
        let label_w = widest(details.iter().map(|d| &d.0).collect());
        let value_w = widest(details.iter().map(|d| &d.1).collect());
        let gap = 8.0 + rng.below(20) as f32;
        let lx = if buyer_right { m } else { (right - label_w - gap - value_w).max(half - 30.0) };
        let aligned_right = rng.chance(0.4);
        let vx = lx + label_w + gap;
        let mut y = if buyer_right { bottom + 20.0 } else { top };
        for (l, v) in &details {
            sheet.text(lx, y, size, rng.chance(0.3), l);
            if aligned_right && !buyer_right {
                sheet.right(right, y, size, false, v);
            } else {
                sheet.text(vx, y, size, false, v);
            }
            y += size + 5.0;
        }
        y.max(bottom)
    };

    // The items, onto more pages when they do not fit.
    y += 28.0 + rng.below(20) as f32;
    let heads = rng.pick(lang.columns);
    let bare = inv.money.currency == Placement::Bare;
    let amount_head = if bare { format!("{} ({})", heads[3], inv.currency.code) } else { heads[3].to_string() };
    let (qx, px) = (right - 200.0, right - 95.0);
    let footer_top = H - m - 40.0;
    let head = |sheet: &mut Sheet, y: f32| {
        sheet.text(m, y, size, true, heads[0]);
        sheet.right(qx, y, size, true, heads[1]);
        sheet.right(px, y, size, true, heads[2]);
        sheet.right(right, y, size, true, &amount_head);
        sheet.rule(m, y + 4.0, right);
    };
    head(&mut sheet, y);
    let row = size + 6.0 + rng.below(4) as f32;
    let signs = rng.chance(0.3);
    for item in &inv.items {
        y += row;
        if y > footer_top - 20.0 {
            sheet.new_page();
            y = m + 40.0;
            head(&mut sheet, y);
            y += row;
        }
        sheet.text(m, y, size, false, &item.description);
        sheet.right(qx, y, size, false, &item.quantity.to_string());
        sheet.right(px, y, size, false, &inv.amount(item.price, signs));
        sheet.right(right, y, size, false, &inv.amount(item.price * item.quantity as i64, signs));
    }
    sheet.rule(m, y + 5.0, right);

    // Totals, labels left of right-aligned amounts.
    let mut totals: Vec<(String, i64, bool)> = Vec::new();
    if inv.show_subtotal {
        totals.push((rng.word(lang.subtotal).to_string(), inv.subtotal(), false));
    }
    if let Some(s) = inv.shipping {
        totals.push((rng.word(lang.shipping).to_string(), s, false));
    }
    if inv.show_tax {
        totals.push((inv.tax_label(rng.word(lang.tax)), inv.tax(), false));
    }
    totals.push((rng.word(lang.total).to_string(), inv.total(), true));
    if inv.paid {
        totals.push((rng.word(lang.paid).to_string(), -inv.total(), false));
        totals.push((rng.word(lang.balance).to_string(), 0, true));
    }
    let tx = right - 190.0 - rng.below(60) as f32;
    if y + 20.0 + totals.len() as f32 * (size + 7.0) > footer_top {
        sheet.new_page();
        y = m + 40.0;
    }
    y += 12.0;
    for (l, cents, strong) in &totals {
        y += size + 7.0;
        sheet.text(tx, y, size, *strong, &label(l));
        sheet.right(right, y, size, *strong, &inv.amount(*cents, true));
    }

    // Payment terms and bank details.
    y += 28.0;
    if inv.due.is_some() || rng.chance(0.5) {
        let terms = rng.word(lang.terms).replace("{days}", &inv.payment_days.to_string());
        sheet.text(m, y, size, false, &terms);
        y += size + 5.0;
    }
    let bank_in_footer = rng.chance(0.6);
    if !bank_in_footer {
        sheet.text(m, y, size, false, &format!("IBAN: {}   BIC: {}", inv.iban, inv.bic));
        y += size + 5.0;
    }
    if rng.chance(0.5) {
        sheet.text(m, y + 6.0, size, false, rng.word(lang.thanks));
    }

    // Footer: on every page, in columns of small print.
    let n = sheet.pages.len();
    let footer = rng.chance(0.7) || letterhead == Letterhead::LogoOnly;
    let numbered = n > 1 || rng.chance(0.3);
    let vat = format!("{} {}", rng.word(lang.vat_id), inv.seller_vat);
    for k in 0..n {
        sheet.current = k;
        if footer {
            let fy = H - m - 22.0;
            sheet.rule(m, fy - 10.0, right);
            let mut cols = vec![
                std::iter::once(inv.seller.name.clone()).chain(inv.seller.lines.iter().cloned()).collect::<Vec<_>>(),
                vec![format!("{} {}", lang.phone, inv.phone), inv.email.clone(), inv.web.clone()],
                vec![vat.clone(), inv.registration.clone()],
            ];
            if bank_in_footer {
                cols.insert(2, vec![format!("IBAN {}", inv.iban), format!("BIC {}", inv.bic)]);
            }
            let step = (right - m) / cols.len() as f32;
            for (c, lines) in cols.iter().enumerate() {
                for (r, line) in lines.iter().enumerate() {
                    sheet.text(m + step * c as f32, fy + r as f32 * 8.0, 6.5, false, line);
                }
            }
        }
        if numbered {
            let text = lang.page.replace("{n}", &(k + 1).to_string()).replace("{m}", &n.to_string());
            sheet.right(right, H - m + 8.0, 7.0, false, &text);
        }
    }
    sheet.pages
}

/// A party's block: an optional label, the name (bold or not), the address lines. Returns where it ends.
fn block(sheet: &mut Sheet, x: f32, mut y: f32, label: Option<&str>, party: &Party, bold_name: bool) -> f32 {
    let size = sheet.size;
    if let Some(l) = label {
        sheet.text(x, y, size - 0.5, true, l);
        y += size + 5.0;
    }
    sheet.text(x, y, size + 0.5, bold_name, &party.name);
    for line in &party.lines {
        y += size + 4.0;
        sheet.text(x, y, size, false, line);
    }
    y
}
