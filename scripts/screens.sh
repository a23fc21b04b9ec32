#!/usr/bin/env bash
# `make screens`: runs `magdesk --demo` under Xvfb with MAGDESK_SCREENS set, which walks the
# window (800x600) through every screen and dialog and writes a PNG of each in the light and
# the dark theme; the PNGs are shrunk with pngquant and replace docs/screens/.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
out=docs/screens
tmp=$(mktemp -d -t magdesk-screens-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/magdesk" ./cmd/magdesk
run=(env MAGDESK_HOME="$tmp/home" MAGDESK_SCREENS="$tmp/png" "$tmp/magdesk" --demo)
if [ -z "${DISPLAY:-}" ]; then
  xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- "${run[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
else
  "${run[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
fi
n=$(ls "$tmp/png" 2>/dev/null | wc -l)
if [ "$n" -eq 0 ]; then cat "$tmp/log"; echo "screens: no pictures were taken" >&2; exit 1; fi
rm -rf "$out" && mkdir -p "$out"
for f in "$tmp"/png/*.png; do
  pngquant --quality 60-90 --speed 1 --strip --output "$out/$(basename "$f")" -- "$f" || cp "$f" "$out/"
done
echo "screens: $n pictures in $out ($(du -sh "$out" | cut -f1))"
