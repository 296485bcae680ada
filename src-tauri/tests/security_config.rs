//! The app's content security policy (tauri.conf.json) and capabilities (capabilities/*.json),
//! checked as configuration: no remote origin, no inline or evaluated script, nothing the web
//! view may do beyond what docs/reliability.md lists. Widening either fails here first.

use std::path::Path;

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Sources a directive may name: the app's own files, and its two local protocols (`page:` for
/// page images, `ipc:` for commands) in both spellings (http://NAME.localhost on Windows).
const LOCAL_SOURCES: &[&str] = &["'self'", "'none'", "page:", "http://page.localhost", "ipc:", "http://ipc.localhost"];

/// What the main window's web view may call besides Pagewise's own commands.
const ALLOWED_PERMISSIONS: &[&str] = &["core:event:allow-listen", "core:event:allow-unlisten"];

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn csp() -> Vec<(String, Vec<String>)> {
    let conf = json(&Path::new(ROOT).join("tauri.conf.json"));
    let security = &conf["app"]["security"];
    assert!(security["dangerousDisableAssetCspModification"].is_null(), "Tauri must keep adding its nonces");
    assert_ne!(conf["app"]["withGlobalTauri"], true, "the Tauri API is imported by the UI, not global");
    assert!(conf["build"]["devUrl"].is_null(), "the app loads its bundled files, never a server");
    let policy = security["csp"].as_str().expect("a CSP is set");
    policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut words = d.split_whitespace().map(str::to_string);
            (words.next().unwrap(), words.collect())
        })
        .collect()
}

#[test]
fn the_csp_names_no_remote_origin_and_no_inline_or_evaluated_script() {
    let csp = csp();
    let directive = |name: &str| csp.iter().find(|(n, _)| n == name).map(|(_, s)| s.clone());
    for (name, sources) in &csp {
        for source in sources {
            assert!(LOCAL_SOURCES.contains(&source.as_str()), "{name} allows {source}: not one of the app's own");
        }
    }
    assert_eq!(directive("default-src").unwrap(), ["'self'"]);
    assert_eq!(directive("script-src").unwrap(), ["'self'"], "scripts: the app's own files only");
    for locked in ["object-src", "frame-src", "worker-src", "base-uri", "form-action"] {
        assert_eq!(directive(locked), Some(vec!["'none'".to_string()]), "{locked} must be 'none'");
    }
    let connect = directive("connect-src").expect("connect-src is set (else default-src applies)");
    assert!(connect.iter().all(|s| s.starts_with("ipc:") || s == "http://ipc.localhost"), "{connect:?}");
}

#[test]
fn the_capabilities_grant_the_main_window_only_what_is_listed() {
    let dir = Path::new(ROOT).join("capabilities");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let cap = json(&entry.path());
        files += 1;
        let name = entry.path().display().to_string();
        assert!(cap["remote"].is_null(), "{name}: no remote URL may call the app");
        assert_eq!(cap["windows"], serde_json::json!(["main"]), "{name}");
        assert!(cap["webviews"].is_null(), "{name}");
        for p in cap["permissions"].as_array().expect("a permissions list") {
            let id = p.as_str().or_else(|| p["identifier"].as_str()).unwrap_or_default();
            assert!(ALLOWED_PERMISSIONS.contains(&id), "{name} grants {id}, not on the allow list");
        }
    }
    assert_eq!(files, 1, "one capability file, capabilities/default.json");
}
