// Package packaging holds the packaging definitions (nfpm, WiX, ADMX, macOS profile) and the
// tests that check them: the templates always, and the packages in dist/ when MAGDESK_DIST
// points at a `make package` output. See README-IT.md.
package packaging
