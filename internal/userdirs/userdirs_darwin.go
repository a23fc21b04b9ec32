package userdirs

// documentsDir on macOS is always ~/Documents (the system does not rename it).
func documentsDir(home string) string { return inHome(home) }
