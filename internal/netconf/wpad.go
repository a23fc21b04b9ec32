package netconf

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"time"
)

type wpadResult struct {
	script string
	at     time.Time
}

// discover looks for a WPAD script on the local network (DNS only: wpad.<domain>/wpad.dat for
// each of this machine's DNS suffixes) and returns its address, or "" when there is none.
func (r *Resolver) discover(ctx context.Context) string {
	r.mu.Lock()
	if w := r.wpad; w != nil && time.Since(w.at) < r.o.Refresh {
		r.mu.Unlock()
		return w.script
	}
	r.mu.Unlock()
	found := ""
	for _, c := range WPADCandidates(dnsSuffixes()) {
		if _, err := r.script(ctx, c); err == nil {
			found = c
			break
		}
	}
	r.mu.Lock()
	r.wpad = &wpadResult{script: found, at: time.Now()}
	r.mu.Unlock()
	return found
}

// WPADCandidates are the script addresses WPAD tries for DNS suffixes, most specific first,
// stopping above the registrable domain (never wpad.com).
func WPADCandidates(suffixes []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range suffixes {
		labels := strings.Split(strings.Trim(strings.ToLower(s), "."), ".")
		for i := 0; len(labels)-i >= 2; i++ {
			u := "http://wpad." + strings.Join(labels[i:], ".") + "/wpad.dat"
			if !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	return out
}

// parseResolvConf returns the search domains of a resolv.conf.
func parseResolvConf(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 1 && (f[0] == "search" || f[0] == "domain") {
			out = append(out, f[1:]...)
		}
	}
	return out
}
