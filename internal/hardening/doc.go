// Package hardening attacks MAG Desktop from the outside: hostile input against every endpoint
// of a real in-process magd over TLS, brute force and lockout, network and disk faults, a scan
// for secrets at rest after a full scenario, and the TLS configuration as sslscan sees it.
// It is tests only; the package itself holds nothing.
package hardening
