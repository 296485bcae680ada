//! Writes the demo documents in assets/demo (run from the repository root:
//! `cargo run -p pagewise-testkit --example make_demo`). They are generated, so they are ours
//! to redistribute (MIT OR Apache-2.0, like the code).

use pagewise_testkit::{article, jpeg_with_orientation, PdfBuilder, PdfPage};

fn invoice() -> Vec<u8> {
    let mut page = PdfPage::a4()
        .bold(50.0, 70.0, 22.0, "Northwind Office Supplies")
        .text(50.0, 90.0, 9.0, "12 Harbour Street, Bristol BS1 4DJ, United Kingdom")
        .bold(400.0, 70.0, 18.0, "INVOICE")
        .text(400.0, 100.0, 10.0, "Invoice No: NW-2024-0815")
        .text(400.0, 115.0, 10.0, "Date: 14 March 2024")
        .text(400.0, 130.0, 10.0, "Due date: 13 April 2024")
        .bold(50.0, 170.0, 10.0, "Bill to")
        .text(50.0, 185.0, 10.0, "Pagewise Demo GmbH")
        .text(50.0, 198.0, 10.0, "Musterweg 5, 10115 Berlin")
        .rule(50.0, 240.0, 545.0, 240.0)
        .bold(50.0, 255.0, 10.0, "Description")
        .bold(330.0, 255.0, 10.0, "Qty")
        .bold(400.0, 255.0, 10.0, "Unit price")
        .bold(490.0, 255.0, 10.0, "Amount")
        .rule(50.0, 262.0, 545.0, 262.0);
    let items = [
        ("Recycled paper A4, 500 sheets", "20", "4.20", "84.00"),
        ("Ballpoint pens, blue, box of 50", "4", "9.90", "39.60"),
        ("Desk organiser, bamboo", "3", "18.50", "55.50"),
        ("Stapler, heavy duty", "2", "24.00", "48.00"),
    ];
    for (i, (d, q, u, a)) in items.iter().enumerate() {
        let y = 280.0 + 16.0 * i as f32;
        page = page.text(50.0, y, 10.0, d).text(330.0, y, 10.0, q).text(400.0, y, 10.0, u).text(490.0, y, 10.0, a);
    }
    page.rule(50.0, 350.0, 545.0, 350.0)
        .text(400.0, 370.0, 10.0, "Subtotal")
        .text(490.0, 370.0, 10.0, "227.10")
        .text(400.0, 386.0, 10.0, "VAT 20%")
        .text(490.0, 386.0, 10.0, "45.42")
        .bold(400.0, 404.0, 11.0, "Total due")
        .bold(490.0, 404.0, 11.0, "GBP 272.52")
        .text(50.0, 780.0, 8.0, "Payment within 30 days to IBAN GB29 NWBK 6016 1331 9268 19. Thank you for your business.")
        .into_pdf()
}

trait IntoPdf {
    fn into_pdf(self) -> Vec<u8>;
}

impl IntoPdf for PdfPage {
    fn into_pdf(self) -> Vec<u8> {
        PdfBuilder::new().page(self).build()
    }
}

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new("assets/demo");
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("invoice-northwind.pdf"), invoice())?;
    std::fs::write(dir.join("two-column-article.pdf"), article(3, 7))?;
    // A phone photo of a page, stored sideways with an EXIF tag saying so: no text layer.
    std::fs::write(dir.join("photo-of-a-page.jpg"), jpeg_with_orientation(640, 480, 6))?;
    Ok(())
}
