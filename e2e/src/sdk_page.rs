//! Driving the SDK test page (`pages/sdk.html`) from a test: open it, create clients, settle
//! their promises and read what they recorded, with assertions on the outcomes.

use crate::site::PROBE_SCRIPT;
use crate::{Browser, ThreadedServer};
use serde_json::{json, Value};

/// Opens the SDK test page of `howl` in a fresh browser, with the probe injected.
pub async fn open(howl: &ThreadedServer) -> anyhow::Result<Browser> {
    let browser = Browser::launch().await?;
    browser.add_init_script(PROBE_SCRIPT).await?;
    browser.goto(&howl.http_url("/sdk.html")).await?;
    browser
        .wait_for("the SDK to load", "window.sdkReady")
        .await?;
    Ok(browser)
}

/// Creates client `name` on `/ws` with `options` and waits for it to open.
pub async fn connect(browser: &Browser, name: &str, options: Value) -> anyhow::Result<()> {
    let outcome = browser
        .eval_async(
            "const [name, options, done] = arguments;
             outcome(track(name, '/ws', options).opened()).then(done);",
            vec![name.into(), options],
        )
        .await?;
    anyhow::ensure!(outcome["ok"] == true, "{name} did not open: {outcome}");
    Ok(())
}

/// Awaits the promise expression `expr` in the page: `{ok, value}` or `{ok: false, code, …}`.
pub async fn settle(browser: &Browser, expr: &str) -> anyhow::Result<Value> {
    let script = format!("outcome({expr}).then(arguments[arguments.length - 1]);");
    browser.eval_async(&script, vec![]).await
}

/// Runs the statement `expr` in the page and reports a thrown error like [`settle`].
pub async fn attempt(browser: &Browser, expr: &str) -> anyhow::Result<Value> {
    browser
        .eval(&format!("return attempt(() => {expr});"), vec![])
        .await
}

/// The value of the expression `expr` in the page.
pub async fn js(browser: &Browser, expr: &str) -> anyhow::Result<Value> {
    browser.eval(&format!("return {expr};"), vec![]).await
}

/// Fails if the page logged an error, threw, or a client reported one.
pub async fn assert_no_errors(browser: &Browser) -> anyhow::Result<()> {
    let errors = js(browser, "{ page: __probe.errors, clients: Object.fromEntries(Object.entries(logs).map(([n, l]) => [n, l.errors])) }").await?;
    assert_eq!(errors["page"], json!([]), "page errors: {errors}");
    for (name, list) in errors["clients"].as_object().unwrap() {
        assert_eq!(list, &json!([]), "errors reported to client {name}");
    }
    Ok(())
}

/// Asserts an outcome of [`settle`] or [`attempt`] succeeded.
pub fn assert_ok(outcome: &Value, what: &str) {
    assert_eq!(outcome["ok"], true, "{what}: {outcome}");
}

/// Asserts an outcome of [`settle`] or [`attempt`] failed with a `HowlError` of `code`.
pub fn assert_error(outcome: &Value, code: &str, what: &str) {
    assert_eq!(outcome["ok"], false, "{what} should fail: {outcome}");
    assert_eq!(outcome["code"], code, "{what}: {outcome}");
    assert_eq!(
        outcome["isError"], true,
        "{what} is an Error object: {outcome}"
    );
    assert_eq!(outcome["name"], "HowlError", "{what}: {outcome}");
}

/// Milliseconds since the Unix epoch (the page's `Date.now()` and the server's clock agree:
/// one machine).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is past 1970")
        .as_millis() as u64
}
