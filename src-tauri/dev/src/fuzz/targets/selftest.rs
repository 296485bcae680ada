//! Test-only targets that fail on purpose on inputs containing `boom`, one by a panic and one
//! by aborting the process (as a segfault in native code would end it): the harness's own
//! tests check that such inputs are found and saved, and that a campaign goes on after them.

pub const TOKENS: &[&[u8]] = &[b"boom", b"bo"];

pub fn seeds() -> Vec<Vec<u8>> {
    vec![b"bo-om, nearly".to_vec(), b"a quiet input".to_vec()]
}

fn explodes(input: &[u8]) -> bool {
    input.windows(4).any(|w| w == b"boom")
}

pub fn panics(input: &[u8]) -> String {
    assert!(!explodes(input), "selftest: boom");
    "quiet".into()
}

pub fn aborts(input: &[u8]) -> String {
    if explodes(input) {
        std::process::abort();
    }
    "quiet".into()
}
