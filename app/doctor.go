package app

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mag-desktop/magdesk/internal/service"
)

var doctorMarks = map[string]string{
	service.CheckOK: "OK", service.CheckWarning: "Attention", service.CheckProblem: "Problem", service.CheckSkipped: "Not checked",
}

// doctorView is the check dialog's content.
type doctorView struct {
	app   *widget.Entry
	check *widget.Button
	lines *fyne.Container
}

// ShowDoctor is Help > Check my connection and setup: the same check as `magdesk doctor`,
// one line per step with what to do, and optionally why one application cannot be opened.
func (u *UI) ShowDoctor() {
	app := widget.NewEntry()
	app.SetPlaceHolder("optional: an application that does not open, e.g. alpha")
	lines := container.NewVBox(wrapped("Press Check to test the way to your gateway and this computer's setup."))
	var check *widget.Button
	check = widget.NewButton("Check", func() {
		lines.Objects = []fyne.CanvasObject{wrapped("Checking…")}
		lines.Refresh()
		name := strings.TrimSpace(app.Text)
		run(u, check, func(ctx context.Context) (service.DoctorReport, error) { return u.be.Doctor(ctx, name), nil },
			func(rep service.DoctorReport, _ error) {
				lines.Objects = doctorLines(rep)
				lines.Refresh()
			})
	})
	check.Importance = widget.HighImportance
	u.doctor = &doctorView{app: app, check: check, lines: lines}
	body := container.NewBorder(container.NewVBox(app, check), nil, nil, nil, container.NewVScroll(lines))
	d := dialog.NewCustom("Check my connection and setup", "Close", body, u.Win)
	d.Resize(fyne.NewSize(720, 520))
	u.showDialog(d)
}

func doctorLines(rep service.DoctorReport) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for _, c := range rep.Checks {
		l := wrapped(doctorMarks[c.Status] + " — " + c.Result)
		switch c.Status {
		case service.CheckProblem:
			l.Importance = widget.DangerImportance
		case service.CheckWarning:
			l.Importance = widget.WarningImportance
		}
		out = append(out, l)
		if c.Fix != "" {
			out = append(out, wrapped("What to do: "+c.Fix))
		}
	}
	if a := rep.App; a != nil {
		out = append(out, widget.NewSeparator(), wrapped(a.Answer))
	}
	return out
}
