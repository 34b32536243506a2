#!/usr/bin/env python3
"""One case of the article's before/after (make perf-seed): a fresh backend and one proxy
(nginx or rawkeepalive, with one of the configs.SEED_MODES), RATE requests/s for SECONDS
from many `h2load --h1 -c 1 --rps N` clients, TIME_WAIT on the upstream port sampled with ss.
Runs in whatever network namespace it is started in. Prints one JSON object.
Usage: seed_case.py SERVER MODE RATE SECONDS WORKDIR (MODE: one of configs.SEED_MODES)"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from perflib import LOAD_CORE, pinned, stub_accepts  # noqa: E402

RPS_PER_CLIENT = 10


def time_wait(port):
    """TIME_WAIT sockets of the upstream port: (proxy side, backend side)."""
    out = subprocess.run(["ss", "-Htan", "state", "time-wait"], capture_output=True, text=True).stdout
    proxy_side = backend_side = 0
    for line in out.splitlines():
        cols = line.split()
        local, peer = cols[-2], cols[-1]
        if local.endswith(f":{port}"):
            backend_side += 1
        elif peer.endswith(f":{port}"):
            proxy_side += 1
    return proxy_side, backend_side


def main():
    name, mode, rate, seconds, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    os.makedirs(work, exist_ok=True)
    os.sched_setaffinity(0, {LOAD_CORE})
    backend = servers.start_backend(work)
    proxy = servers.start_proxy(name, work, backend.port, mode)

    samples, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(time_wait(backend.port))
            stop.wait(0.5)

    clients = max(1, rate // RPS_PER_CLIENT)
    a0 = stub_accepts(backend.port)
    sampler = threading.Thread(target=sample)
    sampler.start()
    procs = []
    for i in range(clients):
        logf = os.path.join(work, f"h2load-{i}.log")
        procs.append((subprocess.Popen(
            pinned(["h2load", "--h1", "-c", "1", "-t", "1", "--rps", str(RPS_PER_CLIENT), "-D", str(seconds),
                    "--log-file", logf, f"http://127.0.0.1:{proxy.port}/1k"], LOAD_CORE),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), logf))
    outs = [(p.communicate(timeout=seconds + 120)[0], logf) for p, logf in procs]
    time.sleep(1.0)  # TIME_WAIT of the last exchanges
    stop.set()
    sampler.join()
    accepts = stub_accepts(backend.port) - a0 - 1
    alive = proxy.proc.poll() is None
    proxy.stop()
    backend.stop()

    done = succeeded = errored = s5xx = 0
    latencies = []
    for out, logf in outs:
        for line in out.splitlines():
            if line.startswith("requests:"):
                f = line.replace(",", "").split()
                # requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
                done += int(f[5]); succeeded += int(f[7]); errored += int(f[11])
            elif line.startswith("status codes:"):
                s5xx += int(line.replace(",", "").split()[8])
        with open(logf) as f:
            latencies.extend(int(l.split()[2]) for l in f if l.strip())
    latencies.sort()
    attempted = max(done, 1)
    print(json.dumps({
        "server": name, "config": mode, "rate": rate, "seconds": seconds, "clients": clients,
        "requests": done, "succeeded": succeeded, "errored": errored, "status_5xx": s5xx,
        "error_rate": (done - succeeded) / attempted,
        "time_wait_peak": max((p + b for p, b in samples), default=0),
        "time_wait_peak_proxy_side": max((p for p, _ in samples), default=0),
        "time_wait_peak_backend_side": max((b for _, b in samples), default=0),
        "upstream_conns_per_s": accepts / seconds,
        "upstream_conns": accepts,
        "latency_mean_ms": statistics.fmean(latencies) / 1000 if latencies else None,
        "latency_p99_ms": latencies[int(len(latencies) * 0.99) - 1] / 1000 if latencies else None,
        "proxy_survived": alive,
    }))


if __name__ == "__main__":
    main()
