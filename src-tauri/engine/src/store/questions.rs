//! The questions asked about each document, with their answers (the app's ask history).

use rusqlite::params;

use super::{now, Store};
use crate::model::{Answer, Asked, DocId};
use crate::Result;

/// Most questions kept per document; older ones are dropped.
const KEEP: i64 = 200;

impl Store {
    pub fn record_question(&self, id: &DocId, page: Option<u32>, answer: &Answer) -> Result<()> {
        let json = serde_json::to_string(answer).expect("answers serialise");
        self.conn.execute(
            "INSERT INTO questions (doc_id, page, question, answer, asked_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id.0, page, answer.question, json, now()],
        )?;
        self.conn.execute(
            "DELETE FROM questions WHERE doc_id = ?1
             AND id NOT IN (SELECT id FROM questions WHERE doc_id = ?1 ORDER BY id DESC LIMIT ?2)",
            params![id.0, KEEP],
        )?;
        Ok(())
    }

    /// A document's questions, oldest first.
    pub fn questions(&self, id: &DocId) -> Result<Vec<Asked>> {
        let mut stmt =
            self.conn.prepare("SELECT page, answer, asked_at FROM questions WHERE doc_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![id.0], |r| {
            Ok((r.get::<_, Option<u32>>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (page, json, asked_at) = row?;
            // An answer stored in an older format is skipped, not an error.
            if let Ok(answer) = serde_json::from_str(&json) {
                out.push(Asked { page, answer, asked_at });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileKind, Target};
    use crate::store::NewDocument;

    fn answer(q: &str) -> Answer {
        Answer {
            question: q.into(),
            target: Target::Money,
            found: false,
            answer: None,
            normalized: None,
            currency: None,
            unit: None,
            confidence: 0.1,
            evidence: vec![],
            guesses: vec![],
            reason: Some("nothing".into()),
            checks: None,
        }
    }

    #[test]
    fn keeps_a_documents_questions_in_order_and_forgets_them_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut lib = Store::open(dir.path()).unwrap();
        let id = DocId("ab".repeat(32));
        let new = NewDocument {
            id: &id,
            name: "a.pdf",
            origin: "/a.pdf",
            kind: FileKind::Pdf,
            bytes: 1,
            pages: 1,
            encrypted: false,
        };
        lib.begin_import(&new).unwrap().commit().unwrap();
        lib.record_question(&id, Some(1), &answer("What is the total?")).unwrap();
        lib.record_question(&id, None, &answer("Who is the vendor?")).unwrap();
        let asked = lib.questions(&id).unwrap();
        assert_eq!(
            asked.iter().map(|a| a.answer.question.as_str()).collect::<Vec<_>>(),
            ["What is the total?", "Who is the vendor?"]
        );
        assert_eq!((asked[0].page, asked[1].page), (Some(1), None));
        lib.remove(&id).unwrap();
        assert!(lib.questions(&id).unwrap().is_empty());
    }
}
