//! [`SmallMap`]: the map for the few entries the library keeps in a page.

use std::borrow::Borrow;

/// A map of a handful of entries (renewals waiting for their frame, DPoP keys and nonces, the memory
/// storage area), kept as a vector searched in order. Every map type is compiled into the app once
/// per key and value type; a hash map's table code weighs about 1 KB a type in the bundle, this one a
/// fraction of it, and for so few entries a search in order is as fast.
#[derive(Debug)]
pub(crate) struct SmallMap<K, V>(Vec<(K, V)>);

impl<K: PartialEq, V> SmallMap<K, V> {
    pub const fn new() -> Self {
        SmallMap(Vec::new())
    }

    fn position<Q: PartialEq + ?Sized>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
    {
        self.0.iter().position(|(k, _)| k.borrow() == key)
    }

    pub fn get<Q: PartialEq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.position(key).map(|i| &self.0[i].1)
    }

    /// Sets `key` to `value`, returning the value it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.position(&key) {
            Some(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    pub fn remove<Q: PartialEq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.position(key).map(|i| self.0.swap_remove(i).1)
    }

    // Only DPoP's keys are retained by a rule.
    #[cfg_attr(not(feature = "dpop"), allow(dead_code))]
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        self.0.retain(|(k, v)| keep(k, v));
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::SmallMap;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_key_has_one_value_until_removed() {
        let mut map = SmallMap::new();
        assert_eq!(map.insert("a".to_owned(), 1), None);
        assert_eq!(map.insert("b".to_owned(), 2), None);
        assert_eq!(map.insert("a".to_owned(), 3), Some(1));
        assert_eq!(
            (map.get("a"), map.get("b"), map.get("c")),
            (Some(&3), Some(&2), None)
        );
        assert_eq!(map.remove("a"), Some(3));
        assert_eq!(map.remove("a"), None);
        assert_eq!((map.get("a"), map.get("b")), (None, Some(&2)));
        map.insert("c".to_owned(), 4);
        map.retain(|key, _| key == "c");
        assert_eq!((map.get("b"), map.get("c")), (None, Some(&4)));
        map.clear();
        assert_eq!(map.get("c"), None);
    }
}
