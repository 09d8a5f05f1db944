#!/usr/bin/env python3
"""The peer model: hookbench's polling-versus-webhook scenario written as a SimPy user would.

Why this file exists: hookbench's README compares its engine's speed with SimPy. A comparison
needs code behind it, so this is that code: the same model (N resources changing as Poisson
processes, one poller per resource polling every T seconds with a random phase, a fixed
one-way network delay and service time or lognormal ones, one webhook delivery per change)
written the obvious SimPy way — one process per resource for its changes, one per poller, one
per delivery — with no attempt to be clever. `compare.py` beside it runs it and hookbench on
the same parameters and prints the ratio.

It counts what hookbench counts for these consumers (requests, useful, wasted polls,
webhook deliveries, mean detection delay), so the two runs can be checked to model the same
thing before their speeds are compared.

Usage: simpy_polling.py --resources N --duration-s D [--interval-s T] [--mean-change-s M]
                        [--delays constant|lognormal] [--seed S]
Prints one JSON object.
"""
import argparse
import json
import math
import random
import time

import simpy


def lognormal_sampler(rng, median_s, p99_s):
    # Same parameterisation as hookbench: median and 99th percentile.
    mu = math.log(median_s)
    sigma = (math.log(p99_s) - mu) / 2.3263478740408408
    return lambda: rng.lognormvariate(mu, sigma)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resources", type=int, required=True)
    ap.add_argument("--duration-s", type=float, required=True)
    ap.add_argument("--interval-s", type=float, default=10.0)
    ap.add_argument("--mean-change-s", type=float, default=300.0)
    ap.add_argument("--delays", choices=["constant", "lognormal"], default="constant")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    if a.delays == "constant":
        net = lambda: 0.020  # noqa: E731  one way, s
        svc = lambda: 0.002  # noqa: E731
    else:
        net = lognormal_sampler(rng, 0.020, 0.060)
        svc = lognormal_sampler(rng, 0.002, 0.010)

    env = simpy.Environment()
    version = [0] * a.resources          # provider's current version per resource
    changed_at = [[] for _ in range(a.resources)]  # change times not yet seen by the poller
    seen = [0] * a.resources             # version the poller holds
    stats = dict(polls=0, useful=0, wasted=0, observed=0, delay_sum=0.0,
                 deliveries=0, hook_delay_sum=0.0)

    def changes(r):
        while True:
            yield env.timeout(rng.expovariate(1.0 / a.mean_change_s))
            version[r] += 1
            changed_at[r].append(env.now)
            env.process(deliver(env.now))

    def deliver(t_event):
        yield env.timeout(svc() + net())
        stats["deliveries"] += 1
        stats["hook_delay_sum"] += env.now - t_event

    def poller(r):
        yield env.timeout(rng.uniform(0, a.interval_s))
        while True:
            env.process(poll(r))
            yield env.timeout(a.interval_s)

    def poll(r):
        stats["polls"] += 1
        yield env.timeout(net())          # request travels
        yield env.timeout(svc())          # provider serves; the read happens here
        v, pending = version[r], list(changed_at[r])
        yield env.timeout(net())          # response travels
        if v > seen[r]:
            seen[r] = v
            stats["useful"] += 1
            for t in pending:
                stats["observed"] += 1
                stats["delay_sum"] += env.now - t
            del changed_at[r][:len(pending)]
        else:
            stats["wasted"] += 1

    for r in range(a.resources):
        env.process(changes(r))
        env.process(poller(r))

    start = time.perf_counter()
    env.run(until=a.duration_s)
    wall = time.perf_counter() - start
    requests = stats["polls"] + stats["deliveries"]
    print(json.dumps({
        "model": "simpy",
        "resources": a.resources,
        "duration_s": a.duration_s,
        "delays": a.delays,
        "polls": stats["polls"],
        "useful": stats["useful"],
        "wasted": stats["wasted"],
        "deliveries": stats["deliveries"],
        "poll_mean_delay_s": stats["delay_sum"] / max(stats["observed"], 1),
        "webhook_mean_delay_s": stats["hook_delay_sum"] / max(stats["deliveries"], 1),
        "requests": requests,
        "wall_s": wall,
        "requests_per_s": requests / wall if wall > 0 else float("inf"),
    }))


if __name__ == "__main__":
    main()
