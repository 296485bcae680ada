//! The web view stays on the app's own pages: any navigation elsewhere (a link in a document's
//! text, a script's `location = ...`) is refused, so nothing from a document is ever followed.
//! Pagewise shows no links today; one would open only on the person's click, in the system
//! browser, through a command of its own — never by navigating the web view.

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Runtime, Url};

pub fn guard<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("navigation-guard").on_navigation(|_, url| is_own(url)).build()
}

/// The app's bundled pages: `tauri://localhost` (Linux, macOS) or `http(s)://tauri.localhost`
/// (Windows).
fn is_own(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apps_own_pages_may_be_navigated_to() {
        let own = ["tauri://localhost/", "tauri://localhost/index.html", "http://tauri.localhost/"];
        let other = [
            "https://example.com/",
            "http://127.0.0.1:8080/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://tauri.localhost.example.com/",
            "tauri://evil/",
            "data:text/html,hi",
        ];
        for u in own {
            assert!(is_own(&Url::parse(u).unwrap()), "{u}");
        }
        for u in other {
            assert!(!is_own(&Url::parse(u).unwrap()), "{u}");
        }
    }
}
