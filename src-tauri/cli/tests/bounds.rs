//! Files built to exhaust memory or time, in one batch with an ordinary file: a PDF whose one
//! content stream inflates to a gigabyte, a PDF of 10,000 pages, a 2 GiB file, and a page of
//! 1 x 100,000 points. Each gets an answer (imported, or refused with its reason), the ordinary
//! file is imported, and no process of the batch (the CLI, its workers) holds more than a
//! bounded amount of memory while it runs. (PNG and TIFF headers claiming absurd sizes are
//! refused before decoding: see cli.rs.)

mod common;

use std::io::Write;

use common::Lib;
use pagewise_testkit::{article, pdfium_available};
use pagewise_testkit::{PdfBuilder, PdfPage};

/// A one-page PDF whose content stream inflates to `inflated` bytes of spaces (valid, empty
/// page content: a reader must decode it all to find that out).
fn inflating_pdf(inflated: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b' '; 1 << 20];
    for _ in 0..inflated / block.len() {
        z.write_all(&block).unwrap();
    }
    let stream = z.finish().unwrap();
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |pdf: &mut Vec<u8>, body: &[u8]| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    };
    object(&mut pdf, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut pdf, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(&mut pdf, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>");
    let mut content = format!("<< /Length {} /Filter /FlateDecode >>\nstream\n", stream.len()).into_bytes();
    content.extend_from_slice(&stream);
    content.extend_from_slice(b"\nendstream");
    object(&mut pdf, &content);
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for at in &offsets {
        pdf.extend_from_slice(format!("{at:010} 00000 n \n").as_bytes());
    }
    let trailer = format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1);
    pdf.extend_from_slice(trailer.as_bytes());
    pdf
}

/// The largest resident set of any process this test started and waited for (the CLI, and the
/// workers the CLI waited for), in MiB.
fn peak_of_children_mib() -> u64 {
    // SAFETY: getrusage writes into the struct we pass.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    usage.ru_maxrss as u64 / 1024
}

#[test]
fn bombs_and_giants_get_answers_in_bounded_memory() {
    if !pdfium_available("bombs_and_giants_get_answers_in_bounded_memory") {
        return;
    }
    let lib = Lib::new();
    let bomb = lib.file("bomb.pdf", &inflating_pdf(1 << 30));
    let pages =
        (0..10_000).fold(PdfBuilder::new(), |b, i| b.page(PdfPage::a4().text(72.0, 72.0, 12.0, &format!("p{i}"))));
    let many = lib.file("many.pdf", &pages.build());
    let tall =
        lib.file("tall.pdf", &PdfBuilder::new().page(PdfPage::new(1.0, 100_000.0).text(0.0, 50.0, 1.0, "x")).build());
    // 2 GiB: a PDF header, then nothing but zero bytes (sparse on disk).
    let huge = lib.dir.path().join("huge.pdf");
    let file = std::fs::File::create(&huge).unwrap();
    (&file).write_all(b"%PDF-1.4\n").unwrap();
    file.set_len(2 << 30).unwrap();
    let ordinary = lib.file("ordinary.pdf", &article(3, 5));

    let files: Vec<&str> = [&bomb, &many, &tall, &huge, &ordinary].iter().map(|p| p.to_str().unwrap()).collect();
    let mut args = vec!["--no-ocr"];
    args.extend(&files);
    let started = std::time::Instant::now();
    let (_, lines) = lib.add(&args);
    eprintln!("the batch took {:.1} s: {lines:?}", started.elapsed().as_secs_f64());
    let line = |name: &str| lines.iter().find(|l| l["path"].as_str().unwrap().ends_with(name)).unwrap().clone();
    assert_eq!(line("ordinary.pdf")["status"], "added", "{lines:?}");
    assert_eq!(line("many.pdf")["status"], "added");
    assert_eq!(line("many.pdf")["pages"], 10_000);
    assert_eq!(line("tall.pdf")["status"], "added", "{:?}", line("tall.pdf"));
    assert_eq!(line("huge.pdf")["status"], "failed");
    assert_eq!(line("huge.pdf")["error"]["kind"], "corrupt", "{:?}", line("huge.pdf"));
    // The bomb is an empty page once inflated (added), or refused; either way with an answer.
    let bomb_line = line("bomb.pdf");
    assert!(bomb_line["status"] == "added" || bomb_line["error"]["kind"].is_string(), "{bomb_line}");

    // The tall page draws (its thumbnail is bounded by the largest DPI, then the pixel limit).
    let tall_id = line("tall.pdf")["doc_id"].as_str().unwrap().to_string();
    let thumb = lib.json(&["thumbnail", &tall_id, "--page", "1"]);
    assert!(std::path::Path::new(thumb["thumbnail"].as_str().unwrap()).is_file(), "{thumb}");
    assert_eq!(lib.json(&["list"]).as_array().unwrap().len() as u64, 3 + (bomb_line["status"] == "added") as u64);

    let peak = peak_of_children_mib();
    eprintln!("peak resident set of the CLI and its workers: {peak} MiB");
    // The bound stated in docs/reliability.md: the bomb's gigabyte lives in a worker (whose
    // address space is capped at 4 GiB); nothing else grows with the size of a file.
    assert!(peak < 1536, "a process of the batch reached {peak} MiB");
}
