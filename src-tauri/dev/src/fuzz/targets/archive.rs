//! Offline model import (`pagewise models import FILE`): a .tar, .tar.gz or .zip unpacked,
//! config.json read, files checked and installed. Run against made-up models whose files are
//! tiny, in a scratch folder; an input that makes the import write beside the folders it was
//! given is a finding, as a panic is.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use pagewise_engine::models::hub::HubModel;
use pagewise_engine::models::install;
use pagewise_engine::Result;
use sha2::{Digest, Sha256};

use super::super::io;
use super::{outcome_name, Harness};

pub const TOKENS: &[&[u8]] = &[
    b"ustar\x0000",
    b"ustar  \0",
    b"config.json",
    b"weights.bin",
    b"snapshot/",
    b"../",
    b"./",
    b"/",
    b"0000644\0",
    b"0000755\0",
    b"00000000000\0",
    b"77777777777\0",
    b"\x80\0\0\0\0\0\0\0\0\0\xff\xff", // base-256 size
    b"2",                              // typeflag: symlink
    b"1",                              // hard link
    b"5",                              // directory
    b"L",                              // GNU long name
    b"x",                              // pax header
    b"path=",
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"PK\x06\x06",
    b"\x1f\x8b\x08\0",
    b"{\"model_type\": \"fuzz_tiny\"}",
    b"\"model_type\"",
];

const CONFIG: &[u8] = b"{\"model_type\": \"fuzz_tiny\", \"hidden_size\": 8}";
const WEIGHTS: &[u8] = b"not really weights, but bytes with a checksum";

/// Two made-up models: one with unchecked files, one whose weights are pinned by sha256.
fn models() -> Result<Vec<HubModel>> {
    let sha = Sha256::digest(WEIGHTS).iter().map(|b| format!("{b:02x}")).collect::<String>();
    let manifest = |id: &str, model_type: &str, sha: &str| {
        format!(
            "id = \"{id}\"\nrepo = \"fuzz/{id}\"\nmodel_type = \"{model_type}\"\npurpose = \"fuzzing\"\n\
             licence = \"MIT\"\napprox_bytes = 100\nmin_memory_gb = 0\n[[files]]\nname = \"config.json\"\n\
             [[files]]\nname = \"weights.bin\"\n{sha}"
        )
    };
    Ok(vec![
        HubModel::parse("fuzz-tiny", &manifest("fuzz-tiny", "fuzz_tiny", ""))?,
        HubModel::parse("fuzz-pinned", &manifest("fuzz-pinned", "fuzz_pinned", &format!("sha256 = \"{sha}\"\n")))?,
    ])
}

fn tar(entries: &[(&str, &[u8])], link: Option<(&str, &str)>) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, *data).expect("a tar entry");
    }
    if let Some((name, target)) = link {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        builder.append_link(&mut header, name, target).expect("a tar link");
    }
    builder.into_inner().expect("a tar archive")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn zip(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in entries {
        writer.start_file(*name, options).expect("a zip entry");
        writer.write_all(data).expect("a zip entry");
    }
    writer.finish().expect("a zip archive").into_inner()
}

/// Archives of a model folder as people make them: tar (with a link), tar.gz, zip (stored and
/// deflated), the files at the top or in one folder.
pub fn seeds() -> Vec<Vec<u8>> {
    let nested: [(&str, &[u8]); 2] = [("snapshot/config.json", CONFIG), ("snapshot/weights.bin", WEIGHTS)];
    let flat: [(&str, &[u8]); 2] = [("config.json", CONFIG), ("weights.bin", WEIGHTS)];
    let pinned_config: &[u8] = b"{\"model_type\": \"fuzz_pinned\"}";
    let pinned: [(&str, &[u8]); 2] = [("m/config.json", pinned_config), ("m/weights.bin", WEIGHTS)];
    vec![
        tar(&nested, Some(("snapshot/extra.json", "config.json"))),
        tar(&pinned, None),
        gzip(&tar(&flat, None)),
        zip(&nested, zip::CompressionMethod::Stored),
        zip(&flat, zip::CompressionMethod::Deflated),
    ]
}

/// Where one child process's imports happen: `<scratch>/a/b/{in,models}`, so that a write
/// above the folders import was given shows in `a/` or `a/b/`.
struct Sandbox {
    root: PathBuf,
    base: PathBuf,
    models_dir: PathBuf,
    models: Vec<HubModel>,
}

pub fn harness(scratch: &Path) -> Result<Harness> {
    let base = scratch.join("a").join("b");
    std::fs::create_dir_all(base.join("in")).map_err(io(&base))?;
    let sandbox = Sandbox { root: scratch.to_path_buf(), models_dir: base.join("models"), base, models: models()? };
    Ok(Box::new(move |input: &[u8]| sandbox.import(input)))
}

impl Sandbox {
    fn import(&self, input: &[u8]) -> String {
        // The archive's type is its file name's (as `unpack` decides), given here by its bytes.
        let name = if input.starts_with(b"PK") {
            "model.zip"
        } else if input.starts_with(&[0x1f, 0x8b]) {
            "model.tar.gz"
        } else {
            "model.tar"
        };
        let archive = self.base.join("in").join(name);
        if let Err(e) = std::fs::write(&archive, input) {
            return format!("cannot write the input: {e}");
        }
        let outcome = match install::import(&self.models_dir, &archive, None, &self.models) {
            Ok(dir) => format!("installed {}", dir.file_name().unwrap_or_default().to_string_lossy()),
            Err(e) => outcome_name(&e.to_string().replace(&self.base.display().to_string(), "<scratch>")),
        };
        let stray = self.stray_entries();
        let _ = std::fs::remove_dir_all(&self.models_dir);
        let _ = std::fs::remove_file(&archive);
        assert!(stray.is_empty(), "the import wrote outside the models folder: {stray:?} ({outcome})");
        outcome
    }

    /// Entries beside or above the folders the import was given, or in the hub folder beside
    /// the models it may install (and its own staging and scratch folders).
    fn stray_entries(&self) -> Vec<PathBuf> {
        let hub = self.models_dir.join("hub");
        let allowed: [(PathBuf, &[&str]); 5] = [
            (self.root.clone(), &["a"]),
            (self.root.join("a"), &["b"]),
            (self.base.clone(), &["in", "models"]),
            (self.models_dir.clone(), &["hub"]),
            (hub, &["fuzz-tiny", "fuzz-pinned", ".staging"]),
        ];
        let mut stray = Vec::new();
        for (dir, names) in allowed {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !names.contains(&name.as_str()) && !name.starts_with(".import-") {
                    stray.push(entry.path());
                }
            }
        }
        stray
    }
}
