//! The UI's link to Howl: the user's actions (connect, subscribe, publish, …) carried out
//! through the SDK adapter, and the SDK's events turned into signal updates.

use crate::draft::Draft;
use crate::sdk::{Connection, ConnectionState, Event, Message, View, DEFAULT_CHANNEL};
use crate::state::{AppState, FeedEntry, Notice, Subscription};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

/// Connects to the page's Howl and subscribes to the quote channel, unless a connection is
/// already open or being made.
pub fn connect(state: AppState) {
    let active = state.client.with_value(|c| {
        c.as_ref()
            .is_some_and(|c| c.state() != ConnectionState::Closed)
    });
    if active {
        return;
    }
    // Drop a closed client outside the storage borrow (dropping runs its last events).
    let closed = state.client.try_update_value(Option::take).flatten();
    drop(closed);
    state.client_id.set(None);
    state.attempt.set(0);
    state.reconnects.set(0);
    state.rtt_ms.set(None);
    state.last_problem.set(None);
    state.subscriptions.set(Vec::new());

    let url = state.url.get_untracked();
    match Connection::open(&url, move |event, view| apply(state, event, view)) {
        Ok(connection) => {
            state.connection.set(connection.state());
            state.client.set_value(Some(connection));
            subscribe(state, None);
        }
        Err(e) => state
            .last_problem
            .set(Some(format!("Cannot connect to {url}: {e}"))),
    }
}

/// Disconnects for good (the SDK sends `disconnect` and closes with 1000).
pub fn disconnect(state: AppState) {
    let connection = state.client.try_update_value(Option::take).flatten();
    if let Some(connection) = connection {
        connection.disconnect();
    }
}

/// Subscribes to `channel` (`None`: the quote channel) and notes the outcome.
pub fn subscribe(state: AppState, channel: Option<String>) {
    let label = channel
        .clone()
        .unwrap_or_else(|| DEFAULT_CHANNEL.to_owned());
    let reply = state
        .client
        .with_value(|c| c.as_ref().map(|c| c.subscribe(channel.as_deref())));
    let Some(reply) = reply else {
        state.subscription_notice(Notice::error(format!(
            "Cannot subscribe to {label}: not connected (press Connect)"
        )));
        return;
    };
    refresh_subscriptions(state);
    spawn_local(async move {
        let notice = match reply.await {
            Ok(()) => Notice::ok(format!("Subscribed to {label}")),
            Err(e) => Notice::error(format!("Subscribe to {label} failed: {e}")),
        };
        state.subscription_notice(notice);
        refresh_subscriptions(state);
    });
}

/// Unsubscribes from `channel` (`None`: the quote channel) and notes the outcome.
pub fn unsubscribe(state: AppState, channel: Option<String>) {
    let label = channel
        .clone()
        .unwrap_or_else(|| DEFAULT_CHANNEL.to_owned());
    let reply = state
        .client
        .with_value(|c| c.as_ref().map(|c| c.unsubscribe(channel.as_deref())));
    let Some(reply) = reply else {
        state.subscription_notice(Notice::error(format!(
            "Cannot unsubscribe from {label}: not connected"
        )));
        return;
    };
    refresh_subscriptions(state);
    spawn_local(async move {
        let notice = match reply.await {
            Ok(()) => Notice::ok(format!("Unsubscribed from {label}")),
            Err(e) => Notice::error(format!("Unsubscribe from {label} failed: {e}")),
        };
        state.subscription_notice(notice);
        refresh_subscriptions(state);
    });
}

/// Publishes what the publish box holds; returns whether it was sent. The outcome, or why
/// not, goes to the publish box.
pub fn publish(state: AppState, draft: &Draft) -> bool {
    let result = draft.to_publication().and_then(|(channel, data)| {
        state.client.with_value(|c| match c {
            Some(c) => c
                .publish(channel, data, draft.exclude_self)
                .map(|()| channel)
                .map_err(|e| format!("Not published: {e}")),
            None => Err("Not published: not connected (press Connect).".to_owned()),
        })
    });
    let sent = result.is_ok();
    state.publish_notice.set(Some(match result {
        Ok(channel) if draft.exclude_self => {
            Notice::ok(format!("Published to {channel} (not echoed here)"))
        }
        Ok(channel) => Notice::ok(format!("Published to {channel}")),
        Err(e) => Notice::error(e),
    }));
    sent
}

/// Empties the live feed.
pub fn clear_feed(state: AppState) {
    state.feed.update(|f| f.clear());
}

