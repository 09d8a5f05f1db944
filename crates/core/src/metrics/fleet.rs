//! What a fleet run measured ([`FleetReport`]): one serde record with the counters,
//! histograms and per-minute series the fleet files are written from (`report/fleet.rs`).
//! Shard parts store it like the rest of a [`RunReport`](super::RunReport), so a merged run
//! writes the same `fleet.csv`.
//!
//! Latencies and waits are histograms in µs like the consumers' ([`super::new_histogram`]);
//! the sums beside them are exact (ns), so means are exact.

use super::histogram_counts;
use crate::time::Nanos;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// One minute of a fleet run (index = minute of the run). The states (`queue`, `backlog`,
/// `oldest_pending_ns`) are at the minute's end, before anything at that instant; a last,
/// partial minute ends with the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetMinute {
    /// Attempts started.
    pub attempts: u64,
    /// Messages delivered (answered `2xx`).
    pub delivered: u64,
    /// Attempts that failed.
    pub failed: u64,
    /// Messages due and waiting for a worker at the minute's end.
    pub queue: u64,
    /// Messages neither delivered nor given up at the minute's end.
    pub backlog: u64,
    /// Age of the oldest of them at the minute's end, ns (0 when none).
    pub oldest_pending_ns: Nanos,
    /// Worker time spent in attempts during the minute, ns (÷ 60 s = mean busy workers).
    pub busy_ns: u128,
}

/// The record of one fleet run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetReport {
    /// Endpoints.
    pub endpoints: u32,
    /// Endpoints never down, slow or gone during the run.
    pub healthy_endpoints: u32,
    /// Delivery workers.
    pub workers: u32,
    /// Queueing discipline (`fifo`, `fair`).
    pub queue: String,
    /// Per-endpoint cap on attempts in progress (0: none).
    pub max_in_flight: u32,
    /// Messages (one per event).
    pub events: u64,
    /// Attempts started.
    pub attempts: u64,
    /// Attempts that failed (timeout, refused, non-2xx).
    pub failed: u64,
    /// Messages delivered (answered `2xx`).
    pub delivered: u64,
    /// Messages given up (schedule exhausted, endpoint disabled, not retried).
    pub lost: u64,
    /// Messages neither delivered nor given up when the run ended.
    pub pending: u64,
    /// Attempts whose message the receiver had already processed (a timed-out attempt the
    /// receiver got, retried).
    pub duplicates: u64,
    /// Endpoints disabled by the delivery rules.
    pub disabled_endpoints: u64,
    /// Worker time spent in attempts, ns.
    pub worker_busy_ns: u128,
    /// Run length, ns.
    pub duration_ns: Nanos,
    /// Waits for a worker (due → attempt start), µs.
    #[serde(with = "histogram_counts")]
    pub wait: Histogram<u64>,
    /// Sum of the waits, ns.
    pub wait_sum_ns: u128,
    /// Event → delivered, every endpoint, µs.
    #[serde(with = "histogram_counts")]
    pub latency: Histogram<u64>,
    /// Event → delivered at healthy endpoints, µs.
    #[serde(with = "histogram_counts")]
    pub healthy_latency: Histogram<u64>,
    /// Event → delivered at the other endpoints (down at some time, slow or gone), µs.
    #[serde(with = "histogram_counts")]
    pub failing_latency: Histogram<u64>,
    /// Most messages neither delivered nor given up at once.
    pub backlog_peak: u64,
    /// Largest age of the oldest such message, ns.
    pub oldest_pending_peak_ns: Nanos,
    /// Largest bytes of stored messages at once (backlog × one webhook's bytes).
    pub storage_peak_bytes: u64,
    /// Polling counterfactual: requests.
    pub polling_requests: u64,
    /// Polling counterfactual: requests that brought nothing.
    pub polling_wasted: u64,
    /// Polling counterfactual: event → the response carrying it, µs.
    #[serde(with = "histogram_counts")]
    pub polling_latency: Histogram<u64>,
    /// Provider time spent delivering (worker-held attempt time), ns.
    pub provider_busy_delivery_ns: u128,
    /// Provider time the polling requests would take (requests × service time), ns.
    pub provider_busy_polling_ns: u128,
    /// Per-minute series.
    pub minutes: Vec<FleetMinute>,
}

impl FleetReport {
    /// A record with the fleet's settings and nothing counted yet: `endpoints` (of which
    /// `healthy_endpoints` are never down, slow or gone), `workers`, the `queue` discipline's
    /// name, the per-endpoint cap (0: none) and the run's length, ns. Both engines start from it.
    pub fn new(
        endpoints: u32,
        healthy_endpoints: u32,
        workers: u32,
        queue: &str,
        max_in_flight: u32,
        duration_ns: Nanos,
    ) -> FleetReport {
        FleetReport {
            endpoints,
            healthy_endpoints,
            workers,
            queue: queue.into(),
            max_in_flight,
            events: 0,
            attempts: 0,
            failed: 0,
            delivered: 0,
            lost: 0,
            pending: 0,
            duplicates: 0,
            disabled_endpoints: 0,
            worker_busy_ns: 0,
            duration_ns,
            wait: super::new_histogram(),
            wait_sum_ns: 0,
            latency: super::new_histogram(),
            healthy_latency: super::new_histogram(),
            failing_latency: super::new_histogram(),
            backlog_peak: 0,
            oldest_pending_peak_ns: 0,
            storage_peak_bytes: 0,
            polling_requests: 0,
            polling_wasted: 0,
            polling_latency: super::new_histogram(),
            provider_busy_delivery_ns: 0,
            provider_busy_polling_ns: 0,
            minutes: Vec::new(),
        }
    }

    /// Checks that no message went missing: `events = delivered + lost + pending`.
    pub fn check_invariant(&self) -> Result<(), String> {
        if self.events != self.delivered + self.lost + self.pending {
            return Err(format!(
                "fleet: {} messages, but {} delivered + {} lost + {} pending",
                self.events, self.delivered, self.lost, self.pending
            ));
        }
        Ok(())
    }

    /// Share of worker time busy over the run.
    pub fn worker_busy_share(&self) -> f64 {
        let cap = f64::from(self.workers) * self.duration_ns as f64;
        if cap > 0.0 {
            self.worker_busy_ns as f64 / cap
        } else {
            0.0
        }
    }

    /// Mean wait for a worker, ns (`None` without attempts).
    pub fn wait_mean_ns(&self) -> Option<f64> {
        (self.attempts > 0).then(|| self.wait_sum_ns as f64 / self.attempts as f64)
    }
}
