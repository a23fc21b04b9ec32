package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mag-desktop/magdesk/api"
	"github.com/mag-desktop/magdesk/internal/server/store"
)

// The events feed tells a running app what changed for its account (a decision, terms
// accepted, a login elsewhere, a certificate to renew) so that it need not reload Home on a
// timer. Events are rows of account_events, numbered per account; a request with wait=N is
// held until the next event of its account or N seconds, so an idle app costs one request per
// wait. Waiters are woken by this process only: an event written by another process (magd
// admin, a second magd on the same database) is seen when the wait ends.

// eventHub wakes the long-polls of an account when an event is added for it.
type eventHub struct {
	mu      sync.Mutex
	waiters map[string]chan struct{} // closed on the account's next event
}

// wait is closed at the next event of the account; take it before reading the feed so that an
// event added in between is not missed.
func (h *eventHub) wait(accountID string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiters == nil {
		h.waiters = map[string]chan struct{}{}
	}
	ch, ok := h.waiters[accountID]
	if !ok {
		ch = make(chan struct{})
		h.waiters[accountID] = ch
	}
	return ch
}

// notify wakes the waiters of the accounts.
func (h *eventHub) notify(accountIDs ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range accountIDs {
		if ch, ok := h.waiters[id]; ok {
			close(ch)
			delete(h.waiters, id)
		}
	}
}

// notifyAll wakes every waiter (an event for a whole organisation).
func (h *eventHub) notifyAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.waiters {
		close(ch)
	}
	h.waiters = nil
}

// eventData is what is stored of an event: its fields without id, type and time.
func eventData(e api.Event) string {
	e.ID, e.Type, e.At = "", "", time.Time{}
	b, _ := json.Marshal(e) // a struct of strings and times always marshals
	return string(b)
}

// addEvent appends an event to an account's feed inside q's transaction; the caller wakes
// the waiters with s.hub.notify once the transaction has committed.
func (s *Server) addEvent(ctx context.Context, q store.Q, accountID string, e api.Event) error {
	return q.AddEvent(ctx, accountID, e.Type, s.now(), eventData(e))
}

func apiEvent(e store.AccountEvent) api.Event {
	var out api.Event
	_ = json.Unmarshal([]byte(e.Data), &out) // written by eventData; an unreadable row still says its type
	out.ID, out.Type, out.At = strconv.FormatInt(e.Seq, 10), e.Type, e.At
	return out
}

// eventsPageSize bounds one answer; a client behind by more gets the rest at once on its next call.
const eventsPageSize = 100

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, a *authCtx) error {
	ctx := r.Context()
	q := r.URL.Query()
	wait := 0
	if v := q.Get("wait"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > api.EventsMaxWait {
			return invalid("wait must be a number of seconds from 0 to "+strconv.Itoa(api.EventsMaxWait)+".",
				api.FieldError{Field: "wait", Code: api.CodeValidationFailed, Message: "0 to " + strconv.Itoa(api.EventsMaxWait)})
		}
		wait = n
	}
	cursor := q.Get("after")
	if cursor == "" {
		// A client starting up begins at the newest event: what happened before is in Home.
		last, err := s.st.LastEventSeq(ctx, a.acct.ID)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, api.EventPage{Events: []api.Event{}, Cursor: strconv.FormatInt(last, 10)})
	}
	after, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || after < 0 {
		return invalid("after must be the cursor of an earlier answer.",
			api.FieldError{Field: "after", Code: api.CodeValidationFailed, Message: "a cursor"})
	}
	if wait > 0 {
		// The answer may come long after the request: past the server's usual write deadline.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Duration(wait)*time.Second + requestTimeout))
	}
	deadline := time.NewTimer(time.Duration(wait) * time.Second)
	defer deadline.Stop()
	for {
		woken := s.hub.wait(a.acct.ID)
		evs, err := s.st.EventsAfter(ctx, a.acct.ID, after, eventsPageSize)
		if err != nil {
			return err
		}
		if len(evs) > 0 || wait == 0 {
			return writeEvents(w, evs, after)
		}
		select {
		case <-woken:
		case <-deadline.C:
			return writeEvents(w, nil, after)
		case <-s.stop:
			return writeEvents(w, nil, after)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return writeEvents(w, nil, after)
			}
			return ctx.Err()
		}
	}
}

func writeEvents(w http.ResponseWriter, evs []store.AccountEvent, after int64) error {
	page := api.EventPage{Events: make([]api.Event, 0, len(evs)), Cursor: strconv.FormatInt(after, 10)}
	for _, e := range evs {
		page.Events = append(page.Events, apiEvent(e))
		page.Cursor = strconv.FormatInt(e.Seq, 10)
	}
	return writeJSON(w, http.StatusOK, page)
}

// eventsRequest tells wrap to give a long-poll its wait on top of the usual request timeout.
func eventsRequest(r *http.Request) bool { return r.URL.Path == api.PathEvents }
