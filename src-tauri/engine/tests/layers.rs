//! The engine's layers, checked on its sources: each top-level module imports only the layers
//! below it (see lib.rs and docs/architecture.md). A `crate::x` path in a module's code (test
//! modules aside) that reaches a layer above fails this test, naming the file and the import.

use std::collections::BTreeSet;
use std::path::Path;

/// The layers, top down: the top-level modules in each, and the layers they may import. The
/// service is the only layer that calls both the store and the stages; the store knows only the
/// ground floor.
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    ("service", &["service"], &["service", "store", "stages", "runtime", "ground floor"]),
    ("store", &["store"], &["ground floor"]),
    (
        "stages",
        &["read", "layout", "ask", "extract", "export", "embed", "values"],
        &["stages", "runtime", "ground floor"],
    ),
    (
        "runtime",
        &["nn", "vlm", "pdfium", "render", "source", "models", "places", "loaded"],
        &["runtime", "ground floor"],
    ),
    ("ground floor", &["model"], &["ground floor"]),
];

fn layer_of(module: &str) -> Option<&'static (&'static str, &'static [&'static str], &'static [&'static str])> {
    LAYERS.iter().find(|(_, modules, _)| modules.contains(&module))
}

/// The top-level modules that `code` names as `crate::module`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            out.insert(name);
        }
    }
    out
}

/// A file's code without its test module and comments.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
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
        for module in imports(&code) {
            if let Some((other, _, _)) = layer_of(&module) {
                if !may_import.contains(other) {
                    wrong.push(format!("{}: {top} ({layer}) imports {module} ({other})", rel.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports that run up a layer:\n{}", wrong.join("\n"));
}
