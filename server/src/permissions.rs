//! Who may subscribe and publish where: channel namespaces with their rules, personal
//! channels, and the quote channel only the distributor and the server API publish to.
//!
//! The namespace of channel `ns:rest` is `ns`; a channel without `:` is in the default
//! namespace `""`. Each namespace may set `subscribe` and `publish` rules (TOML
//! `[[namespaces]]`); what it leaves out takes the mode's default: anyone/anyone in open mode,
//! authenticated/nobody in secured mode. A channel `#alice` or `ns:room#alice,bob` is
//! personal: only the users listed after `#` may join it.

use howl_protocol::DEFAULT_CHANNEL;
use serde::Deserialize;
use std::collections::HashMap;

/// Who may subscribe to a namespace's channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscribeRule {
    /// Every connection.
    Anyone,
    /// Connections with a valid connection token (secured mode).
    Authenticated,
    /// Connections presenting a subscription token for the channel.
    Token,
}

/// Which clients may publish to a namespace's channels (the server API always may).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishRule {
    /// No client.
    Nobody,
    /// Connections subscribed to the channel.
    Subscribers,
    /// Connections with a valid connection token (secured mode).
    Authenticated,
    /// Every connection.
    Anyone,
}

/// One `[[namespaces]]` table of the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Namespace {
    /// The namespace (`""` for channels without `:`).
    pub name: String,
    /// Who may subscribe; the mode's default when absent.
    pub subscribe: Option<SubscribeRule>,
    /// Who may publish; the mode's default when absent.
    pub publish: Option<PublishRule>,
    /// Messages kept per channel (0: no history); 100 when absent.
    pub history_size: Option<usize>,
    /// Seconds a channel's history is kept after its last publish; 300 when absent.
    pub history_ttl: Option<u64>,
    /// Whether the channels keep presence (who is subscribed); false when absent.
    pub presence: Option<bool>,
    /// Whether subscribers receive `join` and `leave` events (needs `presence`).
    pub join_leave: Option<bool>,
    /// Members listed in a presence answer at most (above it, only the count); 1,000 when
    /// absent.
    pub presence_max_members: Option<usize>,
}

/// What a connection asks to do, and what is known about it.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    /// The authenticated user, in secured mode.
    pub user: Option<&'a str>,
    /// Whether the connection is subscribed to the channel.
    pub subscribed: bool,
}

/// Why a request was denied (the `permission_denied` message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// Only the distributor and the server API publish quotes.
    #[error("only the server publishes to \"{DEFAULT_CHANNEL}\"")]
    QuoteChannel,
    /// A personal channel of other users.
    #[error("a personal channel: only the users listed after '#' may join it")]
    NotListed,
    /// The namespace needs a connection token.
    #[error("this channel needs an authenticated connection")]
    NotAuthenticated,
    /// The namespace needs a subscription token.
    #[error("this channel needs a subscription token")]
    NeedsToken,
    /// Clients may not publish here.
    #[error("clients may not publish to this channel")]
    NoClientPublish,
    /// Only subscribers may publish here.
    #[error("only subscribers may publish to this channel")]
    NotSubscribed,
}

/// The rules of every namespace, for one mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    default: (SubscribeRule, PublishRule),
    namespaces: HashMap<String, (SubscribeRule, PublishRule)>,
}

impl Default for Permissions {
    /// Open mode with no namespace configured.
    fn default() -> Self {
        Self::new(false, &[])
    }
}

/// The namespace of `channel`: what comes before its first `:`, or `""`.
pub fn namespace_of(channel: &str) -> &str {
    channel.split_once(':').map_or("", |(ns, _)| ns)
}

/// The users a personal channel is for (after its `#`), or `None` for an ordinary channel.
pub fn personal_users(channel: &str) -> Option<impl Iterator<Item = &str>> {
    channel
        .split_once('#')
        .map(|(_, users)| users.split(',').filter(|u| !u.is_empty()))
}

impl Permissions {
    /// The rules for secured (`true`) or open mode, with `namespaces` from the config file.
    pub fn new(secured: bool, namespaces: &[Namespace]) -> Self {
        let default = if secured {
            (SubscribeRule::Authenticated, PublishRule::Nobody)
        } else {
            (SubscribeRule::Anyone, PublishRule::Anyone)
        };
        let namespaces = namespaces
            .iter()
            .map(|ns| {
                let rules = (
                    ns.subscribe.unwrap_or(default.0),
                    ns.publish.unwrap_or(default.1),
                );
                (ns.name.clone(), rules)
            })
            .collect();
        Self {
            default,
            namespaces,
        }
    }

