// Package assets holds files embedded in the binaries.
package assets

import _ "embed"

// Icon is the app icon (512×512 PNG): the window icon, and the source of every packaged icon
// (cmd/magdesk/FyneApp.toml points at this file).
//
//go:embed icon.png
var Icon []byte
