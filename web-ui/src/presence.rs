//! Who is in each subscribed channel: read once a subscription is confirmed, then kept up to
//! date with `join` and `leave` (channels whose namespace sets `presence` and `join-leave`;
//! `scripts/run` turns both on for the demo).

use crate::sdk::{Member, Presence, View};
use crate::state::{AppState, Here};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Reads who is in `channel` now. A channel without presence (`not_available`) shows nothing.
pub fn read(state: AppState, view: &View, channel: &str) {
    let reply = view.presence(channel);
    let channel = channel.to_owned();
    spawn_local(async move {
        match reply.await {
            Ok(presence) => state.presence.update(|p| {
                p.insert(channel, here(&presence));
            }),
            Err(_) => forget(state, &channel),
        }
    });
}

/// Adds a member who joined `channel` (once: it may be in the answer to [`read`] already).
pub fn joined(state: AppState, channel: &str, member: &Member) {
    state.presence.update(|p| {
        let Some(here) = p.get_mut(channel) else {
            return;
        };
        let known = here
            .members
            .as_ref()
            .is_some_and(|m| m.iter().any(|(client, _)| *client == member.client));
        if known {
            return;
        }
        here.count += 1;
        if let Some(members) = &mut here.members {
            members.push(entry(member));
        }
    });
}

/// Removes a member who left `channel`.
pub fn left(state: AppState, channel: &str, member: &Member) {
    state.presence.update(|p| {
        let Some(here) = p.get_mut(channel) else {
            return;
        };
        here.count = here.count.saturating_sub(1);
        if let Some(members) = &mut here.members {
            members.retain(|(client, _)| *client != member.client);
        }
    });
}

/// Stops showing `channel` (unsubscribed, or no presence there).
pub fn forget(state: AppState, channel: &str) {
    state.presence.update(|p| {
        p.remove(channel);
    });
}

fn here(presence: &Presence) -> Here {
    Here {
        count: presence.count,
        members: presence
            .members
            .as_ref()
            .map(|members| members.iter().map(entry).collect()),
    }
}

fn entry(member: &Member) -> (String, String) {
    let label = match &member.user {
        Some(user) => user.clone(),
        None => member.client.chars().take(8).collect(),
    };
    (member.client.clone(), label)
}