    fn rules(&self, channel: &str) -> (SubscribeRule, PublishRule) {
        self.namespaces
            .get(namespace_of(channel))
            .copied()
            .unwrap_or(self.default)
    }

    /// Whether `asker` may subscribe to `channel`. `Ok(true)` means only with a valid
    /// subscription token for the channel.
    pub fn may_subscribe(&self, channel: &str, asker: Asker<'_>) -> Result<bool, Denial> {
        if let Some(mut users) = personal_users(channel) {
            let user = asker.user.ok_or(Denial::NotListed)?;
            return users
                .any(|u| u == user)
                .then_some(false)
                .ok_or(Denial::NotListed);
        }
        match self.rules(channel).0 {
            SubscribeRule::Anyone => Ok(false),
            SubscribeRule::Authenticated if asker.user.is_some() => Ok(false),
            SubscribeRule::Authenticated => Err(Denial::NotAuthenticated),
            SubscribeRule::Token => Ok(true),
        }
    }

    /// Whether `asker` (a client; the server API is not asked) may publish to `channel`.
    pub fn may_publish(&self, channel: &str, asker: Asker<'_>) -> Result<(), Denial> {
        if channel == DEFAULT_CHANNEL {
            return Err(Denial::QuoteChannel);
        }
        match self.rules(channel).1 {
            PublishRule::Anyone => Ok(()),
            PublishRule::Nobody => Err(Denial::NoClientPublish),
            PublishRule::Authenticated if asker.user.is_some() => Ok(()),
            PublishRule::Authenticated => Err(Denial::NotAuthenticated),
            PublishRule::Subscribers if asker.subscribed => Ok(()),
            PublishRule::Subscribers => Err(Denial::NotSubscribed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANON: Asker<'static> = Asker {
        user: None,
        subscribed: false,
    };

    fn alice(subscribed: bool) -> Asker<'static> {
        Asker {
            user: Some("alice"),
            subscribed,
        }
    }

    #[test]
    fn namespaces_and_personal_channels_are_read_from_the_name() {
        assert_eq!(namespace_of("chat:room"), "chat");
        assert_eq!(namespace_of("news"), "");
        assert_eq!(namespace_of("ns:room#alice,bob"), "ns");
        let users: Vec<_> = personal_users("ns:room#alice,bob").unwrap().collect();
        assert_eq!(users, ["alice", "bob"]);
        assert!(personal_users("news").is_none());
    }

    #[test]
    fn open_mode_allows_everything_but_quotes() {
        let p = Permissions::default();
        assert_eq!(p.may_subscribe("news", ANON), Ok(false));
        assert_eq!(p.may_publish("news", ANON), Ok(()));
        assert_eq!(p.may_publish("wisdom", ANON), Err(Denial::QuoteChannel));
        assert_eq!(p.may_subscribe("#alice", ANON), Err(Denial::NotListed));
    }

    #[test]
    fn secured_defaults_and_namespace_rules() {
        let p = Permissions::new(
            true,
            &[
                Namespace {
                    name: "chat".into(),
                    subscribe: Some(SubscribeRule::Anyone),
                    publish: Some(PublishRule::Subscribers),
                    ..Namespace::default()
                },
                Namespace {
                    name: "vip".into(),
                    subscribe: Some(SubscribeRule::Token),
                    ..Namespace::default()
                },
            ],
        );
        assert_eq!(p.may_subscribe("news", alice(false)), Ok(false));
        assert_eq!(p.may_subscribe("news", ANON), Err(Denial::NotAuthenticated));
        assert_eq!(
            p.may_publish("news", alice(true)),
            Err(Denial::NoClientPublish)
        );
        assert_eq!(p.may_publish("chat:a", alice(true)), Ok(()));
        assert_eq!(
            p.may_publish("chat:a", alice(false)),
            Err(Denial::NotSubscribed)
        );
        assert_eq!(p.may_subscribe("vip:x", alice(false)), Ok(true));
        assert_eq!(p.may_subscribe("#alice,bob", alice(false)), Ok(false));
        assert_eq!(
            p.may_subscribe("chat:dm#bob", alice(false)),
            Err(Denial::NotListed)
        );
    }
}
