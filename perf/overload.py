#!/usr/bin/env python3
"""make perf-overload: load beyond the pool (the overload issue). 256 and 1,024 keep-alive clients over
the article's `keepalive 64`, on nginx, HAProxy (`http-reuse always`, `pool-max-conn 64`) and
RawKeepalive, and on HAProxy and RawKeepalive again with the upstream capped at 64 connections and a
queue (RawKeepalive: `max_conns=64` and `queue 1024 timeout=5s`; HAProxy: `maxconn 64` on the server
and `timeout queue 5s`). Each run reports, besides req/s, p99 and CPU per request, the upstream
connections opened per 1,000 requests (also after the run's first second), the most upstream connections
open at once (the proxy's own sockets in /proc, every 20 ms) and the new TIME_WAIT sockets on the upstream leg (`ss` before and after the run; the proxy's
side of a connection it closed first). The backend runs at nice -10: it shares the load core with wrk,
and without precedence its own scheduling delay becomes every proxy's p99. Runs alternate between the
servers for ROUNDS rounds; medians, printed as markdown with RawKeepalive's ratios to nginx and to
HAProxy at the end. QUICK=1: 2 s runs. CLIENTS=256: only that client count (comma-separated).
PEERS= leaves HAProxy out (servers.peers()).
  overload.py               measure, write perf/results/overload-DATE.json, print the tables
  overload.py RESULT.json   print the tables of an earlier run"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("SCRAPE", "0")   # the figures here come from the backend and ss (read at import)
import servers  # noqa: E402
from perflib import LOAD_CORE, PERF, log, stub_figures  # noqa: E402
from rounds import ROUNDS, SECONDS, WARMUP, machine, measure, median_of  # noqa: E402

CLIENTS = tuple(int(c) for c in os.environ.get("CLIENTS", "256,1024").split(","))
# (label, server, config mode). nginx 1.22 has no `queue` (nginx Plus only): the plain config only.
PROXIES = (("nginx", "nginx", "keepalive"),
           ("haproxy", "haproxy", "keepalive"),
           ("haproxy maxconn 64 + queue", "haproxy", "maxconns"),
           ("rawkeepalive", "rawkeepalive", "keepalive"),
           ("rawkeepalive max_conns+queue", "rawkeepalive", "maxconns"))
KEYS = ("rps", "p99_us", "cpu_us_per_req", "upstream_conns_per_1k", "settled_conns_per_1k", "max_upstream_conns",
        "new_time_wait", "errors")
# The overload issue's bar for RawKeepalive: p99 at most nginx's and 1.5x HAProxy's, req/s at least
# nginx's, CPU per request at most nginx's, fewer than 100 new TIME_WAIT per run.
HAPROXY_P99_FACTOR = 1.5
TIME_WAIT_LIMIT = 100
# With max_conns=64 and a queue: at most 64 upstream connections at once, at most 1 opened per 1,000
# requests after warm-up, no errors.
MAX_CONNS, OPENED_PER_1K = 64, 1.0
BACKEND_NICE = -10


def time_wait_to(port):
    """TIME_WAIT sockets whose peer is the backend: the proxy closed them first."""
    out = subprocess.run(["ss", "-tan", "state", "time-wait", "dst", f"127.0.0.1:{port}"],
                         capture_output=True, text=True).stdout
    return max(len(out.splitlines()) - 1, 0)


def established_to(port, pids):
    """The established connections `pids` hold to the backend's port: the sockets among their descriptors
    (/proc/PID/fd) that /proc/net/tcp lists as established with that remote port. Neither listing is
    atomic, so a socket counts only when both descriptor listings, before and after the table's, hold it."""
    before = _socket_inodes(pids)
    established = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port:
                established.append(fields[9])
    after = _socket_inodes(pids)
    return sum(1 for inode in set(established) if inode in before and inode in after)


def _socket_inodes(pids):
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue   # gone
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue   # closed meanwhile
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    return inodes


