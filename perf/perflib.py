"""Shared helpers for the perf scripts: free ports, pinned processes that are always cleaned up,
/proc accounting (CPU ticks, RSS) over a process tree, and the backend's stub_status."""
import atexit
import os
import resource
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PERF = os.path.join(ROOT, "perf")
BIN = os.environ.get("RAWKEEPALIVE_BIN") or os.path.join(ROOT, "artifacts", "bin", "rawkeepalive")
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOFILE = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # the hard limit: raising it needs CAP_SYS_RESOURCE

# Two cores: the proxy under test gets one to itself; backend and load generator share the other.
CORES = sorted(os.sched_getaffinity(0))
PROXY_CORE = CORES[-1]
LOAD_CORE = CORES[0]

_started = []  # process groups we started, killed on exit


def _cleanup():
    for p in reversed(_started):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
    deadline = time.time() + 5
    for p in reversed(_started):
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    _started.clear()


atexit.register(_cleanup)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, lambda s, f: sys.exit(128 + s))


def log(msg):
    print(f"[perf {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, host="127.0.0.1"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout}s")


def _raise_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def start(cmd, core, log_path, netns=None):
    """Starts cmd pinned to one core or a list of cores (taskset) in its own process group; killed at exit."""
    full = pinned(cmd, core)
    if netns:
        full = ["ip", "netns", "exec", netns] + full
    out = open(log_path, "ab")
    p = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         preexec_fn=_raise_nofile, start_new_session=True)
    _started.append(p)
    return p


def stop(p):
    if p in _started:
        _started.remove(p)
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def tree(pid):
    """pid and all its descendants (nginx: master + workers)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def server_pids(p):
    """The server's own processes: below `taskset` (which execs) and `ip netns exec` (which execs too)."""
    return tree(p.pid)


def cpu_us(pids):
    """utime + stime of these processes (all their threads), in microseconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)
    return total * 1_000_000 // CLK_TCK


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def stub_accepts(port):
    """The backend's accepted connections; this query's own connection is one of them."""
    return stub_figures(port)[0]


def stub_figures(port):
    """The backend's accepted connections and requests, from its stub_status; this query's own
    connection and request are counted in them. When the ephemeral ports are exhausted (perf-seed's
    narrowed namespace), it binds a port below them."""
    import errno
    import random
    for attempt in range(50):
        s = socket.socket()
        try:
            if attempt:
                s.bind(("127.0.0.1", random.randint(20000, 30000)))
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /stub_status HTTP/1.0\r\nHost: backend\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            body = data.split(b"\r\n\r\n", 1)[1].decode().splitlines()
            accepts, _, requests = body[2].split()
            return int(accepts), int(requests)
        except OSError as e:
            if e.errno not in (errno.EADDRNOTAVAIL, errno.EADDRINUSE):
                raise
        finally:
            s.close()
    raise RuntimeError("no local port for the stub_status query")


def pinned(cmd, core):
    """cmd under taskset, on one core or a list of them."""
    cores = core if isinstance(core, (list, tuple)) else [core]
    return ["taskset", "-c", ",".join(map(str, cores))] + cmd
