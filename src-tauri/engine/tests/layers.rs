//! The engine's layers, checked on its sources: each top-level module imports only the layers
//! below it (see lib.rs and docs/architecture.md). A `crate::x` path in a module's code (test
//! modules aside), a name in `crate::{…}`, or a name the crate root re-exports, that reaches a
//! layer above fails this test, naming the file and the import.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The layers, top down: the top-level modules in each, and the layers they may import. The
/// service is the only layer that calls both the store and the stages; the store knows only the
/// ground floor.
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    ("service", &["service"], &["service", "store", "worker", "stages", "runtime", "ground floor"]),
    ("store", &["store"], &["ground floor"]),
    // Where untrusted files are opened: the text-layer reader and the decoders, in a child process.
    ("worker", &["worker"], &["worker", "stages", "runtime", "ground floor"]),
    (
        "stages",
        &["read", "layout", "ask", "extract", "export", "embed", "values"],
        &["stages", "runtime", "ground floor"],
    ),
    (
        "runtime",
        &["nn", "vlm", "fitted", "pdfium", "render", "source", "models", "places", "secrets", "loaded"],
        &["runtime", "ground floor"],
    ),
    ("ground floor", &["model"], &["ground floor"]),
];

fn layer_of(module: &str) -> Option<&'static (&'static str, &'static [&'static str], &'static [&'static str])> {
    LAYERS.iter().find(|(_, modules, _)| modules.contains(&module))
}

/// What the crate root re-exports, by name: `Library` is the service's, `Extractive` ask's. A
/// name it does not list comes from `pub use model::*`.
fn root_items(lib_rs: &str) -> HashMap<String, String> {
    let mut items = HashMap::new();
    for statement in code_of(lib_rs).split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else { continue };
        let module = path.split("::").next().unwrap_or("").trim().to_string();
        let names = path.rsplit_once("::").map_or("", |(_, names)| names);
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.split(" as ").last().unwrap_or("").trim();
            if !name.is_empty() && name != "*" {
                items.insert(name.to_string(), module.clone());
            }
        }
    }
    items
}

/// The top-level modules that `code` names: `crate::module::…`, each first name in
/// `crate::{…}`, and the module behind a name the crate root re-exports (`crate::Library`).
fn imports(code: &str, root: &HashMap<String, String>) -> BTreeSet<String> {
    let mut names = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                // Top-level items of the group only: `{a, b::{c, d}}` names a and b.
                let (mut depth, mut start) = (0, 0);
                for (k, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            names.push(&group[start..k]);
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            names.push(&group[start..k]);
                            start = k + 1;
                        }
                        _ => {}
                    }
                }
            }
            None => names.push(rest),
        }
    }
    names
        .iter()
        .map(|n| n.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>())
        .filter(|n| !n.is_empty() && n != "self")
        .map(|n| match n.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            true => root.get(&n).cloned().unwrap_or_else(|| "model".into()),
            false => root.get(&n).cloned().unwrap_or(n),
        })
        .collect()
}

/// A file's code without its test module and comments.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let root = root_items(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut wrong = Vec::new();
    for entry in walkdir::WalkDir::new(&src).into_iter().filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") || path.file_name().is_some_and(|n| n == "lib.rs") {
            continue;
        }
        let rel = path.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        let Some((layer, _, may_import)) = layer_of(&top) else {
            wrong.push(format!("{}: module {top} is in no layer (add it to LAYERS)", rel.display()));
            continue;
        };
        let code = code_of(&std::fs::read_to_string(path).unwrap());
        for module in imports(&code, &root) {
            if let Some((other, _, _)) = layer_of(&module) {
                if !may_import.contains(other) {
                    wrong.push(format!("{}: {top} ({layer}) imports {module} ({other})", rel.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports that run up a layer:\n{}", wrong.join("\n"));
}

#[test]
fn imports_are_read_from_paths_groups_and_the_roots_names() {
    let root = root_items("pub use service::{collect_files, Library};\npub use ask::visual::{MODEL as VISUAL_MODEL};");
    let code = "use crate::{render, store::Store};\nlet x = crate::values::loose(s); crate::Library::open(p); \
                crate::VISUAL_MODEL; crate::Error::Internal";
    let found: Vec<String> = imports(code, &root).into_iter().collect();
    assert_eq!(found, ["ask", "model", "render", "service", "store", "values"]);
}
