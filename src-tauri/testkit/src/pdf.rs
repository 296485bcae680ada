//! A minimal PDF 1.4 writer: pages with Helvetica text at given positions, an optional /Rotate,
//! ruling lines, and image-only pages (like a scan). Positions are given top-left (as Pagewise
//! measures them): `y` is the baseline's distance from the top of the unrotated page.

use std::fmt::Write as _;

#[derive(Debug, Clone)]
pub struct TextItem {
    pub x: f32,
    pub baseline: f32,
    pub size: f32,
    pub bold: bool,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct PdfPage {
    pub width: f32,
    pub height: f32,
    pub rotate: u16,
    pub texts: Vec<TextItem>,
    /// Horizontal or vertical rules: (x0, y0, x1, y1) top-left coordinates.
    pub rules: Vec<(f32, f32, f32, f32)>,
    /// A grey RGB image covering the page (an image-only, "scanned" page): width, height px.
    pub image: Option<(u32, u32)>,
    /// Filled AcroForm fields, each one widget.
    pub fields: Vec<FieldItem>,
    /// Small colour images (a letterhead's logo) at these boxes, top-left coordinates.
    pub logos: Vec<(f32, f32, f32, f32)>,
}

/// A filled form field: a text field with its value, or a check box (value "Yes" when checked).
#[derive(Debug, Clone)]
pub struct FieldItem {
    pub name: String,
    pub checkbox: bool,
    pub value: String,
    /// The widget's box, top-left coordinates: (x0, y0, x1, y1).
    pub rect: (f32, f32, f32, f32),
}

impl PdfPage {
    pub fn new(width: f32, height: f32) -> Self {
        PdfPage { width, height, ..Default::default() }
    }
    pub fn a4() -> Self {
        PdfPage::new(595.0, 842.0)
    }
    pub fn text(mut self, x: f32, baseline: f32, size: f32, text: &str) -> Self {
        self.texts.push(TextItem { x, baseline, size, bold: false, text: text.into() });
        self
    }
    pub fn bold(mut self, x: f32, baseline: f32, size: f32, text: &str) -> Self {
        self.texts.push(TextItem { x, baseline, size, bold: true, text: text.into() });
        self
    }
    pub fn rotate(mut self, degrees: u16) -> Self {
        self.rotate = degrees;
        self
    }
    pub fn rule(mut self, x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        self.rules.push((x0, y0, x1, y1));
        self
    }
    /// A text field named `name` filled with `value`, its widget at `rect` (top-left coordinates).
    pub fn text_field(mut self, name: &str, value: &str, rect: (f32, f32, f32, f32)) -> Self {
        self.fields.push(FieldItem { name: name.into(), checkbox: false, value: value.into(), rect });
        self
    }
    pub fn checkbox(mut self, name: &str, checked: bool, rect: (f32, f32, f32, f32)) -> Self {
        let value = if checked { "Yes" } else { "Off" };
        self.fields.push(FieldItem { name: name.into(), checkbox: true, value: value.into(), rect });
        self
    }
    pub fn scanned(mut self, px_w: u32, px_h: u32) -> Self {
        self.image = Some((px_w, px_h));
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct PdfBuilder {
    pub pages: Vec<PdfPage>,
}

impl PdfBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn page(mut self, page: PdfPage) -> Self {
        self.pages.push(page);
        self
    }

    pub fn build(&self) -> Vec<u8> {
        // Objects: 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, then per page: page, content,
        // [image], its logos, its widgets (a check box with its appearance).
        let mut objects: Vec<Vec<u8>> = vec![Vec::new(); 4];
        let mut kids = Vec::new();
        let mut fields = Vec::new();
        for page in &self.pages {
            let page_id = objects.len() + 1;
            let content_id = page_id + 1;
            let image_id = page.image.map(|_| page_id + 2);
            kids.push(format!("{page_id} 0 R"));
            let first_logo = page_id + 2 + usize::from(page.image.is_some());
            let xobjects: Vec<String> = image_id
                .map(|id| format!("/Im1 {id} 0 R"))
                .into_iter()
                .chain((0..page.logos.len()).map(|k| format!("/Lg{k} {} 0 R", first_logo + k)))
                .collect();
            let xobject =
                if xobjects.is_empty() { String::new() } else { format!(" /XObject << {} >>", xobjects.join(" ")) };
            // Widgets follow the page's content, image and logos: a check box has an appearance too.
            let mut next = first_logo + page.logos.len();
            let widget_ids: Vec<usize> = page
                .fields
                .iter()
                .map(|f| {
                    let id = next;
                    next += 1 + usize::from(f.checkbox);
                    id
                })
                .collect();
            fields.extend(widget_ids.iter().map(|id| format!("{id} 0 R")));
            let annots = if widget_ids.is_empty() {
                String::new()
            } else {
                format!(" /Annots [{}]", widget_ids.iter().map(|id| format!("{id} 0 R")).collect::<Vec<_>>().join(" "))
            };
            objects.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Rotate {} \
                     /Resources << /Font << /F1 3 0 R /F2 4 0 R >>{xobject} >> /Contents {content_id} 0 R{annots} >>",
                    page.width, page.height, page.rotate
                )
                .into_bytes(),
            );
            let content = content_stream(page);
            let mut obj = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
            obj.extend_from_slice(content.as_bytes());
            obj.extend_from_slice(b"\nendstream");
            objects.push(obj);
            if let Some((w, h)) = page.image {
                let pixels: Vec<u8> = (0..w * h)
                    .flat_map(|i| {
                        let v = if (i / w + i % w) % 16 < 8 { 235 } else { 200 };
                        [v, v, v]
                    })
                    .collect();
                let mut obj = format!(
                    "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} \
                     /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {} >>\nstream\n",
                    pixels.len()
                )
                .into_bytes();
                obj.extend_from_slice(&pixels);
                obj.extend_from_slice(b"\nendstream");
                objects.push(obj);
            }
            for (k, _) in page.logos.iter().enumerate() {
                objects.push(logo_image(k));
            }
            for (f, id) in page.fields.iter().zip(&widget_ids) {
                let (x0, y0, x1, y1) = f.rect;
                let rect = format!("[{x0} {} {x1} {}]", page.height - y1, page.height - y0);
                let name = escape(&f.name);
                let common = format!("/Type /Annot /Subtype /Widget /T ({name}) /Rect {rect} /P {page_id} 0 R /F 4");
                if f.checkbox {
                    let ap = id + 1;
                    objects.push(
                        format!(
                            "<< {common} /FT /Btn /V /{v} /AS /{v} /AP << /N << /Yes {ap} 0 R /Off {ap} 0 R >> >> >>",
                            v = f.value
                        )
                        .into_bytes(),
                    );
                    objects.push(
                        b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length 0 >>\nstream\n\nendstream"
                            .to_vec(),
                    );
                } else {
                    let value = escape(&f.value);
                    objects.push(format!("<< {common} /FT /Tx /V ({value}) /DA (/F1 10 Tf 0 g) >>").into_bytes());
                }
            }
        }
        objects[0] = if fields.is_empty() {
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()
        } else {
            format!(
                "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [{}] /NeedAppearances true \
                 /DR << /Font << /F1 3 0 R >> >> /DA (/F1 10 Tf 0 g) >> >>",
                fields.join(" ")
            )
            .into_bytes()
        };
        objects[1] = format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), self.pages.len()).into_bytes();
        objects[2] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec();
        objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec();

        assemble("1.4", &objects)
    }
}

