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

/// File descriptors kept for everything but served connections: the connections being
/// answered `503` (up to 64), the listener, the capture, pages being read, the runtime: 128.
pub const SPARE_FDS: u64 = 128;

/// The process's soft limit on open files, from `/proc/self/limits` (Linux); `None` where
/// that cannot be read or there is no limit.
pub fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&text)
}

fn parse_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The connection cap that fits under `open_files` descriptors: `max`, or less with a warning
/// when `max` connections would run out of descriptors first (then accepting would fail and
/// every new request stop, instead of a few getting `503`).
pub fn fit_to_open_files(max: usize, open_files: Option<u64>) -> (usize, Option<String>) {
    match open_files {
        Some(n) if (max as u64).saturating_add(SPARE_FDS) > n => {
            let fit = n.saturating_sub(SPARE_FDS).max(1) as usize;
            (
                fit,
                Some(format!(
                    "--max-connections {max} is more than the open-file limit ({n}, `ulimit -n`) \
                     allows; serving at most {fit} connections at once"
                )),
            )
        }
        _ => (max, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_under_the_open_file_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            300                  524288               files     \n";
        assert_eq!(parse_open_files(limits), Some(300));
        let (fit, warning) = fit_to_open_files(1024, Some(300));
        assert_eq!(fit, 172);
        assert!(warning.unwrap().contains("serving at most 172"));
        assert_eq!(fit_to_open_files(1024, Some(1_048_576)), (1024, None));
        assert_eq!(fit_to_open_files(1024, None), (1024, None));
        assert_eq!(fit_to_open_files(10, Some(20)).0, 1);
    }

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
