//! Connection: state, client id, reconnect attempts, last ping round trip, and the
//! connect/disconnect buttons.

use crate::link;
use crate::sdk::ConnectionState;
use crate::state::AppState;
use leptos::prelude::*;

/// The connection section.
#[component]
pub fn ConnectionPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let connection = state.connection;
    let closed = move || connection.get() == ConnectionState::Closed;
    view! {
        <section class="panel connection" aria-labelledby="connection-title">
            <div class="panel-head">
                <h2 id="connection-title">"Connection"</h2>
                <span id="conn-state" class="badge" data-state=move || connection.get().as_str()>
                    {move || connection.get().as_str()}
                </span>
            </div>
            <dl class="facts">
                <dt>"Server"</dt>
                <dd><code id="conn-url">{move || state.url.get()}</code></dd>
                <dt>"Client id"</dt>
                <dd>
                    <code id="client-id">{move || state.client_id.get().unwrap_or_else(|| "—".into())}</code>
                </dd>
                <dt>"Reconnect attempt"</dt>
                <dd id="reconnect-attempt">{move || state.attempt.get().to_string()}</dd>
                <dt>"Reconnects"</dt>
                <dd id="reconnects">{move || state.reconnects.get().to_string()}</dd>
                <dt>"Last ping RTT"</dt>
                <dd id="ping-rtt">
                    {move || state.rtt_ms.get().map_or_else(|| "—".to_owned(), |ms| format!("{ms} ms"))}
                </dd>
            </dl>
            <Show when=move || state.last_problem.get().is_some()>
                <p id="conn-problem" class="notice warn" role="status">
                    {move || state.last_problem.get().unwrap_or_default()}
                </p>
            </Show>
            <div class="actions">
                <button id="connect" type="button" disabled=move || !closed() on:click=move |_| link::connect(state)>
                    "Connect"
                </button>
                <button id="disconnect" type="button" class="secondary" disabled=closed on:click=move |_| link::disconnect(state)>
                    "Disconnect"
                </button>
            </div>
        </section>
    }
}
