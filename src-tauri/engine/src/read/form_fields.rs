//! A PDF page's fillable form fields (AcroForm widgets) read with pdfium: each widget's field
//! name, kind, what is filled in, and its box in page points. A filled form's values are read as
//! stored, not recognised from their drawing, so they are exact.

use pdfium_render::prelude::*;

use super::frame::PageFrame;
use crate::model::{FormField, FormFieldKind};

/// Annotations looked at per page (a form of 500 fields is read whole; a page of hostile
/// annotations is not read forever).
const MAX_ANNOTATIONS: usize = 5_000;

pub fn read_form_fields(page: &PdfPage, frame: &PageFrame) -> Vec<FormField> {
    let mut out = Vec::new();
    for annotation in page.annotations().iter().take(MAX_ANNOTATIONS) {
        let Some(field) = annotation.as_form_field() else { continue };
        let Ok(rect) = annotation.bounds() else { continue };
        let bbox = frame.rect_to_display(rect.left().value, rect.bottom().value, rect.right().value, rect.top().value);
        if ![bbox.x0, bbox.y0, bbox.x1, bbox.y1].iter().all(|v| v.is_finite()) {
            continue;
        }
        let Some((kind, value)) = kind_and_value(field) else { continue };
        let name = field.name().unwrap_or_default().trim().to_string();
        out.push(FormField { name, kind, value, bbox: bbox.rounded() });
    }
    out
}

fn kind_and_value(field: &PdfFormField) -> Option<(FormFieldKind, String)> {
    let checked = |yes: bool| if yes { "checked" } else { "unchecked" }.to_string();
    Some(match field {
        PdfFormField::Text(f) => (FormFieldKind::Text, f.value().unwrap_or_default()),
        // A box is on under its own name ("Yes", "On", "1"...): whatever its value is, but "Off".
        PdfFormField::Checkbox(f) => {
            let on = f.is_checked().unwrap_or(false) || f.group_value().is_some_and(|v| !v.is_empty() && v != "Off");
            (FormFieldKind::Checkbox, checked(on))
        }
        PdfFormField::RadioButton(f) => {
            let on = f.is_checked().unwrap_or(false);
            let export = f.group_value().filter(|v| on && !v.is_empty() && v != "Off");
            (FormFieldKind::Radio, export.unwrap_or_else(|| checked(on)))
        }
        PdfFormField::ComboBox(f) => (FormFieldKind::Choice, f.value().unwrap_or_default()),
        PdfFormField::ListBox(f) => (FormFieldKind::Choice, f.value().unwrap_or_default()),
        PdfFormField::Signature(_) => (FormFieldKind::Signature, String::new()),
        PdfFormField::PushButton(_) => return None,
        PdfFormField::Unknown(_) => return None,
    })
}
