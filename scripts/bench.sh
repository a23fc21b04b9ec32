#!/usr/bin/env bash
# Runs every Go benchmark of the project. The report table (figure, baseline measured in the
# same run, ratio, goal) is built by cmd/benchreport when present.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
go test -run='^$' -bench=. -benchmem -count=1 ./... | tee /tmp/magdesk-bench.txt