/// A PDF file of `objects` (bodies, numbered from 1; the first is the catalog): header, objects,
/// cross-reference table and trailer.
pub(crate) fn assemble(version: &str, objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("%PDF-{version}\n").into_bytes();
    out.extend_from_slice(b"%\xE2\xE3\xCF\xD3\n");
    let mut offsets = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(obj);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        let _ = writeln!(table, "{off:010} 00000 n ");
    }
    let _ = write!(table, "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
    out.extend_from_slice(table.as_bytes());
    out
}

fn content_stream(page: &PdfPage) -> String {
    let mut s = String::new();
    if let Some(_) = page.image {
        let _ = writeln!(s, "q {} 0 0 {} 0 0 cm /Im1 Do Q", page.width, page.height);
    }
    for (k, &(x0, y0, x1, y1)) in page.logos.iter().enumerate() {
        let _ = writeln!(s, "q {} 0 0 {} {x0} {} cm /Lg{k} Do Q", x1 - x0, y1 - y0, page.height - y1);
    }
    for &(x0, y0, x1, y1) in &page.rules {
        let _ = writeln!(s, "0.5 w {x0} {} m {x1} {} l S", page.height - y0, page.height - y1);
    }
    for t in &page.texts {
        let font = if t.bold { "F2" } else { "F1" };
        let _ =
            writeln!(s, "BT /{font} {} Tf {} {} Td ({}) Tj ET", t.size, t.x, page.height - t.baseline, escape(&t.text));
    }
    s
}

/// A 48 × 24 colour image: a disc and a bar, in a colour that varies with `k`.
fn logo_image(k: usize) -> Vec<u8> {
    let (w, h) = (48u32, 24u32);
    let hue = [(200u8, 40u8, 40u8), (30, 90, 170), (20, 140, 80), (150, 60, 160)][k % 4];
    let pixels: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = ((i % w) as i32, (i / w) as i32);
            let disc = (x - 12) * (x - 12) + (y - 12) * (y - 12) < 100;
            let bar = x > 28 && (8..16).contains(&y);
            if disc || bar {
                [hue.0, hue.1, hue.2]
            } else {
                [255, 255, 255]
            }
        })
        .collect();
    let mut obj = format!(
        "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB /BitsPerComponent 8 \
         /Length {} >>\nstream\n",
        pixels.len()
    )
    .into_bytes();
    obj.extend_from_slice(&pixels);
    obj.extend_from_slice(b"\nendstream");
    obj
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '(' | ')' | '\\' => format!("\\{c}"),
            c if (c as u32) < 128 => c.to_string(),
            // WinAnsi puts the euro sign and typographic dashes and quotes below 0xA0.
            '€' => "\\200".into(),
            '–' => "\\226".into(),
            '—' => "\\227".into(),
            '’' => "\\222".into(),
            '•' => "\\225".into(),
            // WinAnsi covers Latin-1 one to one; anything else becomes '?'.
            c if (c as u32) < 256 => format!("\\{:03o}", c as u32),
            _ => "?".into(),
        })
        .collect()
}

/// Helvetica advance widths (1/1000 em) for printable ASCII, from the standard AFM.
pub(crate) fn helvetica_advance(c: char) -> u16 {
    const W: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
        556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667,
        556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556,
        556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
        500, 500, 500, 334, 260, 334, 584,
    ];
    let i = c as u32;
    if (32..127).contains(&i) {
        W[(i - 32) as usize]
    } else {
        556
    }
}
