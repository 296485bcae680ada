//! Worker processes, seen from the parent: started from the front end's own executable, kept
//! for the next request when they answered well, killed when a step overruns its time, and
//! described (signal, last words on stderr) when they die.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::bounds;
use super::protocol::{read_frame, write_frame, Reply, Request};

/// The argument that makes a front end's executable a worker.
pub const WORKER_FLAG: &str = "--pagewise-worker";

/// Workers that answered their last request well, ready for the next one.
static IDLE: Mutex<Vec<Worker>> = Mutex::new(Vec::new());
/// How many idle workers are kept (the app draws pages while a batch imports).
const KEEP_IDLE: usize = 2;

pub struct Worker {
    child: Child,
    socket: UnixStream,
    stderr: Option<ChildStderr>,
}

/// An idle worker, or a new one.
pub fn take(exe: &Path) -> std::io::Result<Worker> {
    let idle = IDLE.lock().unwrap_or_else(|p| p.into_inner()).pop();
    match idle {
        Some(worker) => Ok(worker),
        None => start(exe),
    }
}

/// A new worker.
pub fn start(exe: &Path) -> std::io::Result<Worker> {
    Worker::start(exe)
}

/// A worker whose answer is complete, kept for the next request (or let go).
pub fn keep(worker: Worker) {
    let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
    if idle.len() < KEEP_IDLE {
        idle.push(worker);
    }
}

/// How a worker's request went wrong.
pub enum Ended {
    /// No reply within the step's time (the worker has been killed).
    TimedOut(Duration),
    /// The worker died or broke the protocol: what is known of why.
    Died(String),
}

impl Worker {
    fn start(exe: &Path) -> std::io::Result<Self> {
        // One socket for both directions: the parent writes with MSG_NOSIGNAL, so a dead worker
        // is an error to handle, never a SIGPIPE for a CLI that restored SIGPIPE's default.
        let (socket, theirs) = UnixStream::pair()?;
        let theirs_too = theirs.try_clone()?;
        let mut child = Command::new(exe)
            .arg(WORKER_FLAG)
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::from(OwnedFd::from(theirs_too)))
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take();
        Ok(Worker { child, socket, stderr })
    }

    pub fn send(&mut self, request: &Request) -> std::io::Result<()> {
        let mut frame = Vec::new();
        write_frame(&mut frame, request, &[])?;
        let mut sent = 0;
        while sent < frame.len() {
            let rest = &frame[sent..];
            // SAFETY: `rest` is a live buffer of `rest.len()` bytes; the fd is our open socket.
            let n =
                unsafe { libc::send(self.socket.as_raw_fd(), rest.as_ptr().cast(), rest.len(), libc::MSG_NOSIGNAL) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e);
                }
                continue;
            }
            sent += n as usize;
        }
        Ok(())
    }

    /// The next reply, within `step` (each read waits at most that long).
    pub fn receive(&mut self, step: Duration) -> Result<(Reply, Vec<u8>), Ended> {
        let read = self.socket.set_read_timeout(Some(step)).and_then(|()| read_frame(&mut self.socket));
        match read {
            Ok(Some(frame)) => Ok(frame),
            Ok(None) => Err(Ended::Died(self.end())),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                self.end();
                Err(Ended::TimedOut(step))
            }
            Err(e) => {
                let why = self.end();
                Err(Ended::Died(if why.is_empty() { e.to_string() } else { why }))
            }
        }
    }

    /// Kill the worker (if it still runs) and say how it ended.
    fn end(&mut self) -> String {
        let _ = self.child.kill();
        let status = self.child.wait();
        let mut said = String::new();
        if let Some(stderr) = self.stderr.take() {
            let _ = stderr.take(64 << 10).read_to_string(&mut said);
        }
        if let Some(failed) = said.lines().find(|l| l.contains("memory allocation of")) {
            return format!("it ran out of its memory bound of {} MiB ({})", bounds::memory_mb(), failed.trim());
        }
        // The first line it said (a backtrace may follow it).
        let words = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
        let how = match status {
            Ok(s) => match s.signal() {
                Some(libc::SIGSEGV) => "it crashed (segmentation fault)".to_string(),
                Some(libc::SIGBUS) => "it crashed (bus error)".to_string(),
                Some(libc::SIGABRT) => "it aborted".to_string(),
                Some(libc::SIGKILL) => "it was killed".to_string(),
                Some(n) => format!("it was ended by signal {n}"),
                None => format!("it exited with {s}"),
            },
            Err(e) => format!("it could not be waited for ({e})"),
        };
        if words.is_empty() {
            how
        } else {
            format!("{how}: {words}")
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // A worker dropped mid-answer may still be writing: it is not reused.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
