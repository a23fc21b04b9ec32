package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// The Windows build is a GUI-subsystem program (Fyne), so Windows gives it no console: command-line
// use from cmd.exe or PowerShell would print nothing. Attach to the parent's console when there is
// one, for the streams that were not redirected.
func init() {
	attach := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")
	const attachParentProcess = ^uintptr(0) // (DWORD)-1
	if r, _, _ := attach.Call(attachParentProcess); r == 0 {
		return // started from Explorer: no console to attach to
	}
	reopen := func(std uint32, name string, flag int, f **os.File) {
		if h, err := windows.GetStdHandle(std); err == nil && h != 0 && h != windows.InvalidHandle {
			return // redirected to a file or pipe: keep it
		}
		if c, err := os.OpenFile(name, flag, 0); err == nil {
			*f = c
		}
	}
	reopen(windows.STD_OUTPUT_HANDLE, "CONOUT$", os.O_WRONLY, &os.Stdout)
	reopen(windows.STD_ERROR_HANDLE, "CONOUT$", os.O_WRONLY, &os.Stderr)
	reopen(windows.STD_INPUT_HANDLE, "CONIN$", os.O_RDONLY, &os.Stdin)
}
