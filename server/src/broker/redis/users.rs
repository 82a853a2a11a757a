//! Server API user commands across the cluster: the node that receives the API call
//! `PUBLISH`es the command on `<prefix>!users`, which every node listens to, and applies it to
//! its own connections; the other nodes apply it when it arrives.
//!
//! Payload: `{"howl":1,"node":"<id>","user":"<user>","op":"subscribe","channel":"..."}`
//! (`op` is `subscribe`, `unsubscribe` or `disconnect`; see `docs/cluster.md`).

use super::Shared;
use crate::broker::BrokerError;
use crate::users::UserCommand;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering::Relaxed;
use tracing::warn;

/// The envelope version this node writes and reads.
const VERSION: u64 = 1;

#[derive(Serialize, Deserialize)]
struct Envelope {
    howl: u64,
    node: String,
    user: String,
    #[serde(flatten)]
    command: UserCommand,
}

/// Publishes `command` for `user` to every node, then applies it to this node's connections.
pub(super) async fn send(
    shared: &Shared,
    user: &str,
    command: UserCommand,
) -> Result<(), BrokerError> {
    let Some(mut connection) = shared.link.connection() else {
        return Err(BrokerError::Unavailable("no connection to Redis".into()));
    };
    let envelope = Envelope {
        howl: VERSION,
        node: shared.settings.node_id.clone(),
        user: user.to_owned(),
        command,
    };
    let payload = serde_json::to_string(&envelope).expect("a user command encodes");
    connection
        .publish::<_, _, ()>(&shared.keys.users, payload)
        .await
        .map_err(|e| BrokerError::Unavailable(e.to_string()))?;
    shared.hub.users.apply(user, &envelope.command);
    Ok(())
}

/// Applies a command another node published (this node's own were applied when sent).
pub(super) fn receive(shared: &Shared, payload: &[u8]) {
    match serde_json::from_slice::<Envelope>(payload) {
        Ok(envelope) if envelope.howl == VERSION => {
            if envelope.node != shared.settings.node_id {
                shared.metrics.user_commands.fetch_add(1, Relaxed);
                shared.hub.users.apply(&envelope.user, &envelope.command);
            }
        }
        Ok(envelope) => {
            shared.metrics.broker_invalid_payloads.fetch_add(1, Relaxed);
            warn!(
                version = envelope.howl,
                "dropped a user command of an unknown envelope version"
            );
        }
        Err(error) => {
            shared.metrics.broker_invalid_payloads.fetch_add(1, Relaxed);
            warn!(%error, "dropped an unreadable user command from Redis");
        }
    }
}
