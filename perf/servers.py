"""Starts the perf run's servers: the nginx backend on the load core, and the proxies under test
(nginx, RawKeepalive and HAProxy) on the proxy core, each on a free port with its own config. `cores`
(make perf-scale) puts a server on those cores instead, one worker pinned to each."""
import os
import shutil

import configs
from perflib import BIN, LOAD_CORE, PROXY_CORE, free_port, start, stop, wait_port, server_pids

PROXIES = ("rawkeepalive", "nginx")
# Each proxy's command line, in the foreground (stop() signals its process group; its CPU is read
# from the process tree). HAProxy's -db: no daemon, no master process, so one process, one thread.
COMMANDS = {"nginx": lambda conf, dir: ["nginx", "-c", conf],
            "rawkeepalive": lambda conf, dir: [BIN, "-p", dir, "-c", conf],
            "haproxy": lambda conf, dir: ["haproxy", "-db", "-f", conf]}


def peers():
    """The proxies make perf and make perf-overload compare: PROXIES (their ratios are RawKeepalive's
    to nginx's), then those PEERS names, comma-separated: by default haproxy where it is installed
    (perf/deps.sh installs it), `PEERS=` for none. make perf-scale and perf-seed keep to PROXIES."""
    default = "haproxy" if shutil.which("haproxy") else ""
    extra = tuple(p for p in (n.strip() for n in os.environ.get("PEERS", default).split(",")) if p)
    unknown = [p for p in extra if p not in COMMANDS or p in PROXIES]
    if unknown:
        raise SystemExit(f"PEERS={os.environ['PEERS']!r}: {', '.join(unknown)} is no extra peer (known: haproxy)")
    return PROXIES + extra


class Server:
    def __init__(self, name, proc, port):
        self.name, self.proc, self.port = name, proc, port

    def pids(self):
        return server_pids(self.proc)

    def stop(self):
        stop(self.proc)


def start_backend(dir, netns=None, cores=None, nice=0):
    """The nginx backend. `nice` < 0 gives it precedence over wrk on the load core it shares: when wrk
    saturates that core, the backend otherwise waits tens of ms for its turn now and then, and that
    wait, not the proxy, becomes every proxy's p99 (perf/README.md, "Where the tail comes from")."""
    port = free_port()
    conf = configs.write(os.path.join(dir, "backend.conf"), configs.backend(dir, port, LOAD_CORE, **_workers(cores)))
    cmd = ["nginx", "-c", conf]
    if nice:
        cmd = ["nice", "-n", str(nice)] + cmd
    p = start(cmd, cores or LOAD_CORE, os.path.join(dir, "backend.out"), netns)
    _wait(port, netns)
    return Server("backend", p, port)


def start_proxy(name, dir, backend_port, mode="keepalive", netns=None, port=None, cores=None):
    port = port or free_port()
    conf = configs.write(os.path.join(dir, f"{name}.conf"),
                         configs.proxy(name, dir, port, backend_port, mode, **_workers(cores)))
    cmd = COMMANDS[name](conf, dir)
    p = start(cmd, cores or PROXY_CORE, os.path.join(dir, f"{name}.out"), netns)
    _wait(port, netns)
    return Server(name, p, port)


def _workers(cores):
    return {"workers": len(cores), "cpus": cores} if cores else {}


def _wait(port, netns):
    if netns:
        import subprocess, time
        for _ in range(200):
            if subprocess.run(["ip", "netns", "exec", netns, "bash", "-c",
                               f"exec 3<>/dev/tcp/127.0.0.1/{port}"],
                              stderr=subprocess.DEVNULL).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"nothing listens on port {port} in netns {netns}")
    wait_port(port)