class RunWatch(threading.Thread):
    """What `measure` cannot see from outside a run: the most connections the proxy under test holds to
    the backend at once (its own sockets, every 20 ms; capped configs only), and the upstream connects per 1,000 requests
    from the run's first second to its end (the backend's stub_status): the steady state after warm-up.
    wrk's exit at the end of the warm-up run leaves requests in flight, whose upstream connections the
    proxy closes as nginx does; the timed run's first moments open them again."""

    SETTLE_S = 1.0

    def __init__(self, backend, proxy, peak):
        """`peak`: sample the connections held (for the capped configs only: the sampling costs the load
        core a few ms each time, which the other rows should not pay)."""
        super().__init__(daemon=True)
        self.port, self.pids, self.settled, self._done = backend.port, proxy.pids() if peak else None, None, threading.Event()
        self.peak = 0 if peak else None

    def run(self):
        start = time.monotonic()
        while not self._done.wait(0.02):
            if self.pids:
                self.peak = max(self.peak, established_to(self.port, self.pids))
            if self.settled is None and time.monotonic() - start >= self.SETTLE_S:
                self.settled = stub_figures(self.port)

    def stop(self):
        """The peak, and connects per 1,000 requests since the first second (None for a shorter run)."""
        self._done.set()
        self.join()
        if self.settled is None:
            return self.peak, None
        a1, r1 = stub_figures(self.port)
        (a0, r0) = self.settled
        # each stub_status query is one connection and one request of the backend's
        return self.peak, (a1 - a0 - 1) * 1000 / max(r1 - r0 - 1, 1)


def measured():
    """The PROXIES rows whose server is in this run (PEERS)."""
    peers = servers.peers()
    return tuple(p for p in PROXIES if p[1] in peers)


