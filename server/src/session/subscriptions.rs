//! A connection's subscriptions: channel name → the form its publications are sent in.

use crate::hub::Form;

/// A small map kept as a vector. Why not a `HashMap`: a connection holds one or a few
/// subscriptions (at most `--max-subscriptions`, default 256), and a hash table costs ~150 B
/// of heap per idle connection for one entry where this costs 24 B; a linear search over a
/// few hundred entries is still cheap next to what a subscribe does.
#[derive(Debug, Default)]
pub(super) struct Subscriptions(Vec<(Box<str>, Form)>);

impl Subscriptions {
    fn position(&self, channel: &str) -> Option<usize> {
        self.0.iter().position(|(name, _)| &**name == channel)
    }

    /// Whether `channel` is subscribed.
    pub(super) fn contains_key(&self, channel: &str) -> bool {
        self.position(channel).is_some()
    }

    /// How many channels are subscribed.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Subscribes `channel` in `form`; the form it had, if it was already subscribed.
    pub(super) fn insert(&mut self, channel: String, form: Form) -> Option<Form> {
        if let Some(i) = self.position(&channel) {
            return Some(std::mem::replace(&mut self.0[i].1, form));
        }
        // Exact growth for the first few: most connections never hold more.
        if self.0.len() == self.0.capacity() && self.0.len() < 4 {
            self.0.reserve_exact(1);
        }
        self.0.push((channel.into_boxed_str(), form));
        None
    }

    /// Unsubscribes `channel`; the form it had, if it was subscribed.
    pub(super) fn remove(&mut self, channel: &str) -> Option<Form> {
        let i = self.position(channel)?;
        let (_, form) = self.0.swap_remove(i);
        if self.0.is_empty() {
            self.0 = Vec::new();
        }
        Some(form)
    }

    /// The subscribed channels.
    pub(super) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| &**name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_map() {
        let mut subs = Subscriptions::default();
        assert_eq!(subs.insert("a".into(), Form::Named), None);
        assert_eq!(subs.insert("b".into(), Form::Wisdom), None);
        assert_eq!(subs.insert("a".into(), Form::Wisdom), Some(Form::Named));
        assert_eq!(subs.len(), 2);
        assert!(subs.contains_key("a") && subs.contains_key("b") && !subs.contains_key("c"));
        assert_eq!(subs.remove("a"), Some(Form::Wisdom));
        assert_eq!(subs.remove("a"), None);
        assert_eq!(subs.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(subs.remove("b"), Some(Form::Wisdom));
        assert_eq!(subs.len(), 0);
    }
}
