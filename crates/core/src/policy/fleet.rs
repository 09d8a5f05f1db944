//! The provider's side of a webhook fleet (`[fleet]`, issue #17): which message a free
//! delivery worker takes next, when an endpoint is down, and what one attempt against an
//! endpoint looks like from the provider.
//!
//! Why these are policy: the queueing discipline and the endpoints' health model are decisions
//! an engine must not make on its own (`docs/design.md`, principle 1). What happens *after* an
//! attempt — retry, give up, disable, `410` — is not here at all: every endpoint of the fleet
//! runs the consumer webhooks' own state machine, [`Endpoint`](super::Endpoint), so a fleet
//! and a single webhook consumer can never disagree on a delivery rule.
//!
//! - [`Dispatch`]: messages that are due wait in one intrusive FIFO list per endpoint (links in
//!   a flat array indexed by message slot: no allocation per message). A free worker takes
//!   the next message by the [`Discipline`]: `fifo` is one queue in due order (the endpoint
//!   whose head message became due first), `fair` is round robin over the endpoints with due
//!   work. `max_in_flight` caps the attempts in progress per endpoint: an endpoint at its cap
//!   is passed over (its messages wait, the others go ahead) until one of its attempts ends.
//! - [`down_periods`]: each endpoint alternates between up (exponential lengths) and down
//!   (any length distribution) periods, an alternating renewal process started in its
//!   stationary state, so a message at any time finds its endpoint down with probability
//!   `down_share`: at `t = 0` the endpoint is down with probability `down_share`, and then
//!   for the *residual* of a length-biased down period (a uniform fraction of it); when up,
//!   the residual up time is exponential again (memorylessness).
//! - [`attempt`]: how one attempt ends, from the endpoint's kind and state at its start: the
//!   answer (2xx, 5xx, `410`), a refused connection, or a hang until the timeout, and how
//!   long it holds a worker.

use super::{Failure, FailureKind};
use crate::time::Nanos;
use std::collections::{BinaryHeap, VecDeque};

/// No link: the end of a list.
const NIL: u32 = u32::MAX;

/// How free delivery workers pick the next message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discipline {
    /// One queue in due order: the message that became due first goes first, whatever its
    /// endpoint (a failing endpoint's retries queue with everyone else's messages).
    Fifo,
    /// Round robin over endpoints with due work: one message per endpoint in turn.
    Fair,
}

impl Discipline {
    /// The name scenario files use: `fifo` or `fair`.
    pub fn name(self) -> &'static str {
        match self {
            Discipline::Fifo => "fifo",
            Discipline::Fair => "fair",
        }
    }

    /// The discipline named `s`.
    pub fn parse(s: &str) -> Option<Discipline> {
        match s {
            "fifo" => Some(Discipline::Fifo),
            "fair" => Some(Discipline::Fair),
            _ => None,
        }
    }
}

/// Per-endpoint list head and bookkeeping.
#[derive(Debug, Clone, Copy)]
struct Lane {
    head: u32,
    tail: u32,
    /// Attempts in progress.
    in_flight: u32,
    /// Whether the endpoint is in the selection structure (heap or ring).
    listed: bool,
}

/// Due messages waiting for a worker, by endpoint, and the discipline that picks the next.
///
/// Messages are addressed by a slot number the caller owns (`0..`, reused after a message is
/// settled); [`Dispatch`] only keeps its links. Deterministic: ties in due time go in push
/// order.
#[derive(Debug, Clone)]
pub struct Dispatch {
    discipline: Discipline,
    /// 0 = no limit.
    max_in_flight: u32,
    lanes: Vec<Lane>,
    /// Next slot in the same endpoint's list.
    next: Vec<u32>,
    /// Push order of each slot (the `fifo` key after its due time).
    order: Vec<(Nanos, u64)>,
    pushed: u64,
    /// `fifo`: endpoints keyed by their head message's (due, push order), smallest first.
    heap: BinaryHeap<std::cmp::Reverse<(Nanos, u64, u32)>>,
    /// `fair`: endpoints in turn.
    ring: VecDeque<u32>,
    waiting: usize,
}

