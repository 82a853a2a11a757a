//! End-to-end harness for Howl in real headless Chromium.
//!
//! Everything a browser test needs, real parts only:
//! - [`ThreadedServer`] (from `howl-testkit`): a real `howl` in this process on 127.0.0.1, on
//!   its own thread and runtime, stopped gracefully, killed abruptly, restarted on its address.
//! - [`chromedriver`]: `/usr/bin/chromedriver` on a free port, killed with its browsers on drop.
//! - [`browser`]: a headless Chromium session (fresh profile) with helpers to evaluate
//!   scripts, wait on conditions, inject scripts before page load, take screenshots.
//! - [`site`]: a directory for `howl --ui-dir`: the SDK package built by
//!   `scripts/build-sdk.sh` (and its `npm pack` tarball), the README's example page and the
//!   SDK test page.
//! - [`sdk_page`]: driving the SDK test page: clients, their promises, what they recorded.
//! - [`token_endpoint`]: an HTTP endpoint minting tokens for a page's `getToken`.
//! - [`proxy`]: a TCP forwarder a test cuts and restores, to take a browser's connection away
//!   while the server keeps running.
//! - [`demo_page`]: the demo web UI built once, opened, read and clicked.
//! - [`wait`] (from `howl-testkit`): waiting on conditions with timeouts (never fixed sleeps).
//!
//! Tests of the SDK are in `tests/sdk.rs` and, for secured mode (tokens), `tests/sdk_auth.rs`;
//! recovery after a reconnect, history and presence in `tests/sdk_recovery.rs`;
//! the SDK as an npm package (its tarball in the examples' Vite and esbuild builds) in
//! `tests/examples.rs`;
//! other browser tests (the web UI) add their own files beside them and reuse these modules.

pub mod browser;
pub mod chromedriver;
pub mod demo_page;
pub mod proxy;
pub mod sdk_page;
pub mod site;
pub mod token_endpoint;

pub use browser::Browser;
pub use howl_testkit::{wait, RedisServer, ThreadedServer, WAIT};
pub use proxy::CutProxy;
pub use site::Site;

/// The repository root.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ has a parent")
        .to_path_buf()
}
