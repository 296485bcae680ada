//! End-to-end: `pagewise ask`, `extract`, `correct` and `schema` on generated invoices (an
//! English one and a German one with a different layout), with the evidence boxes checked
//! against the words they stand on, CSV export checked cell by cell (formula injection
//! included), reruns, corrections, and bad input (empty and huge questions, documents without
//! text, broken schemas, existing output files, a corrupt file among good ones).

mod common;

use common::{bbox, word, Lib};
use pagewise_testkit::{pdfium_available, PdfBuilder, PdfPage};
use serde_json::Value;

fn english_invoice() -> Vec<u8> {
    PdfBuilder::new()
        .page(
            PdfPage::a4()
                .bold(50.0, 70.0, 20.0, "=Harbour Trading Ltd")
                .text(50.0, 90.0, 9.0, "12 Quay Road, Bristol BS1 4DJ")
                .text(380.0, 100.0, 10.0, "Invoice No: HT-7781")
                .text(380.0, 115.0, 10.0, "Date: March 3, 2024")
                .text(380.0, 130.0, 10.0, "Due date: April 2, 2024")
                .bold(50.0, 170.0, 10.0, "Bill to")
                .text(50.0, 185.0, 10.0, "Acme Corp")
                .text(50.0, 260.0, 10.0, "Consulting, 10 hours")
                .text(480.0, 260.0, 10.0, "$1,200.00")
                .text(380.0, 300.0, 10.0, "Subtotal")
                .text(480.0, 300.0, 10.0, "$1,200.00")
                .text(380.0, 316.0, 10.0, "Sales tax 8%")
                .text(480.0, 316.0, 10.0, "$96.00")
                .bold(380.0, 334.0, 11.0, "Amount due")
                .bold(480.0, 334.0, 11.0, "$1,296.00"),
        )
        .build()
}

fn german_invoice() -> Vec<u8> {
    PdfBuilder::new()
        .page(
            PdfPage::a4()
                .text(50.0, 60.0, 8.0, "Brenner Werkzeuge GmbH - Hafenstr. 9 - 20457 Hamburg")
                .text(50.0, 110.0, 10.0, "Muster AG")
                .text(50.0, 124.0, 10.0, "Lindenweg 3, 80331 München")
                .bold(50.0, 190.0, 14.0, "Rechnung")
                .text(380.0, 190.0, 10.0, "Rechnungsnr.: 2024-0917")
                .text(380.0, 205.0, 10.0, "Datum: 04.03.2024")
                .text(50.0, 260.0, 10.0, "Schraubendreher-Satz")
                .text(480.0, 260.0, 10.0, "84,03")
                .text(380.0, 300.0, 10.0, "Nettobetrag")
                .text(480.0, 300.0, 10.0, "84,03")
                .text(380.0, 316.0, 10.0, "MwSt. 19 %")
                .text(480.0, 316.0, 10.0, "15,97")
                .bold(380.0, 334.0, 11.0, "Gesamtbetrag")
                .bold(480.0, 334.0, 11.0, "100,00 EUR")
                .text(
                    50.0,
                    800.0,
                    7.0,
                    "Brenner Werkzeuge GmbH, Hafenstr. 9, 20457 Hamburg, Geschäftsführer: K. Brenner",
                ),
        )
        .build()
}

