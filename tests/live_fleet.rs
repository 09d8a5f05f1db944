mod common;
use hookbench::live::{self, FleetSecret, LiveOptions};
use hookbench::sim::{self, SimOptions};

const FLEET: &str = r#"name = "live-fleet"
duration = "1m"
seed = 7
[workload]
resources = 500
mean_change_interval = "10s"
[fleet]
endpoints = 50
workers = 20
provider = "svix"
timeout = "2s"
retry = { delays = ["3s", "10s"] }
response_time = { kind = "lognormal", median = "80ms", p99 = "500ms" }
error_rate = 0.02
[fleet.failures]
down_share = 0.1
down = { kind = "exponential", mean = "20s" }
down_mode = "{mode}"
slow_share = 0.04
slow_response = "3s"
gone_share = 0.02
[fleet.polling]
interval = "5s"
"#;

#[test]
fn explore() {
    for mode in ["timeout", "refuse", "503"] {
        let plan = common::plan(&FLEET.replace("{mode}", mode));
        let s = sim::run(&plan, SimOptions::default())
            .unwrap()
            .fleet
            .unwrap();
        let opts = LiveOptions {
            time_scale: 10.0,
            drain: std::time::Duration::from_millis(300),
            ..Default::default()
        };
        let t = std::time::Instant::now();
        let run = live::run_with(&plan, &opts, FleetSecret::Same).unwrap();
        let l = run.report.fleet.clone().unwrap();
        eprintln!(
            "mode {mode} wall {:?} tasks_left {} recv {:?}",
            t.elapsed(),
            run.tasks_left,
            run.fleet_receiver
        );
        for (name, a, b) in [
            ("events", s.events, l.events),
            ("attempts", s.attempts, l.attempts),
            ("failed", s.failed, l.failed),
            ("delivered", s.delivered, l.delivered),
            ("lost", s.lost, l.lost),
            ("pending", s.pending, l.pending),
            ("dups", s.duplicates, l.duplicates),
            ("disabled", s.disabled_endpoints, l.disabled_endpoints),
            (
                "healthy",
                s.healthy_endpoints as u64,
                l.healthy_endpoints as u64,
            ),
            ("poll req", s.polling_requests, l.polling_requests),
            ("poll wasted", s.polling_wasted, l.polling_wasted),
            ("backlog peak", s.backlog_peak, l.backlog_peak),
            (
                "healthy p50 us",
                s.healthy_latency.value_at_quantile(0.5),
                l.healthy_latency.value_at_quantile(0.5),
            ),
            (
                "wait mean us",
                (s.wait_mean_ns().unwrap_or(0.0) / 1e3) as u64,
                (l.wait_mean_ns().unwrap_or(0.0) / 1e3) as u64,
            ),
        ] {
            eprintln!("  {name:15} sim {a:8} live {b:8}");
        }
        eprintln!(
            "  busy share sim {:.4} live {:.4}",
            s.worker_busy_share(),
            l.worker_busy_share()
        );
    }
}