def main():
    os.sched_setaffinity(0, {LOAD_CORE})
    proxies = measured()
    dir = tempfile.mkdtemp(prefix="rawkeepalive-overload-")
    backend = servers.start_backend(dir, nice=BACKEND_NICE)
    procs = {}
    try:
        for label, name, mode in proxies:
            sub = os.path.join(dir, mode)
            os.makedirs(sub, exist_ok=True)
            procs[label] = servers.start_proxy(name, sub, backend.port, mode=mode)
        runs = {c: {label: [] for label, _, _ in proxies} for c in CLIENTS}
        for rnd in range(ROUNDS):
            order = proxies if rnd % 2 == 0 else tuple(reversed(proxies))
            for c in CLIENTS:
                for label, _, mode in order:
                    tw0 = time_wait_to(backend.port)
                    r = measure(procs[label], backend, "/0", c, 0, SECONDS, WARMUP,
                                watch=RunWatch(backend, procs[label], peak=mode == "maxconns"))
                    r["new_time_wait"] = max(time_wait_to(backend.port) - tw0, 0)
                    runs[c][label].append(r)
                    log(f"round {rnd + 1} c{c:<5} {label:30} {r['rps']:8.0f} req/s  p99 {r['p99_us']:7d} us  "
                        f"{r['cpu_us_per_req']:5.1f} cpu-us/req  {r['upstream_conns_per_1k']:7.2f} up/1k  "
                        f"({r['settled_conns_per_1k'] if r['settled_conns_per_1k'] is not None else float('nan'):.2f} after 1 s)  "
                        f"max {r['max_upstream_conns'] if r['max_upstream_conns'] is not None else '-'} up  "
                        f"TIME_WAIT +{r['new_time_wait']}  errors {r['errors']}")
                    time.sleep(1)
    finally:
        for p in procs.values():
            p.stop()
        backend.stop()
    result = {"date": time.strftime("%Y%m%d-%H%M%S"), "rounds": ROUNDS, "seconds_per_run": SECONDS, "machine": machine(),
              "proxies": [list(p) for p in proxies],
              "median": {f"c{c}": {label: median_of(rs, KEYS)
                                   for label, rs in runs[c].items()} for c in CLIENTS}}
    path = os.path.join(PERF, "results", f"overload-{result['date']}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(tables(result))
    print(path)


def tables(result):
    """The medians, then each RawKeepalive row against nginx and against HAProxy in the same mode
    (nginx's plain config where it has no such mode), with the issue's bar read off."""
    proxies = [tuple(p) for p in result.get("proxies", PROXIES)]
    rows = ["| clients | server | req/s | p99 ms | CPU µs/req | upstream connects / 1k | the same after the run's first second "
            "| most upstream conns at once | new TIME_WAIT | errors |",
            "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for clients, by_label in result["median"].items():
        for label, m in by_label.items():
            rows.append(f"| {clients[1:]} | {label} | {m['rps']:,.0f} | {m['p99_us'] / 1000:.1f} | "
                        f"{m['cpu_us_per_req']:.1f} | {m['upstream_conns_per_1k']:.2f} | {_num(m.get('settled_conns_per_1k'))} | "
                        f"{_num(m.get('max_upstream_conns'), 0)} | "
                        f"{m['new_time_wait']:,.0f} | "
                        f"{m['errors']:.0f} |")
    rows += ["", "RawKeepalive ÷ peer (req/s: higher is better; p99 and CPU/req: lower is better)", "",
             "| clients | RawKeepalive | peer | req/s | p99 | CPU/req | bar |", "|--:|---|---|--:|--:|--:|---|"]
    for clients, by_label in result["median"].items():
        for label, server, mode in proxies:
            if server != "rawkeepalive" or label not in by_label:
                continue
            rk = by_label[label]
            for peer in ("nginx", "haproxy"):
                peer_label = counterpart(proxies, peer, mode)
                if peer_label not in by_label:
                    continue
                m = by_label[peer_label]
                q = {k: rk[k] / m[k] if m[k] else float("nan") for k in ("rps", "p99_us", "cpu_us_per_req")}
                rows.append(f"| {clients[1:]} | {label} | {peer_label} | {q['rps']:.2f} | {q['p99_us']:.2f} | "
                            f"{q['cpu_us_per_req']:.2f} | {bar(peer, q, rk, mode)} |")
    return "\n".join(rows)


def _num(x, decimals=2):
    return "–" if x is None else f"{x:,.{decimals}f}"


def counterpart(proxies, server, mode):
    """The label of `server`'s row in `mode`, else in its plain "keepalive" config."""
    labels = {(s, m): label for label, s, m in proxies}
    return labels.get((server, mode), labels.get((server, "keepalive")))


def bar(peer, q, rk, mode):
    """Which parts of the issue's bar this comparison misses ("met" when none)."""
    misses = []
    if mode == "maxconns":
        misses += [m for m, bad in ((f"> {MAX_CONNS} conns", rk.get("max_upstream_conns", 0) > MAX_CONNS),
                                    (f"> {OPENED_PER_1K} opened/1k after warm-up", (rk.get("settled_conns_per_1k") or 0) > OPENED_PER_1K),
                                    ("errors", rk["errors"] > 0)) if bad]
    elif peer == "nginx":
        misses += [m for m, bad in (("p99 > nginx", q["p99_us"] > 1), ("req/s < nginx", q["rps"] < 1),
                                    ("CPU > nginx", q["cpu_us_per_req"] > 1)) if bad]
    elif q["p99_us"] > HAPROXY_P99_FACTOR:
        misses.append(f"p99 > {HAPROXY_P99_FACTOR}x HAProxy")
    if rk["new_time_wait"] >= TIME_WAIT_LIMIT:
        misses.append(f"TIME_WAIT >= {TIME_WAIT_LIMIT}")
    return ", ".join(misses) or "met"


if __name__ == "__main__":
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            print(tables(json.load(f)))
    else:
        main()
