//! The one module that touches the browser SDK (`howl-client-wasm`): the rest of the UI uses
//! only what is re-exported or wrapped here, so an SDK change stays in this file.

use howl_client_wasm::{Client, ListenerId};
use std::future::Future;

pub use howl_client_wasm::{
    ClientConfig, ConnectionState, Error, Event, Member, Message, Presence, DEFAULT_CHANNEL,
};

/// One SDK client and the listener through which the UI follows it.
pub struct Connection {
    client: Client,
    listener: ListenerId,
}

impl Connection {
    /// Starts connecting to `url` with the SDK's defaults (pings every 5 s, reconnect with
    /// backoff forever) and returns at once; `on_event` sees every session event from now on,
    /// with a [`View`] to read the client's state while handling it.
    pub fn open(
        url: &str,
        mut on_event: impl FnMut(&Event, &View) + 'static,
    ) -> Result<Self, Error> {
        let client = Client::new(url, ClientConfig::default())?;
        // The listener holds a handle on the client; the SDK drops its listeners once closed
        // (disconnect, or on drop of this Connection), which ends that cycle.
        let view = View {
            client: client.clone(),
        };
        let listener = client.on_event(move |event| on_event(event, &view));
        Ok(Self { client, listener })
    }

    /// The connection state now (events before [`Connection::open`] returned are not seen by
    /// its listener).
    pub fn state(&self) -> ConnectionState {
        self.client.state()
    }

    /// The subscription set: each channel and whether the current connection confirmed it.
    pub fn subscriptions(&self) -> Vec<(String, bool)> {
        self.client.subscriptions()
    }

    /// Subscribes to `channel` (`None`: the quote channel); resolves on the server's answer.
    pub fn subscribe(
        &self,
        channel: Option<&str>,
    ) -> impl Future<Output = Result<(), Error>> + 'static {
        self.client.subscribe(channel)
    }

    /// Unsubscribes from `channel` (`None`: the quote channel); resolves on the server's
    /// answer.
    pub fn unsubscribe(
        &self,
        channel: Option<&str>,
    ) -> impl Future<Output = Result<(), Error>> + 'static {
        self.client.unsubscribe(channel)
    }

    /// Publishes `data` to `channel`; a refusal by the server arrives later as
    /// [`Event::ServerError`].
    pub fn publish(
        &self,
        channel: &str,
        data: serde_json::Value,
        exclude_self: bool,
    ) -> Result<(), Error> {
        self.client.publish(channel, data, exclude_self)
    }

    /// Disconnects for good; the listener sees the final events, then is released.
    pub fn disconnect(&self) {
        self.client.disconnect();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // A client keeps itself alive until closed; make sure a dropped one stops too.
        self.client.disconnect();
        self.client.off(self.listener);
    }
}

/// Read access to a client from inside its event listener.
pub struct View {
    client: Client,
}

impl View {
    /// The id the server assigned to the current connection.
    pub fn id(&self) -> Option<String> {
        self.client.id()
    }

    /// The subscription set: each channel and whether the current connection confirmed it.
    pub fn subscriptions(&self) -> Vec<(String, bool)> {
        self.client.subscriptions()
    }

    /// Who is subscribed to `channel` (fails with `not_available` when its namespace keeps
    /// no presence).
    pub fn presence(
        &self,
        channel: &str,
    ) -> impl Future<Output = Result<Presence, Error>> + 'static {
        self.client.presence(channel)
    }
}
