package userdirs

import "golang.org/x/sys/windows"

// documentsDir is the Documents Known Folder, which follows a redirection by group policy
// (to OneDrive or a network share) that %USERPROFILE%\Documents would miss.
func documentsDir(home string) string {
	if p, err := windows.KnownFolderPath(windows.FOLDERID_Documents, 0); err == nil && p != "" {
		return p
	}
	return inHome(home)
}
