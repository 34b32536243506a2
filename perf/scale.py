#!/usr/bin/env python3
"""make perf-scale: how req/s grows with worker processes, RawKeepalive against nginx.

The cores this process may run on are split once for the whole run: the proxies get the last
WMAX of them (WMAX: the largest of SCALE_WORKERS, default 1,2,4,8, that leaves at least half the
cores), the rest go to the nginx backend (first half, one pinned worker per core) and wrk (second
half, one thread per core); with one core left, both share it. For each W both proxies run
`worker_processes W`, one worker pinned to each of the same W cores, and the 0 B and 1 KiB
scenarios at 64×W connections alternate between them for ROUNDS rounds (SECONDS_PER_RUN s
each, 1 s warm-up; QUICK=1: 2 s, none). Medians of req/s, CPU µs/request and p99 are written to
perf/results/scale-DATE.json and .md and printed. Below 4 cores only W=1 fits: the output says that
scaling cannot be measured there."""
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from perflib import PERF, log  # noqa: E402
from rounds import QUICK, ROUNDS, SECONDS, WARMUP, machine, median_of, ratios, run_rounds  # noqa: E402

WORKERS = [int(w) for w in os.environ.get("SCALE_WORKERS", "1,2,4,8").split(",")]
CONNS_PER_WORKER = 64
SIZES = (("0B", "/0"), ("1KiB", "/1k"))
RK, NG = servers.PROXIES


def split(cores, wanted):
    """(worker counts to run, the proxies' cores, the backend's, wrk's); W=1 always runs."""
    ws = sorted({1} | {w for w in wanted if 1 <= w <= len(cores) // 2})
    pool = cores[-ws[-1]:]
    load = cores[:-ws[-1]] or cores  # one core: everything shares it
    half = len(load) // 2
    return ws, pool, load[:half] or load, load[half:]


def unmeasurable(cores, ws):
    if len(ws) > 1:
        return None
    return (f"SCALING CANNOT BE MEASURED HERE: {len(cores)} core(s) allow only W=1 (at least half the cores "
            "stay for backend and wrk; 4 or more are needed for W=2). The figures below are one worker "
            "each, not a scaling result.")


def table(rows):
    out = ["| scenario | workers | conns | rk req/s | nginx req/s | rk/nginx | rk scaling vs 1 | nginx scaling vs 1 | "
           "rk CPU µs/req | nginx CPU µs/req | rk p99 ms | nginx p99 ms | proxy cores busy rk / nginx |",
           "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        m, s, b = r["median"], r["scaling_vs_1_worker"], r["proxy_cores_busy"]
        out.append(f"| {r['scenario']} | {r['workers']} | {r['connections']} | {m[RK]['rps']:.0f} | {m[NG]['rps']:.0f} | "
                   f"{r['ratio_rawkeepalive_to_nginx']['rps']:.2f} | {s[RK]:.2f} | {s[NG]:.2f} | "
                   f"{m[RK]['cpu_us_per_req']:.1f} | {m[NG]['cpu_us_per_req']:.1f} | "
                   f"{m[RK]['p99_us'] / 1000:.2f} | {m[NG]['p99_us'] / 1000:.2f} | {b[RK]:.0%} / {b[NG]:.0%} |")
    return "\n".join(out)


def report(result):
    sp = result["split"]
    lines = [f"# make perf-scale, {result['date']}", "",
             f"{result['machine']['cpu']}, {len(result['cores'])} cores allowed; proxies on {sp['proxies']}, "
             f"backend on {sp['backend']}, wrk on {sp['wrk']}. "
             f"{'QUICK, ' if result['quick'] else ''}{result['rounds']} rounds x {result['seconds_per_run']} s, medians.", ""]
    if result["warning"]:
        lines += [f"**{result['warning']}**", ""]
    lines += [table(result["rows"]), "",
              "Proxy cores busy: the proxy's CPU time over its W cores while measured; well below 100% means "
              "the backend or wrk, not the proxy, set the pace."]
    return "\n".join(lines) + "\n"


def main():
    cores = sorted(os.sched_getaffinity(0))
    ws, pool, backend_cores, wrk_cores = split(cores, WORKERS)
    warning = unmeasurable(cores, ws)
    if warning:
        log(warning)
    os.sched_setaffinity(0, set(wrk_cores))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dir = tempfile.mkdtemp(prefix="rawkeepalive-scale-")
    log(f"work dir {dir}; workers {ws} (at most {max(1, len(cores) // 2)}: half the cores stay for backend and wrk) "
        f"on cores {pool}, backend on {backend_cores}, wrk on {wrk_cores}; "
        f"{'QUICK, ' if QUICK else ''}{ROUNDS} rounds x {SECONDS}s")

    backend = servers.start_backend(dir, cores=backend_cores)
    rows = []
    for w in ws:
        conns = CONNS_PER_WORKER * w
        scenarios = [(size, path, conns, 0) for size, path in SIZES]
        proxies = {n: servers.start_proxy(n, dir, backend.port, cores=pool[:w]) for n in servers.PROXIES}
        try:
            runs = run_rounds(proxies, backend, scenarios, ROUNDS, SECONDS, WARMUP, wrk_cores, label=f"W={w} c{conns} ")
        finally:
            for p in proxies.values():
                p.stop()
        for size, path, _, _ in scenarios:
            med = {p: median_of(runs[size][p]) for p in servers.PROXIES}
            one = next((r["median"] for r in rows if r["scenario"] == size and r["workers"] == 1), med)
            rows.append({"scenario": size, "path": path, "workers": w, "proxy_cores": pool[:w], "connections": conns,
                         "median": med, "ratio_rawkeepalive_to_nginx": ratios(med[RK], med[NG]),
                         "scaling_vs_1_worker": {p: med[p]["rps"] / one[p]["rps"] if one[p]["rps"] else 0.0
                                                 for p in servers.PROXIES},
                         "proxy_cores_busy": {p: statistics.median(r["cpu_us_per_req"] * r["rps"] for r in runs[size][p])
                                              / (1e6 * w) for p in servers.PROXIES},
                         "runs": runs[size]})
    backend.stop()

    result = {"date": stamp, "quick": QUICK, "rounds": ROUNDS, "seconds_per_run": SECONDS, "machine": machine(),
              "cores": cores, "split": {"proxies": pool, "backend": backend_cores, "wrk": wrk_cores},
              "warning": warning, "rows": rows}
    out_dir = os.path.join(PERF, "results")
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, f"scale-{stamp}")
    with open(base + ".json", "w") as f:
        json.dump(result, f, indent=1)
    md = report(result)
    with open(base + ".md", "w") as f:
        f.write(md)
    print(md)
    log(f"wrote {base}.json and .md")


if __name__ == "__main__":
    main()
