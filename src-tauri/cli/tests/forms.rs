//! End-to-end: filled PDF forms (AcroForm). A question that names a field, by its name or by the
//! label printed beside it, is answered with the value as stored, its evidence the widget's box
//! and source `form-field`; a typed question takes it in normal form; check boxes answer
//! checked/unchecked; a form of 500 fields is answered as quickly as any page.

mod common;

use common::Lib;
use pagewise_testkit::{pdfium_available, PdfBuilder, PdfPage};
use serde_json::Value;

fn application() -> Vec<u8> {
    PdfBuilder::new()
        .page(
            PdfPage::a4()
                .bold(50.0, 60.0, 16.0, "Membership application")
                .text(50.0, 100.0, 10.0, "Full name:")
                .text_field("applicant.fullName", "Jane Doe", (150.0, 88.0, 350.0, 104.0))
                .text(50.0, 130.0, 10.0, "Date of birth:")
                .text_field("applicant.dateOfBirth", "12/04/1990", (150.0, 118.0, 350.0, 134.0))
                .text(50.0, 160.0, 10.0, "Employer")
                .text_field("Text3", "Northwind Traders", (150.0, 148.0, 350.0, 164.0))
                .text(50.0, 190.0, 10.0, "Send me the newsletter")
                .checkbox("newsletter", true, (200.0, 180.0, 210.0, 190.0))
                .text(50.0, 220.0, 10.0, "Signature:")
                // A grid row: two labels and two widgets on one line.
                .text(50.0, 250.0, 10.0, "Phone")
                .text_field("Text7", "0117 496 0000", (100.0, 238.0, 200.0, 254.0))
                .text(220.0, 250.0, 10.0, "Fax")
                .text_field("Text8", "0117 496 0001", (260.0, 238.0, 360.0, 254.0)),
        )
        .build()
}

fn ask(lib: &Lib, doc: &str, q: &str) -> Value {
    let out = lib.cmd().args(["--json", "ask", doc, q]).output().unwrap();
    assert!(out.status.success(), "{q}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn filled_form_fields_answer_first_with_their_widgets_as_evidence() {
    if !pdfium_available("filled_form_fields_answer_first_with_their_widgets_as_evidence") {
        return;
    }
    let lib = Lib::new();
    let doc = lib.file("application.pdf", &application());
    let doc = doc.to_str().unwrap();

    let a = ask(&lib, doc, "What is the full name?");
    assert_eq!(a["answer"], "Jane Doe", "{a}");
    assert_eq!(a["evidence"][0]["source"], "form-field", "{a}");
    let b: Vec<f64> = a["evidence"][0]["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!((b[0] - 150.0).abs() <= 1.0 && (b[1] - 88.0).abs() <= 1.0 && (b[2] - 350.0).abs() <= 1.0, "{b:?}");
    assert!(a["confidence"].as_f64().unwrap() >= 0.9, "{a}");

    // A typed question: the date in normal form (the form writes day first).
    let a = ask(&lib, doc, "What is the date of birth?");
    assert_eq!(a["normalized"], "1990-04-12", "{a}");
    assert_eq!(a["evidence"][0]["source"], "form-field");

    // A field named "Text3" answers by the label printed beside its widget.
    let a = ask(&lib, doc, "Who is the employer?");
    assert_eq!(a["answer"], "Northwind Traders", "{a}");

    // On a grid row, the words just left of a widget are its label, not the whole row.
    let a = ask(&lib, doc, "What is the fax?");
    assert_eq!(a["answer"], "0117 496 0001", "{a}");
    let a = ask(&lib, doc, "What is the phone?");
    assert_eq!(a["answer"], "0117 496 0000", "{a}");

    let a = ask(&lib, doc, "Newsletter?");
    assert_eq!(a["answer"], "checked", "{a}");

    // No field and nothing printed answers it: not found, nothing invented.
    let out = lib.cmd().args(["--json", "ask", doc, "What is the passport number?"]).output().unwrap();
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["found"], false, "{a}");
}

#[test]
fn a_form_of_five_hundred_fields_is_answered() {
    if !pdfium_available("a_form_of_five_hundred_fields_is_answered") {
        return;
    }
    let mut page = PdfPage::new(595.0, 2000.0);
    for i in 0..500 {
        let (col, row) = ((i % 4) as f32, (i / 4) as f32);
        let (x, y) = (20.0 + col * 145.0, 30.0 + row * 15.5);
        page = page.text(x, y + 10.0, 6.0, &format!("Item {i}")).text_field(
            &format!("item{i}"),
            &format!("value {i}"),
            (x + 40.0, y, x + 140.0, y + 12.0),
        );
    }
    let lib = Lib::new();
    let doc = lib.file("many.pdf", &PdfBuilder::new().page(page).build());
    let doc = doc.to_str().unwrap();
    let a = ask(&lib, doc, "What is item 417?");
    assert_eq!(a["answer"], "value 417", "{a}");
    assert_eq!(a["evidence"][0]["source"], "form-field");
}
