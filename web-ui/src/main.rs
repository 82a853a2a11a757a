//! Howl's demo web UI: a Leptos single-page app built by Trunk. It reaches the server only
//! through the browser SDK (`howl-client-wasm`), at `ws(s)://<page host>/ws`.
//!
//! - [`app`]: the page and its layout; connects on load.
//! - [`components`]: one component per section (connection, subscriptions, feed, publish).
//! - [`state`]: the signals the sections show.
//! - [`link`]: user actions through the SDK, and SDK events into signals.
//! - [`presence`]: who is in each subscribed channel.
//! - [`sdk`]: the one adapter over the SDK's Rust API.
//! - [`feed`]: the bounded newest-first list behind the feed and the notices.
//! - [`draft`]: the publish box's fields, checked before sending.
//! - [`location`]: the WebSocket URL for the page; [`clock`]: time display.

mod app;
mod clock;
mod components;
mod draft;
mod feed;
mod link;
mod location;
mod presence;
mod sdk;
mod state;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