impl Dispatch {
    /// An empty dispatcher for `endpoints` endpoints; `max_in_flight` 0 means no limit.
    pub fn new(discipline: Discipline, endpoints: u32, max_in_flight: u32) -> Dispatch {
        Dispatch {
            discipline,
            max_in_flight,
            lanes: vec![
                Lane {
                    head: NIL,
                    tail: NIL,
                    in_flight: 0,
                    listed: false,
                };
                endpoints as usize
            ],
            next: Vec::new(),
            order: Vec::new(),
            pushed: 0,
            heap: BinaryHeap::new(),
            ring: VecDeque::new(),
            waiting: 0,
        }
    }

    /// Messages waiting for a worker.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// Attempts in progress at `endpoint`.
    pub fn in_flight(&self, endpoint: u32) -> u32 {
        self.lanes[endpoint as usize].in_flight
    }

    fn capped(&self, lane: &Lane) -> bool {
        self.max_in_flight > 0 && lane.in_flight >= self.max_in_flight
    }

    /// Puts `endpoint` in the selection structure if it has work, is not there, and is not at
    /// its cap.
    fn list(&mut self, endpoint: u32) {
        let lane = self.lanes[endpoint as usize];
        if lane.listed || lane.head == NIL || self.capped(&lane) {
            return;
        }
        self.lanes[endpoint as usize].listed = true;
        match self.discipline {
            Discipline::Fifo => {
                let (due, seq) = self.order[lane.head as usize];
                self.heap.push(std::cmp::Reverse((due, seq, endpoint)));
            }
            Discipline::Fair => self.ring.push_back(endpoint),
        }
    }

    /// Message `slot` of `endpoint` became due at `due` (no earlier than any message pushed
    /// before it for the same endpoint).
    pub fn push(&mut self, endpoint: u32, slot: u32, due: Nanos) {
        let s = slot as usize;
        if self.next.len() <= s {
            self.next.resize(s + 1, NIL);
            self.order.resize(s + 1, (0, 0));
        }
        self.next[s] = NIL;
        self.order[s] = (due, self.pushed);
        self.pushed += 1;
        let lane = &mut self.lanes[endpoint as usize];
        if lane.tail == NIL {
            lane.head = slot;
        } else {
            self.next[lane.tail as usize] = slot;
        }
        lane.tail = slot;
        self.waiting += 1;
        self.list(endpoint);
    }

    /// The next message for a free worker, `(endpoint, slot)`, counted in flight at its
    /// endpoint; `None` when nothing eligible waits.
    pub fn pop(&mut self) -> Option<(u32, u32)> {
        let endpoint = match self.discipline {
            Discipline::Fifo => self.heap.pop()?.0 .2,
            Discipline::Fair => self.ring.pop_front()?,
        };
        let e = endpoint as usize;
        let slot = self.lanes[e].head;
        let next = self.next[slot as usize];
        let lane = &mut self.lanes[e];
        lane.head = next;
        if next == NIL {
            lane.tail = NIL;
        }
        lane.in_flight += 1;
        lane.listed = false;
        self.waiting -= 1;
        self.list(endpoint);
        Some((endpoint, slot))
    }

    /// An attempt at `endpoint` ended (its worker is free).
    pub fn finished(&mut self, endpoint: u32) {
        let lane = &mut self.lanes[endpoint as usize];
        lane.in_flight -= 1;
        self.list(endpoint);
    }
}

