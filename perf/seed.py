#!/usr/bin/env python3
"""make perf-seed: the article's before/after table, reproduced with both servers.

200 requests/s for 60 s (QUICK=1: 15 s) against each server without the article's five lines,
with only two of them (its Mistake 4), and with all five (CASES below):
  1. on the machine's loopback;
  2. inside a fresh network namespace per case, with ip_local_port_range narrowed to PORTS
     ports and tcp_tw_reuse off (Linux's default of 2 lets loopback connections reuse a
     TIME_WAIT port after a second, which hides exhaustion; across hosts it does not apply),
     so a proxy that leaves its ephemeral ports in TIME_WAIT runs out of them within the run.
Writes perf/results/seed-DATE.json and seed-DATE.md."""
import json
import os
import subprocess
import sys
import tempfile
import time

PERF = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, PERF)
from perflib import log  # noqa: E402

QUICK = os.environ.get("QUICK", "0") not in ("", "0")
RATE = int(os.environ.get("SEED_RATE", "200"))
SECONDS = int(os.environ.get("SEED_SECONDS", "15" if QUICK else "60"))
PORTS = (40000, 40299)
# Without the lines, nginx 1.22 and RawKeepalive's `keepalive 0` both send Connection: close, so
# the backend closes first and keeps the TIME_WAIT. Mistake 4 (lines 4-5 without 1-3) asks for
# keep-alive and then closes itself: the TIME_WAIT lands on the proxy's ephemeral ports, the
# article's failure. RawKeepalive's current defaults pool even then; under `keepalive_defaults
# legacy` it behaves as nginx 1.22 does.
CASES = [("rawkeepalive", "none"), ("rawkeepalive", "mistake4-legacy"), ("rawkeepalive", "mistake4"),
         ("rawkeepalive", "keepalive"), ("nginx", "none"), ("nginx", "mistake4"), ("nginx", "keepalive")]
CONFIG_NAMES = {"keepalive": "the 5 lines", "none": "none of the 5 lines", "mistake4": "Mistake 4: lines 4-5 only"}


def config_name(server, mode):
    name = CONFIG_NAMES[mode.removesuffix("-legacy")]
    if server == "nginx":
        return name
    if mode == "none":
        return name + " (`keepalive 0`)"
    return name + (" (`keepalive_defaults legacy`)" if mode.endswith("-legacy") else "")


def run_case(server, mode, work, netns=None):
    cmd = [sys.executable, os.path.join(PERF, "seed_case.py"), server, mode, str(RATE), str(SECONDS), work]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 300)
    if out.returncode != 0:
        raise RuntimeError(f"seed case {server} {mode} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def in_namespace(server, mode, work):
    ns = f"rkseed{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        for key, value in (("net.ipv4.ip_local_port_range", f"{PORTS[0]} {PORTS[1]}"), ("net.ipv4.tcp_tw_reuse", "0")):
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}"], check=True)
        return run_case(server, mode, work, ns)
    finally:
        subprocess.run(["ip", "netns", "del", ns])  # its TIME_WAIT sockets go with it


def table(rows):
    out = ["| where | server | config | TIME_WAIT peak (proxy side / backend side) | new upstream conns/s | "
           "error rate | 502s | mean ms | p99 ms |", "|---|---|---|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        out.append(f"| {r['where']} | {r['server']} | {config_name(r['server'], r['config'])} | "
                   f"{r['time_wait_peak']} ({r['time_wait_peak_proxy_side']} / {r['time_wait_peak_backend_side']}) | "
                   f"{r['upstream_conns_per_s']:.1f} | {r['error_rate']:.2%} | {r['status_5xx']} | "
                   f"{r['latency_mean_ms']:.2f} | {r['latency_p99_ms']:.2f} |")
    return "\n".join(out)


def main():
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work = tempfile.mkdtemp(prefix="rawkeepalive-seed-")
    rows = []
    for where in ("loopback", f"netns, {PORTS[1] - PORTS[0] + 1} ports"):
        for server, mode in CASES:
            log(f"{where}: {server} {mode}, {RATE} req/s for {SECONDS} s")
            case_dir = os.path.join(work, f"{len(rows)}-{server}-{mode}")
            r = in_namespace(server, mode, case_dir) if where.startswith("netns") else run_case(server, mode, case_dir)
            r["where"] = where
            rows.append(r)
            log(f"  TIME_WAIT peak {r['time_wait_peak']}, {r['upstream_conns_per_s']:.1f} upstream conns/s, "
                f"errors {r['error_rate']:.2%}, 5xx {r['status_5xx']}, p99 {r['latency_p99_ms']} ms")
    out = os.path.join(PERF, "results", f"seed-{stamp}")
    with open(out + ".json", "w") as f:
        json.dump({"date": stamp, "quick": QUICK, "rate": RATE, "seconds": SECONDS, "ports": PORTS, "cases": rows}, f, indent=1)
    with open(out + ".md", "w") as f:
        f.write(f"# make perf-seed {stamp}{' (QUICK)' if QUICK else ''}\n\n{RATE} requests/s for {SECONDS} s "
                f"(h2load --h1 -c 1 --rps 10, {RATE // 10} clients), 1 KiB responses.\n\n{table(rows)}\n")
    print(out + ".md")


if __name__ == "__main__":
    main()
