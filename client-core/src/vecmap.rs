//! A tiny map keyed by channel name, kept in insertion order.
//!
//! A client holds a handful of channels (the server caps them at a few hundred), so a linear
//! scan is as fast as a tree here, and it keeps the browser SDK's wasm small: every
//! `BTreeMap<K, V>` instantiation costs kilobytes of code.

/// Channel name → `V`, in insertion order.
#[derive(Debug, Clone)]
pub(crate) struct VecMap<V>(Vec<(String, V)>);

impl<V> Default for VecMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> VecMap<V> {
    fn position(&self, key: &str) -> Option<usize> {
        self.0.iter().position(|(k, _)| k == key)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.position(key).map(|i| &self.0[i].1)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.position(key).map(|i| &mut self.0[i].1)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Inserts or replaces; returns whether the key is new.
    pub(crate) fn insert(&mut self, key: &str, value: V) -> bool {
        match self.position(key) {
            Some(i) => {
                self.0[i].1 = value;
                false
            }
            None => {
                self.0.push((key.to_owned(), value));
                true
            }
        }
    }

    /// The value for `key`, inserted with `make` if missing.
    pub(crate) fn entry(&mut self, key: &str, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.position(key) {
            Some(i) => i,
            None => {
                self.0.push((key.to_owned(), make()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        self.position(key).map(|i| self.0.remove(i).1)
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_map_in_insertion_order() {
        let mut m = VecMap::default();
        assert!(m.insert("b", 1));
        assert!(m.insert("a", 2));
        assert!(!m.insert("b", 3));
        assert_eq!(m.iter().collect::<Vec<_>>(), [("b", &3), ("a", &2)]);
        *m.entry("c", || 0) += 5;
        *m.entry("a", || 0) += 5;
        assert_eq!(m.get("c"), Some(&5));
        assert_eq!(m.get("a"), Some(&7));
        assert_eq!(m.remove("b"), Some(3));
        assert_eq!(m.remove("b"), None);
        assert!(!m.contains_key("b"));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "c"]);
        m.clear();
        assert_eq!(m.keys().count(), 0);
    }
}
