//! The simulation's future-event list.
//!
//! Two structures, merged by the engine loop:
//!
//! - [`EventQueue`]: a binary heap ordered by `(time, rank, sequence)`. The rank comes from the
//!   action itself ([`Ranked`]): its class (arrivals before timers) and its consumer, as
//!   `docs/event-order.md` defines the order of simultaneous events. The sequence number is
//!   assigned at push, so what is still tied runs in the order it was scheduled —
//!   deterministic, and independent of how the heap happens to break ties.
//! - [`PeriodicQueue`]: a FIFO for strictly periodic per-resource polls. A poll at `t` is
//!   re-queued at `t + interval` with the same interval for every resource, so re-entries arrive
//!   in time order and a `VecDeque` stays sorted for free: O(1) instead of O(log n) on a heap
//!   that would hold every resource (and be cache-bound at a million entries).

use hookbench_core::time::Nanos;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

/// Where an action stands among actions at the same nanosecond (lower runs first); see
/// `docs/event-order.md`.
pub trait Ranked {
    /// The action's rank: its class in the high bits, its consumer in the low bits.
    fn rank(&self) -> u32;
}

/// A scheduled item with its time and tie-breaking rank and sequence number.
#[derive(Debug, Clone, Copy)]
pub struct Entry<A> {
    /// When it fires, ns.
    pub time: Nanos,
    /// [`Ranked::rank`] of the action, cached at push.
    pub rank: u32,
    /// Push order, for the ties that remain.
    pub seq: u64,
    /// What happens.
    pub action: A,
}

impl<A> PartialEq for Entry<A> {
    fn eq(&self, o: &Self) -> bool {
        self.key() == o.key()
    }
}
impl<A> Eq for Entry<A> {}
impl<A> PartialOrd for Entry<A> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<A> Ord for Entry<A> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.key().cmp(&o.key())
    }
}

impl<A> Entry<A> {
    #[inline]
    fn key(&self) -> (Nanos, u32, u64) {
        (self.time, self.rank, self.seq)
    }
}

/// A min-heap of timed actions with deterministic tie-breaking.
#[derive(Debug)]
pub struct EventQueue<A> {
    heap: BinaryHeap<Reverse<Entry<A>>>,
    seq: u64,
}

impl<A> Default for EventQueue<A> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<A: Ranked> EventQueue<A> {
    /// Schedules `action` at `time`.
    #[inline]
    pub fn push(&mut self, time: Nanos, action: A) {
        self.heap.push(Reverse(Entry {
            time,
            rank: action.rank(),
            seq: self.seq,
            action,
        }));
        self.seq += 1;
    }

    /// `(time, rank)` of the earliest entry (to merge with other sources in the same order).
    #[inline]
    pub fn peek_key(&self) -> Option<(Nanos, u32)> {
        self.heap.peek().map(|e| (e.0.time, e.0.rank))
    }

    /// Removes the earliest entry.
    #[inline]
    pub fn pop(&mut self) -> Option<Entry<A>> {
        self.heap.pop().map(|e| e.0)
    }
}

/// A FIFO of `(time, resource)` for polls that re-enter at a fixed interval.
#[derive(Debug, Default)]
pub struct PeriodicQueue {
    items: VecDeque<(Nanos, u32)>,
}

impl PeriodicQueue {
    /// Builds the queue from first poll times, sorting them by `(time, resource)`.
    pub fn from_unsorted(mut first: Vec<(Nanos, u32)>) -> PeriodicQueue {
        first.sort_unstable();
        PeriodicQueue {
            items: first.into(),
        }
    }

    /// Time of the head.
    #[inline]
    pub fn peek_time(&self) -> Option<Nanos> {
        self.items.front().map(|e| e.0)
    }

    /// Removes the head.
    #[inline]
    pub fn pop(&mut self) -> Option<(Nanos, u32)> {
        self.items.pop_front()
    }

    /// Appends a re-entry; `time` must not be before the current tail (checked in debug).
    #[inline]
    pub fn push(&mut self, time: Nanos, resource: u32) {
        debug_assert!(self.items.back().is_none_or(|b| b.0 <= time));
        self.items.push_back((time, resource));
    }

    /// Remaining entries in order.
    pub fn iter(&self) -> impl Iterator<Item = &(Nanos, u32)> {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Ranked for char {
        fn rank(&self) -> u32 {
            u32::from(self.is_ascii_uppercase())
        }
    }

    #[test]
    fn ties_run_by_rank_then_in_push_order() {
        let mut q = EventQueue::default();
        q.push(5, 'B');
        q.push(5, 'a');
        q.push(3, 'C');
        q.push(5, 'c');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|e| e.action)).collect();
        assert_eq!(order, vec!['C', 'a', 'c', 'B']);
    }

    #[test]
    fn ties_run_in_push_order() {
        let mut q = EventQueue::default();
        q.push(5, 'a');
        q.push(3, 'b');
        q.push(5, 'c');
        q.push(5, 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|e| e.action)).collect();
        assert_eq!(order, vec!['b', 'a', 'c', 'd']);
    }

    #[test]
    fn periodic_queue_stays_sorted() {
        let mut q = PeriodicQueue::from_unsorted(vec![(7, 1), (3, 0), (7, 0)]);
        assert_eq!(q.pop(), Some((3, 0)));
        q.push(13, 0);
        assert_eq!(q.pop(), Some((7, 0)));
        assert_eq!(q.pop(), Some((7, 1)));
        assert_eq!(q.peek_time(), Some(13));
    }
}
