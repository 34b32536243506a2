#!/usr/bin/env python3
"""make perf-tail: where the time goes at 256 clients over the article's `keepalive 64` (the overload
issue's tail analysis). Runs RawKeepalive with its loop profile on (RAWKEEPALIVE_LOOP_PROFILE, see
src/RawKeepalive/Loop/LoopProfile.cs) for one wrk run per config, then prints the worker's figures:
epoll batch sizes and durations, how long a ready client waits in its batch before its turn,
connect() and close() cost and counts, accepts per listener event, next to the run's req/s, p99 and
upstream connects per 1,000 requests. MODES=keepalive,maxconns picks the configs; CLIENTS=256."""
import glob
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("SCRAPE", "0")
import servers  # noqa: E402
from perflib import LOAD_CORE, log  # noqa: E402
from rounds import SECONDS, WARMUP, measure  # noqa: E402

MODES = os.environ.get("MODES", "keepalive,maxconns").split(",")
CLIENTS = int(os.environ.get("CLIENTS", "256"))


def main():
    os.sched_setaffinity(0, {LOAD_CORE})
    dir = tempfile.mkdtemp(prefix="rawkeepalive-tail-")
    backend = servers.start_backend(dir, nice=-10)   # as make perf-overload: the backend before wrk on the load core
    try:
        for mode in MODES:
            sub = os.path.join(dir, mode)
            os.makedirs(sub, exist_ok=True)
            profile = os.path.join(sub, "loop-profile")
            os.environ["RAWKEEPALIVE_LOOP_PROFILE"] = profile
            proxy = servers.start_proxy("rawkeepalive", sub, backend.port, mode=mode)
            del os.environ["RAWKEEPALIVE_LOOP_PROFILE"]
            try:
                r = measure(proxy, backend, "/0", CLIENTS, 0, SECONDS, WARMUP)
            finally:
                proxy.stop()
            print(f"## {mode}, {CLIENTS} clients: {r['rps']:.0f} req/s, p50 {r['p50_us']} us, p99 {r['p99_us']} us, "
                  f"{r['cpu_us_per_req']:.1f} cpu-us/req, {r['upstream_conns_per_1k']:.1f} upstream connects/1k, "
                  f"{r['requests']} requests (the profile covers warm-up and run: {WARMUP + SECONDS} s)")
            for path in sorted(glob.glob(profile + ".*")):
                with open(path) as f:
                    print(f.read())
    finally:
        backend.stop()
    log(f"profiles in {dir}")


if __name__ == "__main__":
    main()
