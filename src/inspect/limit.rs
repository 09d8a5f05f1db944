//! What `listen` does when it is overloaded (issue #16): the connection cap handed to the
//! accept loop, and terminal notices about it at most once a second.
//!
//! Why: 400 slow clients used to exhaust the file descriptors and stop every new request
//! without a word. Now past `--max-connections` a new connection gets `503` and is closed
//! at once (the accept loop does that, [`crate::live::net::serve_limited`]), and the terminal
//! says so — once a second at most, with how many since the last line, so a flood cannot
//! flood the terminal too.

use crate::live::net::{ConnLimit, Overload};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Default most connections served at once: 1024.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Counts events and lets one report through per period.
#[derive(Debug)]
pub struct Throttle {
    period: Duration,
    /// Last report, and events since.
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttle {
    /// A throttle reporting at most once per `period`.
    pub fn new(period: Duration) -> Throttle {
        Throttle {
            period,
            state: Mutex::new((None, 0)),
        }
    }

    /// Counts one event at `now`; returns the events since the last report (this one
    /// included) when a report is due.
    pub fn hit(&self, now: Instant) -> Option<u64> {
        let mut s = self.state.lock().unwrap();
        s.1 += 1;
        if s.0
            .is_some_and(|last| now.duration_since(last) < self.period)
        {
            return None;
        }
        let n = s.1;
        *s = (Some(now), 0);
        Some(n)
    }
}

/// The cap for `max` connections: refused connections are counted in `refused` and reported
/// on `lines` at most once a second, as are failed accepts.
pub fn conn_limit(
    max: usize,
    refused: Arc<AtomicU64>,
    lines: Option<mpsc::UnboundedSender<String>>,
) -> ConnLimit {
    let over = Throttle::new(Duration::from_secs(1));
    let failed = Throttle::new(Duration::from_secs(1));
    ConnLimit {
        max,
        on_overload: Arc::new(move |o: Overload| {
            let now = Instant::now();
            let line = match o {
                Overload::Refused { open } => {
                    refused.fetch_add(1, Ordering::Relaxed);
                    over.hit(now).map(|n| {
                        format!(
                            "refused {n} connection{} with 503: {open} open, the most --max-connections ({max}) allows",
                            if n == 1 { "" } else { "s" }
                        )
                    })
                }
                Overload::AcceptFailed(e) => failed.hit(now).map(|n| {
                    format!(
                        "cannot accept new connections ({n} failed): {e}; raise `ulimit -n` or lower --max-connections"
                    )
                }),
            };
            if let (Some(line), Some(lines)) = (line, &lines) {
                let _ = lines.send(line);
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_report_a_period() {
        let t = Throttle::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(t.hit(t0), Some(1));
        for i in 1..100 {
            assert_eq!(t.hit(t0 + Duration::from_millis(i * 9)), None);
        }
        assert_eq!(t.hit(t0 + Duration::from_millis(1000)), Some(100));
        assert_eq!(t.hit(t0 + Duration::from_millis(1001)), None);
    }
}
