// Package smoke holds the GUI smoke test of the real magdesk binary under an X server
// (Xvfb in CI): window shown and not blank, then a scripted login with xdotool that reaches
// Home; and the keyboard-only walk through first-time setup and the Error 2035 fix. It has
// no code of its own; run it with scripts/gui-smoke.sh.
package smoke
