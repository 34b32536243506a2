"""The measuring loop make perf (bench.py) and make perf-scale (scale.py) share: their settings
from the environment, one wrk run with the proxy's CPU and the backend's new connections around
it, scenarios alternated between the proxies for some rounds, medians and RawKeepalive's ratios to
its peers, and the machine's description."""
import os
import platform
import statistics
import subprocess

import loadgen
import scrape
from perflib import ROOT, cpu_us, log, rss_kb, stub_accepts

# Shared settings: QUICK=1 for short runs, ROUNDS alternating rounds of SECONDS_PER_RUN seconds each.
QUICK = os.environ.get("QUICK", "0") not in ("", "0")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "2" if QUICK else "5"))
WARMUP = 0 if QUICK else 1

METRICS = ("rps", "p50_us", "p99_us", "p999_us", "cpu_us_per_req", "upstream_conns_per_1k", "reuse_pct", "rss_kb", "errors")


def measure(proxy, backend, path, conns, body, seconds, warmup, cores=None, watch=None):
    """One timed wrk run (on `cores`, default the load core) after `warmup` seconds of the same, the
    proxy's own reuse figures scraped before, during (scrape.During) and after it. `watch` (SCRAPE=0
    only), a thread started with the timed run, adds what its stop() returns: the most upstream
    connections at once and the connects per 1,000 requests after the run's first second."""
    url = f"http://127.0.0.1:{proxy.port}{path}"
    if warmup:
        loadgen.wrk(url, conns, warmup, body, cores=cores)
    pids = proxy.pids()
    if not scrape.ENABLED:   # SCRAPE=0: no endpoint to read (a binary older than metrics;)
        a0, c0 = stub_accepts(backend.port), cpu_us(pids)
        if watch:
            watch.start()
        r = loadgen.wrk(url, conns, seconds, body, cores=cores)
        c1, a1 = cpu_us(pids), stub_accepts(backend.port)
        if watch:
            r["max_upstream_conns"], r["settled_conns_per_1k"] = watch.stop()
        n = max(r["requests"], 1)
        r.update(cpu_us_per_req=(c1 - c0) / n, upstream_conns_per_1k=(a1 - a0 - 1) * 1000 / n,
                 reuse_pct=None, scrapes=0, rss_kb=rss_kb(pids))
        return r
    s0 = scrape.figures(proxy.name, proxy.port)
    a0, c0 = stub_accepts(backend.port), cpu_us(pids)
    during = scrape.During(proxy)
    during.start()
    r = loadgen.wrk(url, conns, seconds, body, cores=cores)
    scrapes = during.stop()
    c1, a1 = cpu_us(pids), stub_accepts(backend.port)
    s1 = scrape.figures(proxy.name, proxy.port)
    if proxy.proc.poll() is not None:
        raise RuntimeError(f"{proxy.name} exited (status {proxy.proc.returncode}) during {path} c{conns}")
    n = max(r["requests"], 1)
    r.update(cpu_us_per_req=(c1 - c0) / n, upstream_conns_per_1k=(a1 - a0 - 1) * 1000 / n,
             reuse_pct=scrape.reuse_pct(proxy.name, s0, s1, scrapes, a1 - a0 - 1), scrapes=scrapes, rss_kb=rss_kb(pids))
    if proxy.name == "rawkeepalive":   # its own count of opened connections against the backend's
        r["opened_vs_backend"] = (s1["opened"] - s0["opened"], a1 - a0 - 1)
    return r


def run_rounds(proxies, backend, scenarios, rounds, seconds, warmup, cores=None, label=""):
    """scenarios: (name, path, connections, body bytes). Each is run on every proxy in turn, the
    order alternating by round and scenario. Returns {scenario name: {proxy name: [runs]}}."""
    names = tuple(proxies)
    runs = {s[0]: {n: [] for n in names} for s in scenarios}
    for rnd in range(rounds):
        for i, (name, path, conns, body) in enumerate(scenarios):
            for p in names if (rnd + i) % 2 == 0 else tuple(reversed(names)):
                r = measure(proxies[p], backend, path, conns, body, seconds, warmup, cores)
                runs[name][p].append(r)
                reuse = f"reuse {r['reuse_pct']:6.2f}%  " if r['reuse_pct'] is not None else ""
                log(f"{label}round {rnd + 1} {name:16} {p:12} {r['rps']:9.0f} req/s  p99 {r['p99_us']:6d} us  "
                    f"{r['cpu_us_per_req']:6.1f} cpu-us/req  {r['upstream_conns_per_1k']:6.2f} up/1k  {reuse}"
                    f"errors {r['errors']}")
    return runs


def median_of(runs, metrics=METRICS):
    """Each metric's median over the runs; None for one no run measured (reuse_pct under SCRAPE=0)."""
    def median(m):
        values = [r[m] for r in runs if r.get(m) is not None]
        return statistics.median(values) if values else None
    return {m: median(m) for m in metrics}


def ratios(rk, peer):
    """RawKeepalive / a peer (nginx, HAProxy) for every metric but errors; None where the peer's is 0."""
    return {m: (rk[m] / peer[m] if peer[m] and rk[m] is not None else None) for m in METRICS if m != "errors"}


def machine(**extra):
    def sh(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip() or \
                subprocess.run(cmd, capture_output=True, text=True, timeout=10).stderr.strip()
        except OSError:
            return ""
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(),
            "nginx": sh(["nginx", "-v"]), "haproxy": (sh(["haproxy", "-v"]).splitlines() or [""])[0], "wrk": sh(["wrk", "-v"]).splitlines()[0] if sh(["wrk", "-v"]) else "",
            "commit": sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]), **extra}
