//! The application's token callbacks, and running them when the session asks.
//!
//! The session asks for a token with an output ([`howl_client_core::Output::GetToken`],
//! [`howl_client_core::Output::GetSubscriptionToken`]); the driver turns each into a task on the
//! page's microtask queue that calls the callback, awaits its future and hands the answer
//! back. The callback therefore never runs inside the driver's own borrows, and may call
//! back into the client.

use crate::driver::Engine;
use crate::platform;
use howl_client_core::TokenRequestId;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

/// A connection token, or why there is none (a reason for the application, never a token).
pub(crate) type TokenFuture = Pin<Box<dyn Future<Output = Result<String, String>>>>;

/// A subscription token, `None` when the channel needs none, or why there is none.
pub(crate) type SubscriptionTokenFuture =
    Pin<Box<dyn Future<Output = Result<Option<String>, String>>>>;

/// `get_token`: called before every connection attempt and before the token expires.
pub(crate) type GetToken = Rc<dyn Fn() -> TokenFuture>;

/// `get_subscription_token(channel)`: called before every subscribe.
pub(crate) type GetSubscriptionToken = Rc<dyn Fn(String) -> SubscriptionTokenFuture>;

/// The callbacks a client was built with.
#[derive(Clone, Default)]
pub(crate) struct TokenCallbacks {
    pub(crate) get_token: Option<GetToken>,
    pub(crate) get_subscription_token: Option<GetSubscriptionToken>,
}

/// A token the session asked for.
pub(crate) enum TokenJob {
    /// A connection token.
    Connection(TokenRequestId),
    /// A subscription token for a channel.
    Subscription(TokenRequestId, String),
}

impl TokenJob {
    /// Calls the callback on the microtask queue and hands its answer to the session, if the
    /// engine still exists. A session only asks for what it was configured with, and the
    /// builder refuses a configuration without its callback; should one be missing anyway,
    /// the answer says so.
    pub(crate) fn run(self, callbacks: &TokenCallbacks, engine: Weak<Engine>) {
        match self {
            Self::Connection(request) => {
                let get = callbacks.get_token.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let token = match get {
                        Some(get) => get().await,
                        None => Err("no get_token callback".to_owned()),
                    };
                    if let Some(engine) = engine.upgrade() {
                        engine.input(|s, now| {
                            s.provide_token(request, token, now, platform::unix_ms())
                        });
                    }
                });
            }
            Self::Subscription(request, channel) => {
                let get = callbacks.get_subscription_token.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let token = match get {
                        Some(get) => get(channel).await,
                        None => Err("no get_subscription_token callback".to_owned()),
                    };
                    if let Some(engine) = engine.upgrade() {
                        engine.input(|s, now| s.provide_subscription_token(request, token, now));
                    }
                });
            }
        }
    }
}
