//! Field values kept in the library: a schema filled in per document by the extraction stage,
//! each value stored with what it was computed from, so that running again recomputes only the
//! fields whose definition or document changed; a value a person corrected is kept and marked
//! as theirs.

use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use super::questions::Answering;
use super::Library;
use crate::ask::ranker::Ranker;
use crate::ask::Prepared;
use crate::extract::{extract_field, FieldSpec, Schema, EXTRACTOR_VERSION};
use crate::layout::analyze::ANALYZER_VERSION;
use crate::model::{DocId, DocumentFields, ErrorReport, FieldValue, Progress, ValueSource};
use crate::{Error, Result};

/// What a stored value was computed from: the extractor and the ranking's weights, the layout
/// analyzer (the ranking reads a value's region), the answerer, the field's definition and the
/// document's pages as read.
fn fingerprint(spec: &FieldSpec, prepared: &Prepared, answerer: &str) -> String {
    let mut h = Sha256::new();
    h.update(EXTRACTOR_VERSION.to_le_bytes());
    h.update(Ranker::bundled_fingerprint().to_le_bytes());
    h.update(ANALYZER_VERSION.to_le_bytes());
    h.update(answerer);
    h.update(serde_json::to_vec(spec).expect("specs serialise"));
    for p in &prepared.pages {
        h.update(p.page.to_le_bytes());
        h.update(p.source.as_str());
        h.update(&p.text);
    }
    format!("{:x}", h.finalize())
}

impl Library {
    /// Fill in `schema` for many documents, one after another, reporting each as it is done. A
    /// document that fails is reported with its error and the others go on; `cancel` stops the
    /// run between documents. Returns the documents filled in and the ones that failed.
    pub fn extract_documents(
        &self,
        ids: &[DocId],
        schema: &Schema,
        answering: &mut Answering,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(Vec<DocumentFields>, Vec<(DocId, ErrorReport)>)> {
        let job = self.store.start_job("extract", ids.len())?;
        progress(&Progress::JobStarted { job, files: ids.len() });
        let (mut done, mut failed) = (Vec::new(), Vec::new());
        for (index, id) in ids.iter().enumerate() {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let name = self.store.document(id).map(|d| d.name).unwrap_or_else(|_| id.short().to_string());
            progress(&Progress::FileStarted { index, path: name.clone() });
            let error = match self.extract_document(id, schema, answering) {
                Ok(fields) => {
                    done.push(fields);
                    None
                }
                Err(e) => {
                    let report = e.to_report();
                    failed.push((id.clone(), report.clone()));
                    Some(report)
                }
            };
            progress(&Progress::Extracted { index, doc_id: id.clone(), name, error });
        }
        let cancelled = done.len() + failed.len() < ids.len();
        self.store.finish_job(job, if cancelled { "cancelled" } else { "done" })?;
        progress(&Progress::JobFinished { job, added: done.len(), duplicates: 0, failed: failed.len(), cancelled });
        Ok((done, failed))
    }

    /// Fill in `schema` for one document (values kept in the library).
    pub fn extract_document(&self, id: &DocId, schema: &Schema, answering: &mut Answering) -> Result<DocumentFields> {
        let doc = self.store.document(id)?;
        let prepared = self.prepare(id, None)?;
        let pages = prepared.view();
        let mut answerer = self.answerer(id, answering);
        let mut fields = Vec::new();
        // Values computed now, with their keys: kept together once all are done.
        let mut computed = Vec::new();
        for spec in &schema.fields {
            let key = fingerprint(spec, &prepared, answerer.name());
            match self.store.stored_field(id, &schema.name, &spec.name)? {
                Some(stored) if stored.corrected || stored.input_key == key => fields.push(stored.value),
                _ => {
                    computed.push((fields.len(), key));
                    fields.push(extract_field(spec, &pages, &mut *answerer));
                }
            }
        }
        let reused = fields.len() - computed.len();
        let values: Vec<_> = computed.iter().map(|(i, key)| (&fields[*i], key.as_str())).collect();
        if !values.is_empty() {
            self.store.store_extracted(id, &schema.name, &values)?;
        }
        let missing_required = schema
            .fields
            .iter()
            .filter(|f| f.required && fields.iter().any(|v| v.field == f.name && v.value.is_none()))
            .map(|f| f.name.clone())
            .collect();
        Ok(DocumentFields {
            doc_id: id.clone(),
            name: doc.name,
            schema: schema.name.clone(),
            fields,
            reused,
            missing_required,
        })
    }

    /// A person's correction: kept across reruns and marked as theirs.
    pub fn correct(&self, id: &DocId, schema: &Schema, field: &str, value: &str) -> Result<FieldValue> {
        let spec = schema.fields.iter().find(|f| f.name == field).ok_or_else(|| Error::BadSchema {
            path: format!("schema {}", schema.name).into(),
            line: 0,
            detail: format!(
                "no field '{field}' (fields: {})",
                schema.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        })?;
        self.store.document(id)?;
        let fv = FieldValue {
            field: spec.name.clone(),
            value: Some(value.to_string()),
            text: Some(value.to_string()),
            currency: None,
            confidence: 1.0,
            evidence: vec![],
            items: vec![],
            source: ValueSource::User,
            reason: None,
        };
        self.store.store_correction(id, &schema.name, &fv)?;
        Ok(fv)
    }
}
