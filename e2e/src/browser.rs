//! A headless Chromium session driven through WebDriver.

use crate::chromedriver::Chromedriver;
use crate::{wait, WAIT};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use thirtyfour::prelude::*;

/// A fresh headless Chromium (own profile directory, own chromedriver).
pub struct Browser {
    /// The WebDriver session, for anything the helpers do not cover.
    pub driver: WebDriver,
    // Field order matters: the session goes before its driver process and profile.
    _chromedriver: Chromedriver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Launches `/usr/bin/chromium` (or `$CHROMIUM`) headless, with `gc()` exposed to pages
    /// (tests use it to prove callbacks were released).
    pub async fn launch() -> anyhow::Result<Self> {
        let chromedriver = Chromedriver::start().await?;
        let profile = tempfile::tempdir()?;
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))?;
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            "--js-flags=--expose-gc",
        ] {
            caps.add_arg(arg)?;
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))?;
        let driver = WebDriver::new(&chromedriver.url, caps).await?;
        Ok(Self {
            driver,
            _chromedriver: chromedriver,
            _profile: profile,
        })
    }

    /// Runs `source` in every document before its own scripts (Chrome DevTools Protocol).
    pub async fn add_init_script(&self, source: &str) -> anyhow::Result<()> {
        self.driver
            .cdp()
            .send_raw(
                "Page.addScriptToEvaluateOnNewDocument",
                serde_json::json!({ "source": source }),
            )
            .await?;
        Ok(())
    }

    /// Navigates to `url`.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        Ok(self.driver.goto(url).await?)
    }

    /// Runs a script body (`return …;` gives its value) with `args` as `arguments`.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        Ok(self.driver.execute(script, args).await?.json().clone())
    }

    /// Runs an async script body: it must call `arguments[arguments.length - 1](value)`.
    pub async fn eval_async(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        Ok(self
            .driver
            .execute_async(script, args)
            .await?
            .json()
            .clone())
    }

    /// Evaluates the expression `js` until it is truthy (JS truthiness), and returns it.
    pub async fn wait_for(&self, what: &str, js: &str) -> anyhow::Result<Value> {
        self.wait_for_within(what, js, WAIT).await
    }

    /// [`Browser::wait_for`] with another timeout.
    pub async fn wait_for_within(
        &self,
        what: &str,
        js: &str,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let script = format!("const v = ({js}); return v ? v : null;");
        wait::until(what, timeout, || async {
            let value = self.eval(&script, vec![]).await?;
            Ok((!value.is_null()).then_some(value))
        })
        .await
    }

    /// Saves a screenshot as `test-artifacts/<name>.png` in the repository; returns the path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = crate::workspace_root().join("test-artifacts");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        self.driver.screenshot(&path).await?;
        Ok(path)
    }

    /// Ends the session (dropping without it also ends the browser, less politely).
    pub async fn quit(self) -> anyhow::Result<()> {
        let Self {
            driver,
            _chromedriver,
            _profile,
        } = self;
        driver.quit().await?;
        Ok(())
    }
}
