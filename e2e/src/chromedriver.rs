//! A ChromeDriver process of our own.

use crate::{wait, WAIT};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

/// `/usr/bin/chromedriver` (or `$CHROMEDRIVER`) listening on a free port of 127.0.0.1. It runs
/// in its own process group, so dropping it also ends the browsers it started.
pub struct Chromedriver {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Chromedriver {
    /// Starts it and waits until it accepts connections.
    pub async fn start() -> anyhow::Result<Self> {
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = howl_testkit::free_port();
        let child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!("cannot start {bin}: {e} (scripts/ensure-tools.sh installs it)")
            })?;
        let mut driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        wait::until("chromedriver to listen", WAIT, || {
            let exited = driver.child.try_wait();
            async move {
                if let Some(status) = exited? {
                    anyhow::bail!("chromedriver exited: {status}");
                }
                Ok(tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()
                    .map(drop))
            }
        })
        .await?;
        Ok(driver)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium processes it launched.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
