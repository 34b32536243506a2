#!/usr/bin/env bash
# Installs the load tools the perf suite needs, only those missing: one apt-get update, then install.
set -euo pipefail
need=()
command -v nginx   >/dev/null || need+=(nginx)
command -v haproxy >/dev/null || need+=(haproxy)   # a peer in make perf and perf-overload
command -v wrk     >/dev/null || need+=(wrk)
command -v h2load  >/dev/null || need+=(nghttp2-client)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v strace  >/dev/null || need+=(strace)
command -v taskset >/dev/null || need+=(util-linux)
command -v ss      >/dev/null || need+=(iproute2)
if ((${#need[@]})); then
    echo "perf: installing ${need[*]}"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
