//! The demo web UI (`web-ui/`) in a browser: building it once per test process, opening it,
//! reading what it shows, and acting like a user.
//!
//! The UI is built with `trunk build --release` into `target/web-ui-e2e/` (so a stale `dist/`
//! is never tested); set `HOWL_E2E_UI_DIST` to a built directory to skip that.

use crate::site::PROBE_SCRIPT;
use crate::{wait, Browser, ThreadedServer, WAIT};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use thirtyfour::By;

/// Everything the tests read from the page, in one round trip.
pub const SNAPSHOT: &str = r#"
const text = s => { const e = document.querySelector(s); return e ? e.textContent.trim() : null; };
const all = s => [...document.querySelectorAll(s)];
return {
  state: text('#conn-state'), url: text('#conn-url'), clientId: text('#client-id'),
  attempt: text('#reconnect-attempt'), reconnects: text('#reconnects'), rtt: text('#ping-rtt'),
  subs: all('#subscriptions li').map(li => ({
    channel: li.dataset.channel, confirmed: li.dataset.confirmed === 'true',
    here: li.querySelector('.presence')?.textContent.trim() ?? '' })),
  notices: all('#subscription-notices .notice').map(n => ({
    ok: n.classList.contains('ok'), text: n.textContent.trim() })),
  feed: all('#feed li.message').map(li => ({
    channel: li.dataset.channel, seq: li.dataset.seq,
    time: li.querySelector('time').textContent, text: li.querySelector('.text').textContent })),
  publish: text('#publish-notice'),
  publishError: text('#publish-notice .notice.error'),
  messageInput: document.querySelector('#publish-message')?.value ?? null,
  errors: window.__probe ? window.__probe.errors : [],
};
"#;

/// The built UI (see the module docs).
pub fn ui_dist() -> anyhow::Result<PathBuf> {
    static DIST: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIST.get_or_init(|| build_ui().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow::anyhow!(e))
}

fn build_ui() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("HOWL_E2E_UI_DIST") {
        return Ok(PathBuf::from(dir));
    }
    let root = crate::workspace_root();
    let dist = root.join("target/web-ui-e2e");
    // Trunk must find wasm-opt (npm binaryen 132) and wasm-bindgen, never download them.
    let path = format!(
        "{}:{}/.cargo/bin:{}",
        root.join("node_modules/.bin").display(),
        std::env::var("HOME").unwrap_or_default(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Trunk runs cargo offline (Trunk.toml), so the wasm crates' sources must be fetched.
    for args in [
        vec!["cargo", "fetch"],
        vec!["trunk", "build", "--release", "--dist"],
    ] {
        let mut command = Command::new(args[0]);
        command
            .args(&args[1..])
            .current_dir(&root)
            .env("PATH", &path);
        if args[0] == "trunk" {
            command.arg(&dist);
        }
        let output = command.output()?;
        anyhow::ensure!(
            output.status.success(),
            "{} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(dist)
}

/// A fresh browser showing the UI of `howl`.
pub async fn open_page(howl: &ThreadedServer) -> anyhow::Result<Browser> {
    let browser = Browser::launch().await?;
    browser.add_init_script(PROBE_SCRIPT).await?;
    browser.goto(&howl.http_url("/")).await?;
    Ok(browser)
}

/// What the page shows now (see [`SNAPSHOT`]).
pub async fn snapshot(browser: &Browser) -> anyhow::Result<Value> {
    browser.eval(SNAPSHOT, vec![]).await
}

/// Waits until `ready` holds for what the page shows, and returns that snapshot.
pub async fn wait_page(
    browser: &Browser,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    wait_page_within(browser, WAIT, what, ready).await
}

/// [`wait_page`] with its own timeout.
pub async fn wait_page_within(
    browser: &Browser,
    timeout: Duration,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let result = wait::until(what, timeout, || async {
        let page = snapshot(browser).await?;
        Ok(ready(&page).then_some(page))
    })
    .await;
    match result {
        Ok(page) => Ok(page),
        Err(e) => {
            let page = snapshot(browser).await.unwrap_or_default();
            let _ = browser.screenshot("web-ui-failure").await;
            anyhow::bail!("{e:#}; the page shows:\n{page:#}")
        }
    }
}

/// Clicks the element `selector` finds.
pub async fn click(browser: &Browser, selector: &str) -> anyhow::Result<()> {
    Ok(browser
        .driver
        .find(By::Css(selector))
        .await?
        .click()
        .await?)
}

/// Sets a field's value as if typed (an `input` event follows).
pub async fn fill(browser: &Browser, selector: &str, value: &str) -> anyhow::Result<()> {
    browser
        .eval(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1];
             e.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![json!(selector), json!(value)],
        )
        .await?;
    Ok(())
}

/// Saves `test-artifacts/<name>.png` at desktop size and `<name>-phone.png` at phone size.
pub async fn screenshots(browser: &Browser, name: &str) -> anyhow::Result<()> {
    browser.screenshot(name).await?;
    browser.driver.set_window_rect(0, 0, 390, 844).await?;
    browser.screenshot(&format!("{name}-phone")).await?;
    browser.driver.set_window_rect(0, 0, 1280, 900).await?;
    Ok(())
}

/// The feed's messages, newest first.
pub fn feed(page: &Value) -> &[Value] {
    page["feed"].as_array().map_or(&[], Vec::as_slice)
}

/// How many feed messages are on `channel`.
pub fn count(page: &Value, channel: &str) -> usize {
    feed(page)
        .iter()
        .filter(|m| m["channel"] == channel)
        .count()
}

/// Whether the feed shows `text` on `channel`.
pub fn shows(page: &Value, channel: &str, text: &str) -> bool {
    feed(page)
        .iter()
        .any(|m| m["channel"] == channel && m["text"] == text)
}

/// Whether `channel` is listed as a confirmed subscription.
pub fn subscribed(page: &Value, channel: &str) -> bool {
    page["subs"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["channel"] == channel && s["confirmed"] == true)
}

/// Whether a subscription notice (`ok` or not) contains `text`.
pub fn noticed(page: &Value, ok: bool, text: &str) -> bool {
    page["notices"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|n| n["ok"] == ok && n["text"].as_str().is_some_and(|t| t.contains(text)))
}

/// Whether the publish box shows an error containing `text`.
pub fn publish_error(page: &Value, text: &str) -> bool {
    page["publishError"]
        .as_str()
        .is_some_and(|e| e.contains(text))
}
