package cli

import (
	"bytes"
	"testing"
)

func TestWriteTable(t *testing.T) {
	type row struct{ id, name string }
	cells := func(r row) []string { return []string{r.id, r.name} }
	cases := []struct {
		name     string
		rows     []row
		want     string
		wantRows bool
	}{
		{"none", nil, "Nothing here.\n", false},
		{"aligned", []row{{"a", "Alpha"}, {"long-id", "B"}}, "ID       NAME\na        Alpha\nlong-id  B\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if got := writeTable(&b, tc.rows, "Nothing here.", "ID\tNAME", cells); got != tc.wantRows {
				t.Errorf("writeTable reported rows = %v, want %v", got, tc.wantRows)
			}
			if b.String() != tc.want {
				t.Errorf("wrote %q, want %q", b.String(), tc.want)
			}
		})
	}
}
