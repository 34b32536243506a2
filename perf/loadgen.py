"""wrk on the load core (or `cores`, one thread each): one timed run against a URL, parsed into a dict."""
import json
import os
import subprocess

from perflib import LOAD_CORE, PERF, pinned


def wrk(url, connections, seconds, body_bytes=0, timeout_s=10, cores=None):
    env = dict(os.environ, WRK_BODY_BYTES=str(body_bytes))
    cores = cores or [LOAD_CORE]
    cmd = pinned(["wrk", f"-t{len(cores)}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s",
                  "--latency", "-s", os.path.join(PERF, "wrk-report.lua"), url], cores)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            r = json.loads(line[8:])
            r["rps"] = r["requests"] * 1e6 / r["duration_us"] if r["duration_us"] else 0.0
            r["errors"] = sum(r[k] for k in r if k.startswith("err_"))
            return r
    raise RuntimeError(f"wrk printed no summary: {out.stdout}\n{out.stderr}")
