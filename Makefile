# MAG Desktop. The two set-up commands on a fresh Debian/Ubuntu machine with Go:
#   make demo   runs the app against an embedded reference server with demo data
#   make test   installs what the tests need and passes every test
.PHONY: deps demo test bench package build clean screens

GO ?= go
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
LDFLAGS := -X github.com/mag-desktop/magdesk/internal/version.Version=$(VERSION)

deps:
	./scripts/deps.sh

build: deps
	mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

demo: build
	./bin/magdesk --demo

test: deps
	./scripts/test.sh

bench: deps
	./scripts/bench.sh

# screens: a PNG of every screen and dialog, light and dark, into docs/screens/ (under Xvfb)
screens: deps
	./scripts/screens.sh

package: deps
	./scripts/package.sh

clean:
	rm -rf bin dist
