//! Talking to the Hugging Face hub over plain HTTP: what files a commit has (with the checksums
//! the hub states for them) and one file's download, resumed with a `Range` request when a
//! transfer breaks off.
//!
//! The hub is `$HF_ENDPOINT` (as for the hub's own tools), else https://huggingface.co; tests
//! point it at a server on 127.0.0.1.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Deserialize;

use crate::{Error, Result};

/// Attempts per file before a download is given up (each one resumes where the last stopped).
const ATTEMPTS: usize = 6;

pub fn endpoint() -> String {
    std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into()).trim_end_matches('/').to_string()
}

/// A commit of a hub repository and its files.
#[derive(Debug, Clone, Deserialize)]
pub struct RepoInfo {
    pub sha: String,
    pub siblings: Vec<Sibling>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Sibling {
    pub rfilename: String,
    #[serde(default)]
    pub size: Option<u64>,
    /// The git blob id (sha1 of "blob <len>\0" + content).
    #[serde(default, rename = "blobId")]
    pub blob_id: Option<String>,
    #[serde(default)]
    pub lfs: Option<Lfs>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Lfs {
    pub sha256: String,
    pub size: u64,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .user_agent("pagewise-models/0.1")
        .build()
        .into()
}

fn net_error(model: &str, what: &str, e: impl std::fmt::Display) -> Error {
    Error::HubFailed { model: model.into(), hub: endpoint(), detail: format!("{what}: {e}") }
}

/// The files of `repo` at `revision` (a commit, branch or tag), with sizes and checksums.
pub fn repo_info(model: &str, repo: &str, revision: &str) -> Result<RepoInfo> {
    let url = format!("{}/api/models/{repo}/revision/{revision}?blobs=true", endpoint());
    let mut resp = agent().get(&url).call().map_err(|e| net_error(model, &url, e))?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(net_error(model, &url, format!("HTTP {status}")));
    }
    let body = resp.body_mut().read_to_string().map_err(|e| net_error(model, &url, e))?;
    serde_json::from_str(&body)
        .map_err(|e| Error::Model { model: model.into(), detail: format!("{url}: unexpected reply ({e})") })
}

/// Bytes received so far for one file (`done` of `total`).
pub type OnBytes<'a> = dyn FnMut(u64, Option<u64>) + 'a;

/// Downloads `file` of `repo@commit` into `part`, appending to what `part` already holds.
/// Returns when `part` has `size` bytes (or the server says the body is complete).
pub fn download(
    model: &str,
    repo: &str,
    commit: &str,
    file: &str,
    size: Option<u64>,
    part: &Path,
    cancel: &AtomicBool,
    on_bytes: &mut OnBytes,
) -> Result<()> {
    let url = format!("{}/{repo}/resolve/{commit}/{file}", endpoint());
    let io = |e: std::io::Error| Error::Io { path: part.to_path_buf(), source: e };
    let mut last_error = String::new();
    for _ in 0..ATTEMPTS {
        let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        if size == Some(have) {
            return Ok(());
        }
        let mut request = agent().get(&url);
        if have > 0 {
            request = request.header("Range", format!("bytes={have}-"));
        }
        let resp = match request.call() {
            Ok(resp) => resp,
            Err(e) => {
                last_error = e.to_string();
                std::thread::sleep(Duration::from_millis(300));
                continue;
            }
        };
        let (mut out, mut done) = match resp.status().as_u16() {
            206 => (OpenOptions::new().append(true).open(part).map_err(io)?, have),
            200 => (std::fs::File::create(part).map_err(io)?, 0),
            // The range starts at or past the end: what we hold is wrong; start again.
            416 => {
                std::fs::remove_file(part).map_err(io)?;
                continue;
            }
            status => return Err(net_error(model, &url, format!("HTTP {status}"))),
        };
        let mut body = resp.into_body().into_reader();
        let mut buf = vec![0u8; 1 << 16];
        let broke_off = loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            match body.read(&mut buf) {
                Ok(0) => break false,
                Ok(n) => {
                    out.write_all(&buf[..n]).map_err(io)?;
                    done += n as u64;
                    on_bytes(done, size);
                }
                Err(e) => {
                    last_error = e.to_string();
                    break true;
                }
            }
        };
        out.flush().map_err(io)?;
        if !broke_off && size.is_none_or(|s| done >= s) {
            return Ok(());
        }
        if !broke_off {
            last_error = format!("transfer ended at {done} of {} bytes", size.unwrap_or(0));
        }
    }
    Err(Error::Model {
        model: model.into(),
        detail: format!(
            "{file}: download failed after {ATTEMPTS} attempts ({last_error}); run the same command again to resume"
        ),
    })
}
