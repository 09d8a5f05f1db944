//! The reference model's plain fleet (`[fleet]`, `docs/design.md` "Fleets"), for the
//! differential tests against `crates/sim/src/fleet.rs`.
//!
//! Written again from the design's definitions, as plainly as possible: one ordered map of
//! everything scheduled (attempt ends, retries becoming due, new messages), every message kept
//! for the whole run (no slab, no slot reuse), the waiting messages in one ordered map by the
//! order they became due, and every [`FleetReport`](hookbench::metrics::fleet::FleetReport)
//! field counted here on its own: counters, the four histograms' samples (as lists of ns),
//! sums, peaks, the per-minute series, and the polling counterfactual by playing out every
//! poll of every account.
//!
//! What it shares with the engine, and why:
//! - the validated [`Plan`], the workload's event stream and the seeded streams
//!   (`fleet/attempts`, `fleet/retry`, `fleet/spread`; the keyed `fleet/health` and
//!   `fleet/phase`): the comparison is exact only with the same draws;
//! - `Dist::sample` / `Dist::at` (a draw to a duration) and `rand_distr::Zipf` (the account
//!   sizes), pure functions of their draws;
//! - [`policy::fleet::down_periods`](hookbench::policy::fleet::down_periods): it turns an
//!   endpoint's keyed words into its down periods (the renewal process, started stationary).
//!   Writing it again would copy its draw order word for word, so it would check nothing; what
//!   it is checked against is its own closed-form test (the share of endpoints found down);
//! - [`RetryPolicy::next_delay`](hookbench::policy::RetryPolicy::next_delay), the jittered
//!   schedule, as the consumers' part of the reference does.
//!
//! Not shared, written here: the length-biased first down period's draw, how an attempt ends
//! (`policy::fleet::attempt`'s rules: hang, refusal, `503`, `410`, `500`, a late answer being
//! a timeout that the receiver still got), the queueing disciplines (`fifo`, `fair`, the
//! per-endpoint cap), the delivery rules after a failure (the reference's own
//! [`Rules`](super::Rules), not `policy::Endpoint`), and all counting.
//!
//! Draw order: the engine draws from sequential streams in the order attempts start
//! (`fleet/attempts`, `policy::fleet::draw_attempt`: the response time unless the endpoint is
//! slow, two network delays when a down endpoint refuses, the error draw when the endpoint is
//! up, not gone and the rate is above 0) and in the order failures are retried (`fleet/retry`). This model makes the same
//! draws in the same order because it follows the same rules for what happens at one
//! instant (`sim/fleet.rs`, "Order at one instant"): attempt ends first, then retries becoming
//! due, then new messages, each in the order it was scheduled; free workers take work after
//! each one.

