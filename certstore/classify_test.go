package certstore

import (
	"testing"
	"time"

	"github.com/mag-desktop/magdesk/api"
)

func TestClassify(t *testing.T) {
	ca := newTestCA(t, "Gateway CA")
	other := newTestCA(t, "Some Other CA")
	now := time.Now()
	mk := func(b *Bundle) Identity {
		id := newIdentity(b.Cert, Location{Backend: "nss"})
		id.Chain = b.Chain
		return id
	}
	mine := ca.issue(t, "Jane Doe", "c-1", issueOpt{})
	second := ca.issue(t, "Jane Doe", "c-2", issueOpt{})  // requested by the second account
	unknown := ca.issue(t, "Jane Doe", "c-3", issueOpt{}) // ours, no record, not in my list
	revoked := ca.issue(t, "Jane Doe", "c-4", issueOpt{}) // in my list, revoked
	expired := ca.issue(t, "Jane Doe", "c-5", issueOpt{notBefore: now.Add(-48 * time.Hour), notAfter: now.Add(-24 * time.Hour)})
	foreign := other.issue(t, "Jane Doe", "c-6", issueOpt{}) // same SAN shape, another CA
	recMine := ca.issue(t, "Jane Doe", "c-7", issueOpt{})    // recorded as mine, not on the server
	ids := []Identity{mk(mine), mk(second), mk(unknown), mk(revoked), mk(expired), mk(foreign), mk(recMine)}
	records := []Record{
		{SHA256: FingerprintOf(second.Cert), UserID: "doej_0002", ServerURL: "https://gw:8443"},
		{SHA256: FingerprintOf(recMine.Cert), UserID: "doej_0001", ServerURL: "https://gw:8443/"},
		{SHA256: FingerprintOf(unknown.Cert), UserID: "doej_0002", ServerURL: "https://another-gateway"},
	}
	server := []api.Certificate{
		{SHA256: string(FingerprintOf(mine.Cert)), Status: "active"},
		{SHA256: string(FingerprintOf(revoked.Cert)), Status: "revoked"},
	}
	cases := []struct {
		name  string
		in    ClassifyInput
		wants []Class
	}{
		{"logged in: server list known", ClassifyInput{ServerCAs: ca.pool(), ServerURL: "https://GW:8443", CurrentUserID: "doej_0001", MyServerCerts: server, ServerListKnown: true, LocalRecords: records},
			[]Class{ClassBound, ClassWrongAccount, ClassWrongAccount, ClassRevoked, ClassExpired, ClassForeign, ClassNotBound}},
		{"offline: local records only", ClassifyInput{ServerCAs: ca.pool(), ServerURL: "https://gw:8443", CurrentUserID: "doej_0001", LocalRecords: records},
			[]Class{ClassNotBound, ClassWrongAccount, ClassNotBound, ClassNotBound, ClassExpired, ClassForeign, ClassBound}},
		{"no CA: judged by SAN", ClassifyInput{ServerURL: "https://gw:8443", CurrentUserID: "doej_0002", LocalRecords: records},
			[]Class{ClassNotBound, ClassBound, ClassNotBound, ClassNotBound, ClassExpired, ClassNotBound, ClassWrongAccount}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Classify(ids, c.in)
			for i, w := range c.wants {
				if got[i].Class != w {
					t.Errorf("identity %d (%s): class %s (%s), want %s", i, got[i].MagCertID, got[i].Class, got[i].Reason, w)
				}
				if got[i].Reason == "" {
					t.Errorf("identity %d: no reason", i)
				}
			}
		})
	}
	got := Classify(ids, cases[0].in)
	if got[1].Account != "doej_0002" || got[0].Account != "doej_0001" {
		t.Fatalf("accounts side by side: %q %q", got[0].Account, got[1].Account)
	}
	if w := WrongAccount(got); len(w) != 2 {
		t.Fatalf("wrong-account = %d", len(w))
	}
}
