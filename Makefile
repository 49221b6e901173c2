# kuniq — `make demo` runs it end to end; `make test` runs every test (Kafka included).
SHELL := /bin/bash
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
KAFKA_PORT ?= 9092
export KAFKA_PORT
BROKERS ?= 127.0.0.1:$(KAFKA_PORT)
# The broker's SASL_SSL listener (scripts/kafka.sh: KAFKA_PORT+2) and its CA and password.
SECURE_BROKERS ?= 127.0.0.1:$(shell echo $$(($(KAFKA_PORT) + 2)))
SECURE_DIR ?= $(or $(KAFKA_HOME),$(CURDIR)/.kafka)/secure
# The three-broker cluster: node N on KAFKA_CLUSTER_PORT+2(N-1).
KAFKA_CLUSTER_PORT ?= 9192
export KAFKA_CLUSTER_PORT
CLUSTER_BROKERS ?= $(shell p=$(KAFKA_CLUSTER_PORT); echo 127.0.0.1:$$p,127.0.0.1:$$((p + 2)),127.0.0.1:$$((p + 4)))
CLUSTER_HOME ?= $(or $(KAFKA_CLUSTER_HOME),$(CURDIR)/.kafka-cluster)
BENCHTIME ?= 2s

.PHONY: all build test prometheus chromium vet unit integration chaos soak test-cluster check bench fuzz kafka-fetch kafka-up kafka-down kafka-logs kafka-wipe kafka-cluster-up kafka-cluster-down demo crash-demo screenshot clean

all: build

# -buildvcs=auto stamps the commit into the binary (`kuniq --version`) even where GOFLAGS
# turns stamping off; outside a git checkout it stamps nothing.
build:
	$(GO) build -buildvcs=auto -o bin/kuniq ./cmd/kuniq

# The whole suite: static checks, unit tests (no broker), then the integration tests against a
# real broker that this target starts itself (idempotent; left running for the next run).
test: prometheus chromium vet unit integration

# Debian's prometheus package (prometheus and promtool 2.42): the tests that check
# deploy/prometheus and deploy/grafana and the one that runs a real Prometheus need it.
# Idempotent: nothing to do when both are installed; without apt-get it says so and those
# tests skip (under CI=true they fail).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
prometheus:
	@if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then \
		echo "prometheus: installed ($$(prometheus --version 2>&1 | head -n 1))"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus; \
	else \
		echo "prometheus: not installed and no apt-get: install prometheus and promtool (the tests that need them skip)"; \
	fi

# Debian's chromium package: the page's tests (view, TestPageInBrowser) drive it headless through
# chromedp. Idempotent like prometheus: nothing to do when it is installed (or KUNIQ_CHROMIUM
# names a browser); without apt-get it says so and those tests skip (under CI=true they fail).
chromium:
	@if [ -n "$$KUNIQ_CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		echo "chromium: installed ($$($${KUNIQ_CHROMIUM:-$$(command -v chromium || command -v chromium-browser)} --version 2>/dev/null | head -n 1))"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; \
	else \
		echo "chromium: not installed and no apt-get: install chromium or set KUNIQ_CHROMIUM (the page's browser tests skip)"; \
	fi

# The codec's SIMD paths (AVX-512, AVX2) build only with GOEXPERIMENT=simd: they are vetted and
# tested in that build too, each width the CPU has (the portable path is the default build's).
vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	GOEXPERIMENT=simd $(GO) vet ./codec/
	GOEXPERIMENT=simd $(GO) run $(STATICCHECK) ./codec/

unit:
	$(GO) test -race -shuffle=on -skip Integration ./...
	GOEXPERIMENT=simd $(GO) test -race -shuffle=on ./codec/

# Integration tests use the PLAINTEXT listener and, for TestIntegrationSecure*, the SASL_SSL one.
# The reduced fault suite (internal/chaos) runs here too, on a broker of its own (CHAOS_PORT).
CHAOS_PORT ?= 9592
integration: kafka-up build
	KUNIQ_BROKERS=$(BROKERS) KUNIQ_SECURE_BROKERS=$(SECURE_BROKERS) KUNIQ_SECURE_DIR=$(SECURE_DIR) \
		KUNIQ_CHAOS=reduced KUNIQ_CHAOS_PORT=$(CHAOS_PORT) \
		$(GO) test -race -count=1 -p 1 -timeout 30m -run Integration -skip IntegrationCluster ./...

# The whole fault suite, the three-broker case included; prints the table docs/reliability.md
# reports (also written to bin/chaos.md).
chaos: kafka-fetch build kafka-cluster-up
	mkdir -p bin
	KUNIQ_CHAOS=full KUNIQ_CHAOS_PORT=$(CHAOS_PORT) KUNIQ_CHAOS_REPORT=$(CURDIR)/bin/chaos.md \
		KUNIQ_CLUSTER_BROKERS=$(CLUSTER_BROKERS) KUNIQ_CLUSTER_HOME=$(CLUSTER_HOME) \
		$(GO) test -count=1 -v -timeout 90m -run 'IntegrationChaos|IntegrationClusterChaos' ./internal/chaos/

# The TestIntegrationCluster* tests against three local brokers this target starts (left running:
# make kafka-cluster-down stops them).
test-cluster: kafka-cluster-up
	KUNIQ_CLUSTER_BROKERS=$(CLUSTER_BROKERS) KUNIQ_CLUSTER_HOME=$(CLUSTER_HOME) \
		$(GO) test -race -count=1 -p 1 -timeout 20m -run IntegrationCluster ./...

# A long run on live input (30 min by default, SOAK_FLAGS to change): RSS, goroutines, open
# files and lag of every instance, and how soon each minute's final came (docs/reliability.md).
soak: kafka-up build
	$(GO) run ./scripts/soak --brokers $(BROKERS) $(SOAK_FLAGS)

check: vet

bench:
	scripts/bench.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeFrame -fuzztime 60s ./codec/
	GOEXPERIMENT=simd $(GO) test -run '^$$' -fuzz FuzzFastMatchesGeneral -fuzztime 60s ./codec/
	$(GO) test -run '^$$' -fuzz FuzzReadDelimited -fuzztime 60s ./engine/

kafka-fetch:
	scripts/kafka.sh fetch

kafka-up:
	scripts/kafka.sh up

kafka-down:
	scripts/kafka.sh down

kafka-logs:
	scripts/kafka.sh logs

kafka-wipe:
	scripts/kafka.sh wipe

kafka-cluster-up:
	scripts/kafka.sh cluster-up

kafka-cluster-down:
	scripts/kafka.sh cluster-down

demo: build
	scripts/demo.sh

crash-demo: build
	scripts/crash-demo.sh

# The page's screenshot in docs/img/page.png (README shows it), from a live pipeline on the
# local broker: scripts/screenshot.sh says how.
screenshot: build chromium
	scripts/screenshot.sh

clean:
	rm -rf bin
