"""Syscalls per request on the proxy's event-loop thread (strace -c -p), and on all its threads
(strace -c -f), over a fixed request count sent by h2load. Run apart from the timed runs: strace
slows the tracee down by an order of magnitude."""
import os
import re
import signal
import subprocess
import time

from perflib import LOAD_CORE, pinned


def loop_pid(server):
    """The event-loop thread to trace: the one worker (the master's child), whose main thread runs the loop."""
    pids = server.pids()
    # nginx and RawKeepalive run a master and one worker, the worker's main thread is the event
    # loop; HAProxy (-db, one thread) is one process, whose main thread is.
    return pids[1] if len(pids) > 1 else pids[0]


def count(server, requests, out_dir, follow):
    tag = "all" if follow else "loop"
    out = os.path.join(out_dir, f"strace-{server.name}-{tag}.txt")
    targets = server.pids() if follow else [loop_pid(server)]
    attach = [a for pid in targets for a in ("-p", str(pid))]
    cmd = pinned(["strace", "-c", "-o", out] + (["-f"] if follow else []) + attach, LOAD_CORE)
    tracer = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(1.0)  # attach
    subprocess.run(pinned(["h2load", "--h1", "-n", str(requests), "-c", "16", "-t", "1",
                           f"http://127.0.0.1:{server.port}/0"], LOAD_CORE),
                   capture_output=True, check=True, timeout=600)
    os.killpg(tracer.pid, signal.SIGINT)
    tracer.wait(30)
    return parse(out, requests)


def parse(path, requests):
    calls, top = 0, {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
            if m and m.group(2) != "total":
                top[m.group(2)] = int(m.group(1))
            t = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?total\s*$", line)
            if t:
                calls = int(t.group(1))
    per = {k: round(v / requests, 2) for k, v in sorted(top.items(), key=lambda kv: -kv[1]) if v / requests >= 0.05}
    return {"requests": requests, "calls": calls, "per_request": round(calls / requests, 2), "by_call": per}
