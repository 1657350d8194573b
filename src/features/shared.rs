//! Hijack::Shared: a small process-wide, thread-safe store for hooks on
//! different threads (each with its own VM) to count and share values:
//! Integers, Floats and Strings under String or Symbol keys.

use crate::platform::lock::RwSpinLock;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
}

/// A stored value: numbers are atomics, so that counting an existing key
/// needs only the read lock (threads counting at once do not wait on each
/// other), or no lock at all through a thread's [`Counters`]; a new key or a
/// change of type takes the write lock.
enum Slot {
    Int(Arc<AtomicI64>),
    /// An f64's bits.
    Float(AtomicU64),
    Str(Vec<u8>),
}

impl Slot {
    fn new(v: Value) -> Slot {
        match v {
            Value::Int(i) => Slot::Int(Arc::new(AtomicI64::new(i))),
            Value::Float(f) => Slot::Float(AtomicU64::new(f.to_bits())),
            Value::Str(s) => Slot::Str(s),
        }
    }

    fn value(&self) -> Value {
        match self {
            Slot::Int(i) => Value::Int(i.load(Ordering::Relaxed)),
            Slot::Float(f) => Value::Float(f64::from_bits(f.load(Ordering::Relaxed))),
            Slot::Str(s) => Value::Str(s.clone()),
        }
    }
}

static STORE: RwSpinLock<BTreeMap<Vec<u8>, Slot>> = RwSpinLock::new(BTreeMap::new());

/// Changes whenever a key's Integer counter is replaced or removed: a
/// thread's [`Counters`] made before then are stale.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// One thread's shortcuts to the Integer counters it adds to, so that
/// counting takes no lock (threads counting at once then share only the
/// counter itself). Kept per VM, where a Symbol key is known by its id
/// without reading its name.
#[derive(Default)]
pub struct Counters {
    generation: u64,
    entries: Vec<Shortcut>,
}

struct Shortcut {
    symbol: Option<u32>,
    key: Vec<u8>,
    counter: Arc<AtomicI64>,
}

/// How many counters a thread keeps shortcuts to.
const SHORTCUTS: usize = 16;

impl Counters {
    /// Adds `by` to the Integer counter under a key (a Symbol with id
    /// `symbol` in this VM, or else the String `key()`), and returns the sum;
    /// None when the key holds no Integer (then [`incr`] decides).
    pub fn incr<'k>(&mut self, symbol: Option<u32>, key: impl FnOnce() -> &'k [u8], by: i64) -> Option<i64> {
        // Read before the store is: a counter replaced after this is
        // noticed on the next call.
        let generation = GENERATION.load(Ordering::Acquire);
        if generation != self.generation {
            self.entries.clear();
            self.generation = generation;
        }
        let index = match symbol {
            Some(id) => match self.entries.iter().position(|e| e.symbol == Some(id)) {
                Some(i) => i,
                None => self.add(symbol, key())?,
            },
            None => {
                let key = key();
                match self.entries.iter().position(|e| e.symbol.is_none() && e.key == key) {
                    Some(i) => i,
                    None => self.add(None, key)?,
                }
            }
        };
        Some(self.entries[index].counter.fetch_add(by, Ordering::Relaxed).wrapping_add(by))
    }

    /// Takes a shortcut to the Integer counter under `key`, if there is one.
    fn add(&mut self, symbol: Option<u32>, key: &[u8]) -> Option<usize> {
        let counter = match STORE.read().get(key) {
            Some(Slot::Int(c)) => c.clone(),
            _ => return None,
        };
        if self.entries.len() == SHORTCUTS {
            self.entries.remove(0);
        }
        self.entries.push(Shortcut { symbol, key: key.to_vec(), counter });
        Some(self.entries.len() - 1)
    }
}

/// Takes the store for pthread_atfork's prepare handler.
pub fn fork_lock() {
    STORE.raw_lock();
}

/// Releases it in the atfork parent and child handlers.
pub unsafe fn fork_unlock() {
    STORE.raw_unlock();
}

pub fn get(key: &[u8]) -> Option<Value> {
    STORE.read().get(key).map(Slot::value)
}

/// Sets `key` (None deletes it).
pub fn set(key: &[u8], value: Option<Value>) {
    let mut store = STORE.write();
    GENERATION.fetch_add(1, Ordering::Release);
    match value {
        Some(v) => {
            store.insert(key.to_vec(), Slot::new(v));
        }
        None => {
            store.remove(key);
        }
    }
}

fn add_float(bits: &AtomicU64, by: f64) -> f64 {
    let mut old = bits.load(Ordering::Relaxed);
    loop {
        let new = f64::from_bits(old) + by;
        match bits.compare_exchange_weak(old, new.to_bits(), Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return new,
            Err(now) => old = now,
        }
    }
}

const NOT_A_NUMBER: &str = "Hijack::Shared.incr adds numbers to numbers";

