//! Howl's wire protocol.
//!
//! Every frame is a JSON text `{"type": "<event>", "payload": {...}}`. The original events
//! (`initial`, `connect`, `subscribe`, `subscribe_confirmation`, `wisdom_distribution`,
//! `unsubscribe`, `disconnect`, `ping`) are a compatibility contract; everything else is an
//! additive, optional extension. `README.md` beside this crate documents each event with an
//! example.
//!
//! - [`client`]: events a client sends ([`ClientMessage`]).
//! - [`server`]: events the hub sends ([`ServerMessage`]).
//! - [`decode`]: parsing with a precise, typed reason for every rejected frame.
//! - [`error`]: the stable machine-readable error codes.
//! - [`reference`](mod@reference): the `ref` a request may carry and its replies echo.
//! - [`channel`]: channel names, their rules and the default quote channel.
//! - [`close`]: the WebSocket close codes the hub uses.
//! - [`history`]: stream positions and channel history.
//! - [`presence`]: who is in a channel.
//!
//! The crate is plain data (serde only), so it builds for native targets and `wasm32`.

pub mod channel;
pub mod client;
pub mod close;
pub mod decode;
pub mod error;
pub mod history;
pub mod presence;
pub mod reference;
pub mod server;

pub use channel::{validate_channel, ChannelNameError, DEFAULT_CHANNEL, MAX_CHANNEL_LEN};
pub use client::{
    ChannelPayload, ClientMessage, ConnectPayload, IdPayload, PublishPayload, RefreshPayload,
    SubscriptionPayload,
};
pub use decode::{decode_client, decode_server, DecodeError};
pub use error::ErrorCode;
pub use history::{
    HistoryMessage, HistoryMessageRef, HistoryPayload, HistoryResult, HistoryResultRef,
    StreamPosition,
};
pub use presence::{Member, PresenceEvent, PresenceResult};
pub use reference::Ref;
pub use server::{
    ChannelMessage, ChannelStatus, ConfirmationPayload, ErrorPayload, InitialPayload, MessageRef,
    PongPayload, PublishConfirmation, ServerMessage, Status, SubscribedPayload, WisdomPayload,
};