/// Uniform in (0, 1) from one word (the 53 high bits, centred).
pub fn unit(u: u64) -> f64 {
    ((u >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// A second word from one (SplitMix64's finaliser): two draws from one keyed word.
pub fn remix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An exponential length with mean `mean` ns from one word.
pub fn exponential(mean: f64, u: u64) -> Nanos {
    let x = -(1.0 - unit(u)).ln() * mean;
    if x.is_finite() && x < u64::MAX as f64 / 2.0 {
        x.round() as Nanos
    } else {
        u64::MAX / 2
    }
}

/// The down periods `[start, end)` of one endpoint that begin before `until`, in order,
/// appended to `out`.
///
/// `down_share` is the long-run share of time down (0 ≤ s < 1), `down_mean` the mean length
/// of a down period (ns). `word(k)` gives the `k`-th random word of this endpoint (a keyed,
/// counter-based draw, so every endpoint's story is independent of the others);
/// `down_len(u)` is a down period's length from a word, and `biased_len(u)` the length of a
/// *length-biased* down period (the one a random instant falls into; for a lognormal
/// `(μ, σ)` it is lognormal `(μ + σ², σ)`). Up periods are exponential with mean
/// `down_mean · (1 − s) / s`.
pub fn down_periods(
    down_share: f64,
    down_mean: f64,
    until: Nanos,
    mut word: impl FnMut(u32) -> u64,
    down_len: impl Fn(u64) -> Nanos,
    biased_len: impl Fn(u64) -> Nanos,
    out: &mut Vec<(Nanos, Nanos)>,
) {
    if down_share <= 0.0 {
        return;
    }
    let up_mean = down_mean * (1.0 - down_share) / down_share;
    let mut k = 0u32;
    let mut draw = || {
        let w = word(k);
        k += 1;
        w
    };
    let mut t: Nanos;
    if unit(draw()) < down_share {
        let full = biased_len(draw());
        let left = (full as f64 * unit(draw())).round() as Nanos;
        out.push((0, left));
        t = left;
    } else {
        t = 0;
    }
    loop {
        t = t.saturating_add(exponential(up_mean, draw()));
        if t >= until {
            return;
        }
        let len = down_len(draw());
        out.push((t, t.saturating_add(len)));
        t = t.saturating_add(len);
    }
}

/// Keyed-draw legs of an endpoint (`fleet/health` and `fleet/phase` streams).
const LEG_KIND: u32 = 0;
const LEG_HEALTH: u32 = 1;
const LEG_PHASE: u32 = 2;

/// Which endpoint owns each resource: `resources % endpoints` when `zipf` is `None`, else a
/// Zipf draw (exponent `zipf`) per resource from the `fleet/spread` stream.
pub fn owners(seed: u64, resources: u32, endpoints: u32, zipf: Option<f64>) -> Vec<u32> {
    use rand_distr::{Distribution, Zipf};
    let n = endpoints;
    match zipf.and_then(|s| Zipf::new(f64::from(n), s).ok()) {
        None => (0..resources).map(|r| r % n).collect(),
        Some(z) => {
            let mut rng = crate::rng::stream(seed, "fleet/spread");
            (0..resources)
                .map(|_| (z.sample(&mut rng) as u32).clamp(1, n) - 1)
                .collect()
        }
    }
}

/// The health model's inputs: shares and the down-period lengths (see [`Health::new`]).
pub struct HealthModel<D: Fn(u64) -> Nanos, B: Fn(u64) -> Nanos> {
    /// Share of slow endpoints, 0–1.
    pub slow_share: f64,
    /// Share of endpoints answering `410`, 0–1.
    pub gone_share: f64,
    /// Long-run share of time down, 0 ≤ s < 1.
    pub down_share: f64,
    /// Mean down period, ns.
    pub down_mean: f64,
    /// A down period's length from a word, ns.
    pub down_len: D,
    /// A length-biased down period's length from a word, ns (see [`down_periods`]).
    pub biased_len: B,
}

/// Every endpoint's kind and down periods for a whole run, fixed before it starts from the
/// keyed `fleet/health` stream (so an endpoint's story does not depend on the engine, on the
/// order of attempts, or on the other endpoints).
#[derive(Debug, Clone)]
pub struct Health {
    kind: Vec<Kind>,
    /// CSR offsets into `periods`, one more than endpoints.
    offsets: Vec<u32>,
    periods: Vec<(Nanos, Nanos)>,
    /// Per endpoint: index of the first period not yet over at the last look.
    cursor: Vec<u32>,
}

impl Health {
    /// The health of `endpoints` endpoints under scenario seed `seed`, periods starting
    /// before `until` (the run's length, ns).
    pub fn new<D: Fn(u64) -> Nanos, B: Fn(u64) -> Nanos>(
        seed: u64,
        endpoints: u32,
        until: Nanos,
        m: &HealthModel<D, B>,
    ) -> Health {
        let key = crate::rng::Keyed::new(seed, "fleet/health");
        let n = endpoints as usize;
        let mut kind = Vec::with_capacity(n);
        let mut offsets = Vec::with_capacity(n + 1);
        let mut periods = Vec::new();
        offsets.push(0);
        for e in 0..endpoints {
            let x = unit(key.at(e, 0, LEG_KIND));
            kind.push(if x < m.slow_share {
                Kind::Slow
            } else if x < m.slow_share + m.gone_share {
                Kind::Gone
            } else {
                Kind::Normal
            });
            down_periods(
                m.down_share,
                m.down_mean,
                until,
                |k| key.at(e, k + 1, LEG_HEALTH),
                &m.down_len,
                &m.biased_len,
                &mut periods,
            );
            offsets.push(periods.len() as u32);
        }
        Health {
            kind,
            cursor: offsets[..n].to_vec(),
            offsets,
            periods,
        }
    }

    /// The kind of endpoint `e`.
    pub fn kind(&self, e: u32) -> Kind {
        self.kind[e as usize]
    }

    /// Whether `e` is down at `t`, for calls that come in time order per endpoint (the
    /// simulation): amortised O(1).
    pub fn down(&mut self, e: u32, t: Nanos) -> bool {
        let e = e as usize;
        let end = self.offsets[e + 1];
        let mut c = self.cursor[e];
        while c < end && self.periods[c as usize].1 <= t {
            c += 1;
        }
        self.cursor[e] = c;
        c < end && self.periods[c as usize].0 <= t
    }

    /// Whether `e` is down at `t`, in any order of calls (a binary search; the live engine's
    /// concurrent receiver).
    pub fn down_at(&self, e: u32, t: Nanos) -> bool {
        let e = e as usize;
        let ps = &self.periods[self.offsets[e] as usize..self.offsets[e + 1] as usize];
        let i = ps.partition_point(|p| p.1 <= t);
        ps.get(i).is_some_and(|p| p.0 <= t)
    }

    /// Never down, slow or gone during the run.
    pub fn healthy(&self, e: u32) -> bool {
        let e = e as usize;
        self.kind[e] == Kind::Normal && self.offsets[e] == self.offsets[e + 1]
    }

    /// Endpoints that are [`healthy`](Health::healthy).
    pub fn healthy_count(&self) -> u32 {
        (0..self.kind.len() as u32)
            .filter(|&e| self.healthy(e))
            .count() as u32
    }
}

/// The fixed conditions of a fleet's attempts (see [`draw_attempt`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptModel {
    /// How a down endpoint looks.
    pub down_mode: DownMode,
    /// A slow endpoint's answer time, ns.
    pub slow_response: Nanos,
    /// The provider's per-attempt timeout, ns.
    pub timeout: Nanos,
    /// Random `500` share of an up endpoint's answers, 0–1.
    pub error_rate: f64,
}

/// The random conditions of one attempt at an endpoint of kind `kind`, `down` or not, from
/// the fleet's `fleet/attempts` stream `rng`, in this order: the response time
/// (`response(rng)`, not for a slow endpoint), two one-way network delays (`one_way(rng)`,
/// only for a down endpoint that refuses), the error draw (only for an up endpoint that is
/// not gone, with a non-zero error rate). Both engines draw through here so the streams are
/// consumed alike.
pub fn draw_attempt<R: rand::Rng>(
    m: &AttemptModel,
    kind: Kind,
    down: bool,
    rng: &mut R,
    response: impl FnOnce(&mut R) -> Nanos,
    mut one_way: impl FnMut(&mut R) -> Nanos,
) -> AttemptDraw {
    let response = match kind {
        Kind::Slow => m.slow_response,
        _ => response(rng),
    };
    let round_trip = if down && m.down_mode == DownMode::Refuse {
        one_way(rng) + one_way(rng)
    } else {
        0
    };
    let error =
        !down && kind != Kind::Gone && m.error_rate > 0.0 && rng.random::<f64>() < m.error_rate;
    AttemptDraw {
        kind,
        down,
        down_mode: m.down_mode,
        response,
        round_trip,
        timeout: m.timeout,
        error,
    }
}

/// The polling counterfactual's settings (see [`polling`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollingModel {
    /// Every resource is polled (`poll`) rather than each account's events list.
    pub per_resource: bool,
    /// Time between polls, ns.
    pub interval: Nanos,
    /// Events per page.
    pub page_size: u32,
    /// Time from a poll to its response, ns (service time plus a round trip, their means).
    pub per_request: Nanos,
    /// The run's end, ns.
    pub end: Nanos,
    /// Resources (the groups of per-resource polling).
    pub resources: u32,
    /// Endpoints (the accounts of events-list polling).
    pub endpoints: u32,
}

/// The polling counterfactual of a fleet: every account (endpoint) — or every resource, for
/// per-resource polling — polls instead, from a random phase (keyed `fleet/phase` stream).
/// `owner` maps resources to endpoints; event `i` happened at `ev_time[i]` on resource
/// `ev_res[i]`, in time order. Calls `latency(ns)` per event seen; returns `(requests,
/// wasted)`.
pub fn polling(
    seed: u64,
    p: &PollingModel,
    owner: &[u32],
    ev_time: &[Nanos],
    ev_res: &[u32],
    mut latency: impl FnMut(Nanos),
) -> (u64, u64) {
    let key = crate::rng::Keyed::new(seed, "fleet/phase");
    // Group event times by account (or resource): a stable counting sort keeps time order.
    let groups = if p.per_resource {
        p.resources as usize
    } else {
        p.endpoints as usize
    };
    let group = |i: usize| -> usize {
        let res = ev_res[i] as usize;
        if p.per_resource {
            res
        } else {
            owner[res] as usize
        }
    };
    let mut offsets = vec![0u32; groups + 1];
    for i in 0..ev_time.len() {
        offsets[group(i) + 1] += 1;
    }
    for g in 0..groups {
        offsets[g + 1] += offsets[g];
    }
    let mut fill = offsets.clone();
    let mut times = vec![0 as Nanos; ev_time.len()];
    for (i, &t) in ev_time.iter().enumerate() {
        let g = group(i);
        times[fill[g] as usize] = t;
        fill[g] += 1;
    }
    let (mut requests, mut wasted) = (0u64, 0u64);
    for g in 0..groups {
        let ts = &times[offsets[g] as usize..offsets[g + 1] as usize];
        let phase = (unit(key.at(g as u32, 0, LEG_PHASE)) * p.interval as f64) as Nanos;
        let phase = phase.min(p.interval - 1);
        let (q, w) = if p.per_resource {
            poll_resource(ts, phase, p.interval, p.end, p.per_request, &mut latency)
        } else {
            poll_events(
                ts,
                phase,
                p.interval,
                p.end,
                p.page_size,
                p.per_request,
                &mut latency,
            )
        };
        requests += q;
        wasted += w;
    }
    (requests, wasted)
}

/// What kind of endpoint, for the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Answers in the response time (when up).
    Normal,
    /// Always answers in the slow response time.
    Slow,
    /// Always answers `410 Gone`.
    Gone,
}

