//! Hijack::Shared: a small process-wide, thread-safe store for hooks on
//! different threads (each with its own VM) to count and share values:
//! Integers, Floats and Strings under String or Symbol keys.

use crate::lock::SpinLock;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
}

pub static STORE: SpinLock<BTreeMap<Vec<u8>, Value>> = SpinLock::new(BTreeMap::new());

pub fn get(key: &[u8]) -> Option<Value> {
    STORE.lock().get(key).cloned()
}

/// Sets `key` (None deletes it).
pub fn set(key: &[u8], value: Option<Value>) {
    let mut store = STORE.lock();
    match value {
        Some(v) => {
            store.insert(key.to_vec(), v);
        }
        None => {
            store.remove(key);
        }
    }
}

/// Adds `by` to the number under `key` (missing: 0); Err when it holds a String.
pub fn incr(key: &[u8], by: Value) -> Result<Value, &'static str> {
    let mut store = STORE.lock();
    // The common case, an existing counter, allocates nothing.
    let slot = match store.get_mut(key) {
        Some(slot) => slot,
        None => store.entry(key.to_vec()).or_insert(Value::Int(0)),
    };
    let sum = match (&*slot, by) {
        (Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_add(b)),
        (Value::Int(a), Value::Float(b)) => Value::Float(*a as f64 + b),
        (Value::Float(a), Value::Int(b)) => Value::Float(a + b as f64),
        (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
        _ => return Err("Hijack::Shared.incr adds numbers to numbers"),
    };
    *slot = sum.clone();
    Ok(sum)
}

pub fn snapshot() -> Vec<(Vec<u8>, Value)> {
    STORE.lock().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incr_counts_across_threads() {
        let threads: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(|| (0..1000).for_each(|_| drop(incr(b"test-count", Value::Int(1))))))
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(get(b"test-count"), Some(Value::Int(8000)));
    }

    #[test]
    fn incr_mixes_integers_and_floats_but_not_strings() {
        assert_eq!(incr(b"test-mix", Value::Int(2)), Ok(Value::Int(2)));
        assert_eq!(incr(b"test-mix", Value::Float(0.5)), Ok(Value::Float(2.5)));
        set(b"test-str", Some(Value::Str(b"x".to_vec())));
        assert!(incr(b"test-str", Value::Int(1)).is_err());
        set(b"test-str", None);
        assert_eq!(get(b"test-str"), None);
    }
}
