//! The resource-by-resource path: independent periodic pollers, outside the event loop.
//!
//! A strictly periodic poller (no jitter, not adaptive) that nothing couples to other requests
//! (no worker limit, no rate limit of its own) is a set of independent per-resource processes:
//! resource *r*'s polls leave at `phase_r + k·interval`, each draws its request trip, service
//! time and reply trip from the consumer's keyed stream at `(r, k)` ([`hookbench_core::rng::Keyed`]),
//! and what a reply is worth depends only on *r*'s own changes and earlier replies. Every
//! number it reports is a sum (or a maximum) over resources. So this pass takes such consumers
//! out of the event loop and runs each resource's polls in a plain loop, resources spread over
//! threads, with results that do not depend on the order or the number of threads.
//!
//! Most polls cannot see a change: nothing changed since the consumer's copy was last brought
//! up to date, and the reply is back before the next change and within the same minute. Such a
//! poll is *wasted*, its bytes and completion fall in its issue minute, and all that has to be
//! drawn exactly is its service time (the provider's busy time is a sum over every poll). Its
//! two network draws need not be computed: [`Dist::below`] turns "both trips are shorter than
//! the room left" into two comparisons of the raw words. Every other poll — the first ones
//! after a change, those near a minute boundary, the end of the run or the next change — is
//! played out in full: its draws, the version read at serve time, its reply in the ledger in
//! `docs/event-order.md`'s order (at one instant: changes, then replies by serve time and poll
//! index, then the next poll's departure).
//!
//! The plain path and the independent reference model (`tests/reference/`) draw the same words
//! one event at a time; `tests/sim_oracle.rs` and `tests/reference_model.rs` compare them.

use hookbench_core::metrics::ConsumerMetrics;
use hookbench_core::policy::ledger::{LedgerTotals, RawTotals};
use hookbench_core::policy::{Ledger, SizeModel};
use hookbench_core::rng::{Keyed, LEG_REPLY, LEG_REQUEST, LEG_SERVICE};
use hookbench_core::time::{Nanos, MINUTE};
use hookbench_scenario::{Dist, Plan};
use hookbench_workload::Workload;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Resources per unit of work handed to a thread.
const CHUNK: u32 = 4096;
/// Changes held in memory at once (8 bytes each): more, and the resources are taken in slices,
/// one pass over the workload per slice.
const MAX_CHANGES: usize = 64 << 20;

/// One consumer for this pass.
pub(super) struct Job {
    /// Index in the plan.
    pub consumer: usize,
    /// First poll of each resource, ns.
    pub phases: Vec<Nanos>,
    /// ns.
    pub interval: Nanos,
    pub conditional: bool,
    pub key: Keyed,
}

/// What the loop needs besides the job.
struct Ctx<'a> {
    job: &'a Job,
    end: Nanos,
    net: Dist,
    service: Dist,
    /// `net_below[i]`: network words below it give a delay under 2ⁱ ns.
    net_below: [u64; 64],
    sizes: SizeModel,
}

/// A poll played out in full whose reply is still to be handled (it arrives before the end).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Flight {
    /// Arrival, then serve time, then poll index: the order replies of one instant take.
    arrive: Nanos,
    serve: Nanos,
    k: u32,
    /// Version read at serve time.
    v: u32,
}

/// One resource's state while its polls are played.
struct Resource<'a> {
    /// Its changes, in time order (change *j* makes version *j + 1*).
    changes: &'a [Nanos],
    /// Changes already given to the ledger.
    emitted: usize,
    /// Index in the slice's ledger.
    local: u32,
    flights: Vec<Flight>,
}

