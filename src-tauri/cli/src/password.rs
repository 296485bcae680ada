//! `--password-stdin`: the password read from standard input, so that it never shows in the
//! process list (`ps`, /proc/PID/cmdline) as `--password` does. On a terminal it is asked for
//! with echo turned off; from a pipe or file it is the first line.

use std::io::{BufRead, IsTerminal};

use pagewise_engine::{Error, Result};

pub fn from_stdin() -> Result<String> {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    if terminal {
        eprint!("password: ");
    }
    let echo = if terminal { EchoOff::start() } else { None };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    drop(echo);
    if terminal {
        eprintln!();
    }
    let unreadable = |source| Error::Unreadable { path: "standard input".into(), source };
    read.map_err(unreadable)?;
    let password = line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line);
    if password.is_empty() {
        let none = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no password on its first line");
        return Err(unreadable(none));
    }
    Ok(password.to_string())
}

/// The terminal's echo, off until this is dropped (then as it was).
#[cfg(unix)]
struct EchoOff(libc::termios);

#[cfg(unix)]
impl EchoOff {
    fn start() -> Option<Self> {
        // SAFETY: termios is plain data, filled by tcgetattr before it is read.
        unsafe {
            let mut settings: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut settings) != 0 {
                return None;
            }
            let saved = settings;
            settings.c_lflag &= !libc::ECHO;
            (libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &settings) == 0).then_some(EchoOff(saved))
        }
    }
}

#[cfg(unix)]
impl Drop for EchoOff {
    fn drop(&mut self) {
        // SAFETY: restores settings tcgetattr gave.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.0);
        }
    }
}

/// Elsewhere the password is read with echo (the CLI's terminal handling is Unix-only).
#[cfg(not(unix))]
struct EchoOff;

#[cfg(not(unix))]
impl EchoOff {
    fn start() -> Option<Self> {
        None
    }
}
