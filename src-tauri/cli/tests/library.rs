//! A library of a few hundred generated documents: the list and search come a page at a time,
//! and the pages fit together (nothing missing, nothing twice, the same order as all at once).
//! Speed on 10,000 documents is measured by `pagewise-dev bench library`, not here.

mod common;

use std::collections::HashSet;

use common::Lib;
use pagewise_testkit::{library_document, pdfium_available, reference, TOPICS};
use serde_json::Value;

const DOCS: u32 = 240;

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect()
}

fn hits(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| (h["doc_id"].as_str().unwrap().to_string(), h["page"].as_u64().unwrap()))
        .collect()
}

fn generated_library() -> Lib {
    let lib = Lib::new();
    let folder = lib.dir.path().join("docs");
    std::fs::create_dir(&folder).unwrap();
    for n in 0..DOCS {
        std::fs::write(folder.join(format!("doc-{n:04}.pdf")), library_document(n, 2)).unwrap();
    }
    let (code, lines) = lib.add(&["--no-ocr", folder.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(lines.iter().filter(|l| l["status"] == "added").count(), DOCS as usize);
    lib
}

#[test]
fn list_and_search_come_a_page_at_a_time() {
    if !pdfium_available("large library paging") {
        return;
    }
    let lib = generated_library();

    // The list: pages of 100 put together are the whole list, in the same order.
    let all = ids(&lib.json(&["list", "--limit", "0"]));
    assert_eq!(all.len(), DOCS as usize);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), DOCS as usize);
    let mut paged = Vec::new();
    for offset in (0..DOCS).step_by(100) {
        let page = ids(&lib.json(&["list", "--limit", "100", "--offset", &offset.to_string()]));
        assert_eq!(page.len(), (DOCS - offset).min(100) as usize);
        paged.extend(page);
    }
    assert_eq!(paged, all);
    assert_eq!(ids(&lib.json(&["list"])).len(), 100, "the default is one page");
    // A partial list says how to get the rest.
    let out = lib.cmd().args(["list", "--limit", "10", "--offset", "20"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("21 to 30 of 240 documents: `--offset 30`"));
    assert_eq!(ids(&lib.json(&["list", "--offset", "1000"])).len(), 0);

    // Search: a topic's pages (two per document) in pages of 7 are all its hits at once.
    let topic = TOPICS[3];
    let every = hits(&lib.json(&["search", topic, "--limit", "1000"]));
    assert_eq!(every.len(), 2 * (DOCS as usize / TOPICS.len()));
    let mut paged = Vec::new();
    for offset in (0..every.len()).step_by(7) {
        paged.extend(hits(&lib.json(&["search", topic, "--limit", "7", "--offset", &offset.to_string()])));
    }
    assert_eq!(paged, every);
    let names = lib.json(&["search", topic, "--limit", "1000"]);
    assert!(names.as_array().unwrap().iter().all(|h| h["snippet"].as_str().unwrap().to_lowercase().contains(topic)));
    assert_eq!(hits(&lib.json(&["search", topic, "--offset", "1000"])).len(), 0);

    // A word on every page is limited to the page asked for.
    assert_eq!(hits(&lib.json(&["search", "page"])).len(), 20);
    // One document's own word finds its two pages and nothing else.
    let own = lib.json(&["search", &reference(123)]);
    assert_eq!(own.as_array().unwrap().len(), 2);
    assert!(own.as_array().unwrap().iter().all(|h| h["name"] == "doc-0123.pdf"));
}
