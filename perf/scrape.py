"""Upstream reuse as each proxy reports it, scraped during make perf's runs: RawKeepalive's `metrics;`
page (Prometheus text: requests sent upstream, reused and opened connections), HAProxy's stats page
as CSV (the same three per server), nginx's stub_status (the requests it handled) with the backend's
accepted connections. A scraper thread reads the
endpoint every SCRAPE_INTERVAL seconds while wrk runs, so the runs also show what scraping under
load costs."""
import os
import socket
import threading

SCRAPE_INTERVAL = 0.25
# SCRAPE=0 turns scraping off, and with it the endpoint in the proxies' configs: to measure a binary
# older than `metrics;` next to today's.
ENABLED = os.environ.get("SCRAPE", "1") != "0"
PATHS = {"rawkeepalive": "/metrics", "nginx": "/stub_status", "haproxy": "/haproxy_stats;csv"}


def _get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"GET {path} on :{port}: {head.splitlines()[0] if head else b'nothing'}")
    if b"\r\ntransfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    return body.decode()


def _dechunk(data):
    """HAProxy's stats page comes chunked, even to this HTTP/1.0 request."""
    out = b""
    while True:
        size, _, data = data.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            return out
        out, data = out + data[:n], data[n + 2:]


def figures(name, port):
    """RawKeepalive and HAProxy: upstream requests, reused, opened (summed over peers). nginx:
    requests handled (stub_status counts the stub_status request itself)."""
    text = _get(port, PATHS[name])
    if name == "nginx":
        return {"requests": int(text.splitlines()[2].split()[2])}
    if name == "haproxy":
        # The server rows (not FRONTEND/BACKEND): stot counts the requests sent to the server (a
        # stream per request), connect and reuse split them into new and reused connections.
        lines = text.splitlines()
        columns = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(columns, line.split(","))) for line in lines[1:] if line]
        servers = [r for r in rows if r["svname"] not in ("FRONTEND", "BACKEND")]
        return {k: sum(int(r[col]) for r in servers)
                for k, col in (("requests", "stot"), ("reused", "reuse"), ("opened", "connect"))}
    sums = {"requests": 0, "reused": 0, "opened": 0}
    families = {"rawkeepalive_upstream_requests_total": "requests",
                "rawkeepalive_upstream_connections_reused_total": "reused",
                "rawkeepalive_upstream_connections_opened_total": "opened"}
    for line in text.splitlines():
        name_, _, value = line.rpartition(" ")
        family = name_.split("{", 1)[0]
        if family in families:
            sums[families[family]] += int(value)
    return sums


def reuse_pct(name, before, after, scrapes, backend_conns):
    """Requests that reused an upstream connection, in percent of the requests proxied. RawKeepalive
    and HAProxy say so themselves; for nginx it is 1 - the backend's new connections / the requests
    nginx proxied (its stub_status requests less the scrapes, and the last scrape itself)."""
    if name != "nginx":
        sent = after["requests"] - before["requests"]
        return 100.0 * (after["reused"] - before["reused"]) / sent if sent else 0.0
    proxied = after["requests"] - before["requests"] - scrapes - 1
    return 100.0 * (1 - backend_conns / proxied) if proxied > 0 else 0.0


class During(threading.Thread):
    """Scrapes `proxy` every SCRAPE_INTERVAL seconds until stop(); `count` is how many it made."""

    def __init__(self, proxy):
        super().__init__(daemon=True)
        self.proxy, self.count, self._stop_event = proxy, 0, threading.Event()

    def run(self):
        while not self._stop_event.wait(SCRAPE_INTERVAL):
            figures(self.proxy.name, self.proxy.port)
            self.count += 1

    def stop(self):
        self._stop_event.set()
        self.join()
        return self.count
