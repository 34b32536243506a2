#!/usr/bin/env bash
# Installs what the tests need besides the .NET SDK, only what is missing: one apt-get update, then
# install (make test runs it first). One "want" line per Debian package: what shows it is there (a
# command, or python3:MODULE for a module of Debian's /usr/bin/python3), then the package.
set -euo pipefail
need=()
want() {
    case "$1" in
        python3:*) /usr/bin/python3 -c "import ${1#python3:}" 2>/dev/null || need+=("$2") ;;
        *) command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || need+=("$2") ;;
    esac
}
want nginx nginx                                           # the reference the log lines are compared with
want promtool prometheus                                   # promtool check metrics (Integration/MetricsTests)
want python3:prometheus_client python3-prometheus-client   # the strict parser of the metrics page
if ((${#need[@]})); then
    echo "tests: installing ${need[*]}"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
