# kuniq — `make demo` runs it end to end; `make test` runs every test (Kafka included).
SHELL := /bin/bash
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
KAFKA_PORT ?= 9092
export KAFKA_PORT
BROKERS ?= 127.0.0.1:$(KAFKA_PORT)
BENCHTIME ?= 2s

.PHONY: all build test vet unit integration check bench fuzz kafka-fetch kafka-up kafka-down kafka-logs kafka-wipe demo crash-demo clean

all: build

# -buildvcs=auto stamps the commit into the binary (`kuniq --version`) even where GOFLAGS
# turns stamping off; outside a git checkout it stamps nothing.
build:
	$(GO) build -buildvcs=auto -o bin/kuniq ./cmd/kuniq

# The whole suite: static checks, unit tests (no broker), then the integration tests against a
# real broker that this target starts itself (idempotent; left running for the next run).
test: vet unit integration

vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -race -shuffle=on -skip Integration ./...

integration: kafka-up build
	KUNIQ_BROKERS=$(BROKERS) $(GO) test -race -count=1 -p 1 -timeout 30m -run Integration ./...

check: vet

bench:
	scripts/bench.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeFrame -fuzztime 60s ./codec/

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

demo: build
	scripts/demo.sh

crash-demo: build
	scripts/crash-demo.sh

clean:
	rm -rf bin