use super::{Rules, Why};
use hookbench::policy::fleet::{down_periods, exponential, Discipline, DownMode};
use hookbench::rng::{self, Keyed};
use hookbench::scenario::fleet::FleetPlan;
use hookbench::scenario::{Dist, Plan};
use hookbench::time::{Nanos, MINUTE};
use hookbench::workload::Workload;
use rand::Rng as _;
use rand_distr::{Distribution, Zipf};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One minute of the fleet (index = minute of the run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefFleetMinute {
    pub attempts: u64,
    pub delivered: u64,
    pub failed: u64,
    pub queue: u64,
    pub backlog: u64,
    pub oldest_pending_ns: Nanos,
    pub busy_ns: u128,
}

/// Everything the reference measured for the fleet. Histograms are kept as their samples, ns.
#[derive(Debug, Clone, Default)]
pub struct RefFleet {
    pub endpoints: u32,
    pub healthy_endpoints: u32,
    pub workers: u32,
    /// `fifo` or `fair`.
    pub queue: &'static str,
    pub max_in_flight: u32,
    pub duration_ns: Nanos,
    pub events: u64,
    pub attempts: u64,
    pub failed: u64,
    pub delivered: u64,
    pub lost: u64,
    pub pending: u64,
    pub duplicates: u64,
    pub disabled_endpoints: u64,
    pub worker_busy_ns: u128,
    pub waits: Vec<Nanos>,
    pub latencies: Vec<Nanos>,
    pub healthy_latencies: Vec<Nanos>,
    pub failing_latencies: Vec<Nanos>,
    pub backlog_peak: u64,
    pub oldest_pending_peak_ns: Nanos,
    pub storage_peak_bytes: u64,
    pub polling_requests: u64,
    pub polling_wasted: u64,
    pub polling_latencies: Vec<Nanos>,
    pub provider_busy_delivery_ns: u128,
    pub provider_busy_polling_ns: u128,
    pub minutes: Vec<RefFleetMinute>,
    // For the tests' coverage tally.
    /// Endpoints disabled, per rule.
    pub disabled_by: Vec<&'static str>,
    /// `410` answers.
    pub gone_answers: u64,
    /// Times a free worker passed over an endpoint at its cap.
    pub cap_hits: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Slow,
    Gone,
}

/// What is scheduled, in the order it runs at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    /// Message `m`'s attempt ends.
    End,
    /// Message `m`'s retry becomes due.
    Due,
    /// Event `m` happens: a new message.
    New,
}

#[derive(Debug, Clone)]
struct Message {
    endpoint: u32,
    time: Nanos,
    attempts: u32,
    /// When it last became due.
    due: Nanos,
    /// The receiver processed it at least once.
    seen: bool,
    /// How the attempt in progress ends: `None` = 2xx.
    failure: Option<Why>,
}

