//! Seeded random streams, one per component.
//!
//! Paired comparisons (docs/design.md, principle 3) need every consumer to see the same events no
//! matter which other consumers are in the scenario. So nothing shares a generator: each
//! component (the workload, each consumer's phase, jitter, network and service draws) gets its
//! own ChaCha stream, selected by a hash of a stable label such as `consumer/poll-10s/network`.
//! ChaCha is specified bit for bit, so a seed means the same numbers on every machine.
//!
//! **Names.** The simulator, the live engine and the reference model (`tests/reference/`) must
//! draw a consumer's numbers from the *same* streams, or the paired comparison between them
//! silently compares different draws. So every label is defined here once: the top-level
//! names ([`WORKLOAD`], [`ANONYMOUS`], …) as constants, a consumer's streams as the closed
//! enum [`Part`] (a misspelt part does not compile), its keyed poll stream by [`poll_key`].
//! The label strings are part of every published result: changing one changes the numbers.
//!
//! The network and service draws of per-resource polls are different: they are *addressed*,
//! not consumed in order. [`Keyed`] gives the word for (resource, poll index, leg) as a pure
//! function of the seed and label, so any path can draw poll *k* of resource *r* without
//! drawing polls 0…k−1 first, in any order, on any thread, and get what the plain one-event-
//! at-a-time path gets. That is what lets the simulator skip polls that cannot see a change
//! and still sum their service time exactly (`docs/design.md`, "Counter-based draws").

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator used everywhere: ChaCha with 8 rounds (portable and fast).
pub type Rng = ChaCha8Rng;

/// FNV-1a, 64 bit: a stable hash of a label (std's hasher is not stable across releases).
pub fn label_hash(label: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The random stream named `label` under the scenario seed `seed`.
pub fn stream(seed: u64, label: &str) -> Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(label_hash(label));
    rng
}

/// Label of the workload's stream (event times and resources).
pub const WORKLOAD: &str = "workload";
/// Label of the live provider's service-time stream for requests that name no consumer.
pub const ANONYMOUS: &str = "anonymous";
/// Label of a live receiver's processing stream before the engine gives it the consumer's
/// (drawn under seed 0; the engine always replaces it).
pub const RECEIVER_DEFAULT: &str = "receiver";
/// Label of a live receiver's fault stream before the engine gives it the consumer's
/// (drawn under seed 0; the engine always replaces it).
pub const RECEIVER_FAULTS_DEFAULT: &str = "receiver-faults";
/// Label of the placeholder left behind when a live receiver takes its streams out of its
/// configuration (seed 0; never drawn from).
pub const UNUSED: &str = "unused";
/// Prefix of every keyed stream's label (so a keyed label never names a plain stream).
const KEYED_PREFIX: &str = "keyed/";

/// One of a consumer's random streams; its label is `consumer/NAME/PART`
/// ([`consumer_label`]). Each engine uses the parts of the strategies it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// Start offsets of the poll timetable or feed cycle (`phase`).
    Phase,
    /// Per-poll timetable jitter (`jitter`).
    Jitter,
    /// One-way network delays of the consumer's requests and deliveries (`network`).
    Network,
    /// The provider's service time for the consumer's requests (`service`).
    Service,
    /// A webhook receiver's processing time (`processing`).
    Processing,
    /// A webhook receiver's random errors (`faults`).
    Faults,
    /// Retry jitter of webhook deliveries (`retry`).
    Retry,
    /// Live only: network delays of a thin webhook's enrichment fetches (`enrich-network`).
    EnrichNetwork,
    /// Live only: network delays of a reconciling webhook's safety-net polls
    /// (`reconcile-network`; the simulator draws them from [`Part::Network`]).
    ReconcileNetwork,
}

impl Part {
    /// Every part, in declaration order.
    pub const ALL: [Part; 9] = [
        Part::Phase,
        Part::Jitter,
        Part::Network,
        Part::Service,
        Part::Processing,
        Part::Faults,
        Part::Retry,
        Part::EnrichNetwork,
        Part::ReconcileNetwork,
    ];

    /// The part's name inside the label.
    pub fn name(self) -> &'static str {
        match self {
            Part::Phase => "phase",
            Part::Jitter => "jitter",
            Part::Network => "network",
            Part::Service => "service",
            Part::Processing => "processing",
            Part::Faults => "faults",
            Part::Retry => "retry",
            Part::EnrichNetwork => "enrich-network",
            Part::ReconcileNetwork => "reconcile-network",
        }
    }
}

/// The label of stream `part` of consumer `consumer`: `consumer/NAME/PART`.
pub fn consumer_label(consumer: &str, part: Part) -> String {
    format!("consumer/{consumer}/{}", part.name())
}

/// The stream `part` of consumer `consumer`.
pub fn consumer_stream(seed: u64, consumer: &str, part: Part) -> Rng {
    stream(seed, &consumer_label(consumer, part))
}

/// A counter-based random stream: [`Keyed::at`] is a keyed hash of its arguments.
///
/// Construction: two 64-bit keys come from the ChaCha stream of `label` (so keys are as
/// portable as every other stream); the word for `(a, b, leg)` is two rounds of the SplitMix64
/// finaliser (Stafford's "mix13", a bijection of 64-bit words), each round keyed by one of them.
/// Distinct arguments give distinct inputs to the first round, and equidistributed,
/// independent-looking outputs are what the mixer is for; it is the same construction as
/// SplitMix64, which passes BigCrush.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keyed {
    k0: u64,
    k1: u64,
}

