//! The UI's state: one signal per thing shown, gathered in [`AppState`] (a `Copy` handle
//! shared through Leptos context).

use crate::feed::Bounded;
use crate::sdk::{Connection, ConnectionState};
use leptos::prelude::*;

/// How many messages the live feed keeps.
pub const FEED_CAPACITY: usize = 200;
/// How many action notices each panel keeps.
pub const NOTICE_CAPACITY: usize = 5;

/// One pushed message as the feed shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// The channel it arrived on.
    pub channel: String,
    /// The channel's sequence number (absent for the legacy quote form).
    pub seq: Option<u64>,
    /// When the server accepted it (ms since the epoch), or else when it arrived here.
    pub time_ms: u64,
    /// The data as text: a JSON string shown as is, anything else as compact JSON.
    pub text: String,
    /// Whether the data was something other than a string (shown as code).
    pub is_json: bool,
}

/// The outcome of one user action (subscribe, unsubscribe, publish, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Whether it worked.
    pub ok: bool,
    /// What happened, for humans.
    pub text: String,
}

impl Notice {
    /// A success.
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }

    /// A failure.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            text: text.into(),
        }
    }
}

/// A subscription as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subscription {
    /// The channel.
    pub channel: String,
    /// Whether the server confirmed it on the current connection.
    pub confirmed: bool,
}

/// Who is in a subscribed channel, as the list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Here {
    /// How many connections are subscribed.
    pub count: u64,
    /// Each member's client id and label (its user, or the start of its id), when the server
    /// lists them.
    pub members: Option<Vec<(String, String)>>,
}

/// Every signal of the UI, and the SDK client behind them.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The WebSocket URL the client connects to.
    pub url: RwSignal<String>,
    /// The connection state the SDK reports (closed before the first connect).
    pub connection: RwSignal<ConnectionState>,
    /// The id the server assigned to the current connection.
    pub client_id: RwSignal<Option<String>>,
    /// The reconnect attempt under way or last made since the connection was lost (0 once open).
    pub attempt: RwSignal<u32>,
    /// Successful reconnects since connecting.
    pub reconnects: RwSignal<u64>,
    /// Round-trip time of the last ping, in ms.
    pub rtt_ms: RwSignal<Option<u64>>,
    /// Why the connection was last lost or closed, or a connection-level error.
    pub last_problem: RwSignal<Option<String>>,
    /// The channels the client wants, confirmed or not, sorted by name.
    pub subscriptions: RwSignal<Vec<Subscription>>,
    /// Who is in each subscribed channel whose namespace keeps presence.
    pub presence: RwSignal<std::collections::BTreeMap<String, Here>>,
    /// Outcomes of subscribe and unsubscribe actions.
    pub subscription_notices: RwSignal<Bounded<Notice>>,
    /// Pushed messages, newest first.
    pub feed: RwSignal<Bounded<FeedEntry>>,
    /// The outcome of the last publish.
    pub publish_notice: RwSignal<Option<Notice>>,
    /// The SDK client while connected (a browser object, so stored locally).
    pub client: StoredValue<Option<Connection>, LocalStorage>,
}

impl AppState {
    /// Fresh state for connecting to `url`.
    pub fn new(url: String) -> Self {
        Self {
            url: RwSignal::new(url),
            connection: RwSignal::new(ConnectionState::Closed),
            client_id: RwSignal::new(None),
            attempt: RwSignal::new(0),
            reconnects: RwSignal::new(0),
            rtt_ms: RwSignal::new(None),
            last_problem: RwSignal::new(None),
            subscriptions: RwSignal::new(Vec::new()),
            presence: RwSignal::new(std::collections::BTreeMap::new()),
            subscription_notices: RwSignal::new(Bounded::new(NOTICE_CAPACITY)),
            feed: RwSignal::new(Bounded::new(FEED_CAPACITY)),
            publish_notice: RwSignal::new(None),
            client: StoredValue::new_local(None),
        }
    }

    /// Records the outcome of a subscribe or unsubscribe.
    pub fn subscription_notice(&self, notice: Notice) {
        self.subscription_notices.update(|n| n.push(notice));
    }
}