/// How a down endpoint looks from the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownMode {
    /// The attempt hangs until the provider's timeout.
    Timeout,
    /// The connection is refused after one round trip.
    Refuse,
    /// The endpoint answers `503` after its response time.
    Unavailable,
}

impl DownMode {
    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            DownMode::Timeout => "timeout",
            DownMode::Refuse => "refuse",
            DownMode::Unavailable => "503",
        }
    }

    /// The mode named `s`.
    pub fn parse(s: &str) -> Option<DownMode> {
        match s {
            "timeout" => Some(DownMode::Timeout),
            "refuse" => Some(DownMode::Refuse),
            "503" => Some(DownMode::Unavailable),
            _ => None,
        }
    }
}

/// How one attempt ended, as the provider sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptEnd {
    /// How long the attempt holds its worker, ns.
    pub hold: Nanos,
    /// `None`: answered `2xx`; else the failure.
    pub failure: Option<Failure>,
    /// Whether the receiver's handler got the message (it may still have timed out on the
    /// provider's side: a later retry is then a duplicate).
    pub received: bool,
}

/// The conditions of one attempt, drawn by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptDraw {
    /// The endpoint's kind.
    pub kind: Kind,
    /// Whether the endpoint is down at the attempt's start.
    pub down: bool,
    /// How a down endpoint looks.
    pub down_mode: DownMode,
    /// The answer time the endpoint would take (the response-time draw, or the slow time), ns.
    pub response: Nanos,
    /// One network round trip, ns (what a refused connection costs).
    pub round_trip: Nanos,
    /// The provider's per-attempt timeout, ns.
    pub timeout: Nanos,
    /// A random `500` from an endpoint that is up (drawn at the error rate).
    pub error: bool,
}

