//go:build !linux && !darwin && !windows

package service

// SystemAutostart is nil: this OS has no start-at-login entry MAG Desktop knows.
func SystemAutostart() Autostart { return nil }
