package service

import "os"

// SystemAutostart is this user's LaunchAgent.
func SystemAutostart() Autostart {
	home, _ := os.UserHomeDir()
	return userLaunchAgent(home)
}
