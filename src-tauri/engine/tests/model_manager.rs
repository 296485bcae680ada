//! The model manager against a hub on 127.0.0.1: a whole download, a transfer that breaks off and
//! resumes, a wrong checksum (nothing installed), a changed file found by `verify`, an offline
//! import of a folder and of an archive, and removal. The server speaks the two requests the
//! manager makes of huggingface.co: the repo's file list with checksums, and a file with `Range`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use pagewise_engine::models::{hub, install, HubModel};
use sha2::Digest;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// How the test hub misbehaves.
#[derive(Default)]
struct Faults {
    /// Break off the first transfer of the weights halfway.
    break_first_transfer: AtomicBool,
    /// Serve weights whose bytes differ from the checksum the file list states.
    corrupt_weights: AtomicBool,
    /// `Range` requests seen.
    ranges: Mutex<Vec<String>>,
    weight_requests: AtomicUsize,
}

struct TinyModel {
    files: Vec<(String, Vec<u8>)>,
}

impl TinyModel {
    fn new() -> TinyModel {
        let weights: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        TinyModel {
            files: vec![
                ("config.json".into(), br#"{"model_type": "qwen3_vl", "tiny": true}"#.to_vec()),
                ("tokenizer.json".into(), br#"{"version": "1.0"}"#.to_vec()),
                ("model.safetensors".into(), weights),
            ],
        }
    }

    fn manifest(&self, pinned_sha: Option<&str>) -> HubModel {
        let sha = pinned_sha.map(|s| format!("sha256 = \"{s}\"\n")).unwrap_or_default();
        let revision = if pinned_sha.is_some() { COMMIT } else { "" };
        HubModel::parse(
            "tiny-vl",
            &format!(
                "id = \"tiny-vl\"\nrepo = \"test/tiny-vl\"\nrevision = \"{revision}\"\n\
                 model_type = \"qwen3_vl\"\npurpose = \"test\"\nlicence = \"MIT\"\n\
                 approx_bytes = 300000\nmin_memory_gb = 1\n\
                 [[files]]\nname = \"config.json\"\n[[files]]\nname = \"tokenizer.json\"\n\
                 [[files]]\nname = \"model.safetensors\"\n{sha}"
            ),
        )
        .unwrap()
    }

    fn sha256(bytes: &[u8]) -> String {
        sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn file_list(&self) -> String {
        let siblings: Vec<serde_json::Value> = self
            .files
            .iter()
            .map(|(name, bytes)| {
                let mut blob = sha1::Sha1::new();
                blob.update(format!("blob {}\0", bytes.len()).as_bytes());
                blob.update(bytes);
                let blob: String = blob.finalize().iter().map(|b| format!("{b:02x}")).collect();
                if name.ends_with(".safetensors") {
                    serde_json::json!({
                        "rfilename": name,
                        "size": bytes.len(),
                        "blobId": "ffff",
                        "lfs": {"sha256": Self::sha256(bytes), "size": bytes.len()}
                    })
                } else {
                    serde_json::json!({"rfilename": name, "size": bytes.len(), "blobId": blob})
                }
            })
            .collect();
        serde_json::json!({"sha": COMMIT, "siblings": siblings}).to_string()
    }
}

/// Starts the test hub; returns its address.
fn serve(model: Arc<TinyModel>, faults: Arc<Faults>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (model, faults) = (model.clone(), faults.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut range_start = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                        faults.ranges.lock().unwrap().push(v.trim().to_string());
                        range_start = v.trim().trim_end_matches('-').parse::<usize>().ok();
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
                respond(stream, &path, range_start, &model, &faults);
            });
        }
    });
    address
}

