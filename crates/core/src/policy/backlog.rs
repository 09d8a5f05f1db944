//! API back-off after a `429`, and the thin receiver's backlog of enrichment GETs.
//!
//! A `429 Too Many Requests` with `Retry-After` blocks the consumer's API requests until then
//! ([`back_off`]). What a consumer does with a request that falls inside the back-off depends
//! on how it paces itself ([`poll_due`]): a fixed-interval poller skips the poll (the next one
//! on its timetable comes anyway — that is what keeps N·60/T exact), an adaptive poller waits
//! the back-off out, an events-list consumer resumes its cycle when it ends ([`resume_at`]).
//!
//! A thin webhook receiver cannot skip: every notification needs its GET. After a `429` it
//! stops firing GETs in parallel: they queue, and the queue is worked off one request at a
//! time from the end of the back-off, each reply sending the next ([`Backlog`]) — never a
//! thundering herd of retries that would only earn more 429s. Both engines drive the same
//! state machine: the simulation from its event queue, the live receiver from one draining
//! task.

use crate::time::Nanos;
use std::collections::VecDeque;

/// After a `429` answered at `t` with `retry_after` ns: no API request before the returned
/// time (never earlier than an earlier back-off asked).
#[inline]
pub fn back_off(blocked_until: Nanos, t: Nanos, retry_after: Nanos) -> Nanos {
    blocked_until.max(t + retry_after)
}

/// When a consumer whose request was refused at `t` starts again: at the end of the back-off.
#[inline]
pub fn resume_at(blocked_until: Nanos, t: Nanos) -> Nanos {
    blocked_until.max(t)
}

/// What a poll due at `t` does while the consumer is blocked until `blocked_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollDue {
    /// Send it.
    Send,
    /// Fixed-interval poller inside a back-off: skip it (its next poll is already on the
    /// timetable).
    Skip,
    /// Adaptive poller inside a back-off: poll when the back-off ends, at this time.
    Defer(Nanos),
}

/// The rule for a poll due at `t` (`adaptive`: the poller schedules each poll from the
/// previous reply, so a skipped poll would never come back).
#[inline]
pub fn poll_due(t: Nanos, blocked_until: Nanos, adaptive: bool) -> PollDue {
    if t >= blocked_until {
        PollDue::Send
    } else if adaptive {
        PollDue::Defer(blocked_until)
    } else {
        PollDue::Skip
    }
}

/// What to do with a new enrichment request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch<T> {
    /// Send it now.
    Send(T),
    /// It joined the backlog; a drain is already under way.
    Queued,
    /// It joined the backlog, which was idle: start working it off at the end of the
    /// back-off.
    StartDrain,
}

/// The backlog of requests waiting out a back-off, worked off one at a time.
#[derive(Debug, Clone)]
pub struct Backlog<T> {
    deferred: VecDeque<T>,
    /// A queued request is in flight (or a drain is scheduled).
    draining: bool,
}

impl<T> Default for Backlog<T> {
    fn default() -> Self {
        Backlog {
            deferred: VecDeque::new(),
            draining: false,
        }
    }
}

impl<T> Backlog<T> {
    /// A new request at `t`: sent at once unless the consumer is backing off or working off a
    /// backlog, in which case it queues behind the others.
    pub fn fetch(&mut self, item: T, t: Nanos, blocked_until: Nanos) -> Fetch<T> {
        if !self.draining && t >= blocked_until {
            return Fetch::Send(item);
        }
        self.deferred.push_back(item);
        if self.draining {
            Fetch::Queued
        } else {
            self.draining = true;
            Fetch::StartDrain
        }
    }

    /// `item` got a `429`; `queued`: it had been sent from the backlog. It goes back to the
    /// head of the queue. Returns true when the caller must schedule the next drain step (a
    /// queued request's reply continues the drain; the first refused direct request starts
    /// it; a direct request refused while a drain runs just waits its turn).
    pub fn limited(&mut self, item: T, queued: bool) -> bool {
        self.deferred.push_front(item);
        if queued || !self.draining {
            self.draining = true;
            true
        } else {
            false
        }
    }

    /// A drain step at the end of the back-off: the next request to send (from the backlog),
    /// or `None` when the backlog is empty and the consumer goes back to direct requests.
    pub fn drain_step(&mut self) -> Option<T> {
        let next = self.deferred.pop_front();
        self.draining = next.is_some();
        next
    }

    /// Requests waiting.
    pub fn len(&self) -> usize {
        self.deferred.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.deferred.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_only_grows_and_polls_skip_or_wait() {
        assert_eq!(back_off(0, 100, 50), 150);
        assert_eq!(back_off(500, 100, 50), 500);
        assert_eq!(resume_at(150, 100), 150);
        assert_eq!(resume_at(150, 200), 200);
        assert_eq!(poll_due(150, 150, false), PollDue::Send);
        assert_eq!(poll_due(149, 150, false), PollDue::Skip);
        assert_eq!(poll_due(149, 150, true), PollDue::Defer(150));
    }

    #[test]
    fn backlog_works_off_one_at_a_time_after_a_429() {
        let mut b = Backlog::default();
        // No back-off: direct.
        assert_eq!(b.fetch(1, 0, 0), Fetch::Send(1));
        // 1 is refused: it heads the queue and a drain starts.
        assert!(b.limited(1, false));
        // A direct request refused while draining waits its turn.
        assert!(!b.limited(9, false));
        assert_eq!(b.drain_step(), Some(9));
        // While draining, new requests queue even after the back-off.
        assert_eq!(b.fetch(2, 1_000, 10), Fetch::Queued);
        assert_eq!(b.drain_step(), Some(1));
        // A queued request refused again continues the drain.
        assert!(b.limited(1, true));
        assert_eq!(b.drain_step(), Some(1));
        assert_eq!(b.drain_step(), Some(2));
        assert_eq!(b.len(), 0);
        assert_eq!(b.drain_step(), None);
        // Idle again: a request inside a back-off starts a drain, after it sends directly.
        assert_eq!(b.fetch(3, 5, 10), Fetch::StartDrain);
        assert_eq!(b.drain_step(), Some(3));
        assert_eq!(b.drain_step(), None);
        assert_eq!(b.fetch(4, 20, 10), Fetch::Send(4));
    }
}
