//go:build !windows && !darwin && !linux

package netconf

import "context"

type noSystem struct{}

// OSReader on systems without a known proxy store: the environment variables decide.
func OSReader() SystemReader { return noSystem{} }

func (noSystem) ReadSystem(context.Context) (System, error) { return System{}, nil }