/// Applies one SDK event to the signals. Runs inside the SDK's dispatch, so it reads the
/// client only through `view`, never through `state.client`.
fn apply(state: AppState, event: &Event, view: &View) {
    match event {
        Event::StateChanged(new) => {
            let old = state.connection.get_untracked();
            state.connection.set(*new);
            state.client_id.set(view.id());
            if *new == ConnectionState::Open {
                state.attempt.set(0);
                state.last_problem.set(None);
                if old == ConnectionState::Reconnecting {
                    state.reconnects.update(|n| *n += 1);
                }
            }
            if *new == ConnectionState::Closed {
                // A closed client is finished: its subscriptions went with it.
                set_subscriptions(state, Vec::new());
            } else {
                set_subscriptions(state, view.subscriptions());
            }
        }
        Event::Message(message) => {
            state.feed.update(|f| f.push(feed_entry(message)));
            // The SDK reports no event when a re-subscription after a reconnect is
            // confirmed; traffic (and each pong, below) is when to look again.
            if state
                .subscriptions
                .with_untracked(|subs| subs.iter().any(|s| !s.confirmed))
            {
                set_subscriptions(state, view.subscriptions());
            }
        }
        Event::RequestDone { .. } => set_subscriptions(state, view.subscriptions()),
        Event::SubscriptionFailed { channel, error } => {
            state.subscription_notice(Notice::error(format!(
                "Re-subscribing to {channel} after reconnecting failed: {error}"
            )));
            set_subscriptions(state, view.subscriptions());
        }
        // Each confirmation (after every reconnect too) is when to read who is there.
        Event::SubscriptionConfirmed { channel, .. } => crate::presence::read(state, view, channel),
        Event::SubscriptionEnded { channel } => crate::presence::forget(state, channel),
        // This UI publishes fire-and-forget; refusals arrive as `ServerError` below.
        Event::ChannelStatus { .. } | Event::PublishDone { .. } => {}
        Event::ServerError(error) if error.request.as_deref() == Some("publish") => {
            state.publish_notice.set(Some(Notice::error(format!(
                "The server refused the message ({}): {}",
                error.code.as_str(),
                error.message
            ))));
        }
        Event::ServerError(error) => state.last_problem.set(Some(format!(
            "Server error ({}): {}",
            error.code.as_str(),
            error.message
        ))),
        Event::Pong { rtt_ms, .. } => {
            state.rtt_ms.set(Some(*rtt_ms));
            set_subscriptions(state, view.subscriptions());
        }
        Event::ConnectionLost(reason) => {
            state.client_id.set(None);
            state
                .last_problem
                .set(Some(format!("Connection lost: {reason}")));
            set_subscriptions(state, view.subscriptions());
        }
        Event::ReconnectScheduled { attempt, .. } => state.attempt.set(*attempt),
        Event::Closed(reason) => {
            state.client_id.set(None);
            state.last_problem.set(Some(format!("Closed: {reason}")));
        }
        Event::ProtocolViolation(what) => state
            .last_problem
            .set(Some(format!("Ignored a bad frame from the server: {what}"))),
        // The demo connects without tokens (open mode); shown should a hub ask for one.
        Event::TokenUnavailable(reason) => state
            .last_problem
            .set(Some(format!("No connection token: {reason}"))),
        // Server-side subscriptions (a token's channels) are not listed by the demo; one the
        // server ends may leave the set.
        Event::Subscribed { .. } => {}
        Event::Unsubscribed { .. } => set_subscriptions(state, view.subscriptions()),
        // The SDK recovers missed messages after a reconnect; say so when it could not.
        Event::Gap { channel, .. } => state.last_problem.set(Some(format!(
            "Some messages of {channel} were lost while reconnecting"
        ))),
        Event::Join { channel, member } => crate::presence::joined(state, channel, member),
        Event::Leave { channel, member } => crate::presence::left(state, channel, member),
        // The demo reads no history; presence answers arrive through their own futures.
        Event::HistoryDone { .. } | Event::PresenceDone { .. } => {}
    }
}

fn feed_entry(message: &Message) -> FeedEntry {
    FeedEntry {
        channel: message.channel.clone(),
        seq: Some(message.seq),
        time_ms: message.time,
        text: match &message.data {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        },
        is_json: !message.data.is_string(),
    }
}

/// Re-reads the subscription set from the client (outside the SDK's dispatch).
fn refresh_subscriptions(state: AppState) {
    let set = state
        .client
        .with_value(|c| c.as_ref().map(Connection::subscriptions));
    set_subscriptions(state, set.unwrap_or_default());
}

fn set_subscriptions(state: AppState, set: Vec<(String, bool)>) {
    let mut list: Vec<Subscription> = set
        .into_iter()
        .map(|(channel, confirmed)| Subscription { channel, confirmed })
        .collect();
    list.sort();
    if state.subscriptions.with_untracked(|old| *old != list) {
        state.subscriptions.set(list);
    }
}
