package app

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// taskTimeout bounds every background call; the client has its own shorter timeouts.
const taskTimeout = 2 * time.Minute

// run does work off the UI goroutine and then done on it. While it runs, btn (if given) is
// disabled and says it is working, so a second tap can't submit twice.
func run[T any](u *UI, btn *widget.Button, work func(ctx context.Context) (T, error), done func(T, error)) {
	var label string
	if btn != nil {
		if btn.Disabled() {
			return
		}
		label = btn.Text
		btn.SetText("Working…")
		btn.Disable()
	}
	u.busy.Add(1)
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, taskTimeout)
		v, err := work(ctx)
		cancel()
		u.post(func() {
			defer u.busy.Add(-1)
			if btn != nil {
				btn.SetText(label)
				btn.Enable()
			}
			done(v, err)
		})
	}()
}

// post hands f to the UI goroutine: fyne.Do in the app. Headless tests set inbox instead, and
// Wait runs the results on the test's goroutine, which is the UI goroutine there.
func (u *UI) post(f func()) {
	if u.inbox != nil {
		u.inbox <- f
		return
	}
	fyne.Do(f)
}

// Wait blocks until every background task has finished and its result reached the UI.
func (u *UI) Wait() {
	for u.busy.Load() > 0 {
		if u.inbox != nil {
			(<-u.inbox)()
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// runErr is run for work that returns only an error.
func runErr(u *UI, btn *widget.Button, work func(ctx context.Context) error, done func(error)) {
	run(u, btn, func(ctx context.Context) (struct{}, error) { return struct{}{}, work(ctx) }, func(_ struct{}, err error) { done(err) })
}
