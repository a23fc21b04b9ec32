package service

import "os"

// SystemAutostart is the XDG autostart entry of this user.
func SystemAutostart() Autostart {
	home, _ := os.UserHomeDir()
	return xdgAutostart(os.Getenv("XDG_CONFIG_HOME"), home)
}
