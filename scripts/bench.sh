#!/usr/bin/env bash
# make bench: runs every Go benchmark of the project (the load generator's included:
# internal/tools/magload's BenchmarkMagload200Clients), then prints ONE table with internal/tools/benchreport: each published figure, its baseline measured in
# the same run, the ratio, the goal and PASS/MISS. The raw output is kept for the record.
#   BENCH_COUNT=3     repeat each benchmark (the table takes medians)
#   BENCH_TIMEOUT=10m bound on each package's benchmarks (a hung one is reported, the rest run)
#   BENCH_OUT=FILE    where the raw output goes (default: a temp file)
#   BENCH_MARKDOWN=1  print the table in Markdown (for the README)
set -uo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
count=${BENCH_COUNT:-1}
limit=${BENCH_TIMEOUT:-10m}
out=${BENCH_OUT:-$(mktemp -t magdesk-bench.XXXXXX)}
: >"$out"

# Packages that have benchmarks.
pkgs=$(grep -rl --include='*_test.go' -E '^func Benchmark' . | xargs -r -n1 dirname | sort -u)
if [ -z "$pkgs" ]; then
  echo "bench: no benchmarks found" >&2
  exit 1
fi
# GUI benchmarks need an X server; use a private Xvfb when there is no display. The search for
# a free display starts at a random number: concurrent xvfb-run -a calls all starting at :99
# can pick the same one.
wrap=()
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  wrap=(xvfb-run -a -n $((100 + RANDOM % 800)) -s "-screen 0 1280x1024x24")
fi
# PostgreSQL for BenchmarkScaleOut (magd on PostgreSQL behind HAProxy), as in scripts/test.sh.
pgdir=$(mktemp -d)
chmod 711 "$pgdir"
trap './scripts/postgres.sh stop "$pgdir/postgres"; rm -rf "$pgdir"' EXIT
if MAGDESK_TEST_POSTGRES=$(./scripts/postgres.sh start "$pgdir/postgres"); then
  export MAGDESK_TEST_POSTGRES
else
  echo "bench: PostgreSQL did not start; BenchmarkScaleOut is skipped" >&2
fi
status=0
# One package at a time: go test would otherwise run packages side by side and the figures
# and their baselines would share the CPUs with other benchmarks.
for p in $pkgs; do
  echo "== go test -run='^\$' -bench=. -benchmem -count=$count $p" >&2
  "${wrap[@]}" go test -run='^$' -bench=. -benchmem -count="$count" -timeout "$limit" "$p" 2>&1 | tee -a "$out"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

echo
md=()
[ -n "${BENCH_MARKDOWN:-}" ] && md=(-markdown)
go run ./internal/tools/benchreport "${md[@]}" "$out" || status=1
echo "(raw output: $out)"
exit "$status"
