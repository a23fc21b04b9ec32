//go:build !linux && !darwin && !windows

package config

// PolicyFile is empty: this OS has no managed-policy location.
const PolicyFile = ""

// SystemPolicy returns a reader that finds no policy on this OS.
func SystemPolicy() PolicyReader { return noPolicy{} }
