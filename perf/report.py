#!/usr/bin/env python3
"""Turns a `make perf` result (perf/results/DATE.json) into DATE.md (the medians table) and
DATE.png (throughput and p99 per scenario, gnuplot). Usage: report.py [RESULT.json]"""
import glob
import json
import os
import subprocess
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def latest(prefix=""):
    files = sorted(f for f in glob.glob(os.path.join(RESULTS, f"{prefix}2*.json")))
    if not files:
        sys.exit(f"no results in {RESULTS}")
    return files[-1]


def ms(us):
    return f"{us / 1000:.2f}"


def reuse(m):
    """Upstream reuse as the proxy reported it (RawKeepalive's metrics; nginx's stub_status against the backend's accepts)."""
    return "n/a" if m.get("reuse_pct") is None else f"{m['reuse_pct']:.2f}"


def table(r):
    rows = ["| scenario | proxy | req/s | p50 ms | p99 ms | p99.9 ms | CPU µs/req | upstream conns/1k req | upstream reuse % | RSS MiB | errors |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for s in r["scenarios"]:
        for p in ("rawkeepalive", "nginx"):
            m = s["median"][p]
            rows.append(f"| {s['name']} | {p} | {m['rps']:.0f} | {ms(m['p50_us'])} | {ms(m['p99_us'])} | "
                        f"{ms(m['p999_us'])} | {m['cpu_us_per_req']:.1f} | {m['upstream_conns_per_1k']:.2f} | {reuse(m)} | "
                        f"{m['rss_kb'] / 1024:.1f} | {m['errors']:.0f} |")
    return "\n".join(rows)


def ratios(r):
    rows = ["| scenario | req/s | p99 | CPU/req | upstream conns/1k |", "|---|--:|--:|--:|--:|"]
    for s in r["scenarios"]:
        q = s["ratio_rawkeepalive_to_nginx"]
        f = lambda k: "n/a" if q.get(k) is None else f"{q[k]:.2f}"  # noqa: E731
        rows.append(f"| {s['name']} | {f('rps')} | {f('p99_us')} | {f('cpu_us_per_req')} | {f('upstream_conns_per_1k')} |")
    return "\n".join(rows)


def extras(r):
    out = ["| | RawKeepalive | nginx |", "|---|--:|--:|"]
    idle = r["idle_client_memory"]
    out.append(f"| memory per idle client connection ({idle['nginx']['clients']} clients, RSS growth) | "
               f"{idle['rawkeepalive']['bytes_per_conn']} B | {idle['nginx']['bytes_per_conn']} B |")
    sc = r["syscalls"]
    for k, label in (("loop", "event-loop thread"), ("all_threads", "all threads/processes")):
        out.append(f"| syscalls per request, {label} | {sc['rawkeepalive'][k]['per_request']} | "
                   f"{sc['nginx'][k]['per_request']} |")
    for p in ("rawkeepalive", "nginx"):
        by = ", ".join(f"{k} {v}" for k, v in sc[p]["loop"]["by_call"].items())
        out.append(f"\n{p} loop thread, per request: {by}")
    return "\n".join(out)


def chart(r, base):
    dat = base + ".dat"
    with open(dat, "w") as f:
        f.write("# scenario rk_rps nginx_rps rk_p99_ms nginx_p99_ms\n")
        for s in r["scenarios"]:
            rk, ng = s["median"]["rawkeepalive"], s["median"]["nginx"]
            f.write(f"\"{s['name']}\" {rk['rps']:.0f} {ng['rps']:.0f} {rk['p99_us'] / 1000:.3f} {ng['p99_us'] / 1000:.3f}\n")
    svg = base + ".png"
    script = f"""
set terminal pngcairo size 1100,800 font "sans,10"
set output "{svg}"
set multiplot layout 2,1 title "RawKeepalive vs nginx 1.22, one worker on one core (medians of {r['rounds']} rounds, {r['date']})"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30 nomirror
set grid ytics
set key top right
set ylabel "requests/s"
set title "Throughput (higher is better)"
plot "{dat}" using 2:xtic(1) title "RawKeepalive" lc rgb "#2a7ab0", "" using 3 title "nginx" lc rgb "#4c9a2a"
set ylabel "ms"
set logscale y
set title "p99 latency (lower is better, log scale)"
plot "{dat}" using 4:xtic(1) title "RawKeepalive" lc rgb "#2a7ab0", "" using 5 title "nginx" lc rgb "#4c9a2a"
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.remove(dat)
    return svg


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else latest()
    with open(path) as f:
        r = json.load(f)
    base = path[:-5]
    svg = chart(r, base)
    m = r["machine"]
    md = f"""# make perf {r['date']}{' (QUICK)' if r['quick'] else ''}

{m['cpu']}, {m['cores']} cores, Linux {m['kernel']}; {m['nginx']}; {m['wrk']}; RawKeepalive at {m['commit']}.
Proxies pinned to core {m['proxy_core']}, backend (nginx, `return 200`/fixed bodies) and wrk on core {m['load_core']}.
Medians of {r['rounds']} alternating rounds of {r['seconds_per_run']} s each.

## Medians

{table(r)}

## RawKeepalive / nginx

(req/s: higher is better; the others: lower is better)

{ratios(r)}

## Memory and syscalls

{extras(r)}

![throughput and p99]({os.path.basename(svg)})
"""
    with open(base + ".md", "w") as f:
        f.write(md)
    print(base + ".md")


if __name__ == "__main__":
    main()