/// How an attempt ends. An answer that would come at or after the timeout is a timeout (the
/// receiver still got the message when it is up).
pub fn attempt(d: AttemptDraw) -> AttemptEnd {
    let fail = |kind| {
        Some(Failure {
            kind,
            retry_after: None,
        })
    };
    if d.down {
        return match d.down_mode {
            DownMode::Timeout => AttemptEnd {
                hold: d.timeout,
                failure: fail(FailureKind::Timeout),
                received: false,
            },
            DownMode::Refuse => AttemptEnd {
                hold: d.round_trip.min(d.timeout),
                failure: fail(FailureKind::Connection),
                received: false,
            },
            DownMode::Unavailable => answered(d, fail(FailureKind::Status(503)), false),
        };
    }
    match d.kind {
        Kind::Gone => answered(d, fail(FailureKind::Status(410)), false),
        Kind::Normal | Kind::Slow => {
            let status = if d.error {
                fail(FailureKind::Status(500))
            } else {
                None
            };
            answered(d, status, true)
        }
    }
}

fn answered(d: AttemptDraw, failure: Option<Failure>, received: bool) -> AttemptEnd {
    if d.response >= d.timeout {
        AttemptEnd {
            hold: d.timeout,
            failure: Some(Failure {
                kind: FailureKind::Timeout,
                retry_after: None,
            }),
            received,
        }
    } else {
        AttemptEnd {
            hold: d.response,
            failure,
            received,
        }
    }
}

