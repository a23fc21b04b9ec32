package config

// PolicyFile is where macOS places a configuration profile's managed preferences for the app.
const PolicyFile = "/Library/Managed Preferences/" + BundleID + ".plist"

// SystemPolicy returns this OS's policy reader: the managed-preferences plist on macOS. It is
// read directly (XML or binary plist) rather than through CFPreferences, to avoid cgo; only
// the machine-wide file is read, not per-user managed preferences.
func SystemPolicy() PolicyReader { return PlistFile{Path: PolicyFile} }