impl Resource<'_> {
    /// Gives the ledger every change and reply up to `t` (inclusive), in order.
    #[inline]
    fn advance(&mut self, t: Nanos, ledger: &mut Ledger, m: &mut ConsumerMetrics) {
        if self.flights.is_empty() && self.changes.get(self.emitted).is_none_or(|&c| c > t) {
            return;
        }
        self.advance_slow(t, ledger, m);
    }

    fn advance_slow(&mut self, t: Nanos, ledger: &mut Ledger, m: &mut ConsumerMetrics) {
        loop {
            let change = self.changes.get(self.emitted).copied();
            let reply = self.flights.iter().copied().min();
            let first_reply = reply.map_or(Nanos::MAX, |f| f.arrive);
            if let Some(change) = change.filter(|&c| c <= t && c <= first_reply) {
                self.emitted += 1;
                ledger.emit(self.local, self.emitted as u32, change);
            } else if let Some(f) = reply.filter(|f| f.arrive <= t) {
                let i = self.flights.iter().position(|x| *x == f).expect("present");
                self.flights.swap_remove(i);
                let outcome = ledger
                    .observe_state(self.local, f.v, f.arrive, |lat| m.observed(f.arrive, lat))
                    .outcome();
                m.request_done(f.arrive, outcome);
            } else {
                return;
            }
        }
    }

    /// The version a read at `t` sees (changes at `t` included).
    #[inline]
    fn version_at(&self, t: Nanos) -> u32 {
        let later = &self.changes[self.emitted..];
        (self.emitted + later.partition_point(|&c| c <= t)) as u32
    }
}

/// Plays every poll of resource `r` (local index `local`) and accounts for it.
fn resource(
    ctx: &Ctx,
    r: u32,
    local: u32,
    changes: &[Nanos],
    ledger: &mut Ledger,
    m: &mut ConsumerMetrics,
) {
    let job = ctx.job;
    let end = ctx.end;
    let get = ctx.sizes.get_request();
    let full = ctx.sizes.resource_response();
    let unchanged = if job.conditional {
        ctx.sizes.not_modified()
    } else {
        full
    };
    let mut res = Resource {
        changes,
        emitted: 0,
        local,
        flights: Vec::new(),
    };
    let mut issue = job.phases[r as usize];
    let mut k = 0u32;
    // Quiet polls of the current minute, reported together.
    let mut minute = (issue / MINUTE) as usize;
    let mut minute_end = (minute as Nanos + 1) * MINUTE;
    let mut quiet = 0u64;
    while issue < end {
        if issue >= minute_end {
            m.wasted_polls(minute, quiet, quiet * (get + unchanged));
            quiet = 0;
            minute = (issue / MINUTE) as usize;
            minute_end = (minute as Nanos + 1) * MINUTE;
        }
        res.advance(issue, ledger, m);
        let seen = ledger.seen(local);
        let first = job.key.first(r, k);
        let s = ctx.service.at(job.key.leg(first, LEG_SERVICE));
        m.provider_busy_ns += u128::from(s);
        let w1 = job.key.leg(first, LEG_REQUEST);
        let w2 = job.key.leg(first, LEG_REPLY);
        // Room before the next minute, the end or the next change: a poll whose whole trip
        // fits in it reads the version the copy already holds and completes in this minute.
        // Up to date means every change so far is observed (replies still in flight cannot
        // make this poll's reply worth anything: it reads no newer version).
        let next_change = changes.get(res.emitted).copied().unwrap_or(Nanos::MAX);
        let limit = minute_end.min(end).min(next_change);
        if seen as usize == res.emitted && issue + s < limit {
            let room = limit - issue - s;
            // Both trips under 2ⁱ with 2ⁱ⁺¹ ≤ room.
            if room >= 2 {
                let u0 = ctx.net_below[(62 - room.leading_zeros()) as usize];
                if w1 < u0 && w2 < u0 {
                    quiet += 1;
                    issue += job.interval;
                    k += 1;
                    continue;
                }
            }
        }
        m.request_sent(issue, get);
        let serve = issue + ctx.net.at(w1) + s;
        if serve < end {
            let v = res.version_at(serve);
            // A conditional poll's ETag is what the copy held when the poll left.
            let bytes = if job.conditional && v == seen {
                ctx.sizes.not_modified()
            } else {
                full
            };
            m.bytes(serve, bytes);
            let arrive = serve + ctx.net.at(w2);
            if arrive < end {
                res.flights.push(Flight {
                    arrive,
                    serve,
                    k,
                    v,
                });
            }
        }
        issue += job.interval;
        k += 1;
    }
    m.wasted_polls(minute, quiet, quiet * (get + unchanged));
    res.advance(Nanos::MAX, ledger, m);
}

