// Package version is the single source of the product version (set from VERSION at build time).
package version

// Version is overridden with -ldflags "-X .../version.Version=..." by the Makefile and packaging.
var Version = "0.1.0-dev"
