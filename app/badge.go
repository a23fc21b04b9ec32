package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// badge is the short word shown beside a status, and its colour (the word carries the meaning,
// not the colour alone).
type badge struct {
	text string
	imp  widget.Importance
}

// badgeLabel is the bold label of status's badge in badges; a status without one shows as is.
func badgeLabel(badges map[string]badge, status string) *widget.Label {
	b, ok := badges[status]
	if !ok {
		b = badge{status, widget.MediumImportance}
	}
	l := widget.NewLabelWithStyle(b.text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Importance = b.imp
	return l
}
