#!/usr/bin/env bash
# GUI smoke test of the real app: builds magdesk, runs `magdesk --demo` in a throwaway
# MAGDESK_HOME, checks the window is drawn (screenshot not blank) and logs in with xdotool
# until Home shows; then completes first-time setup and the Error 2035 fix with key events
# only (TestKeyboardOnlySetupAnd2035). Screenshots go to ${MAGDESK_SMOKE_ARTIFACTS:-a temp dir} (printed).
# Uses the current X server, or starts Xvfb when DISPLAY is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
export LANG=en_US.UTF-8
export MAGDESK_SMOKE_ARTIFACTS=${MAGDESK_SMOKE_ARTIFACTS:-$(mktemp -d -t magdesk-smoke-XXXXXX)}
run=(go test -count=1 -v -run '^(TestGUISmoke|TestKeyboardOnlySetupAnd2035)$' ./app/smoke)
if [ -z "${DISPLAY:-}" ]; then
  xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- "${run[@]}"
else
  "${run[@]}"
fi
echo "screenshots: $MAGDESK_SMOKE_ARTIFACTS"
