#!/usr/bin/env python3
"""Turns a `make perf` result (perf/results/DATE.json) into DATE.md (the medians table) and
DATE.png (throughput and p99 per scenario, gnuplot). Usage: report.py [RESULT.json]
The proxies are those the result holds: RawKeepalive and nginx, and HAProxy where it ran."""
import glob
import json
import os
import subprocess
import sys

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
NAMES = {"rawkeepalive": "RawKeepalive", "nginx": "nginx", "haproxy": "HAProxy"}
COLOURS = {"rawkeepalive": "#2a7ab0", "nginx": "#4c9a2a", "haproxy": "#c0392b"}


def latest(prefix=""):
    files = sorted(f for f in glob.glob(os.path.join(RESULTS, f"{prefix}2*.json")))
    if not files:
        sys.exit(f"no results in {RESULTS}")
    return files[-1]


def ms(us):
    return f"{us / 1000:.2f}"


def proxies(r):
    """The proxies of a result, in its order (rawkeepalive, nginx, then the other peers)."""
    return list(r["scenarios"][0]["median"])


def peers(r):
    """The proxies RawKeepalive has ratios to."""
    return [p for p in proxies(r) if p != "rawkeepalive"]


def reuse(m):
    """Upstream reuse as the proxy reported it (RawKeepalive's metrics, HAProxy's stats; nginx's stub_status against the backend's accepts)."""
    return "n/a" if m.get("reuse_pct") is None else f"{m['reuse_pct']:.2f}"


def table(r):
    rows = ["| scenario | proxy | req/s | p50 ms | p99 ms | p99.9 ms | CPU µs/req | upstream conns/1k req | upstream reuse % | RSS MiB | errors |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for s in r["scenarios"]:
        for p in proxies(r):
            m = s["median"][p]
            rows.append(f"| {s['name']} | {p} | {m['rps']:.0f} | {ms(m['p50_us'])} | {ms(m['p99_us'])} | "
                        f"{ms(m['p999_us'])} | {m['cpu_us_per_req']:.1f} | {m['upstream_conns_per_1k']:.2f} | {reuse(m)} | "
                        f"{m['rss_kb'] / 1024:.1f} | {m['errors']:.0f} |")
    return "\n".join(rows)


def ratios(r, peer):
    rows = ["| scenario | req/s | p99 | CPU/req | upstream conns/1k |", "|---|--:|--:|--:|--:|"]
    for s in r["scenarios"]:
        q = s[f"ratio_rawkeepalive_to_{peer}"]
        f = lambda k: "n/a" if q.get(k) is None else f"{q[k]:.2f}"  # noqa: E731
        rows.append(f"| {s['name']} | {f('rps')} | {f('p99_us')} | {f('cpu_us_per_req')} | {f('upstream_conns_per_1k')} |")
    return "\n".join(rows)


def extras(r):
    ps = proxies(r)
    out = ["| | " + " | ".join(NAMES[p] for p in ps) + " |", "|---|" + "--:|" * len(ps)]
    idle = r["idle_client_memory"]
    out.append(f"| memory per idle client connection ({idle['nginx']['clients']} clients, RSS growth) | "
               + " | ".join(f"{idle[p]['bytes_per_conn']} B" for p in ps) + " |")
    sc = r["syscalls"]
    for k, label in (("loop", "event-loop thread"), ("all_threads", "all threads/processes")):
        out.append(f"| syscalls per request, {label} | " + " | ".join(str(sc[p][k]["per_request"]) for p in ps) + " |")
    for p in ps:
        by = ", ".join(f"{k} {v}" for k, v in sc[p]["loop"]["by_call"].items())
        out.append(f"\n{p} loop thread, per request: {by}")
    return "\n".join(out)


def chart(r, base):
    ps = proxies(r)
    dat = base + ".dat"
    with open(dat, "w") as f:
        f.write("# scenario, then req/s and p99 ms of each of: " + " ".join(ps) + "\n")
        for s in r["scenarios"]:
            m = [s["median"][p] for p in ps]
            f.write(f"\"{s['name']}\" " + " ".join(f"{x['rps']:.0f}" for x in m) + " "
                    + " ".join(f"{x['p99_us'] / 1000:.3f}" for x in m) + "\n")
    svg = base + ".png"

    def plot(first):   # columns `first`.. of the .dat, one per proxy
        return ", ".join(f'"{dat}" using {first + i}' + (":xtic(1)" if i == 0 else "")
                         + f' title "{NAMES[p]}" lc rgb "{COLOURS[p]}"' for i, p in enumerate(ps))
    script = f"""
set terminal pngcairo size 1100,800 font "sans,10"
set output "{svg}"
set multiplot layout 2,1 title "{' vs '.join(NAMES[p] for p in ps)}, one worker on one core (medians of {r['rounds']} rounds, {r['date']})"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30 nomirror
set grid ytics
set key top right
set ylabel "requests/s"
set title "Throughput (higher is better)"
plot {plot(2)}
set ylabel "ms"
set logscale y
set title "p99 latency (lower is better, log scale)"
plot {plot(2 + len(ps))}
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
    haproxy = f"{m['haproxy']}; " if "haproxy" in peers(r) else ""
    ratio_tables = "\n\n".join(f"## RawKeepalive / {NAMES[p]}\n\n(req/s: higher is better; the others: lower is better)\n\n"
                               f"{ratios(r, p)}" for p in peers(r))
    md = f"""# make perf {r['date']}{' (QUICK)' if r['quick'] else ''}

{m['cpu']}, {m['cores']} cores, Linux {m['kernel']}; {m['nginx']}; {haproxy}{m['wrk']}; RawKeepalive at {m['commit']}.
Proxies pinned to core {m['proxy_core']}, backend (nginx, `return 200`/fixed bodies) and wrk on core {m['load_core']}.
Medians of {r['rounds']} alternating rounds of {r['seconds_per_run']} s each.

## Medians

{table(r)}

{ratio_tables}

## Memory and syscalls

{extras(r)}

![throughput and p99]({os.path.basename(svg)})
"""
    with open(base + ".md", "w") as f:
        f.write(md)
    print(base + ".md")


if __name__ == "__main__":
    main()