/// Every resource's changes before the end, grouped by resource, for resources in
/// `lo..hi`: `(offsets, times)` with resource `lo + i`'s changes at
/// `times[offsets[i]..offsets[i + 1]]`.
fn changes(plan: &Plan, counts: &[u32], lo: u32, hi: u32) -> (Vec<usize>, Vec<Nanos>) {
    let mut offsets = Vec::with_capacity((hi - lo) as usize + 1);
    let mut total = 0usize;
    for &c in &counts[lo as usize..hi as usize] {
        offsets.push(total);
        total += c as usize;
    }
    offsets.push(total);
    let mut times = vec![0; total];
    let mut fill = offsets.clone();
    for e in Workload::from_plan(plan) {
        if (lo..hi).contains(&e.resource) {
            let i = (e.resource - lo) as usize;
            times[fill[i]] = e.time;
            fill[i] += 1;
        }
    }
    (offsets, times)
}

/// Runs `jobs` over every resource of `plan`, on up to `threads` threads (0: one per core),
/// calling `progress` with the share of resources done (0–1) now and then. Returns each job's
/// metrics with its ledger totals.
pub(super) fn run(
    plan: &Plan,
    jobs: &[Job],
    threads: usize,
    progress: &mut dyn FnMut(f64),
) -> Vec<ConsumerMetrics> {
    let n = plan.resources;
    let end = plan.duration;
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |p| p.get()),
        t => t,
    };
    let mut counts = vec![0u32; n as usize];
    for e in Workload::from_plan(plan) {
        counts[e.resource as usize] += 1;
    }
    let ctxs: Vec<Ctx> = jobs
        .iter()
        .map(|job| Ctx {
            job,
            end,
            net: plan.network_delay,
            service: plan.service_time,
            net_below: plan.network_delay.below(),
            sizes: plan.sizes,
        })
        .collect();
    let fresh = |job: &Job| {
        let cp = &plan.consumers[job.consumer];
        ConsumerMetrics::new(&cp.name, cp.strategy.name(), end)
    };
    let mut totals: Vec<(ConsumerMetrics, RawTotals)> = jobs
        .iter()
        .map(|j| (fresh(j), RawTotals::default()))
        .collect();
    // Slices of resources whose changes fit in memory together.
    let mut lo = 0u32;
    while lo < n {
        let mut hi = lo;
        let mut held = 0usize;
        while hi < n && (hi == lo || held + counts[hi as usize] as usize <= MAX_CHANGES) {
            held += counts[hi as usize] as usize;
            hi += 1;
        }
        let (offsets, times) = changes(plan, &counts, lo, hi);
        let chunks = (hi - lo).div_ceil(CHUNK) as usize;
        let next = AtomicUsize::new(0);
        let merged = Mutex::new(&mut totals);
        let done = AtomicUsize::new(0);
        let me = std::thread::current();
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.min(chunks).max(1))
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine: Vec<(ConsumerMetrics, RawTotals)> = jobs
                            .iter()
                            .map(|j| (fresh(j), RawTotals::default()))
                            .collect();
                        loop {
                            let chunk = next.fetch_add(1, Ordering::Relaxed);
                            if chunk >= chunks {
                                break;
                            }
                            let a = lo + chunk as u32 * CHUNK;
                            let b = (a + CHUNK).min(hi);
                            for (ctx, (m, raw)) in ctxs.iter().zip(mine.iter_mut()) {
                                let mut ledger = Ledger::new(b - a);
                                for r in a..b {
                                    let i = (r - lo) as usize;
                                    let ch = &times[offsets[i]..offsets[i + 1]];
                                    resource(ctx, r, r - a, ch, &mut ledger, m);
                                }
                                raw.add(&ledger.close_raw(end));
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        let mut all = merged.lock().expect("no thread panics holding it");
                        for ((m, raw), (tm, traw)) in mine.iter().zip(all.iter_mut()) {
                            tm.absorb(m);
                            traw.add(raw);
                        }
                        drop(all);
                        me.unpark();
                    })
                })
                .collect();
            // This thread reports progress while the workers run.
            while !workers.iter().all(|w| w.is_finished()) {
                std::thread::park_timeout(std::time::Duration::from_millis(100));
                let share = done.load(Ordering::Relaxed) as f64 / chunks as f64;
                progress((f64::from(lo) + share * f64::from(hi - lo)) / f64::from(n));
            }
        });
        progress(f64::from(hi) / f64::from(n.max(1)));
        lo = hi;
    }
    totals
        .into_iter()
        .map(|(mut m, raw)| {
            let t: LedgerTotals = raw.finish(u64::from(n), end);
            m.events = Some(t);
            m
        })
        .collect()
}
