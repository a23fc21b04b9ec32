//go:build !windows

package netconf

import "os"

// dnsSuffixes are the DNS search domains of this machine.
func dnsSuffixes() []string {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	return parseResolvConf(data)
}