/// SplitMix64's output function (Stafford variant 13).
#[inline]
fn mix13(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Keyed {
    /// The keyed stream `label` under the scenario seed `seed`.
    pub fn new(seed: u64, label: &str) -> Keyed {
        use rand::RngCore;
        let mut rng = stream(seed, &format!("{KEYED_PREFIX}{label}"));
        Keyed {
            k0: rng.next_u64(),
            k1: rng.next_u64(),
        }
    }

    /// The word for `(a, b, leg)`: for poll draws `a` is the resource, `b` the poll's index
    /// among that resource's polls, and `leg` which draw of the poll (0 = request trip or
    /// service, 1 = reply trip).
    #[inline]
    pub fn at(&self, a: u32, b: u32, leg: u32) -> u64 {
        self.leg(self.first(a, b), leg)
    }

    /// The first round, shared by every leg of `(a, b)`.
    #[inline]
    pub fn first(&self, a: u32, b: u32) -> u64 {
        mix13(((u64::from(a) << 32) | u64::from(b)) ^ self.k0)
    }

    /// The second round: the word of leg `leg` from [`Keyed::first`]`(a, b)`, so that
    /// `at(a, b, leg) == leg(first(a, b), leg)` and a caller drawing several legs of one poll
    /// pays for the first round once.
    #[inline]
    pub fn leg(&self, first: u64, leg: u32) -> u64 {
        mix13(
            first
                ^ self
                    .k1
                    .wrapping_add(u64::from(leg).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        )
    }
}

/// Leg of a poll's keyed draws: the request's trip to the provider (network delay).
pub const LEG_REQUEST: u32 = 0;
/// Leg of a poll's keyed draws: the provider's service time.
pub const LEG_SERVICE: u32 = 1;
/// Leg of a poll's keyed draws: the reply's trip back (network delay), also for a `429`.
pub const LEG_REPLY: u32 = 2;

/// The label [`Keyed::new`] is given for consumer `consumer`'s poll draws:
/// `consumer/NAME/poll` (its ChaCha stream is `keyed/consumer/NAME/poll`).
pub fn poll_key_label(consumer: &str) -> String {
    format!("consumer/{consumer}/poll")
}

/// The keyed stream of consumer `consumer`'s poll draws (the legs of each poll, addressed by
/// resource and poll index).
pub fn poll_key(seed: u64, consumer: &str) -> Keyed {
    Keyed::new(seed, &poll_key_label(consumer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let a: u64 = stream(1, "workload").random();
        let b: u64 = stream(1, "workload").random();
        let c: u64 = stream(1, "consumer/x/network").random();
        let d: u64 = stream(2, "workload").random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn stream_names_are_distinct_and_pinned() {
        // Every label a run can draw from, for two consumers: no two may coincide (the
        // keyed poll stream by its ChaCha label, the one that selects its stream).
        let mut labels: Vec<String> = [
            WORKLOAD,
            ANONYMOUS,
            RECEIVER_DEFAULT,
            RECEIVER_FAULTS_DEFAULT,
            UNUSED,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for c in ["a", "b"] {
            labels.extend(Part::ALL.iter().map(|&p| consumer_label(c, p)));
            labels.push(format!("{KEYED_PREFIX}{}", poll_key_label(c)));
        }
        let mut hashes: Vec<u64> = labels.iter().map(|l| label_hash(l)).collect();
        let n = labels.len();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), n, "two stream labels coincide");
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), n, "two stream labels hash alike");
        let mut parts: Vec<&str> = Part::ALL.iter().map(|p| p.name()).collect();
        parts.sort_unstable();
        parts.dedup();
        assert_eq!(parts.len(), Part::ALL.len());
        // The labels are part of every published result: pinned.
        assert_eq!(WORKLOAD, "workload");
        assert_eq!(consumer_label("x", Part::Network), "consumer/x/network");
        assert_eq!(
            consumer_label("x", Part::ReconcileNetwork),
            "consumer/x/reconcile-network"
        );
        assert_eq!(poll_key(7, "x"), Keyed::new(7, "consumer/x/poll"));
        assert_eq!(
            consumer_stream(7, "x", Part::Phase).random::<u64>(),
            stream(7, "consumer/x/phase").random::<u64>()
        );
    }

    #[test]
    fn chacha_is_portable() {
        // Pinned value: if this changes, every published result changes with it.
        let v: u64 = stream(1, "workload").random();
        assert_eq!(v, stream(1, "workload").random::<u64>());
        assert_eq!(label_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(label_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn keyed_words_are_addressed_and_look_uniform() {
        let k = Keyed::new(1, "x");
        assert_eq!(k.at(3, 4, 0), Keyed::new(1, "x").at(3, 4, 0));
        assert_ne!(k.at(3, 4, 0), k.at(3, 4, 1));
        assert_ne!(k.at(3, 4, 0), k.at(4, 3, 0));
        assert_ne!(k, Keyed::new(2, "x"));
        // Each output bit is set about half the time over consecutive indices, and
        // neighbouring words are uncorrelated (bit by bit).
        let n = 100_000u32;
        let mut ones = [0u32; 64];
        let mut same = 0u64;
        let mut prev = 0u64;
        for i in 0..n {
            let w = k.at(7, i, 0);
            for (b, c) in ones.iter_mut().enumerate() {
                *c += ((w >> b) & 1) as u32;
            }
            same += u64::from((!(w ^ prev)).count_ones());
            prev = w;
        }
        for c in ones {
            // 5 standard deviations of a binomial(n, ½).
            assert!((f64::from(c) - 50_000.0).abs() < 5.0 * 158.2, "{c}");
        }
        let expect = 32.0 * f64::from(n);
        assert!((same as f64 - expect).abs() < 5.0 * (16.0 * f64::from(n)).sqrt());
    }
}
