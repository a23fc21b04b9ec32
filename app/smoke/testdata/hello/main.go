// Command hello is the baseline of the startup benchmark: the smallest Fyne window, built
// with the same toolchain and flags as magdesk.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("com.magdesktop.hello")
	w := a.NewWindow("Hello Fyne")
	w.SetContent(widget.NewLabel("Hello, world"))
	w.Resize(fyne.NewSize(960, 720))
	w.ShowAndRun()
}
