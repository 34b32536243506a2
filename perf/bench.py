#!/usr/bin/env python3
"""make perf: RawKeepalive and nginx side by side as proxies in front of one nginx backend.

Each scenario is measured on both proxies in turn (the order alternates every round) for ROUNDS
rounds; medians are reported. Then, on fresh proxies, memory per idle client and syscalls per
request. Writes perf/results/DATE.json; report.py turns it into the table and chart.
QUICK=1: shorter runs (about 2 minutes in all)."""
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idle_clients  # noqa: E402
import loadgen  # noqa: E402
import servers  # noqa: E402
import syscalls  # noqa: E402
from perflib import LOAD_CORE, PERF, PROXY_CORE, ROOT, cpu_us, log, rss_kb, stub_accepts  # noqa: E402

QUICK = os.environ.get("QUICK", "0") not in ("", "0")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "2" if QUICK else "5"))
WARMUP = 0 if QUICK else 1
IDLE_CLIENTS = 5000
STRACE_REQUESTS = 3000 if QUICK else 10000

# name, path, client connections, request body bytes
SCENARIOS = [(f"{size} c{c}", path, c, 0)
             for size, path in (("0B", "/0"), ("1KiB", "/1k"), ("64KiB", "/64k"))
             for c in (16, 64, 256)]
SCENARIOS.append(("upload 1MiB c16", "/upload", 16, 1 << 20))

METRICS = ("rps", "p50_us", "p99_us", "p999_us", "cpu_us_per_req", "upstream_conns_per_1k", "rss_kb", "errors")


def measure(proxy, backend, path, conns, body):
    if WARMUP:
        loadgen.wrk(f"http://127.0.0.1:{proxy.port}{path}", conns, WARMUP, body)
    pids = proxy.pids()
    a0, c0 = stub_accepts(backend.port), cpu_us(pids)
    r = loadgen.wrk(f"http://127.0.0.1:{proxy.port}{path}", conns, SECONDS, body)
    c1, a1 = cpu_us(pids), stub_accepts(backend.port)
    if proxy.proc.poll() is not None:
        raise RuntimeError(f"{proxy.name} exited (status {proxy.proc.returncode}) during {path} c{conns}")
    n = max(r["requests"], 1)
    r.update(cpu_us_per_req=(c1 - c0) / n, upstream_conns_per_1k=(a1 - a0 - 1) * 1000 / n,
             rss_kb=rss_kb(pids))
    return r


def median_of(runs):
    return {m: statistics.median(r[m] for r in runs) for m in METRICS}


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


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip() or \
                subprocess.run(cmd, capture_output=True, text=True, timeout=10).stderr.strip()
        except OSError:
            return ""
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(),
            "nginx": sh(["nginx", "-v"]), "wrk": sh(["wrk", "-v"]).splitlines()[0] if sh(["wrk", "-v"]) else "",
            "commit": sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
            "proxy_core": PROXY_CORE, "load_core": LOAD_CORE}


def main():
    os.sched_setaffinity(0, {LOAD_CORE})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = os.path.join(PERF, "results")
    os.makedirs(out_dir, exist_ok=True)
    dir = tempfile.mkdtemp(prefix="rawkeepalive-perf-")
    log(f"work dir {dir}; {'QUICK, ' if QUICK else ''}{ROUNDS} rounds x {len(SCENARIOS)} scenarios x {SECONDS}s")

    backend = servers.start_backend(dir)
    proxies = {n: servers.start_proxy(n, dir, backend.port) for n in servers.PROXIES}
    runs = {s[0]: {n: [] for n in servers.PROXIES} for s in SCENARIOS}
    for rnd in range(ROUNDS):
        for name, path, conns, body in SCENARIOS:
            order = servers.PROXIES if (rnd + SCENARIOS.index((name, path, conns, body))) % 2 == 0 \
                else tuple(reversed(servers.PROXIES))
            for p in order:
                r = measure(proxies[p], backend, path, conns, body)
                runs[name][p].append(r)
                log(f"round {rnd + 1} {name:16} {p:12} {r['rps']:9.0f} req/s  p99 {r['p99_us']:6d} us  "
                    f"{r['cpu_us_per_req']:6.1f} cpu-us/req  {r['upstream_conns_per_1k']:6.2f} up/1k  "
                    f"errors {r['errors']}")

    syscall_counts = {}
    for p in servers.PROXIES:
        log(f"strace {p}: {STRACE_REQUESTS} requests, loop thread, then all threads")
        syscall_counts[p] = {"loop": syscalls.count(proxies[p], STRACE_REQUESTS, dir, follow=False),
                             "all_threads": syscalls.count(proxies[p], STRACE_REQUESTS, dir, follow=True)}
    for p in proxies.values():
        p.stop()

    idle = {}
    for p in servers.PROXIES:
        log(f"idle clients: {IDLE_CLIENTS} on a fresh {p}")
        idle[p] = idle_memory(p, dir, backend)
    backend.stop()

    scenarios = []
    for name, path, conns, body in SCENARIOS:
        med = {p: median_of(runs[name][p]) for p in servers.PROXIES}
        rk, ng = med["rawkeepalive"], med["nginx"]
        ratio = {m: (rk[m] / ng[m] if ng[m] else None) for m in METRICS if m != "errors"}
        scenarios.append({"name": name, "path": path, "connections": conns, "body_bytes": body,
                          "median": med, "ratio_rawkeepalive_to_nginx": ratio, "runs": runs[name]})
    result = {"date": stamp, "quick": QUICK, "rounds": ROUNDS, "seconds_per_run": SECONDS,
              "machine": machine(), "scenarios": scenarios, "idle_client_memory": idle,
              "syscalls": syscall_counts}
    path = os.path.join(out_dir, f"{stamp}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    log(f"wrote {path}")
    print(path)


if __name__ == "__main__":
    main()
