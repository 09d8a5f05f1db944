#!/usr/bin/env python3
"""Runs hookbench and the SimPy peer model on the same scenario and prints the speed ratio.

Why: a speed claim against another tool needs both sides reproducible from the repository.
For each case (constant or lognormal delays; 10,000 or 100,000 resources) it writes one
scenario file, runs `hookbench run` on it (the release binary, whole command timed: loading,
simulating and writing every result file and chart, so hookbench's figure is conservative)
and `simpy_polling.py` with the same parameters, checks that both made about the same number
of requests, and prints requests per second of wall time for each and their ratio.

Needs python3 with simpy (`pip install simpy`) and a release build (`cargo build --release`).
Usage: python3 benches/peers/compare.py [--cases 10000:600,100000:120] [--repeat 3]
Each case is RESOURCES:SIMULATED_SECONDS. Medians over --repeat runs are printed; the machine
is noisy, so quote ratios, not absolute speeds.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SCENARIO = """name = "peer-{resources}-{delays}"
duration = "{duration}s"
seed = 1
[workload]
resources = {resources}
mean_change_interval = "5m"
[network]
delay = {net}
[provider]
service_time = {svc}
[[consumer]]
name = "poll"
strategy = "poll"
interval = "10s"
phase = "random"
[[consumer]]
name = "webhook"
strategy = "webhook"
"""

DELAYS = {
    "constant": ('"20ms"', '"2ms"'),
    "lognormal": ('{ kind = "lognormal", median = "20ms", p99 = "60ms" }',
                  '{ kind = "lognormal", median = "2ms", p99 = "10ms" }'),
}


def run_hookbench(binary, resources, duration, delays, tmp):
    net, svc = DELAYS[delays]
    path = os.path.join(tmp, f"peer_{resources}_{delays}.toml")
    with open(path, "w") as f:
        f.write(SCENARIO.format(resources=resources, duration=duration, delays=delays,
                                net=net, svc=svc))
    out = os.path.join(tmp, f"out_{resources}_{delays}")
    start = time.perf_counter()
    subprocess.run([binary, "run", path, "--out", out, "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    with open(os.path.join(out, "summary.csv")) as f:
        requests = sum(int(row["requests"]) for row in csv.DictReader(f))
    return requests, wall


def run_simpy(resources, duration, delays):
    out = subprocess.run([sys.executable, os.path.join(HERE, "simpy_polling.py"),
                          "--resources", str(resources), "--duration-s", str(duration),
                          "--delays", delays], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    return r["requests"], r["wall_s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="10000:600,100000:120")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "hookbench"))
    a = ap.parse_args()
    try:
        import simpy  # noqa: F401
    except ImportError:
        print("simpy is not installed (pip install simpy): nothing to compare", file=sys.stderr)
        return 2
    if not os.path.exists(a.binary):
        print(f"{a.binary} not found: run `cargo build --release` first", file=sys.stderr)
        return 2
    print("| resources | simulated | delays | requests (hookbench / SimPy) | hookbench req/s | SimPy req/s | ratio |")
    print("|---:|---:|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for case in a.cases.split(","):
            resources, duration = (int(x) for x in case.split(":"))
            for delays in ("constant", "lognormal"):
                hb, sp = [], []
                for _ in range(a.repeat):
                    n_hb, w_hb = run_hookbench(a.binary, resources, duration, delays, tmp)
                    n_sp, w_sp = run_simpy(resources, duration, delays)
                    hb.append(n_hb / w_hb)
                    sp.append(n_sp / w_sp)
                if abs(n_hb - n_sp) > 0.01 * n_hb:
                    print(f"warning: request counts differ by more than 1 %: {n_hb} vs {n_sp}",
                          file=sys.stderr)
                h, s = statistics.median(hb), statistics.median(sp)
                print(f"| {resources:,} | {duration} s | {delays} | {n_hb:,} / {n_sp:,} | "
                      f"{h:,.0f} | {s:,.0f} | {h / s:,.0f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
