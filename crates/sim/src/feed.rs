//! Events-list consumers in the simulation: `poll-events`, `long-poll`, and the safety-net poll
//! of `webhook-reconcile`.
//!
//! One cursor per consumer. A cycle starts on a timer (every `interval`, measured from the
//! start of the previous cycle), pages while the provider says more events wait, then waits
//! for the next cycle. A long poll is the same request held by the provider until an event
//! arrives or the hold expires, and asked again as soon as it returns.

use super::{Action, Resp, Sim};
use hookbench_core::policy::{first_cycle, next_cycle, page, resume_at, Page};
use hookbench_core::rng::{Part, Rng};
use hookbench_core::time::Nanos;
use hookbench_scenario::FeedPlan;

pub(super) struct FeedState {
    plan: FeedPlan,
    /// Events paged past (the `after` cursor).
    pub(super) cursor: u64,
    /// The provider is holding this consumer's long poll.
    pub(super) holding: bool,
    /// Generation of the current hold (a stale expiry is ignored).
    gen: u32,
    /// When the current cycle's first request was sent, ns.
    cycle_start: Nanos,
}

impl Sim<'_> {
    pub(super) fn feed_state(
        &mut self,
        c: u16,
        fp: &FeedPlan,
        stream: impl Fn(Part) -> Rng,
    ) -> FeedState {
        let first = first_cycle(fp.interval, &mut stream(Part::Phase));
        self.queue.push(first, Action::FeedIssue { c });
        FeedState {
            plan: fp.clone(),
            cursor: 0,
            holding: false,
            gen: 0,
            cycle_start: 0,
        }
    }

    fn feed(&mut self, c: u16) -> &mut FeedState {
        self.consumers[c as usize]
            .feed
            .as_mut()
            .expect("feed action for a consumer without a feed")
    }

    /// A new cycle starts at `t` (unless the consumer is backing off from a 429).
    pub(super) fn feed_issue(&mut self, c: u16, t: Nanos) {
        let blocked = self.consumers[c as usize].blocked_until;
        if t < blocked {
            self.queue.push(blocked, Action::FeedIssue { c });
            return;
        }
        let f = self.feed(c);
        f.cycle_start = t;
        self.send_page(c, t);
    }

    fn send_page(&mut self, c: u16, t: Nanos) {
        let f = self.feed(c);
        let req = super::Req::Page {
            cursor: f.cursor,
            size: f.plan.page_size,
            hold: f.plan.hold,
        };
        self.send(c, req, t);
    }

    /// The provider starts holding `c`'s empty long poll at `t`.
    pub(super) fn start_hold(&mut self, c: u16, hold: Nanos, t: Nanos) {
        let f = self.feed(c);
        f.holding = true;
        f.gen = f.gen.wrapping_add(1);
        let gen = f.gen;
        self.queue.push(t + hold, Action::HoldExpire { c, gen });
    }

    /// An event arrived while `c`'s long poll was held: answer it now.
    pub(super) fn answer_hold(&mut self, c: u16, t: Nanos) {
        let end = self.log.end();
        let f = self.feed(c);
        f.holding = false;
        f.gen = f.gen.wrapping_add(1);
        let p = page(f.cursor, end, f.plan.page_size);
        let bytes = self.sizes.page_response(p.len());
        let d2 = self.net(c);
        self.respond(c, Resp::Page(p), bytes, t, d2);
    }

    /// The hold expired with nothing new: answer with an empty page.
    pub(super) fn hold_expire(&mut self, c: u16, gen: u32, t: Nanos) {
        let f = self.feed(c);
        if !f.holding || f.gen != gen {
            return;
        }
        f.holding = false;
        let p = page(f.cursor, f.cursor, 1);
        let bytes = self.sizes.page_response(0);
        let d2 = self.net(c);
        self.respond(c, Resp::Page(p), bytes, t, d2);
    }

    /// A page reached `c` at `t`: observe its events, then page on, ask again or wait.
    pub(super) fn feed_replied(&mut self, c: u16, p: Page, t: Nanos) {
        let log = &self.log;
        let cs = &mut self.consumers[c as usize];
        let m = &mut cs.metrics;
        let outcome = cs
            .ledger
            .observe_events((p.from..p.to).map(|id| log.get(id)), t, |lat| {
                m.observed(t, lat)
            });
        m.request_done(t, outcome);
        let f = cs
            .feed
            .as_mut()
            .expect("page reply for a consumer without a feed");
        f.cursor = f.cursor.max(p.to);
        if p.more {
            self.send_page(c, t);
        } else {
            let at = next_cycle(f.cycle_start, f.plan.interval, f.plan.hold, t);
            self.queue.push(at, Action::FeedIssue { c });
        }
    }

    /// A page request got a 429: start again when the back-off ends.
    pub(super) fn feed_limited(&mut self, c: u16, t: Nanos) {
        let at = resume_at(self.consumers[c as usize].blocked_until, t);
        self.queue.push(at, Action::FeedIssue { c });
    }
}
