//! A PDF that tries everything a PDF can ask of its reader, for the untrusted-content tests:
//! JavaScript run on opening (writing a file, opening a URL), a Launch action running a
//! command, an embedded file, and links (a URI and a Launch) over its text. A reader that obeys
//! any of it leaves a trace: the file `marker` written, a process started, a connection to `url`.

/// The hostile PDF: one A4 page reading "Invoice HOSTILE-001 Total 42.00 EUR".
pub fn hostile_pdf(marker: &std::path::Path, url: &str) -> Vec<u8> {
    let marker = pdf_string(&marker.display().to_string());
    let url = pdf_string(url);
    let script = pdf_string(&format!(
        "this.saveAs('{marker}'); app.launchURL('{url}', true); \
         this.exportDataObject({{cName: 'payload.sh', nLaunch: 2}});"
    ));
    let payload = "#!/bin/sh\ntouch '{marker}'\n".replace("{marker}", &marker);
    let content = "BT /F1 14 Tf 72 760 Td (Invoice HOSTILE-001) Tj ET\nBT /F1 12 Tf 72 720 Td (Total 42.00 EUR) Tj ET";
    let launch = format!(
        "<< /S /Launch /F << /Type /Filespec /F (/bin/sh) >> /Unix << /F (/bin/sh) /P (-c 'touch {marker}') >> \
         /Win << /F (cmd.exe) /P (/c calc.exe) >> /NewWindow true >>"
    );
    let objects: Vec<String> = vec![
        // 1 catalog: JavaScript on opening, a document-level script, an embedded file.
        format!(
            "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R \
             /Names << /JavaScript << /Names [(run) 5 0 R] >> /EmbeddedFiles << /Names [(payload.sh) 7 0 R] >> >> \
             /AA << /WC 6 0 R >> /AcroForm << /Fields [] /NeedAppearances true >> >>"
        ),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        // 3 the page: a Launch action when it opens, and two links over its text.
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> \
         /Contents 9 0 R /Annots [10 0 R 11 0 R 12 0 R] /AA << /O 6 0 R >> >>"
            .into(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
        format!("<< /S /JavaScript /JS ({script}) /Next 6 0 R >>"),
        launch.clone(),
        "<< /Type /Filespec /F (payload.sh) /UF (payload.sh) /EF << /F 8 0 R >> >>".into(),
        format!("<< /Type /EmbeddedFile /Length {} >>\nstream\n{payload}\nendstream", payload.len()),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        format!(
            "<< /Type /Annot /Subtype /Link /Rect [72 755 300 780] /Border [0 0 0] /A << /S /URI /URI ({url}) >> >>"
        ),
        format!("<< /Type /Annot /Subtype /Link /Rect [72 715 300 735] /Border [0 0 0] /A {launch} >>"),
        // 12 a file attachment annotation carrying the same payload.
        "<< /Type /Annot /Subtype /FileAttachment /Rect [400 755 420 775] /FS 7 0 R /Name /PushPin >>".into(),
    ];
    crate::pdf::assemble("1.7", &objects.into_iter().map(String::into_bytes).collect::<Vec<_>>())
}

/// `text` as the inside of a PDF literal string.
fn pdf_string(text: &str) -> String {
    text.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)")
}
