//! [`Bounded`]: a newest-first list that keeps only its last `capacity` entries, so a tab left
//! open for days does not grow; used for the live feed and the action notices.

use std::collections::VecDeque;

/// Entries newest first, at most `capacity` of them, each with a key unique within the list's
/// lifetime (for keyed rendering).
#[derive(Debug, Clone)]
pub struct Bounded<T> {
    entries: VecDeque<Keyed<T>>,
    capacity: usize,
    next_key: u64,
    /// Every entry ever pushed, including the ones dropped or cleared since.
    total: u64,
}

/// An entry and its key.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed<T> {
    /// Unique within the list's lifetime; never reused, not even after [`Bounded::clear`].
    pub key: u64,
    /// The entry.
    pub value: T,
}

impl<T> Bounded<T> {
    /// An empty list that keeps at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            entries: VecDeque::with_capacity(capacity),
            capacity,
            next_key: 0,
            total: 0,
        }
    }

    /// Adds `value` as the newest entry, dropping the oldest one when full.
    pub fn push(&mut self, value: T) {
        if self.entries.len() == self.capacity {
            self.entries.pop_back();
        }
        self.entries.push_front(Keyed {
            key: self.next_key,
            value,
        });
        self.next_key += 1;
        self.total += 1;
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entries, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &Keyed<T>> {
        self.entries.iter()
    }

    /// How many entries are kept now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most entries kept at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many entries were ever pushed.
    pub fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(list: &Bounded<u32>) -> Vec<u32> {
        list.iter().map(|e| e.value).collect()
    }

    #[test]
    fn newest_first_and_bounded() {
        let mut list = Bounded::new(3);
        for v in 1..=5 {
            list.push(v);
        }
        assert_eq!(values(&list), [5, 4, 3]);
        assert_eq!(list.len(), 3);
        assert_eq!(list.total(), 5);
        let keys: Vec<u64> = list.iter().map(|e| e.key).collect();
        assert_eq!(keys, [4, 3, 2]);
    }

    #[test]
    fn clear_keeps_keys_unique() {
        let mut list = Bounded::new(200);
        list.push(1);
        list.push(2);
        list.clear();
        assert!(list.is_empty());
        list.push(3);
        assert_eq!(list.iter().next().map(|e| e.key), Some(2));
        assert_eq!(list.total(), 3);
    }

    #[test]
    fn capacity_is_at_least_one() {
        let mut list = Bounded::new(0);
        list.push(1);
        list.push(2);
        assert_eq!(values(&list), [2]);
        assert_eq!(list.capacity(), 1);
    }
}
