//! The embedded in-process broker: the whole cluster is this one node.

use super::{Broker, BrokerError, BrokerHealth, ChannelCount, PublishReceipt, PublishRequest};
use crate::clock::now_millis;
use crate::hub::{CountChange, Hub};
use crate::publication::Publication;
use crate::users::UserCommand;
use futures_util::future::BoxFuture;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

const SHARDS: usize = 64;

/// Delivers straight into the local [`Hub`].
pub struct MemoryBroker {
    hub: Arc<Hub>,
    // Kept for every channel ever published to: a sequence must never restart while the
    // server runs, or a client would take new messages for ones it has already seen.
    sequences: Box<[Mutex<HashMap<String, u64>>]>,
    hasher: RandomState,
}

impl MemoryBroker {
    /// A broker delivering into `hub`.
    pub fn new(hub: Arc<Hub>) -> Self {
        let sequences = (0..SHARDS).map(|_| Mutex::default()).collect();
        Self {
            hub,
            sequences,
            hasher: RandomState::new(),
        }
    }
}

impl Broker for MemoryBroker {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn publish(
        &self,
        request: PublishRequest,
    ) -> BoxFuture<'_, Result<PublishReceipt, BrokerError>> {
        let shard = self.hasher.hash_one(&request.channel) as usize % SHARDS;
        // Held across numbering and delivery, so two publishers on one channel can never
        // deliver out of sequence order.
        let mut sequences = self.sequences[shard].lock();
        let seq = match sequences.get_mut(&request.channel) {
            Some(seq) => {
                *seq += 1;
                *seq
            }
            None => {
                sequences.insert(request.channel.clone(), 1);
                1
            }
        };
        let publication = Publication {
            channel: request.channel,
            seq,
            time: now_millis(),
            data: request.data,
            exclude: request.exclude,
        };
        let subscribers = self.hub.deliver(&publication);
        drop(sequences);
        Box::pin(async move { Ok(PublishReceipt { seq, subscribers }) })
    }

    fn user_command(
        &self,
        user: &str,
        command: UserCommand,
    ) -> BoxFuture<'_, Result<(), BrokerError>> {
        self.hub.users.apply(user, &command);
        Box::pin(async { Ok(()) })
    }

    fn subscribers_changed(&self, channel: &str, change: CountChange) {
        if (change.before == 0) != (change.after == 0) {
            self.hub.announce(channel, |local| local > 0);
        }
    }

    fn is_occupied(&self, _channel: &str, local: usize) -> bool {
        local > 0
    }

    fn channel_counts(&self) -> BoxFuture<'_, Result<Vec<ChannelCount>, BrokerError>> {
        let counts = self.hub.local_counts();
        let counts = counts
            .into_iter()
            .map(|(name, subscribers)| ChannelCount { name, subscribers });
        let counts = counts.collect();
        Box::pin(async move { Ok(counts) })
    }

    fn health(&self) -> BrokerHealth {
        BrokerHealth::Ok
    }
}
