"""Writes the configs of one perf run: the nginx backend, and the same proxy config for nginx and
RawKeepalive (the article's production config; only process plumbing differs), and its HAProxy
equivalent."""
import os

BODY_1K = "x" * 1024
# Static files the backend serves: name -> size (the large ones take the proxies' splice/buffer paths).
STATIC_FILES = {"64k": 65536, "1m": 1 << 20}

# The article's location block: its five keepalive lines are the three in `upstream` and the two
# marked here; the rest is its "standard proxy headers" and timeouts.
ARTICLE_LOCATION = """\
            proxy_pass http://app_backend;
            proxy_http_version 1.1;          # keepalive line 4
            proxy_set_header Connection "";  # keepalive line 5
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 5s;
            proxy_send_timeout 30s;
            proxy_read_timeout 30s;
"""

# Without keepalive: the same location less lines 4 and 5 (nginx 1.22 then sends HTTP/1.0 and
# Connection: close; RawKeepalive gets `keepalive 0` as well, its defaults would otherwise pool).
LEGACY_LOCATION = "".join(line for line in ARTICLE_LOCATION.splitlines(keepends=True) if "keepalive line" not in line)

KEEPALIVE_UPSTREAM = """\
        keepalive 64;               # keepalive line 1
        keepalive_requests 1000;    # keepalive line 2
        keepalive_timeout 65s;      # keepalive line 3
"""


def workers_lines(workers, cpus):
    """worker_processes, and with `cpus` one worker per CPU by explicit masks: nginx 1.22's
    `worker_cpu_affinity auto` counts from CPU 0 whatever the taskset mask, so it would leave it."""
    line = f"worker_processes {workers};\n"
    if cpus:
        line += "worker_cpu_affinity " + " ".join(format(1 << c, "b") for c in cpus) + ";\n"
    return line


def backend(dir, port, core, workers=1, cpus=None):
    """nginx with fixed bodies and stub_status; one worker (or `workers`, pinned to `cpus`, each
    with its own reuseport socket), and taskset from outside."""
    docroot = os.path.join(dir, "www")
    os.makedirs(docroot, exist_ok=True)
    for name, size in STATIC_FILES.items():
        with open(os.path.join(docroot, name), "wb") as f:
            f.write(b"y" * size)
    open(os.path.join(docroot, "upload"), "wb").close()
    return f"""\
{workers_lines(workers, cpus)}daemon off;
user root;
pid {dir}/backend.pid;
error_log {dir}/backend.error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/backend_body;
    keepalive_requests 100000;
    keepalive_timeout 300s;
    server {{
        listen 127.0.0.1:{port} backlog=4096{" reuseport" if workers > 1 else ""};
        location = /0 {{ return 200 ""; }}
        location = /1k {{ return 200 "{BODY_1K}"; }}
        location ~ ^/(64k|1m)$ {{ root {docroot}; default_type application/octet-stream; }}
        # Reads the whole upload before answering (mirror_request_body waits for it; the static
        # handler's 405 for POST then becomes an empty 200): `return` would answer at once and
        # leave the body in flight, which makes a proxy close the client connection.
        location = /upload {{
            client_max_body_size 2m; client_body_buffer_size 2m;
            mirror /mirror_sink; mirror_request_body on;
            root {docroot}; error_page 405 =200 @ok;
        }}
        location @ok {{ return 200 ""; }}
        location = /mirror_sink {{ internal; return 204; }}
        location = /stub_status {{ stub_status; }}
    }}
}}
"""


# perf-seed's configs. "keepalive": the five lines. "none": none of them (nginx 1.22: HTTP/1.0 and
# Connection: close, so the backend closes first; RawKeepalive, whose defaults pool, gets
# `keepalive 0`). "mistake4": the article's Mistake 4, an upstream block without lines 1-3 while the
# location has lines 4 and 5, so the proxy asks for keep-alive and then closes the connection itself.
# A "-legacy" suffix puts RawKeepalive on `keepalive_defaults legacy;` (nginx 1.22's defaults).
SEED_MODES = ("keepalive", "none", "none-legacy", "mistake4", "mistake4-legacy")


