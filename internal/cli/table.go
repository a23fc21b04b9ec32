package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// writeTable writes rows as columns aligned under the tab-separated header, or the sentence
// empty when there are none; it reports whether there were rows (for a note under them).
func writeTable[T any](w io.Writer, rows []T, empty, header string, cells func(T) []string) bool {
	if len(rows) == 0 {
		fmt.Fprintln(w, empty)
		return false
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(cells(r), "\t"))
	}
	tw.Flush()
	return true
}
