//! `credential_process`: a command (run by the shell, `sh -c` or `cmd /C`) that prints
//! `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}` on its
//! standard output.
//!
//! The command runs for a bounded time (then it is killed) and its output is bounded too. A
//! non-zero exit or a malformed document is an error that names the program (the first word of
//! the command, not its arguments, which may hold a password), the exit status and the first
//! line of its standard error; never its standard output.

use std::fmt;
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::util::{invalid, json_credentials, json_object};
use super::{BoxFuture, Credentials, ProvideCredentials};
use crate::error::{Error, ErrorKind, Result};

/// Longest run of a credential process, by default.
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest output read from a credential process.
const MAX_OUTPUT: u64 = 64 * 1024;

/// Credentials printed by a command.
#[derive(Clone)]
pub struct ProcessProvider {
    command: String,
    timeout: Duration,
}

impl fmt::Debug for ProcessProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessProvider")
            .field("program", &program(&self.command))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ProcessProvider {
    /// A provider running `command` with the shell.
    pub fn new(command: impl Into<String>) -> Self {
        ProcessProvider {
            command: command.into(),
            timeout: PROCESS_TIMEOUT,
        }
    }

    /// Longest run of the command (default 60 s); it is killed after that.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl ProvideCredentials for ProcessProvider {
    fn provide(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(run(&self.command, self.timeout))
    }
}

/// What errors call the command: its first word, unless that is a variable assignment.
fn program(command: &str) -> &str {
    match command.split_whitespace().next() {
        Some(word) if !word.contains('=') => word,
        _ => "(command)",
    }
}

fn shell(command: &str) -> Command {
    #[cfg(windows)]
    {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    }
    #[cfg(not(windows))]
    {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    }
}

/// Reads at most [`MAX_OUTPUT`] + 1 bytes of a pipe, on a blocking thread.
fn read_pipe(pipe: Option<impl std::io::Read + Send + 'static>) -> tokio::task::JoinHandle<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let mut buf = Vec::new();
        if let Some(pipe) = pipe {
            let _ = pipe.take(MAX_OUTPUT + 1).read_to_end(&mut buf);
        }
        buf
    })
}

/// Runs `command` and parses what it prints.
pub(crate) async fn run(command: &str, timeout: Duration) -> Result<Credentials> {
    let name = program(command);
    let what = format!("credential_process `{name}`");
    let mut child = shell(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::new(ErrorKind::InvalidSetting, format!("{what} could not be started")).with_source(e))?;
    let stdout = read_pipe(child.stdout.take());
    let stderr = read_pipe(child.stderr.take());
    let deadline = Instant::now() + timeout;
    // Polling keeps this on std's process API (no tokio `process` feature, no signal handler);
    // a credential process runs once an hour at most.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("{what} did not finish within {timeout:?} and was killed"),
                ));
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => {
                let _ = child.kill();
                return Err(
                    Error::new(ErrorKind::InvalidSetting, format!("{what} could not be waited for")).with_source(e),
                );
            }
        }
    };
    // A background process that keeps the pipes open must not hold us past the deadline.
    let rest = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    let collected = tokio::time::timeout(rest, async { (stdout.await, stderr.await) }).await;
    let Ok((Ok(out), Ok(err))) = collected else {
        return Err(Error::new(
            ErrorKind::Timeout,
            format!("{what} exited but its output did not end within {timeout:?}"),
        ));
    };
    if !status.success() {
        let code = status
            .code()
            .map(|c| format!("status {c}"))
            .unwrap_or_else(|| "a signal".into());
        let first_line: String = String::from_utf8_lossy(&err)
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        let tail = if first_line.is_empty() {
            String::new()
        } else {
            format!(": {first_line}")
        };
        return Err(Error::new(
            ErrorKind::InvalidResponse,
            format!("{what} exited with {code}{tail}"),
        ));
    }
    if out.len() as u64 > MAX_OUTPUT {
        return Err(invalid(&what, format_args!("printed more than {MAX_OUTPUT} bytes")));
    }
    parse_output(&out, &what)
}

/// The credentials of a process's output document (`Version` 1).
#[cfg(any(test, feature = "fuzzing"))]
pub fn parse(stdout: &[u8]) -> Result<Credentials> {
    parse_output(stdout, "credential_process")
}

fn parse_output(stdout: &[u8], what: &str) -> Result<Credentials> {
    let obj = json_object(stdout, what)?;
    match obj.get("Version") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(_) => return Err(invalid(what, "`Version` is not 1")),
        None => return Err(invalid(what, "the output has no `Version`")),
    }
    json_credentials(&obj, "SessionToken", what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn parses_the_documented_output() {
        let out = br#"{
            "Version": 1,
            "AccessKeyId": "an AWS access key",
            "SecretAccessKey": "your AWS secret access key",
            "SessionToken": "the AWS session token for temporary credentials",
            "Expiration": "2026-06-01T12:00:00Z"
        }"#;
        let c = parse(out).unwrap();
        assert_eq!(c.access_key(), "an AWS access key");
        assert_eq!(c.secret_key().expose(), "your AWS secret access key");
        assert!(c.session_token().is_some());
        assert!(c.expiry().unwrap() > SystemTime::UNIX_EPOCH);
        // Long-term credentials: no token, no expiry.
        let c = parse(br#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S"}"#).unwrap();
        assert_eq!((c.session_token(), c.expiry()), (None, None));
    }

    #[test]
    fn bad_documents() {
        for out in [
            r#"{"AccessKeyId": "A", "SecretAccessKey": "S"}"#,
            r#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "S"}"#,
            r#"{"Version": "1", "AccessKeyId": "A", "SecretAccessKey": "S"}"#,
            r#"{"Version": 1, "AccessKeyId": "A"}"#,
            r#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "S", "Expiration": "soon"}"#,
            "not json",
            "",
        ] {
            let e = parse(out.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidResponse, "{out}: {e}");
        }
    }

    #[test]
    fn program_names_hide_arguments() {
        assert_eq!(program("/usr/bin/get-creds --password hunter2"), "/usr/bin/get-creds");
        assert_eq!(program("TOKEN=abc get-creds"), "(command)");
        assert_eq!(program(""), "(command)");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn runs_with_the_shell() {
        let cmd = r#"printf '{"Version": 1, "AccessKeyId": "PROCKEY", "SecretAccessKey": "PROCSECRET"}' | cat"#;
        let c = run(cmd, Duration::from_secs(10)).await.unwrap();
        assert_eq!(c.access_key(), "PROCKEY");
        let e = run("echo oops >&2; echo '{\"SECRET\": 1}'; exit 3", Duration::from_secs(10))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        assert!(e.to_string().contains("exited with status 3: oops"), "{e}");
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }
}