fn respond(
    mut stream: std::net::TcpStream,
    path: &str,
    range_start: Option<usize>,
    model: &TinyModel,
    faults: &Faults,
) {
    if path.starts_with("/api/models/test/tiny-vl/revision/") {
        let body = model.file_list();
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    let prefix = format!("/test/tiny-vl/resolve/{COMMIT}/");
    let Some((_, bytes)) = path.strip_prefix(&prefix).and_then(|name| model.files.iter().find(|(n, _)| n == name))
    else {
        let _ = write!(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let mut bytes = bytes.clone();
    let weights = path.ends_with(".safetensors");
    if weights && faults.corrupt_weights.load(Ordering::SeqCst) {
        bytes[1000] ^= 0xff;
    }
    let start = range_start.unwrap_or(0).min(bytes.len());
    let body = &bytes[start..];
    let status = if range_start.is_some() { "206 Partial Content" } else { "200 OK" };
    let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let first = weights && faults.weight_requests.fetch_add(1, Ordering::SeqCst) == 0;
    if first && faults.break_first_transfer.load(Ordering::SeqCst) {
        let _ = stream.write_all(&body[..body.len() / 2]);
        let _ = stream.flush();
        return; // the connection closes short of Content-Length
    }
    let _ = stream.write_all(body);
}

fn with_hub(faults: Faults) -> (Arc<TinyModel>, Arc<Faults>) {
    let model = Arc::new(TinyModel::new());
    let faults = Arc::new(faults);
    let address = serve(model.clone(), faults.clone());
    // The manager reads HF_ENDPOINT on each request; every test here points it at its own hub,
    // so they run one at a time.
    std::env::set_var("HF_ENDPOINT", address);
    (model, faults)
}

static SERIAL: Mutex<()> = Mutex::new(());

fn get(models: &Path, manifest: &HubModel, unpinned: bool) -> pagewise_engine::Result<std::path::PathBuf> {
    let mut last = None;
    install::get(models, manifest, unpinned, &AtomicBool::new(false), &mut |p| last = Some(p.clone()))?;
    let last = last.expect("progress reported");
    assert_eq!(last.done, last.total, "progress ends at the total");
    Ok(hub::installed_dir(models, manifest).unwrap())
}

#[test]
fn a_pinned_model_downloads_checks_and_installs() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (model, _faults) = with_hub(Faults::default());
    let store = tempfile::tempdir().unwrap();
    let manifest = model.manifest(Some(&TinyModel::sha256(&model.files[2].1)));
    let dir = get(store.path(), &manifest, false).unwrap();
    for (name, bytes) in &model.files {
        assert_eq!(&std::fs::read(dir.join(name)).unwrap(), bytes, "{name}");
    }
    let receipt = hub::receipt(store.path(), "tiny-vl").unwrap();
    assert_eq!(
        (receipt.revision.as_str(), receipt.checked_against.as_str()),
        (COMMIT, "hub"),
        "tokenizer/config are checked by the hub's blob ids"
    );
    assert!(install::verify(store.path(), &manifest).unwrap().iter().all(|c| c.ok));

    // A file changed after install is found by verify.
    std::fs::write(dir.join("tokenizer.json"), b"{}").unwrap();
    let checks = install::verify(store.path(), &manifest).unwrap();
    assert!(checks.iter().any(|c| c.file == "tokenizer.json" && !c.ok), "{checks:?}");

    assert!(install::remove(store.path(), "tiny-vl").unwrap());
    assert_eq!(hub::installed_dir(store.path(), &manifest).unwrap_err().kind(), "model_missing");
}

#[test]
fn an_unpinned_manifest_needs_consent_then_uses_the_hubs_checksums() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (model, _faults) = with_hub(Faults::default());
    let store = tempfile::tempdir().unwrap();
    let manifest = model.manifest(None);
    let err = get(store.path(), &manifest, false).unwrap_err();
    assert_eq!(err.kind(), "model_unpinned", "{err}");
    get(store.path(), &manifest, true).unwrap();
    assert_eq!(hub::receipt(store.path(), "tiny-vl").unwrap().revision, COMMIT);
}

#[test]
fn an_interrupted_transfer_resumes_with_a_range_request() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let faults = Faults::default();
    faults.break_first_transfer.store(true, Ordering::SeqCst);
    let (model, faults) = with_hub(faults);
    let store = tempfile::tempdir().unwrap();
    let dir = get(store.path(), &model.manifest(None), true).unwrap();
    assert_eq!(std::fs::read(dir.join("model.safetensors")).unwrap(), model.files[2].1);
    let ranges = faults.ranges.lock().unwrap().clone();
    assert_eq!(ranges, vec![format!("{}-", model.files[2].1.len() / 2)], "resumed from the half it had");
}

