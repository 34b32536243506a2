#!/usr/bin/env python3
"""make perf-check: compares the latest `make perf` result's RawKeepalive/nginx ratios with
perf/baselines.json and fails when one regressed by more than TOLERANCE (10%). Ratios, not
absolute figures, so a baseline holds across machines.
  check.py [RESULT.json]           compare
  check.py --update [RESULT.json]  write the result's ratios as the new baseline"""
import json
import os
import sys

from report import latest

PERF = os.path.dirname(os.path.abspath(__file__))
BASELINES = os.path.join(PERF, "baselines.json")
TOLERANCE = float(os.environ.get("PERF_TOLERANCE", "0.10"))
HIGHER_IS_BETTER = {"rps"}
CHECKED = ("rps", "p99_us", "cpu_us_per_req", "upstream_conns_per_1k")


def ratios(result):
    out = {}
    for s in result["scenarios"]:
        q = s["ratio_rawkeepalive_to_nginx"]
        out[s["name"]] = {m: q[m] for m in CHECKED if q.get(m) is not None}
    idle = result["idle_client_memory"]
    if idle["nginx"]["bytes_per_conn"] > 0:
        out["idle client memory"] = {"bytes_per_conn": idle["rawkeepalive"]["bytes_per_conn"] / idle["nginx"]["bytes_per_conn"]}
    sc = result["syscalls"]
    out["syscalls"] = {"loop_per_request": sc["rawkeepalive"]["loop"]["per_request"] / sc["nginx"]["loop"]["per_request"]}
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    path = args[0] if args else latest()
    with open(path) as f:
        current = ratios(json.load(f))
    if "--update" in sys.argv:
        with open(BASELINES, "w") as f:
            json.dump({"source": os.path.basename(path), "tolerance": TOLERANCE,
                       "ratios_rawkeepalive_to_nginx": current}, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"perf-check: baseline written from {path}")
        return 0
    with open(BASELINES) as f:
        base = json.load(f)["ratios_rawkeepalive_to_nginx"]
    failures, compared = [], 0
    for scenario, metrics in base.items():
        for metric, b in metrics.items():
            c = current.get(scenario, {}).get(metric)
            if c is None or not b:
                continue
            compared += 1
            worse = (b - c) / b if metric in HIGHER_IS_BETTER else (c - b) / b
            mark = "REGRESSED" if worse > TOLERANCE else "ok"
            print(f"{mark:9} {scenario:18} {metric:22} baseline {b:6.3f}  now {c:6.3f}  ({-worse:+.0%})")
            if worse > TOLERANCE:
                failures.append(f"{scenario} {metric}")
    print(f"perf-check: {compared} ratios from {os.path.basename(path)} against {BASELINES}: "
          f"{len(failures)} regressed by more than {TOLERANCE:.0%}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
