package config

import "path/filepath"

// policyRoot is "/" except in tests, which point it at a temporary root.
var policyRoot = "/"

// PolicyFile is the Linux managed policy (root-owned, not writable by users).
const PolicyFile = "/etc/magdesk/policy.json"

// SystemPolicy returns this OS's policy reader: PolicyFile on Linux.
func SystemPolicy() PolicyReader { return JSONFile{Path: filepath.Join(policyRoot, PolicyFile)} }