#[test]
fn a_wrong_checksum_installs_nothing_and_a_second_get_starts_clean() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let faults = Faults::default();
    faults.corrupt_weights.store(true, Ordering::SeqCst);
    let (model, faults) = with_hub(faults);
    let store = tempfile::tempdir().unwrap();
    let manifest = model.manifest(None);
    let err = get(store.path(), &manifest, true).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch") && err.to_string().contains("model.safetensors"), "{err}");
    assert!(
        hub::receipt(store.path(), "tiny-vl").is_none() && !hub::hub_dir(store.path()).join("tiny-vl").exists(),
        "nothing installed"
    );

    faults.corrupt_weights.store(false, Ordering::SeqCst);
    get(store.path(), &manifest, true).unwrap();
}

#[test]
fn offline_import_of_a_folder_and_of_an_archive() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let model = TinyModel::new();
    let source = tempfile::tempdir().unwrap();
    let folder = source.path().join("snapshot");
    std::fs::create_dir(&folder).unwrap();
    for (name, bytes) in &model.files {
        std::fs::write(folder.join(name), bytes).unwrap();
    }
    let manifest = model.manifest(Some(&TinyModel::sha256(&model.files[2].1)));
    let store = tempfile::tempdir().unwrap();
    let models = [manifest.clone()];
    install::import(store.path(), &folder, None, &models).unwrap();
    assert_eq!(hub::receipt(store.path(), "tiny-vl").unwrap().checked_against, "import");
    assert!(install::verify(store.path(), &manifest).unwrap().iter().all(|c| c.ok));

    // A .tar.gz with a top folder, as people pack one.
    let archive = source.path().join("tiny.tar.gz");
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(&archive).unwrap(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all("tiny-vl", &folder).unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    install::remove(store.path(), "tiny-vl").unwrap();
    install::import(store.path(), &archive, Some("tiny-vl"), &models).unwrap();
    hub::installed_dir(store.path(), &manifest).unwrap();

    // Weights that differ from the pinned sha256 are refused.
    let mut bad = model.files[2].1.clone();
    bad[7] ^= 1;
    std::fs::write(folder.join("model.safetensors"), bad).unwrap();
    install::remove(store.path(), "tiny-vl").unwrap();
    let err = install::import(store.path(), &folder, None, &models).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    assert!(hub::receipt(store.path(), "tiny-vl").is_none());

    // A folder that is not a model.
    let empty = tempfile::tempdir().unwrap();
    let err = install::import(store.path(), empty.path(), None, &models).unwrap_err();
    assert!(err.to_string().contains("config.json"), "{err}");
    let mut file = std::fs::File::open(archive).unwrap();
    let mut head = [0u8; 2];
    file.read_exact(&mut head).unwrap();
    assert_eq!(head, [0x1f, 0x8b]);
}

/// A model archive whose weights are a link to a file elsewhere on the machine: refused, nothing
/// installed (the link used to be followed and the file installed as the model's weights).
#[test]
fn an_archive_linking_to_a_file_outside_it_is_refused() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let model = TinyModel::new();
    let source = tempfile::tempdir().unwrap();
    let elsewhere = source.path().join("elsewhere.bin");
    std::fs::write(&elsewhere, b"a file that is not the archive's").unwrap();
    let archive = source.path().join("tiny.tar");
    let mut tar = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    for (name, bytes) in &model.files {
        let mut header = tar::Header::new_gnu();
        let path = format!("tiny-vl/{name}");
        if name == "model.safetensors" {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            tar.append_link(&mut header, &path, &elsewhere).unwrap();
        } else {
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            tar.append_data(&mut header, &path, &bytes[..]).unwrap();
        }
    }
    tar.into_inner().unwrap();
    let store = tempfile::tempdir().unwrap();
    let err = install::import(store.path(), &archive, Some("tiny-vl"), &[model.manifest(None)]).unwrap_err();
    assert!(err.to_string().contains("links outside"), "{err}");
    assert!(hub::receipt(store.path(), "tiny-vl").is_none());
}
