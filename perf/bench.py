#!/usr/bin/env python3
"""make perf: RawKeepalive and nginx side by side as proxies in front of one nginx backend, and
HAProxy beside them where installed (servers.peers(); PEERS= leaves it out).

Each scenario is measured on both proxies in turn (the order alternates every round) for ROUNDS
rounds; medians are reported. Then, on fresh proxies, memory per idle client and syscalls per
request. Writes perf/results/DATE.json; report.py turns it into the table and chart.
QUICK=1: shorter runs (about 2 minutes in all)."""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idle_clients  # noqa: E402
import loadgen  # noqa: E402
import servers  # noqa: E402
import syscalls  # noqa: E402
from perflib import LOAD_CORE, PERF, PROXY_CORE, log, rss_kb  # noqa: E402
from rounds import QUICK, ROUNDS, SECONDS, WARMUP, machine, median_of, ratios, run_rounds  # noqa: E402

PEERS = servers.peers()
IDLE_CLIENTS = 5000
STRACE_REQUESTS = 3000 if QUICK else 10000

# name, path, client connections, request body bytes
SCENARIOS = [(f"{size} c{c}", path, c, 0)
             for size, path in (("0B", "/0"), ("1KiB", "/1k"), ("64KiB", "/64k"))
             for c in (16, 64, 256)]
SCENARIOS.append(("1MiB c16", "/1m", 16, 0))
SCENARIOS.append(("upload 1MiB c16", "/upload", 16, 1 << 20))
# ONLY="0B c64,1KiB c64": just these scenarios (say, the bar, with more ROUNDS).
if os.environ.get("ONLY"):
    _only = {n.strip() for n in os.environ["ONLY"].split(",")}
    SCENARIOS = [s for s in SCENARIOS if s[0] in _only]
    if not SCENARIOS:
        sys.exit(f"ONLY={os.environ['ONLY']!r} names no scenario")


def idle_memory(name, dir, backend):
    proxy = servers.start_proxy(name, dir, backend.port)
    try:
        loadgen.wrk(f"http://127.0.0.1:{proxy.port}/0", 64, 1)  # touch the hot path's pages first
        time.sleep(0.5)
        before = rss_kb(proxy.pids())
        socks = idle_clients.open_idle(proxy.port, IDLE_CLIENTS)
        # Settled, as a long-idle server is: RawKeepalive trims the pages of cold buffers once a second.
        time.sleep(2.5)
        after = rss_kb(proxy.pids())
        idle_clients.close_all(socks)
        return {"clients": IDLE_CLIENTS, "rss_before_kb": before, "rss_after_kb": after,
                "bytes_per_conn": round((after - before) * 1024 / IDLE_CLIENTS)}
    finally:
        proxy.stop()


def main():
    os.sched_setaffinity(0, {LOAD_CORE})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = os.path.join(PERF, "results")
    os.makedirs(out_dir, exist_ok=True)
    dir = tempfile.mkdtemp(prefix="rawkeepalive-perf-")
    log(f"work dir {dir}; {'QUICK, ' if QUICK else ''}{ROUNDS} rounds x {len(SCENARIOS)} scenarios x {SECONDS}s")

    backend = servers.start_backend(dir)
    proxies = {n: servers.start_proxy(n, dir, backend.port) for n in PEERS}
    runs = run_rounds(proxies, backend, SCENARIOS, ROUNDS, SECONDS, WARMUP)

    syscall_counts = {}
    for p in PEERS:
        log(f"strace {p}: {STRACE_REQUESTS} requests, loop thread, then all threads")
        syscall_counts[p] = {"loop": syscalls.count(proxies[p], STRACE_REQUESTS, dir, follow=False),
                             "all_threads": syscalls.count(proxies[p], STRACE_REQUESTS, dir, follow=True)}
    for p in proxies.values():
        p.stop()

    idle = {}
    for p in PEERS:
        log(f"idle clients: {IDLE_CLIENTS} on a fresh {p}")
        idle[p] = idle_memory(p, dir, backend)
    backend.stop()

    scenarios = []
    for name, path, conns, body in SCENARIOS:
        med = {p: median_of(runs[name][p]) for p in PEERS}
        # ratio_rawkeepalive_to_nginx is what perf-check compares with its baseline.
        scenarios.append({"name": name, "path": path, "connections": conns, "body_bytes": body, "median": med,
                          **{f"ratio_rawkeepalive_to_{p}": ratios(med["rawkeepalive"], med[p])
                             for p in PEERS if p != "rawkeepalive"},
                          "runs": runs[name]})
    result = {"date": stamp, "quick": QUICK, "rounds": ROUNDS, "seconds_per_run": SECONDS,
              "machine": machine(proxy_core=PROXY_CORE, load_core=LOAD_CORE), "scenarios": scenarios,
              "idle_client_memory": idle, "syscalls": syscall_counts}
    path = os.path.join(out_dir, f"{stamp}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    log(f"wrote {path}")
    print(path)


if __name__ == "__main__":
    main()
