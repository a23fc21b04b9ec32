#!/usr/bin/env bash
# The whole test suite: static checks, cross-OS builds, then every Go test with the race
# detector inside a private D-Bus session with a real gnome-keyring and a real X server (Xvfb),
# then a short run of every fuzz target. The packaged builds (scripts/package.sh) are made first
# and inspected by the packaging tests. `make test` runs this; so does CI.
set -euo pipefail
cd "$(dirname "$0")/.."

export LANG=en_US.UTF-8
export CGO_ENABLED=1
FUZZTIME=${FUZZTIME:-5s}

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
bad=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$bad" ]; then echo "gofmt needed: $bad"; exit 1; fi

step "go vet"
go vet ./...

step "staticcheck"
go tool staticcheck ./...

# Logic packages must build for the other desktops (their OS backends are compiled here and
# tested over recorded output). Fyne's GL packages need cgo for those targets, so the UI and
# the main package are left to `make package`.
step "cross builds (windows, darwin)"
logic=$(go list ./... | grep -v -e '/app$' -e '/app/' -e '/cmd/magdesk$')
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go vet $logic
GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go vet $logic

# The packaged builds are part of the test: the packaging tests inspect dist/.
step "package (make package -> dist/)"
./scripts/package.sh
export MAGDESK_DIST="$PWD/dist"

step "go test -race (real keyring, real X server, real PostgreSQL)"
tmp=$(mktemp -d)
trap './scripts/postgres.sh stop "$tmp/postgres"; rm -rf "$tmp"' EXIT
# One PostgreSQL for every test (each makes databases of its own on it, testenv.Postgres); the
# postgres user must be able to reach its folder inside $tmp.
chmod 711 "$tmp"
MAGDESK_TEST_POSTGRES=$(./scripts/postgres.sh start "$tmp/postgres")
export MAGDESK_TEST_POSTGRES
export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" XDG_CONFIG_HOME="$tmp/config"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME"
chmod 700 "$XDG_RUNTIME_DIR"
export MAGDESK_REAL_KEYRING=1
export MAGDESK_REQUIRE_TOOLS=1 # testenv: a missing tool fails its test here instead of skipping
xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- bash -c '
  set -u
  printf "%s" magdesk-ci | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  gk=$!
  for _ in $(seq 1 100); do
    dbus-send --session --dest=org.freedesktop.DBus --print-reply /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
    sleep 0.05
  done
  go test -race -count=1 -timeout 25m ./...
  rc=$?
  # The server scenario tests once more with magd on PostgreSQL (servertest.EngineEnv).
  MAGDESK_TEST_ENGINE=postgres go test -race -count=1 -timeout 10m ./internal/server/ ./internal/hardening/ || rc=1
  # The seed scenarios through HAProxy, spread over two instances (servertest.Cluster).
  MAGDESK_TEST_ENGINE=cluster go test -race -count=1 -timeout 10m -run "Scenario|^TestSessions\$" ./internal/server/ || rc=1
  kill $gk 2>/dev/null; wait $gk 2>/dev/null
  exit $rc'

step "fuzz (short: $FUZZTIME each)"
for f in $(git ls-files '*_test.go'); do
  pkg="./$(dirname "$f")"
  for fn in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$f" | awk '{print $2}'); do
    echo "-- $pkg $fn"
    go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" "$pkg"
  done
done
