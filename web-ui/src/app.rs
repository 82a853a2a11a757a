//! The page: header, the four sections, footer. Connects on load and subscribes to the quote
//! channel, so opening the page shows wolf wisdom arriving.

use crate::components::{ConnectionPanel, FeedPanel, PublishPanel, SubscriptionsPanel};
use crate::link;
use crate::location;
use crate::state::AppState;
use leptos::prelude::*;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let url = location::page_ws_url().unwrap_or_else(|| location::WS_PATH.to_owned());
    let state = AppState::new(url);
    provide_context(state);
    link::connect(state);
    on_cleanup(move || link::disconnect(state));
    view! {
        <header class="topbar">
            <div class="brand">
                <span class="mark" aria-hidden="true">"H"</span>
                <div>
                    <h1>"Howl"</h1>
                    <p class="tagline">"Real-time pub/sub over WebSocket — live demo"</p>
                </div>
            </div>
        </header>
        <main class="layout">
            <div class="side">
                <ConnectionPanel/>
                <SubscriptionsPanel/>
                <PublishPanel/>
            </div>
            <FeedPanel/>
        </main>
        <footer class="footer">
            <a href="/healthz">"Health"</a>
            <a href="/metrics">"Metrics"</a>
            <a href="/api/channels">"Channels"</a>
        </footer>
    }
}