/// Uniform in (0, 1) from a word: the 53 high bits, centred.
fn unit(u: u64) -> f64 {
    ((u >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// The length of the down period a random instant falls into (length-biased: density
/// `x f(x) / mean`) from one word.
fn biased_down(d: &Dist, u: u64) -> Nanos {
    match *d {
        Dist::Constant(v) => v,
        // Gamma(2, mean): the sum of two exponentials, the second from the word remixed
        // (SplitMix64's finaliser).
        Dist::Exponential { mean } => {
            let mut z = u.wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            exponential(mean as f64, u) + exponential(mean as f64, z)
        }
        // Density ∝ x on [min, max]: inverse of the CDF (x² − a²) / (b² − a²).
        Dist::Uniform { min, max } => {
            let (a, b) = (min as f64, max as f64);
            (a * a + unit(u) * (b * b - a * a)).sqrt().round() as Nanos
        }
        // Lognormal (μ, σ) biased is lognormal (μ + σ², σ): median and p99 times e^{σ²}.
        Dist::LogNormal {
            median, p99, sigma, ..
        } => {
            let g = (sigma * sigma).exp();
            Dist::lognormal(
                (median as f64 * g).round() as Nanos,
                (p99 as f64 * g).round() as Nanos,
            )
            .at(u)
        }
    }
}

struct Fleet<'p> {
    plan: &'p Plan,
    f: &'p FleetPlan,
    end: Nanos,
    out: RefFleet,
    kind: Vec<Kind>,
    down: Vec<Vec<(Nanos, Nanos)>>,
    rules: Vec<Rules>,
    msgs: Vec<Message>,
    /// Everything scheduled: (time, what, order scheduled) → message or event index.
    agenda: BTreeMap<(Nanos, What, u64), usize>,
    scheduled: u64,
    /// Messages due and waiting for a worker, by the order they became due.
    waiting: BTreeMap<u64, usize>,
    became_due: u64,
    /// `fair`: endpoints with waiting work, not at their cap, in turn.
    ring: VecDeque<u32>,
    in_ring: Vec<bool>,
    in_flight: Vec<u32>,
    busy_workers: u32,
    /// Messages neither delivered nor given up, by event index.
    unsettled: BTreeSet<usize>,
    attempts_rng: rng::Rng,
    retry_rng: rng::Rng,
}

/// Runs the fleet of `plan` on the reference model.
pub fn run(plan: &Plan) -> RefFleet {
    let f = plan.fleet.as_ref().expect("a fleet");
    let end = plan.duration;
    let n = f.endpoints;
    // Endpoint kinds and down periods: keyed words per endpoint.
    let key = Keyed::new(plan.seed, "fleet/health");
    let mut kind = Vec::new();
    let mut down = Vec::new();
    for e in 0..n {
        let x = unit(key.at(e, 0, 0));
        kind.push(if x < f.slow_share {
            Kind::Slow
        } else if x < f.slow_share + f.gone_share {
            Kind::Gone
        } else {
            Kind::Normal
        });
        let mut periods = Vec::new();
        down_periods(
            f.down_share,
            f.down.mean(),
            end,
            |k| key.at(e, k + 1, 1),
            |u| f.down.at(u),
            |u| biased_down(&f.down, u),
            &mut periods,
        );
        down.push(periods);
    }
    let healthy = (0..n as usize)
        .filter(|&e| kind[e] == Kind::Normal && down[e].is_empty())
        .count() as u32;
    // Resources' owners.
    let owner: Vec<u32> = match f.zipf {
        None => (0..plan.resources).map(|r| r % n).collect(),
        Some(s) => {
            let z = Zipf::new(f64::from(n), s).expect("a valid zipf");
            let mut g = rng::stream(plan.seed, "fleet/spread");
            (0..plan.resources)
                .map(|_| {
                    let k = z.sample(&mut g) as u32;
                    k.clamp(1, n) - 1
                })
                .collect()
        }
    };
    let minutes = end.div_ceil(MINUTE) as usize;
    let mut m = Fleet {
        plan,
        f,
        end,
        out: RefFleet {
            endpoints: n,
            healthy_endpoints: healthy,
            workers: f.workers,
            queue: match f.discipline {
                Discipline::Fifo => "fifo",
                Discipline::Fair => "fair",
            },
            max_in_flight: f.max_in_flight,
            duration_ns: end,
            minutes: vec![RefFleetMinute::default(); minutes],
            ..Default::default()
        },
        kind,
        down,
        rules: (0..n).map(|_| Rules::default()).collect(),
        msgs: Vec::new(),
        agenda: BTreeMap::new(),
        scheduled: 0,
        waiting: BTreeMap::new(),
        became_due: 0,
        ring: VecDeque::new(),
        in_ring: vec![false; n as usize],
        in_flight: vec![0; n as usize],
        busy_workers: 0,
        unsettled: BTreeSet::new(),
        attempts_rng: rng::stream(plan.seed, "fleet/attempts"),
        retry_rng: rng::stream(plan.seed, "fleet/retry"),
    };
    let mut resource_of = Vec::new();
    for ev in Workload::from_plan(plan) {
        let i = m.msgs.len();
        m.msgs.push(Message {
            endpoint: owner[ev.resource as usize],
            time: ev.time,
            attempts: 0,
            due: ev.time,
            seen: false,
            failure: None,
        });
        resource_of.push(ev.resource);
        m.agenda.insert((ev.time, What::New, i as u64), i);
    }
    // Minute ends still to snapshot (every minute's end, the last one at the run's end).
    let mut minute_ends: VecDeque<Nanos> = (1..=minutes as u64)
        .map(|k| (k * MINUTE).min(end))
        .collect();
    while let Some((&(t, what, _), &i)) = m.agenda.first_key_value() {
        if t >= end {
            break;
        }
        m.agenda.pop_first();
        // A minute's state is the state at its end, before anything at that instant.
        while minute_ends.front().is_some_and(|&me| me <= t) {
            let me = minute_ends.pop_front().unwrap();
            m.snapshot(me);
        }
        match what {
            What::End => m.attempt_ended(i, t),
            What::Due => m.retry_due(i, t),
            What::New => m.arrived(i, t),
        }
        m.take_work(t);
    }
    while let Some(me) = minute_ends.pop_front() {
        m.snapshot(me);
    }
    if let Some(&first) = m.unsettled.iter().next() {
        let age = end - m.msgs[first].time;
        m.out.oldest_pending_peak_ns = m.out.oldest_pending_peak_ns.max(age);
    }
    m.out.events = m.msgs.len() as u64;
    m.out.pending = m.unsettled.len() as u64;
    m.out.storage_peak_bytes =
        m.out.backlog_peak * (plan.sizes.event_body + plan.sizes.webhook_headers);
    m.out.provider_busy_delivery_ns = m.out.worker_busy_ns;
    let times: Vec<Nanos> = m.msgs.iter().map(|x| x.time).collect();
    let mut out = m.out;
    polling(plan, f, &owner, &times, &resource_of, &mut out);
    out
}

impl Fleet<'_> {
    fn schedule(&mut self, t: Nanos, what: What, i: usize) {
        self.agenda.insert((t, what, self.scheduled), i);
        self.scheduled += 1;
    }

    fn minute(&self, t: Nanos) -> usize {
        (t / MINUTE) as usize
    }

    fn snapshot(&mut self, at: Nanos) {
        let k = ((at - 1) / MINUTE) as usize;
        let oldest = self
            .unsettled
            .iter()
            .next()
            .map_or(0, |&i| at - self.msgs[i].time);
        let m = &mut self.out.minutes[k];
        m.queue = self.waiting.len() as u64;
        m.backlog = self.unsettled.len() as u64;
        m.oldest_pending_ns = oldest;
    }

    /// Message `i` is delivered or given up at `t`.
    fn settle(&mut self, i: usize, t: Nanos) {
        if self.unsettled.iter().next() == Some(&i) {
            let age = t - self.msgs[i].time;
            self.out.oldest_pending_peak_ns = self.out.oldest_pending_peak_ns.max(age);
        }
        self.unsettled.remove(&i);
    }

    fn lose(&mut self, i: usize, t: Nanos) {
        self.out.lost += 1;
        self.settle(i, t);
    }

    /// Message `i` becomes due at `t` and waits for a worker.
    fn make_due(&mut self, i: usize, t: Nanos) {
        self.msgs[i].due = t;
        self.waiting.insert(self.became_due, i);
        self.became_due += 1;
        self.join_ring(self.msgs[i].endpoint);
    }

    fn capped(&self, e: u32) -> bool {
        self.f.max_in_flight > 0 && self.in_flight[e as usize] >= self.f.max_in_flight
    }

    fn has_waiting(&self, e: u32) -> bool {
        self.waiting.values().any(|&i| self.msgs[i].endpoint == e)
    }

    /// `fair`: an endpoint with waiting work, under its cap and not in the ring joins its back.
    fn join_ring(&mut self, e: u32) {
        if self.f.discipline == Discipline::Fair
            && !self.in_ring[e as usize]
            && !self.capped(e)
            && self.has_waiting(e)
        {
            self.in_ring[e as usize] = true;
            self.ring.push_back(e);
        }
    }

    fn arrived(&mut self, i: usize, t: Nanos) {
        self.unsettled.insert(i);
        self.out.backlog_peak = self.out.backlog_peak.max(self.unsettled.len() as u64);
        if self.rules[self.msgs[i].endpoint as usize].disabled {
            self.lose(i, t);
        } else {
            self.make_due(i, t);
        }
    }

    fn retry_due(&mut self, i: usize, t: Nanos) {
        if self.rules[self.msgs[i].endpoint as usize].disabled {
            self.lose(i, t);
        } else {
            self.make_due(i, t);
        }
    }

    /// The next waiting message for a free worker, by the discipline.
    fn next_waiting(&mut self) -> Option<usize> {
        match self.f.discipline {
            Discipline::Fifo => {
                // The message that became due first, among endpoints under their cap.
                let mut passed = BTreeSet::new();
                let mut found = None;
                for (&o, &i) in &self.waiting {
                    let e = self.msgs[i].endpoint;
                    if self.capped(e) {
                        passed.insert(e);
                    } else {
                        found = Some((o, i));
                        break;
                    }
                }
                self.out.cap_hits += passed.len() as u64;
                let (o, i) = found?;
                self.waiting.remove(&o);
                Some(i)
            }
            Discipline::Fair => {
                let e = self.ring.pop_front()?;
                self.in_ring[e as usize] = false;
                let (&o, &i) = self
                    .waiting
                    .iter()
                    .find(|(_, &i)| self.msgs[i].endpoint == e)
                    .expect("an endpoint in the ring has work");
                self.waiting.remove(&o);
                Some(i)
            }
        }
    }

    fn is_down(&self, e: u32, t: Nanos) -> bool {
        self.down[e as usize].iter().any(|&(a, b)| a <= t && t < b)
    }

    /// Free workers take waiting messages.
    fn take_work(&mut self, t: Nanos) {
        while self.busy_workers < self.f.workers {
            let Some(i) = self.next_waiting() else {
                break;
            };
            let e = self.msgs[i].endpoint;
            if self.rules[e as usize].disabled {
                // Taken off the queue, not attempted: the endpoint goes round again.
                self.lose(i, t);
                self.join_ring(e);
                continue;
            }
            self.in_flight[e as usize] += 1;
            if self.f.max_in_flight > 0 && self.in_flight[e as usize] == self.f.max_in_flight {
                self.out.cap_hits += u64::from(self.has_waiting(e));
            }
            self.join_ring(e);
            self.start_attempt(i, e, t);
        }
    }

    fn start_attempt(&mut self, i: usize, e: u32, t: Nanos) {
        let f = self.f;
        let kind = self.kind[e as usize];
        let down = self.is_down(e, t);
        // The draws, in the engine's order.
        let response = if kind == Kind::Slow {
            f.slow_response
        } else {
            f.response_time.sample(&mut self.attempts_rng)
        };
        let round_trip = if down && f.down_mode == DownMode::Refuse {
            let a = self.plan.network_delay.sample(&mut self.attempts_rng);
            a + self.plan.network_delay.sample(&mut self.attempts_rng)
        } else {
            0
        };
        let error = !down
            && kind != Kind::Gone
            && f.error_rate > 0.0
            && self.attempts_rng.random::<f64>() < f.error_rate;
        // How it ends (docs/design.md, "Fleets").
        let timeout = f.retry.timeout;
        let (hold, failure, received) = if down && f.down_mode == DownMode::Timeout {
            (timeout, Some(Why::Timeout), false)
        } else if down && f.down_mode == DownMode::Refuse {
            (round_trip.min(timeout), Some(Why::Refused), false)
        } else {
            let (answer, received) = if down {
                (Some(Why::Status(503)), false)
            } else if kind == Kind::Gone {
                (Some(Why::Status(410)), false)
            } else if error {
                (Some(Why::Status(500)), true)
            } else {
                (None, true)
            };
            if response >= timeout {
                (timeout, Some(Why::Timeout), received)
            } else {
                (response, answer, received)
            }
        };
        if failure == Some(Why::Status(410)) {
            self.out.gone_answers += 1;
        }
        let msg = &mut self.msgs[i];
        let wait = t - msg.due;
        self.out.waits.push(wait);
        msg.attempts += 1;
        msg.failure = failure;
        if received {
            if msg.seen {
                self.out.duplicates += 1;
            }
            msg.seen = true;
        }
        self.out.attempts += 1;
        let k = self.minute(t);
        self.out.minutes[k].attempts += 1;
        // Worker time, cut at the run's end, split over the minutes it spans.
        let stop = (t + hold).min(self.end);
        self.out.worker_busy_ns += u128::from(stop - t);
        if stop > t {
            for k in (t / MINUTE)..=((stop - 1) / MINUTE) {
                let from = t.max(k * MINUTE);
                let to = stop.min((k + 1) * MINUTE);
                self.out.minutes[k as usize].busy_ns += u128::from(to - from);
            }
        }
        self.busy_workers += 1;
        self.schedule(t + hold, What::End, i);
    }

    fn attempt_ended(&mut self, i: usize, t: Nanos) {
        self.busy_workers -= 1;
        let e = self.msgs[i].endpoint;
        self.in_flight[e as usize] -= 1;
        self.join_ring(e);
        let k = self.minute(t);
        match self.msgs[i].failure {
            None => {
                self.rules[e as usize].acknowledged(t);
                self.out.delivered += 1;
                self.out.minutes[k].delivered += 1;
                let lat = t - self.msgs[i].time;
                self.out.latencies.push(lat);
                let healthy =
                    self.kind[e as usize] == Kind::Normal && self.down[e as usize].is_empty();
                if healthy {
                    self.out.healthy_latencies.push(lat);
                } else {
                    self.out.failing_latencies.push(lat);
                }
                self.settle(i, t);
            }
            Some(why) => {
                self.out.failed += 1;
                self.out.minutes[k].failed += 1;
                let after = self.rules[e as usize].failed(
                    &self.f.rules,
                    &self.f.retry,
                    self.msgs[i].attempts,
                    why,
                    None,
                    t,
                    &mut self.retry_rng,
                );
                if let Some(rule) = after.disabled_now {
                    self.out.disabled_endpoints += 1;
                    self.out.disabled_by.push(rule);
                }
                match after.retry {
                    Some(d) => self.schedule(t + d, What::Due, i),
                    None => self.lose(i, t),
                }
            }
        }
    }
}

/// The polling counterfactual, every poll played out: each account (or, for `poll`, each
/// resource) polls every `interval` from a keyed random phase in `[0, interval)` until the
/// run's end; a request costs the mean service time plus the mean network round trip.
fn polling(
    plan: &Plan,
    f: &FleetPlan,
    owner: &[u32],
    times: &[Nanos],
    resource_of: &[u32],
    out: &mut RefFleet,
) {
    let p = &f.polling;
    let key = Keyed::new(plan.seed, "fleet/phase");
    let service = p.service_time.mean().round() as Nanos;
    let per_request = service + 2 * plan.network_delay.mean().round() as Nanos;
    let pollers = if p.per_resource {
        plan.resources as usize
    } else {
        f.endpoints as usize
    };
    let mut of: Vec<Vec<Nanos>> = vec![Vec::new(); pollers];
    for (i, &t) in times.iter().enumerate() {
        let r = resource_of[i];
        let g = if p.per_resource { r } else { owner[r as usize] };
        of[g as usize].push(t);
    }
    for (g, ts) in of.iter().enumerate() {
        let phase = (unit(key.at(g as u32, 0, 2)) * p.interval as f64) as Nanos;
        let phase = phase.min(p.interval - 1);
        let mut seen = 0usize;
        let mut tau = phase;
        while tau < plan.duration {
            // Everything up to and including τ not seen before.
            let new: Vec<Nanos> = ts[seen..]
                .iter()
                .copied()
                .take_while(|&x| x <= tau)
                .collect();
            if p.per_resource {
                out.polling_requests += 1;
                if new.is_empty() {
                    out.polling_wasted += 1;
                }
                for x in &new {
                    out.polling_latencies.push(tau + per_request - x);
                }
            } else if new.is_empty() {
                out.polling_requests += 1;
                out.polling_wasted += 1;
            } else {
                let page = p.page_size.max(1) as usize;
                out.polling_requests += new.len().div_ceil(page) as u64;
                for (j, x) in new.iter().enumerate() {
                    let arrives = tau + (j / page + 1) as Nanos * per_request;
                    out.polling_latencies.push(arrives - x);
                }
            }
            seen += new.len();
            tau += p.interval;
        }
    }
    out.provider_busy_polling_ns = u128::from(out.polling_requests) * u128::from(service);
}
