#!/usr/bin/env python3
"""Opens N keepalive clients to a proxy, each after one complete request, and holds them idle:
the proxy's RSS growth across them is its memory per idle client connection.
CLI: idle_clients.py PORT N  (holds them until stdin closes)."""
import resource
import socket
import sys

REQUEST = b"GET /0 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: idle-client\r\n\r\n"


def _read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response head")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += s.recv(65536)
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(f"unexpected response {head[:40]!r}")


def open_idle(port, n, batch=500):
    """n connections, each having completed one request; returned open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, n + 100), max(hard, n + 100)))
    socks = []
    while len(socks) < n:
        group = [socket.create_connection(("127.0.0.1", port)) for _ in range(min(batch, n - len(socks)))]
        for s in group:
            s.sendall(REQUEST)
        for s in group:
            _read_response(s)
        socks.extend(group)
    return socks


def close_all(socks):
    for s in socks:
        s.close()


if __name__ == "__main__":
    held = open_idle(int(sys.argv[1]), int(sys.argv[2]))
    print(f"{len(held)} idle clients open", flush=True)
    sys.stdin.read()
    close_all(held)
