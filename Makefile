# RawKeepalive: build, run, test, benchmark.
# Everything a fresh Debian machine with the .NET SDK needs is restored or installed here.

BIN_DIR      := artifacts/bin
BIN          := $(BIN_DIR)/rawkeepalive
CONF         ?= conf/rawkeepalive.conf
TEST_TIMEOUT ?= 840
SOAK_SECONDS ?= 300
DOTNET       := env DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet

.PHONY: all build run test test-deps soak bench clean perf perf-seed perf-scale perf-check perf-deps perf-overload perf-tail

all: build

# NativeAOT publish to a fixed path; the tests drive this binary.
build:
	$(DOTNET) publish src/RawKeepalive/RawKeepalive.csproj -c Release -o $(BIN_DIR) --nologo

run: build
	$(BIN) -p . -c $(CONF)

# What the tests need besides the SDK, only what is missing (tests/deps.sh: the reference nginx the log
# lines are compared with, promtool and prometheus_client for the metrics page).
test-deps:
	tests/deps.sh

# timeout: a hang fails the run in minutes instead of eating CI's budget.
test: build test-deps
	RAWKEEPALIVE_BIN=$(abspath $(BIN)) timeout --kill-after=30 $(TEST_TIMEOUT) \
		$(DOTNET) test tests/RawKeepalive.Tests/RawKeepalive.Tests.csproj -c Release --nologo \
		--logger "console;verbosity=normal" --blame-hang-timeout 5m

# Chaos soak (issue 5): the short soak's rounds for SOAK_SECONDS, backend restarts and idle resets under load.
soak: build
	RAWKEEPALIVE_BIN=$(abspath $(BIN)) RAWKEEPALIVE_SOAK_SECONDS=$(SOAK_SECONDS) timeout --kill-after=30 $$(( $(SOAK_SECONDS) + 300 )) \
		$(DOTNET) test tests/RawKeepalive.Tests/RawKeepalive.Tests.csproj -c Release --nologo \
		--filter "FullyQualifiedName~ChaosSoakTests.Soak_Long" --logger "console;verbosity=detailed"

bench:
	$(DOTNET) run -c Release --project perf/RawKeepalive.Benchmarks -- --filter '*' --memory

# Load suite against nginx and HAProxy (perf/README.md; PEERS= for nginx only). Never part of `make test` or CI.
# QUICK=1: about 2 minutes with nginx only.
perf-deps:
	perf/deps.sh

perf: perf-deps build
	python3 perf/report.py "$$(python3 perf/bench.py)"
	python3 perf/overload.py

perf-seed: perf-deps build
	python3 perf/seed.py

# Workers 1, 2, 4, 8 (as many as leave half the cores to backend and wrk); meant for a many-core box.
perf-scale: perf-deps build
	python3 perf/scale.py

# Load beyond the pool (perf/overload.py): 256 and 1,024 clients over keepalive 64, and with max_conns + queue,
# on nginx, HAProxy and RawKeepalive; prints the medians and RawKeepalive's ratios as markdown.
perf-overload: perf-deps build
	python3 perf/overload.py

# Where the time goes at 256 clients over keepalive 64 (perf/tail.py): RawKeepalive's loop profile.
perf-tail: perf-deps build
	python3 perf/tail.py

perf-check:
	cd perf && python3 check.py

clean:
	rm -rf artifacts src/*/bin src/*/obj tests/*/bin tests/*/obj perf/*/bin perf/*/obj
