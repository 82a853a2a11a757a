//! Subscriptions: the quote channel and any named channel, the current set, and the outcome
//! of each action.

use crate::components::notice_view::NoticeLine;
use crate::link;
use crate::sdk::DEFAULT_CHANNEL;
use crate::state::{AppState, Subscription};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

/// The subscriptions section.
#[component]
pub fn SubscriptionsPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let channel = RwSignal::new(String::new());
    let has_quotes = move || {
        state
            .subscriptions
            .with(|subs| subs.iter().any(|s| s.channel == DEFAULT_CHANNEL))
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let name = channel.get_untracked().trim().to_owned();
        if name.is_empty() {
            state.subscription_notice(crate::state::Notice::error("Enter a channel name."));
            return;
        }
        link::subscribe(state, Some(name));
        channel.set(String::new());
    };
    view! {
        <section class="panel subscriptions" aria-labelledby="subscriptions-title">
            <div class="panel-head">
                <h2 id="subscriptions-title">"Subscriptions"</h2>
            </div>
            <div class="actions pair">
                <button id="subscribe-quotes" type="button" disabled=has_quotes on:click=move |_| link::subscribe(state, None)>
                    "Subscribe quotes"
                </button>
                <button id="unsubscribe-quotes" type="button" class="secondary" disabled=move || !has_quotes() on:click=move |_| link::unsubscribe(state, None)>
                    "Unsubscribe quotes"
                </button>
            </div>
            <form id="subscribe-form" class="inline-form" on:submit=on_submit>
                <label for="subscribe-channel">"Channel"</label>
                <div class="row">
                    <input
                        id="subscribe-channel"
                        type="text"
                        placeholder="e.g. news"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || channel.get()
                        on:input=move |ev| channel.set(event_target_value(&ev))
                    />
                    <button id="subscribe" type="submit">"Subscribe"</button>
                </div>
            </form>
            <Show
                when=move || state.subscriptions.with(|s| !s.is_empty())
                fallback=|| view! { <p class="empty">"No subscriptions."</p> }
            >
                <ul id="subscriptions" class="sub-list">
                    <For
                        each=move || state.subscriptions.get()
                        key=|s| s.clone()
                        children=move |s| view! { <SubscriptionItem subscription=s/> }
                    />
                </ul>
            </Show>
            <ul id="subscription-notices" class="notices" aria-live="polite">
                <For
                    each=move || state.subscription_notices.with(|n| n.iter().cloned().collect::<Vec<_>>())
                    key=|n| n.key
                    children=move |n| view! { <li><NoticeLine notice=n.value/></li> }
                />
            </ul>
        </section>
    }
}

/// One subscribed channel, whether the server confirmed it, who is in it, and its
/// unsubscribe button.
#[component]
fn SubscriptionItem(subscription: Subscription) -> impl IntoView {
    let state = expect_context::<AppState>();
    let Subscription { channel, confirmed } = subscription;
    let target = channel.clone();
    let channel_attr = channel.clone();
    let here_of = channel.clone();
    // "3 here: alice, 5f2c9a1e, you" — or only the count when the server lists no names.
    let here = move || {
        let own = state.client_id.get();
        state.presence.with(|p| {
            p.get(&here_of).map(|here| {
                let names = here.members.as_ref().map(|members| {
                    let label = |(client, label): &(String, String)| {
                        if Some(client) == own.as_ref() {
                            "you".to_owned()
                        } else {
                            label.clone()
                        }
                    };
                    members.iter().map(label).collect::<Vec<_>>().join(", ")
                });
                match names {
                    Some(names) => format!("{} here: {names}", here.count),
                    None => format!("{} here", here.count),
                }
            })
        })
    };
    view! {
        <li class="subscription" data-channel=channel_attr data-confirmed=confirmed.to_string()>
            <code class="channel">{channel}</code>
            <span class="pill" class:pending=!confirmed>
                {if confirmed { "confirmed" } else { "pending" }}
            </span>
            <span class="presence">{here}</span>
            <button
                type="button"
                class="link unsubscribe"
                on:click=move |_| link::unsubscribe(state, Some(target.clone()))
            >
                "Unsubscribe"
            </button>
        </li>
    }
}
