package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestOutbox: senders on two instances claiming at the same time take every email exactly once;
// a lease that runs out (its sender died) lets another take the email over; a failed email
// comes back when its retry is due; what was sent no longer counts as pending.
func TestOutbox(t *testing.T) { eachEngine(t, testOutbox) }

func testOutbox(t *testing.T, dsn string) {
	ctx := context.Background()
	a, b := open(t, dsn), open(t, dsn)
	now := time.Now().UTC().Truncate(time.Millisecond)
	const mails = 60
	for i := range mails {
		if err := a.EnqueueMail(ctx, OutboxMail{ID: fmt.Sprintf("mail_%02d", i), To: "ann@example.com", Subject: "S", BodyEnc: []byte("B"),
			Template: "t", Date: now}, now); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.PendingMail(ctx); err != nil || n != mails {
		t.Fatalf("pending %d (%v), want %d", n, err, mails)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for i := range 6 {
		s := []*Store{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := s.ClaimMail(ctx, "", 4, now, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != mails {
		t.Fatalf("%d of %d emails claimed", len(seen), mails)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s claimed %d times", id, n)
		}
	}
	// Leased: nobody else gets them before the lease ends, then anyone does.
	if got, _ := a.ClaimMail(ctx, "", mails, now.Add(59*time.Second), time.Minute); len(got) != 0 {
		t.Fatalf("%d leased emails claimed again", len(got))
	}
	got, err := b.ClaimMail(ctx, "mail_07", 10, now.Add(61*time.Second), time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != "mail_07" || got[0].Attempts != 2 || string(got[0].BodyEnc) != "B" || !got[0].Date.Equal(now) {
		t.Fatalf("after the lease, by id: %+v %v", got, err)
	}
	if err := b.MailFailed(ctx, "mail_07", now.Add(5*time.Minute), "SMTP down"); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.ClaimMail(ctx, "mail_07", 1, now.Add(4*time.Minute), time.Minute); len(got) != 0 {
		t.Fatal("a failed email came back before its retry")
	}
	for id := range seen {
		if err := a.MailSent(ctx, id, now); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := a.PendingMail(ctx); err != nil || n != 0 {
		t.Fatalf("pending %d (%v) after sending all", n, err)
	}
	if got, _ := a.ClaimMail(ctx, "", mails, now.Add(time.Hour), time.Minute); len(got) != 0 {
		t.Fatalf("%d sent emails claimed again", len(got))
	}
}
