//! A binary (one of the tools, say) running as a child process, its output read line by line
//! with timeouts.

use crate::WAIT;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};

/// A binary running as a child process (killed on drop), with `RUST_LOG=info`.
pub struct Tool {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Lines<BufReader<ChildStderr>>,
    /// Every stderr (log) line read so far.
    pub log: Vec<String>,
}

impl Tool {
    /// Starts `binary` (a path from `env!("CARGO_BIN_EXE_…")`) with `args`.
    pub fn spawn(binary: &str, args: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .args(args)
            .env("RUST_LOG", "info")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the tool starts");
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        Self {
            child,
            stdout,
            stderr,
            log: Vec::new(),
        }
    }

    /// Reads log lines until one contains `needle`; returns the lines read, that one last.
    pub async fn wait_log(&mut self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = tokio::time::timeout(WAIT, self.stderr.next_line())
                .await
                .unwrap_or_else(|_| panic!("no log line with {needle:?} in time; saw {seen:#?}"))
                .unwrap()
                .unwrap_or_else(|| {
                    panic!("the tool exited before logging {needle:?}; saw {seen:#?}")
                });
            self.log.push(line.clone());
            seen.push(line.clone());
            if line.contains(needle) {
                return seen;
            }
        }
    }

    /// The next line the tool prints on stdout.
    pub async fn next_output(&mut self) -> String {
        tokio::time::timeout(WAIT, self.stdout.next_line())
            .await
            .expect("an output line in time")
            .unwrap()
            .expect("the tool is still running")
    }

    /// Waits for the tool to exit by itself and returns its status.
    pub async fn wait(mut self) -> std::process::ExitStatus {
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the tool exits in time")
            .unwrap()
    }

    /// Kills the tool and waits for it.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}
