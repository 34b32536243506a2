#!/usr/bin/env python3
"""make perf-overload: load beyond the pool (the overload issue). 256 and 1,024 keep-alive clients over
the article's `keepalive 64`, on nginx and RawKeepalive, and on RawKeepalive again with
`max_conns=64` and `queue 1024 timeout=5s`. Each run reports, besides req/s, p99 and CPU per
request, the upstream connections opened per 1,000 requests and the new TIME_WAIT sockets on the
upstream leg (`ss` before and after the run; the proxy's side of a connection it closed first).
Runs alternate between the servers for ROUNDS rounds; medians. QUICK=1: 2 s runs."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("SCRAPE", "0")   # the figures here come from the backend and ss (read at import)
import servers  # noqa: E402
from perflib import LOAD_CORE, PERF, log  # noqa: E402
from rounds import ROUNDS, SECONDS, WARMUP, measure, machine  # noqa: E402

CLIENTS = (256, 1024)
# (label, server, config mode)
PROXIES = (("nginx", "nginx", "keepalive"), ("rawkeepalive", "rawkeepalive", "keepalive"),
           ("rawkeepalive max_conns+queue", "rawkeepalive", "maxconns"))


def time_wait_to(port):
    """TIME_WAIT sockets whose peer is the backend: the proxy closed them first."""
    out = subprocess.run(["ss", "-tan", "state", "time-wait", "dst", f"127.0.0.1:{port}"],
                         capture_output=True, text=True).stdout
    return max(len(out.splitlines()) - 1, 0)


def main():
    os.sched_setaffinity(0, {LOAD_CORE})
    dir = tempfile.mkdtemp(prefix="rawkeepalive-overload-")
    backend = servers.start_backend(dir)
    procs = {}
    try:
        for label, name, mode in PROXIES:
            sub = os.path.join(dir, mode)
            os.makedirs(sub, exist_ok=True)
            procs[label] = servers.start_proxy(name, sub, backend.port, mode=mode)
        runs = {c: {label: [] for label, _, _ in PROXIES} for c in CLIENTS}
        for rnd in range(ROUNDS):
            order = list(PROXIES) if rnd % 2 == 0 else list(reversed(PROXIES))
            for c in CLIENTS:
                for label, _, _ in order:
                    tw0 = time_wait_to(backend.port)
                    r = measure(procs[label], backend, "/0", c, 0, SECONDS, WARMUP)
                    r["new_time_wait"] = max(time_wait_to(backend.port) - tw0, 0)
                    runs[c][label].append(r)
                    log(f"round {rnd + 1} c{c:<5} {label:30} {r['rps']:8.0f} req/s  p99 {r['p99_us']:7d} us  "
                        f"{r['cpu_us_per_req']:5.1f} cpu-us/req  {r['upstream_conns_per_1k']:7.2f} up/1k  "
                        f"TIME_WAIT +{r['new_time_wait']}  errors {r['errors']}")
                    time.sleep(1)
    finally:
        for p in procs.values():
            p.stop()
        backend.stop()
    keys = ("rps", "p99_us", "cpu_us_per_req", "upstream_conns_per_1k", "new_time_wait", "errors")
    result = {"date": time.strftime("%Y%m%d-%H%M%S"), "rounds": ROUNDS, "seconds_per_run": SECONDS, "machine": machine(),
              "median": {f"c{c}": {label: {k: statistics.median(r[k] for r in rs) for k in keys}
                                   for label, rs in runs[c].items()} for c in CLIENTS}}
    path = os.path.join(PERF, "results", f"overload-{result['date']}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(path)


if __name__ == "__main__":
    main()
