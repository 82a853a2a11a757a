//! The publish box: channel, message, exclude-self toggle; the outcome shown inline.

use crate::components::notice_view::NoticeLine;
use crate::draft::Draft;
use crate::link;
use crate::state::AppState;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

/// The publish section.
#[component]
pub fn PublishPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let channel = RwSignal::new("chat".to_owned());
    let message = RwSignal::new(String::new());
    let as_json = RwSignal::new(false);
    let exclude_self = RwSignal::new(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let draft = Draft {
            channel: channel.get_untracked(),
            text: message.get_untracked(),
            as_json: as_json.get_untracked(),
            exclude_self: exclude_self.get_untracked(),
        };
        let sent = link::publish(state, &draft);
        if sent {
            message.set(String::new());
        }
    };
    view! {
        <section class="panel publish" aria-labelledby="publish-title">
            <div class="panel-head">
                <h2 id="publish-title">"Publish"</h2>
            </div>
            <form id="publish-form" class="stacked-form" on:submit=on_submit>
                <label for="publish-channel">"Channel"</label>
                <input
                    id="publish-channel"
                    type="text"
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=move || channel.get()
                    on:input=move |ev| channel.set(event_target_value(&ev))
                />
                <label for="publish-message">"Message"</label>
                <textarea
                    id="publish-message"
                    rows="3"
                    placeholder=move || {
                        if as_json.get() { "Any JSON value, e.g. {\"n\": 1}" } else { "Sent as a JSON string" }
                    }
                    prop:value=move || message.get()
                    on:input=move |ev| message.set(event_target_value(&ev))
                ></textarea>
                <label class="check">
                    <input
                        id="publish-as-json"
                        type="checkbox"
                        prop:checked=move || as_json.get()
                        on:change=move |ev| as_json.set(event_target_checked(&ev))
                    />
                    "Send as JSON (parse the message)"
                </label>
                <label class="check">
                    <input
                        id="publish-exclude-self"
                        type="checkbox"
                        prop:checked=move || exclude_self.get()
                        on:change=move |ev| exclude_self.set(event_target_checked(&ev))
                    />
                    "Exclude myself (do not echo to this page)"
                </label>
                <div class="actions">
                    <button id="publish" type="submit">"Publish"</button>
                </div>
            </form>
            <div id="publish-notice">
                {move || state.publish_notice.get().map(|notice| view! { <NoticeLine notice=notice/> })}
            </div>
        </section>
    }
}
