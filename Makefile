GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/hookgate
CONFIG  ?= configs/examples/
FUZZTIME ?= 30s
BENCHTIME ?= 1s

.PHONY: run build test bench fuzz vet clean

## run: start hookgate on the example config with the embedded NATS server
run: build
	$(BIN) serve -c $(CONFIG)

## build: compile bin/hookgate
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/hookgate

## test: every test, with the race detector. -count=1: the end-to-end tests
## build the binary themselves, which Go's test cache cannot see.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 9m ./...

## bench: every benchmark with allocations (BENCH=regexp to pick)
bench:
	$(GO) test -run '^$$' -bench '$(or $(BENCH),.)' -benchmem -benchtime $(BENCHTIME) ./...

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
	  done; \
	done

vet:
	$(GO) vet ./...

clean:
	rm -rf bin data
