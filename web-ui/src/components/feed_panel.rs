//! The live feed: pushed messages newest first, with channel, time and sequence number;
//! bounded, with a clear button.

use crate::clock;
use crate::link;
use crate::state::{AppState, FeedEntry};
use leptos::prelude::*;

/// The live feed section.
#[component]
pub fn FeedPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let counts = move || {
        state.feed.with(|f| {
            format!(
                "{} shown (last {} kept) · {} received",
                f.len(),
                f.capacity(),
                f.total()
            )
        })
    };
    view! {
        <section class="panel feed" aria-labelledby="feed-title">
            <div class="panel-head">
                <h2 id="feed-title">"Live feed"</h2>
                <span id="feed-count" class="muted">{counts}</span>
                <button id="clear-feed" type="button" class="secondary" on:click=move |_| link::clear_feed(state)>
                    "Clear"
                </button>
            </div>
            <Show
                when=move || state.feed.with(|f| !f.is_empty())
                fallback=|| view! { <p class="empty">"Messages appear here as they arrive."</p> }
            >
                <ol id="feed" class="feed-list">
                    <For
                        each=move || state.feed.with(|f| f.iter().cloned().collect::<Vec<_>>())
                        key=|entry| entry.key
                        children=move |entry| view! { <FeedItem entry=entry.value/> }
                    />
                </ol>
            </Show>
        </section>
    }
}

/// One message.
#[component]
fn FeedItem(entry: FeedEntry) -> impl IntoView {
    let FeedEntry {
        channel,
        seq,
        time_ms,
        text,
        is_json,
    } = entry;
    let seq_text = seq.map_or_else(|| "—".to_owned(), |s| format!("#{s}"));
    let seq_attr = seq.map(|s| s.to_string()).unwrap_or_default();
    let channel_attr = channel.clone();
    view! {
        <li class="message" data-channel=channel_attr data-seq=seq_attr>
            <div class="meta">
                <span class="channel">{channel}</span>
                <time>{clock::local_time(time_ms)}</time>
                <span class="seq">{seq_text}</span>
            </div>
            <p class="text" class:json=is_json>{text}</p>
        </li>
    }
}