def proxy(server, dir, port, backend_port, mode="keepalive", workers=1, cpus=None):
    """The proxy config for `nginx` or `rawkeepalive`: same http block, each its own plumbing.
    With several workers nginx listens with `reuseport`, as RawKeepalive always does (one socket
    per worker; it refuses the parameter). `haproxy` gets its own language's equivalent."""
    if server == "haproxy":
        return haproxy(port, backend_port, mode, workers)
    legacy = mode.endswith("-legacy") and server != "nginx"
    kind = mode.removesuffix("-legacy")
    if kind == "keepalive":
        upstream, location = KEEPALIVE_UPSTREAM, ARTICLE_LOCATION
    elif kind == "mistake4":
        upstream, location = "", ARTICLE_LOCATION
    elif kind == "maxconns":   # make perf-overload: "at most 64 connections to this upstream, ever"
        upstream, location = KEEPALIVE_UPSTREAM + "        queue 1024 timeout=5s;\n", ARTICLE_LOCATION
    else:
        upstream = "        keepalive 0;\n" if server != "nginx" and not legacy else ""
        location = LEGACY_LOCATION
    if server == "nginx":
        main = f"""\
{workers_lines(workers, cpus)}daemon off;
master_process on;
user root;
pid {dir}/nginx.pid;
error_log {dir}/nginx.error.log error;
worker_rlimit_nofile 16384;
"""
        # RawKeepalive streams request bodies upstream; this is nginx's line for the same (it
        # otherwise spools a 1 MiB upload to a temp file first). RawKeepalive does not take it yet.
        temp = "".join(f"    {t}_temp_path {dir}/nginx_{t};\n"
                       for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        temp += "    proxy_request_buffering off;\n"
    else:
        main = f"""\
{workers_lines(workers, cpus)}daemon off;
pid {dir}/rawkeepalive.pid;
error_log {dir}/rawkeepalive.error.log error;
worker_rlimit_nofile 16384;
"""
        temp = ""
    # ACCESS_LOG=1: both proxies write the combined access log, buffered as a busy site would
    # (the logs issue's cost check); otherwise neither logs.
    access = (f"access_log {dir}/{server}.access.log combined buffer=64k flush=1s;"
              if os.environ.get("ACCESS_LOG") == "1" else "access_log off;")
    # Scraped during the runs (perf/scrape.py): each proxy's own view of upstream reuse (SCRAPE=0: none).
    scraped = "" if os.environ.get("SCRAPE", "1") == "0" else (
        f"        location = {'/stub_status' if server == 'nginx' else '/metrics'} "
        f"{{ {'stub_status' if server == 'nginx' else 'metrics'}; }}\n")
    return f"""\
{main}events {{ worker_connections 8192; }}
http {{
    {access}
{"    keepalive_defaults legacy;" + chr(10) if legacy else ""}{temp}    client_max_body_size 2m;
    upstream app_backend {{
        server 127.0.0.1:{backend_port}{" max_conns=64" if kind == "maxconns" else ""};
{upstream}    }}
    server {{
        listen 127.0.0.1:{port}{" reuseport" if server == "nginx" and workers > 1 else ""};
        server_name localhost;
        location / {{
{location}        }}
{scraped}    }}
}}
"""


def haproxy(port, backend_port, mode="keepalive", workers=1):
    """HAProxy's equivalent of the article's config (the overload issue's peer), for modes
    "keepalive" and "maxconns". Line by line:
    - `keepalive 64`: at most 64 idle upstream connections kept, `pool-max-conn 64`, shared by all
      clients (`http-reuse always`: any request may take any idle connection, as nginx's pool does).
    - `keepalive_requests 1000`: none. `max-reuse` is enforced by HAProxy's multiplexed muxes
      (H2, FastCGI) only, not its HTTP/1 one, so an upstream connection serves until it closes.
    - `keepalive_timeout 65s`: `pool-purge-delay 65s` (HAProxy closes half the idle connections
      each delay instead of each one after its own idle time).
    - proxy_http_version 1.1, Connection "": HAProxy speaks HTTP/1.1 keep-alive to servers itself.
    - the standard headers: `option forwardfor`, X-Real-IP and X-Forwarded-Proto set; Host passes.
    - proxy_connect/send/read_timeout: `timeout connect 5s`, `timeout server 30s`; the client
      side gets nginx's defaults (client_header/body_timeout 60s, keepalive_timeout 75s).
    - "maxconns" (`max_conns=64` + `queue 1024 timeout=5s`): `maxconn 64` on the server, beyond
      which requests wait in the backend's queue, `timeout queue 5s`. That queue has no length cap
      (`maxqueue` is per server, for requests bound to it); at 1,024 clients at most 960 wait.
    One thread (nbthread 1) pinned by taskset like the others; -db keeps it in the foreground as
    one process. No logging, as `access_log off` (ACCESS_LOG=1: HTTP log lines on stdout, which
    is the .out file: HAProxy cannot write a buffered log file itself). The client side has no
    `keepalive_requests` (nginx closes a client connection after 1,000 requests; HAProxy never)."""
    if mode not in ("keepalive", "maxconns"):
        raise ValueError(f"no HAProxy config for mode {mode!r}")
    if workers != 1:
        raise ValueError("the HAProxy peer runs one thread (make perf-scale compares nginx and RawKeepalive)")
    queue, maxconn = ("    timeout queue 5s\n", " maxconn 64") if mode == "maxconns" else ("", "")
    log = ("    log stdout format raw local0\n    option httplog\n" if os.environ.get("ACCESS_LOG") == "1" else "")
    # The reuse figures make perf scrapes (perf/scrape.py); SCRAPE=0: none, as for the others.
    stats = "" if os.environ.get("SCRAPE", "1") == "0" else "    stats enable\n    stats uri /haproxy_stats\n"
    return f"""\
global
    nbthread 1
    # nginx's worker_connections 8192; HAProxy raises its file limit to fit (2 per connection).
    maxconn 8192
defaults
    mode http
{log}    option http-keep-alive
    option forwardfor
    http-reuse always
    timeout connect 5s
    timeout server 30s
    timeout client 60s
    timeout http-request 60s
    timeout http-keep-alive 75s
listen proxy
    bind 127.0.0.1:{port}
{queue}{stats}    http-request set-header X-Real-IP %[src]
    http-request set-header X-Forwarded-Proto http
    server app 127.0.0.1:{backend_port} pool-max-conn 64 pool-purge-delay 65s{maxconn}
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path