/// The polling counterfactual for one account: it polls its events list every `interval`
/// from `phase` (`0 <= phase < interval`), each poll before `end`; a poll at `τ` sees every
/// event with time `<= τ` not seen before, in pages of `page_size` that follow one another at
/// once, each taking `per_request` ns to come back. `times` are the account's event times,
/// sorted. Calls `latency(ns)` once per event seen and returns `(requests, wasted)`.
pub fn poll_events(
    times: &[Nanos],
    phase: Nanos,
    interval: Nanos,
    end: Nanos,
    page_size: u32,
    per_request: Nanos,
    mut latency: impl FnMut(Nanos),
) -> (u64, u64) {
    let (mut requests, mut wasted) = (0u64, 0u64);
    let mut seen = 0usize;
    let mut tau = phase;
    let page = page_size.max(1) as usize;
    while tau < end {
        // Events at or before τ.
        let upto = seen + times[seen..].partition_point(|&t| t <= tau);
        let n = upto - seen;
        if n == 0 {
            requests += 1;
            wasted += 1;
            // Jump to the poll that sees the next event (every poll between is wasted).
            let next = times.get(seen).copied().unwrap_or(end);
            let skip = if next > tau {
                (next - tau).div_ceil(interval).saturating_sub(1)
            } else {
                0
            };
            let left = (end - tau - 1) / interval; // polls after this one before end
            let skip = skip.min(left);
            requests += skip;
            wasted += skip;
            tau += (skip + 1) * interval;
            continue;
        }
        let pages = n.div_ceil(page);
        requests += pages as u64;
        for (i, &t) in times[seen..upto].iter().enumerate() {
            let arrive = tau + (i / page + 1) as Nanos * per_request;
            latency(arrive - t);
        }
        seen = upto;
        tau += interval;
    }
    (requests, wasted)
}

