//! The console's one map: a vector kept sorted by key. Its maps hold a handful of entries (servers,
//! requests in flight, a form's fields), where a binary search over a vector is as fast as a
//! B-tree; and each `BTreeMap<K, V>` the console used compiled its own node-balancing code, about
//! 12 KB of the gzipped wasm for a dozen key and value types. Iteration is in key order, as it
//! was.

use std::borrow::Borrow;
use std::fmt;

/// A map from `K` to `V`, in key order.
#[derive(Clone, PartialEq, Eq)]
pub struct SortedMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap(Vec::new())
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    pub const fn new() -> Self {
        SortedMap(Vec::new())
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.0.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// Sets `key` to `value`, returning the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    /// The value of `key`, inserting `make()` first if there is none.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key, make()));
                i
            }
        };
        &mut self.0[i].1
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }
}

impl<K, V> SortedMap<K, V> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

impl<K: Ord, V> Extend<(K, V)> for SortedMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, items: I) {
        for (k, v) in items {
            self.insert(k, v);
        }
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut map = SortedMap::new();
        map.extend(items);
        map
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for SortedMap<K, V> {
    fn from(items: [(K, V); N]) -> Self {
        items.into_iter().collect()
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Property tests; proptest is a native-only dev-dependency of the main crate.
    #[cfg(not(target_arch = "wasm32"))]
    mod props {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        #[derive(Debug, Clone)]
        enum Op {
            Insert(u8, u16),
            Remove(u8),
            GetOrInsert(u8, u16),
            Retain(u8),
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Op::Insert(k % 32, v)),
                any::<u8>().prop_map(|k| Op::Remove(k % 32)),
                (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Op::GetOrInsert(k % 32, v)),
                any::<u8>().prop_map(|m| Op::Retain(m % 5 + 2)),
            ]
        }

        proptest! {
            /// Whatever is done to it, the map answers as the standard library's B-tree would.
            #[test]
            fn behaves_like_a_btree_map(ops in prop::collection::vec(op(), 0..200)) {
                let mut ours = SortedMap::new();
                let mut theirs = BTreeMap::new();
                for op in ops {
                    match op {
                        Op::Insert(k, v) => prop_assert_eq!(ours.insert(k, v), theirs.insert(k, v)),
                        Op::Remove(k) => prop_assert_eq!(ours.remove(&k), theirs.remove(&k)),
                        Op::GetOrInsert(k, v) => {
                            let ours = ours.get_or_insert_with(k, || v);
                            *ours = ours.wrapping_add(1);
                            let theirs = theirs.entry(k).or_insert(v);
                            *theirs = theirs.wrapping_add(1);
                        }
                        Op::Retain(m) => {
                            ours.retain(|k, _| k % m != 0);
                            theirs.retain(|k, _| k % m != 0);
                        }
                    }
                    prop_assert_eq!(ours.len(), theirs.len());
                    prop_assert!(ours.iter().eq(theirs.iter()));
                    for k in 0..32u8 {
                        prop_assert_eq!(ours.get(&k), theirs.get(&k));
                        prop_assert_eq!(ours.contains_key(&k), theirs.contains_key(&k));
                    }
                }
            }
        }
    }

    #[test]
    fn borrowed_keys_find_owned_ones() {
        let mut m: SortedMap<String, u8> = [("b".to_owned(), 2), ("a".to_owned(), 1)].into();
        assert_eq!(m.get("a"), Some(&1));
        assert_eq!(m.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m.remove("b"), Some(2));
        assert!(!m.contains_key("b"));
        assert_eq!(format!("{m:?}"), r#"{"a": 1}"#);
    }
}
