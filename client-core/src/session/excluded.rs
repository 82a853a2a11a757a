//! This session's own publishes with `exclude_self`: the server numbers them in the channel's
//! stream but does not send them back, so each leaves a hole in the `seq`s this connection
//! receives — a hole that is no gap. The session learns their `seq`s from the publish
//! confirmations (a fire-and-forget publish with `exclude_self` on a channel whose position
//! is tracked carries a `ref` for that) and skips them: in the live stream, in history read
//! to fill a gap, and in what a re-subscription recovers.

use super::ClientSession;
use crate::event::RequestId;
use howl_protocol::{PublishConfirmation, Ref};

impl ClientSession {
    /// The `ref` for a fire-and-forget publish to `channel`: one whose confirmation tells the
    /// `seq` to skip, when it excludes this connection from a channel whose position is
    /// tracked. Call [`ClientSession::own_publish_sent`] once it is sent.
    pub(super) fn own_publish_ref(
        &mut self,
        channel: &str,
        exclude_self: bool,
    ) -> Option<RequestId> {
        (exclude_self && self.streams.contains_key(channel)).then(|| self.next_request_id())
    }

    /// The publish `id` to `channel` (from [`ClientSession::own_publish_ref`]) was sent.
    pub(super) fn own_publish_sent(&mut self, id: RequestId, channel: &str) {
        self.excluded.push((id, channel.to_owned()));
    }

    /// A confirmation of a fire-and-forget publish with `exclude_self`: notes its `seq`;
    /// `false` if it answers none.
    pub(super) fn on_own_confirmation(&mut self, confirmation: &PublishConfirmation) -> bool {
        let Some(index) = self.own_index(confirmation.reference.as_ref()) else {
            return false;
        };
        let (_, channel) = self.excluded.remove(index);
        self.skip_own(&channel, confirmation.seq);
        true
    }

    /// An `error` for such a publish: nothing to skip (the error still goes to the
    /// application, as for any fire-and-forget publish).
    pub(super) fn on_own_error(&mut self, reference: Option<&Ref>) {
        if let Some(index) = self.own_index(reference) {
            self.excluded.remove(index);
        }
    }

    fn own_index(&self, reference: Option<&Ref>) -> Option<usize> {
        let Some(Ref::Int(n)) = reference else {
            return None;
        };
        self.excluded
            .iter()
            .position(|(id, _)| i64::try_from(id.0).ok() == Some(*n))
    }
}
