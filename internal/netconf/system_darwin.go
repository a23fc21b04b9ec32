package netconf

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

type scutilReader struct{}

// OSReader reads the macOS network settings through scutil, which reports the proxies of the
// active network service as System Configuration resolved them.
func OSReader() SystemReader { return scutilReader{} }

func (scutilReader) ReadSystem(ctx context.Context) (System, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/sbin/scutil", "--proxy").Output()
	if err != nil {
		return System{Source: SourceMacOS}, fmt.Errorf("scutil --proxy: %w", err)
	}
	return ParseScutil(string(out)), nil
}
