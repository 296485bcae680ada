//! What is fuzzed: each target is a concern of the engine that reads untrusted bytes, with its
//! seed files, a dictionary of its format's tokens, and a function that runs one input the way
//! the product does and names the outcome. The outcome's name (an error message with its numbers
//! and quoted parts blanked, or the shape of a success) is the campaign's cheap guidance: an
//! input with an outcome not seen before joins the corpus.

mod archive;
mod documents;
mod onnx;
mod selftest;
mod texts;

use std::path::Path;

use pagewise_engine::Result;

/// One input in, the name of its outcome out. A bug shows as a panic (caught per input) or a
/// native crash (caught by the supervising process).
pub type Harness = Box<dyn FnMut(&[u8]) -> String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// File-type sniffing and image decoding (engine `source`: sniff, image_pages, decode_image_page)
    Image,
    /// PDF import through pdfium: open, each page's text layer, a small rendering
    Pdf,
    /// Extraction schema TOML (engine `extract::schema`)
    Schema,
    /// Hub model manifests (TOML) and installed models' receipts (JSON)
    Manifest,
    /// The ONNX protobuf decoder and graph compiler (engine `nn::onnx`, `nn::graph`)
    Onnx,
    /// Offline model import from a .tar, .tar.gz or .zip (engine `models::install::import`)
    Archive,
    /// Test-only: panics on inputs containing `boom`
    SelftestPanic,
    /// Test-only: aborts the process on inputs containing `boom`
    SelftestAbort,
}

/// The product's targets, in the order `all` runs them.
pub const PRODUCT: [Target; 6] =
    [Target::Image, Target::Pdf, Target::Schema, Target::Manifest, Target::Onnx, Target::Archive];

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Image => "image",
            Target::Pdf => "pdf",
            Target::Schema => "schema",
            Target::Manifest => "manifest",
            Target::Onnx => "onnx",
            Target::Archive => "archive",
            Target::SelftestPanic => "selftest-panic",
            Target::SelftestAbort => "selftest-abort",
        }
    }

    pub fn parse(name: &str) -> Option<Target> {
        [Target::SelftestPanic, Target::SelftestAbort].into_iter().chain(PRODUCT).find(|t| t.name() == name)
    }

    /// Seed inputs: real files of the format, generated here.
    pub fn seeds(self) -> Vec<Vec<u8>> {
        match self {
            Target::Image => documents::image_seeds(),
            Target::Pdf => documents::pdf_seeds(),
            Target::Schema => texts::schema_seeds(),
            Target::Manifest => texts::manifest_seeds(),
            Target::Onnx => onnx::seeds(),
            Target::Archive => archive::seeds(),
            Target::SelftestPanic | Target::SelftestAbort => selftest::seeds(),
        }
    }

    /// Tokens of the format, for the mutator to insert.
    pub fn dictionary(self) -> Vec<Vec<u8>> {
        let tokens: &[&[u8]] = match self {
            Target::Image => documents::IMAGE_TOKENS,
            Target::Pdf => documents::PDF_TOKENS,
            Target::Schema => texts::SCHEMA_TOKENS,
            Target::Manifest => texts::MANIFEST_TOKENS,
            Target::Onnx => onnx::TOKENS,
            Target::Archive => archive::TOKENS,
            Target::SelftestPanic | Target::SelftestAbort => selftest::TOKENS,
        };
        tokens.iter().map(|t| t.to_vec()).collect()
    }

    /// The largest input worth trying: a little more than the largest seed.
    pub fn max_len(self) -> usize {
        match self {
            Target::Pdf | Target::Image | Target::Archive => 64 << 10,
            _ => 16 << 10,
        }
    }

    /// The function that runs one input; `scratch` is a folder of its own for targets that
    /// write files.
    pub fn harness(self, scratch: &Path) -> Result<Harness> {
        Ok(match self {
            Target::Image => Box::new(documents::image),
            Target::Pdf => documents::pdf_harness()?,
            Target::Schema => Box::new(texts::schema),
            Target::Manifest => Box::new(texts::manifest),
            Target::Onnx => Box::new(onnx::graph),
            Target::Archive => archive::harness(scratch)?,
            Target::SelftestPanic => Box::new(selftest::panics),
            Target::SelftestAbort => Box::new(selftest::aborts),
        })
    }
}

/// An outcome's name, so that variants of one error count once: one-letter words, hex bytes,
/// and words with a digit or a non-ASCII letter in them (numbers, hex bytes, offsets, mangled chunk names)
/// become `#`, quoted and bracketed parts `…`, quoted source lines go, and it is cut to 100
/// characters.
pub fn outcome_name(text: &str) -> String {
    let mut out = String::new();
    let mut closing: Option<char> = None;
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let short_hex = word.len() <= 2 && word.chars().all(|c| c.is_ascii_hexdigit());
        let varies = word.chars().count() == 1 || word.chars().any(|c| c.is_ascii_digit() || !c.is_ascii());
        out.push_str(if !word.is_empty() && (short_hex || varies) { "#" } else { word });
        word.clear();
    };
    // Lines with a gutter (`12 | ...`) quote the input itself.
    let text: Vec<&str> = text.lines().filter(|l| !l.contains(" |")).collect();
    for c in text.join("\n").chars() {
        if let Some(end) = closing {
            if c == end {
                closing = None;
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' || !c.is_ascii() {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        match c {
            '\'' | '"' | '`' | '[' | '{' => {
                closing = Some(match c {
                    '[' => ']',
                    '{' => '}',
                    quote => quote,
                });
                out.push('…');
            }
            _ => out.push(c),
        }
        if out.chars().count() >= 100 {
            break;
        }
    }
    flush(&mut word, &mut out);
    out.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_names_blank_numbers_and_quoted_parts() {
        assert_eq!(outcome_name("line 12: field 'total_42' needs `values` at 0x1F"), "line #: field … needs … at #");
        assert_eq!(outcome_name("ChunkType { type: ÎDR, critical: true }: bad"), "ChunkType …: bad");
        assert_eq!(
            outcome_name("TOML parse error at line 1\n  |\n1 | id = x\n  |      ^\nbad value"),
            "TOML parse error at line #\nbad value"
        );
        assert_eq!(outcome_name("Invalid Chunk header: [ff, c3, 0]"), "Invalid Chunk header: …");
        assert_eq!(outcome_name(&"x".repeat(500)).chars().count(), 100);
    }

    #[test]
    fn every_target_has_seeds_and_parses_its_own_name() {
        for t in PRODUCT.into_iter().chain([Target::SelftestPanic, Target::SelftestAbort]) {
            assert_eq!(Target::parse(t.name()), Some(t));
            let seeds = t.seeds();
            assert!(!seeds.is_empty(), "{}", t.name());
            assert!(seeds.iter().all(|s| s.len() <= t.max_len()), "{}: a seed is longer than max_len", t.name());
        }
    }
}