/// Per-resource polling for one resource: a GET every `interval` from `phase`, before `end`;
/// a poll is wasted when the resource did not change since the previous one (for the first
/// poll: since the start). Events superseded before a poll are observed by it (state polling
/// sees the latest version). Returns `(requests, wasted)` and calls `latency` per event seen.
pub fn poll_resource(
    times: &[Nanos],
    phase: Nanos,
    interval: Nanos,
    end: Nanos,
    per_request: Nanos,
    mut latency: impl FnMut(Nanos),
) -> (u64, u64) {
    if phase >= end {
        return (0, 0);
    }
    let requests = (end - phase).div_ceil(interval);
    let mut useful = 0u64;
    let mut seen = 0usize;
    while seen < times.len() {
        let t = times[seen];
        // The first poll at or after t.
        let k = if t <= phase {
            0
        } else {
            (t - phase).div_ceil(interval)
        };
        let tau = phase + k * interval;
        if tau >= end {
            break;
        }
        let upto = seen + times[seen..].partition_point(|&x| x <= tau);
        for &x in &times[seen..upto] {
            latency(tau + per_request - x);
        }
        useful += 1;
        seen = upto;
    }
    (requests, requests - useful)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_takes_the_earliest_due_and_fair_alternates() {
        let mut d = Dispatch::new(Discipline::Fifo, 3, 0);
        d.push(0, 0, 10);
        d.push(0, 1, 11);
        d.push(1, 2, 12);
        assert_eq!(d.pop(), Some((0, 0)));
        assert_eq!(d.pop(), Some((0, 1)));
        assert_eq!(d.pop(), Some((1, 2)));
        assert_eq!(d.pop(), None);
        let mut f = Dispatch::new(Discipline::Fair, 3, 0);
        f.push(0, 0, 10);
        f.push(0, 1, 11);
        f.push(0, 2, 12);
        f.push(1, 3, 13);
        assert_eq!(f.pop(), Some((0, 0)));
        assert_eq!(f.pop(), Some((1, 3)));
        assert_eq!(f.pop(), Some((0, 1)));
        assert_eq!(f.waiting(), 1);
    }

    #[test]
    fn a_capped_endpoint_is_passed_over_until_an_attempt_ends() {
        let mut d = Dispatch::new(Discipline::Fifo, 2, 1);
        d.push(0, 0, 1);
        d.push(0, 1, 2);
        d.push(1, 2, 3);
        assert_eq!(d.pop(), Some((0, 0)));
        assert_eq!(d.pop(), Some((1, 2)));
        assert_eq!(d.pop(), None);
        d.finished(0);
        assert_eq!(d.pop(), Some((0, 1)));
        assert_eq!(d.in_flight(0), 1);
    }

    #[test]
    fn stationary_start_finds_the_endpoint_down_at_the_share() {
        let key = crate::rng::Keyed::new(7, "t");
        let (n, mut down) = (20_000u32, 0);
        let mut out = Vec::new();
        for e in 0..n {
            out.clear();
            down_periods(
                0.1,
                1000.0,
                1,
                |k| key.at(e, k, 0),
                |u| exponential(1000.0, u),
                |u| exponential(1000.0, u) + exponential(1000.0, u.rotate_left(17)),
                &mut out,
            );
            down += u32::from(out.first().is_some_and(|p| p.0 == 0 && p.1 > 0));
        }
        let p = f64::from(down) / f64::from(n);
        // Binomial: sd = sqrt(0.09 / 20000) = 0.0021; 5 sd.
        assert!((p - 0.1).abs() < 0.011, "{p}");
    }

    #[test]
    fn down_at_agrees_with_the_time_ordered_look() {
        let m = HealthModel {
            slow_share: 0.1,
            gone_share: 0.1,
            down_share: 0.3,
            down_mean: 1000.0,
            down_len: |u| exponential(1000.0, u),
            biased_len: |u| exponential(1000.0, u) + exponential(1000.0, remix(u)),
        };
        let mut h = Health::new(3, 50, 100_000, &m);
        let fixed = h.clone();
        let mut downs = 0;
        for t in (0..100_000).step_by(37) {
            for e in 0..50 {
                let d = h.down(e, t);
                assert_eq!(d, fixed.down_at(e, t), "endpoint {e} at {t}");
                downs += u32::from(d);
            }
        }
        assert!(downs > 0 && fixed.healthy_count() < 50);
    }

    #[test]
    fn attempts_time_out_refuse_and_answer() {
        let base = AttemptDraw {
            kind: Kind::Normal,
            down: false,
            down_mode: DownMode::Timeout,
            response: 5,
            round_trip: 2,
            timeout: 100,
            error: false,
        };
        assert_eq!(attempt(base).failure, None);
        assert_eq!(attempt(base).hold, 5);
        let hang = attempt(AttemptDraw { down: true, ..base });
        assert_eq!((hang.hold, hang.received), (100, false));
        let refused = attempt(AttemptDraw {
            down: true,
            down_mode: DownMode::Refuse,
            ..base
        });
        assert_eq!(refused.hold, 2);
        let slow = attempt(AttemptDraw {
            kind: Kind::Slow,
            response: 300,
            ..base
        });
        assert_eq!(slow.hold, 100);
        assert!(slow.received && slow.failure.is_some());
        let gone = attempt(AttemptDraw {
            kind: Kind::Gone,
            ..base
        });
        assert_eq!(gone.failure.unwrap().kind, FailureKind::Status(410));
    }

    #[test]
    fn polling_counts_requests_pages_and_waste() {
        // Interval 10, phase 0, end 100: polls at 0, 10, …, 90 (10 polls).
        let mut lat = Vec::new();
        let (req, wasted) = poll_events(&[], 0, 10, 100, 2, 1, |l| lat.push(l));
        assert_eq!((req, wasted), (10, 10));
        let (req, wasted) = poll_events(&[5, 6, 7, 55], 0, 10, 100, 2, 1, |l| lat.push(l));
        // Poll at 10 sees 3 events: 2 pages; poll at 60 sees one.
        assert_eq!((req, wasted), (11, 8));
        assert_eq!(lat, vec![6, 5, 5, 6]);
        let (req, wasted) = poll_resource(&[5, 6, 55], 3, 10, 100, 1, |_| ());
        assert_eq!((req, wasted), (10, 8));
    }
}
