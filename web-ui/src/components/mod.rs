//! The page's sections, one component per file.

pub mod connection_panel;
pub mod feed_panel;
pub mod notice_view;
pub mod publish_panel;
pub mod subscriptions_panel;

pub use connection_panel::ConnectionPanel;
pub use feed_panel::FeedPanel;
pub use publish_panel::PublishPanel;
pub use subscriptions_panel::SubscriptionsPanel;