/// Adds `by` to the number under `key` (missing: 0); Err when it holds a String.
pub fn incr(key: &[u8], by: Value) -> Result<Value, &'static str> {
    {
        // The common case, an existing counter: the read lock and one atomic add.
        let store = STORE.read();
        match (store.get(key), &by) {
            (Some(Slot::Int(a)), Value::Int(b)) => return Ok(Value::Int(a.fetch_add(*b, Ordering::Relaxed).wrapping_add(*b))),
            (Some(Slot::Float(a)), Value::Int(b)) => return Ok(Value::Float(add_float(a, *b as f64))),
            (Some(Slot::Float(a)), Value::Float(b)) => return Ok(Value::Float(add_float(a, *b))),
            (Some(Slot::Str(_)), _) | (_, Value::Str(_)) => return Err(NOT_A_NUMBER),
            _ => {}
        }
    }
    let mut store = STORE.write();
    let slot = store.entry(key.to_vec()).or_insert_with(|| Slot::Int(Arc::new(AtomicI64::new(0))));
    if let (Slot::Int(a), Value::Int(b)) = (&*slot, &by) {
        return Ok(Value::Int(a.fetch_add(*b, Ordering::Relaxed).wrapping_add(*b)));
    }
    GENERATION.fetch_add(1, Ordering::Release);
    let sum = match (slot.value(), by) {
        (Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_add(b)),
        (Value::Int(a), Value::Float(b)) => Value::Float(a as f64 + b),
        (Value::Float(a), Value::Int(b)) => Value::Float(a + b as f64),
        (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
        _ => return Err(NOT_A_NUMBER),
    };
    *slot = Slot::new(sum.clone());
    Ok(sum)
}

/// Takes a turn on a timeline kept under `key` (a Float, seconds; missing:
/// never busy): the turn starts when the previous one ended, or at `now` if
/// that is later, and lasts `by`. Returns when it ends, atomically, so that
/// threads sharing a resource (throttle's descriptor) queue up on it.
pub fn take_turn(key: &[u8], now: f64, by: f64) -> Result<f64, &'static str> {
    let turn = |busy_until: f64| busy_until.max(now) + by;
    {
        let store = STORE.read();
        match store.get(key) {
            Some(Slot::Float(bits)) => {
                let mut old = bits.load(Ordering::Relaxed);
                loop {
                    let end = turn(f64::from_bits(old));
                    match bits.compare_exchange_weak(old, end.to_bits(), Ordering::Relaxed, Ordering::Relaxed) {
                        Ok(_) => return Ok(end),
                        Err(current) => old = current,
                    }
                }
            }
            Some(Slot::Str(_)) => return Err(NOT_A_NUMBER),
            _ => {}
        }
    }
    let mut store = STORE.write();
    let end = match store.get(key).map(Slot::value) {
        None => turn(f64::NEG_INFINITY),
        Some(Value::Int(i)) => turn(i as f64),
        Some(Value::Float(f)) => turn(f),
        Some(Value::Str(_)) => return Err(NOT_A_NUMBER),
    };
    GENERATION.fetch_add(1, Ordering::Release);
    store.insert(key.to_vec(), Slot::new(Value::Float(end)));
    Ok(end)
}

pub fn snapshot() -> Vec<(Vec<u8>, Value)> {
    STORE.read().iter().map(|(k, v)| (k.clone(), v.value())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_on_a_timeline_queue_up_and_never_start_in_the_past() {
        let key = b"test.turns";
        assert_eq!(take_turn(key, 10.0, 0.5), Ok(10.5));
        assert_eq!(take_turn(key, 10.1, 0.5), Ok(11.0), "queued after the first");
        assert_eq!(take_turn(key, 20.0, 0.25), Ok(20.25), "idle time is not credit");
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(move || (0..1000).for_each(|_| { let _ = take_turn(key, 0.0, 0.001); })))
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let end = take_turn(key, 0.0, 0.0).unwrap();
        assert!((end - 24.25).abs() < 1e-6, "every turn counted once: {end}");
        set(b"test.turns.str", Some(Value::Str(b"x".to_vec())));
        assert!(take_turn(b"test.turns.str", 0.0, 1.0).is_err());
    }

    #[test]
    fn incr_counts_across_threads() {
        let threads: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(|| (0..1000).for_each(|_| drop(incr(b"test-count", Value::Int(1))))))
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(get(b"test-count"), Some(Value::Int(8000)));
    }

    #[test]
    fn a_threads_counters_see_what_others_do_to_the_key() {
        let key = || &b"test-shortcut"[..];
        let mut mine = Counters::default();
        assert_eq!(mine.incr(None, key, 1), None, "no key yet: incr decides");
        assert_eq!(incr(key(), Value::Int(1)), Ok(Value::Int(1)));
        assert_eq!(mine.incr(None, key, 2), Some(3));
        assert_eq!(mine.incr(Some(7), key, 2), Some(5), "the Symbol with the same name");
        std::thread::spawn(move || drop(incr(key(), Value::Int(10)))).join().unwrap();
        // (known by its id, its name not read: unless a test running
        // beside this one replaced some counter meanwhile, which makes
        // every thread's shortcuts go)
        let before = mine.generation;
        let read_name = std::cell::Cell::new(false);
        let sum = mine.incr(Some(7), || { read_name.set(true); key() }, 1);
        assert_eq!(sum, Some(16), "the same counter");
        if GENERATION.load(Ordering::Acquire) == before {
            assert!(!read_name.get(), "the same counter, without the lock");
        }
        set(key(), Some(Value::Int(100)));
        assert_eq!(mine.incr(Some(7), key, 1), Some(101), "a reset key is the new counter");
        assert_eq!(incr(key(), Value::Float(0.5)), Ok(Value::Float(101.5)));
        assert_eq!(mine.incr(Some(7), key, 1), None, "a Float now: incr decides");
        assert_eq!(mine.incr(None, key, 1), None);
        set(key(), None);
        assert_eq!(mine.incr(Some(7), key, 1), None, "deleted");
        assert_eq!(get(key()), None);
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