fn ask(lib: &Lib, doc: &str, q: &str) -> (i32, Value) {
    let out = lib.cmd().args(["--json", "ask", doc, q]).output().unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

/// The evidence box lies on the word that was answered.
fn evidence_on(answer: &Value, text: &Value, w: &str) {
    let e = &answer["evidence"][0];
    let b = bbox(word(text, e["page"].as_u64().unwrap(), w));
    let got: Vec<f64> = e["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
    assert!(got[0] <= cx && cx <= got[2] && got[1] <= cy && cy <= got[3], "evidence {got:?} is not on '{w}' {b:?}");
}

#[test]
fn answers_carry_normal_forms_and_evidence() {
    if !pdfium_available("answers_carry_normal_forms_and_evidence") {
        return;
    }
    let lib = Lib::new();
    let en = lib.file("en.pdf", &english_invoice());
    let de = lib.file("de.pdf", &german_invoice());
    let (en, de) = (en.to_str().unwrap(), de.to_str().unwrap());
    let en_text = lib.json(&["text", en]);
    let de_text = lib.json(&["text", de]);

    let (code, a) = ask(&lib, en, "What is the total?");
    assert_eq!(code, 0, "{a}");
    assert_eq!(a["normalized"], "1296.00");
    assert_eq!(a["currency"], "USD");
    assert_eq!(a["target"], "money");
    evidence_on(&a, &en_text, "$1,296.00");
    assert_eq!(a["evidence"][0]["source"], "text-layer");

    let (_, a) = ask(&lib, en, "When is this due?");
    assert_eq!(a["normalized"], "2024-04-02");
    let (_, a) = ask(&lib, en, "What is the invoice date?");
    assert_eq!(a["normalized"], "2024-03-03");
    let (_, a) = ask(&lib, en, "What is the invoice number?");
    assert_eq!(a["answer"], "HT-7781");
    evidence_on(&a, &en_text, "HT-7781");

    // The German invoice: other words, day-first dates, decimal commas.
    let (_, a) = ask(&lib, de, "What is the total amount?");
    assert_eq!(a["normalized"], "100.00");
    assert_eq!(a["currency"], "EUR");
    evidence_on(&a, &de_text, "100,00");
    let (_, a) = ask(&lib, de, "What is the invoice date?");
    assert_eq!(a["normalized"], "2024-03-04");
    let (_, a) = ask(&lib, de, "What is the invoice number?");
    assert_eq!(a["answer"], "2024-0917");
    let (_, a) = ask(&lib, de, "Who is the issuer of the invoice?");
    assert_eq!(a["answer"], "Brenner Werkzeuge GmbH", "{a}");
    let (_, a) = ask(&lib, de, "What is the net amount?");
    assert_eq!(a["normalized"], "84.03");

    // Human output names the page and box.
    let out = lib.cmd().args(["ask", en, "What is the total?"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("$1,296.00  = 1296.00 USD"), "{text}");
    assert!(text.contains("p.1 ["), "{text}");
}

#[test]
fn questions_that_cannot_be_answered_say_so() {
    if !pdfium_available("questions_that_cannot_be_answered_say_so") {
        return;
    }
    let lib = Lib::new();
    let en = lib.file("en.pdf", &english_invoice());
    let en = en.to_str().unwrap();
    // Empty and absurdly long questions: a clear error, exit 1.
    for q in ["", "   ", &"why ".repeat(2500)] {
        let out = lib.cmd().args(["--json", "ask", en, q]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(err["error"]["kind"], "bad_question", "{err}");
    }
    // A question in another language still gets an answer or an honest "not found".
    let (code, a) = ask(&lib, en, "Quel est le montant total ?");
    assert!(code == 0 || code == 3, "{a}");
    if a["found"] == true {
        assert_eq!(a["normalized"], "1296.00");
    }
    // A page with no text: not found, needs a reader, nothing invented.
    let blank = lib.file("blank.png", &pagewise_testkit::png_page(300, 400));
    let (c, _) = lib.add(&["--no-ocr", blank.to_str().unwrap()]);
    assert_eq!(c, 0);
    let (code, a) = ask(&lib, blank.to_str().unwrap(), "What is the total?");
    assert_eq!(code, 3);
    assert_eq!(a["found"], false);
    assert_eq!(a["answer"], Value::Null);
    assert!(a["reason"].as_str().unwrap().contains("needs a reader"), "{a}");
    // No page 9.
    let out = lib.cmd().args(["--json", "ask", en, "What is the total?", "--page", "9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn extract_exports_csv_and_keeps_corrections() {
    if !pdfium_available("extract_exports_csv_and_keeps_corrections") {
        return;
    }
    let lib = Lib::new();
    let folder = lib.dir.path().join("inbox");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a-en.pdf"), english_invoice()).unwrap();
    std::fs::write(folder.join("b-de.pdf"), german_invoice()).unwrap();
    std::fs::write(folder.join("c-broken.pdf"), b"%PDF-1.4\nthis is not a pdf").unwrap();
    let out_csv = lib.dir.path().join("fields.csv");
    let run = |extra: &[&str]| {
        let mut c = lib.cmd();
        c.args([
            "extract",
            folder.to_str().unwrap(),
            "--schema",
            "invoice",
            "--csv",
            out_csv.to_str().unwrap(),
            "--with-evidence",
        ])
        .args(extra);
        c.output().unwrap()
    };
    let out = run(&[]);
    // The broken file is listed; the two invoices are still exported.
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("c-broken.pdf"), "{stderr}");
    let csv = std::fs::read_to_string(&out_csv).unwrap();
    let mut rows = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(&header[..4], ["file", "vendor", "vendor_page", "vendor_confidence"]);
    let records: Vec<Vec<String>> = rows.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    assert_eq!(records.len(), 2);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let en = records.iter().find(|r| r[0] == "a-en.pdf").unwrap();
    let de = records.iter().find(|r| r[0] == "b-de.pdf").unwrap();
    // The vendor's name starts with '=': neutralised, never a formula.
    assert_eq!(en[col("vendor")], "'=Harbour Trading Ltd");
    assert_eq!(en[col("total")], "1296.00");
    assert_eq!(en[col("currency")], "USD");
    assert_eq!(en[col("date")], "2024-03-03");
    assert_eq!(en[col("due_date")], "2024-04-02");
    assert_eq!(en[col("invoice_number")], "HT-7781");
    assert_eq!(en[col("total_page")], "1");
    assert_eq!(de[col("total")], "100.00");
    assert_eq!(de[col("currency")], "EUR");
    assert_eq!(de[col("date")], "2024-03-04");
    assert_eq!(de[col("vendor")], "Brenner Werkzeuge GmbH");

    // The file exists now: refused without --force, nothing lost.
    let out = run(&["--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("output_exists"));
    assert_eq!(std::fs::read_to_string(&out_csv).unwrap(), csv);

    // A person's correction survives a rerun, marked as theirs; unchanged values are reused.
    let de_path = folder.join("b-de.pdf");
    let c = lib
        .cmd()
        .args(["correct", de_path.to_str().unwrap(), "--schema", "invoice", "total", "99.00"])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    let again =
        lib.cmd().args(["--json", "extract", de_path.to_str().unwrap(), "--schema", "invoice"]).output().unwrap();
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("(8 values unchanged since the last run)"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let v: Value = serde_json::from_slice(&again.stdout).unwrap();
    let total = v["documents"][0]["fields"].as_array().unwrap().iter().find(|f| f["field"] == "total").unwrap();
    assert_eq!(total["value"], "99.00");
    assert_eq!(total["source"], "user");

    // Excel dialect to stdout.
    let x = lib
        .cmd()
        .args(["extract", de_path.to_str().unwrap(), "--schema", "invoice", "--csv", "-", "--excel"])
        .output()
        .unwrap();
    let text = String::from_utf8(x.stdout).unwrap();
    assert!(text.starts_with("\u{feff}file;vendor;invoice_number;"), "{text}");
}

#[test]
fn schemas_are_checked_and_presets_printed() {
    let lib = Lib::new();
    let preset = lib.cmd().args(["schema", "contract"]).output().unwrap();
    assert!(String::from_utf8_lossy(&preset.stdout).contains("name = \"party\""));
    let bad = lib.file(
        "bad.toml",
        b"name = \"mine\"\n\n[[field]]\nname = \"colour\"\ntype = \"rgb\"\nquestions = [\"What colour?\"]\n",
    );
    let out = lib.cmd().args(["--json", "extract", "nothing.pdf", "--schema", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["kind"], "bad_schema");
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(msg.contains("bad.toml:5:") && msg.contains("rgb"), "{msg}");
    let dup = lib.file(
        "dup.toml",
        b"name = \"mine\"\n[[field]]\nname = \"a\"\ntype = \"text\"\nquestions = [\"q?\"]\n\
          [[field]]\nname = \"a\"\ntype = \"date\"\nquestions = [\"q?\"]\n",
    );
    let out = lib.cmd().args(["extract", "nothing.pdf", "--schema", dup.to_str().unwrap()]).output().unwrap();
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("dup.toml:7:") && msg.contains("duplicate field name 'a'"), "{msg}");
}

#[test]
fn semantic_search_finds_pages_by_meaning() {
    if !pdfium_available("semantic_search_finds_pages_by_meaning") {
        return;
    }
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.models/all-MiniLM-L6-v2.safetensors");
    if std::env::var_os("PAGEWISE_MODELS").is_none() && !models.is_file() {
        eprintln!("SKIP semantic_search_finds_pages_by_meaning: the embedding model is not installed");
        return;
    }
    let lib = Lib::new();
    let invoice = lib.file("invoice.pdf", &english_invoice());
    let article = lib.file("article.pdf", &pagewise_testkit::article(2, 3));
    let (code, _) = lib.add(&[invoice.to_str().unwrap(), article.to_str().unwrap()]);
    assert_eq!(code, 0);
    // No word of the query is on the invoice; its meaning is.
    let hits = lib.json(&["search", "--semantic", "how much money is owed", "--limit", "3"]);
    assert_eq!(hits[0]["name"], "invoice.pdf", "{hits}");
    // Full-text hits still come first when the words are there.
    let hits = lib.json(&["search", "--semantic", "Harbour Trading"]);
    assert_eq!(hits[0]["name"], "invoice.pdf");
    assert!(hits[0]["snippet"].as_str().unwrap().contains("[Harbour]"), "{hits}");
}

#[test]
fn an_unwritable_output_is_a_clear_error() {
    if !pdfium_available("an_unwritable_output_is_a_clear_error") {
        return;
    }
    let lib = Lib::new();
    let en = lib.file("en.pdf", &english_invoice());
    let out = lib
        .cmd()
        .args([
            "--json",
            "extract",
            en.to_str().unwrap(),
            "--schema",
            "invoice",
            "--csv",
            "/nonexistent-dir/fields.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["kind"], "unwritable", "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("/nonexistent-dir/fields.csv"));
}
