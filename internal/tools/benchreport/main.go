// Command benchreport reads `go test -bench` output (standard input or files) and prints one
// table: each published figure, its baseline measured in the same run, the ratio, the goal and
// PASS/MISS. Figures whose benchmark did not run print as "not measured". scripts/bench.sh
// (make bench) feeds it; -markdown prints the table for the README.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// run parses every input and prints the report.
func run(args []string, stdin io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	markdown := fs.Bool("markdown", false, "print the table in Markdown (for the README)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w (usage: benchreport [-markdown] [FILE...])", err)
	}
	var inputs []io.Reader
	for _, a := range fs.Args() {
		f, err := os.Open(a)
		if err != nil {
			return fmt.Errorf("%w (usage: benchreport [FILE...], or benchmark output on standard input)", err)
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	if len(inputs) == 0 {
		inputs = []io.Reader{stdin}
	}
	res, err := parse(io.MultiReader(inputs...))
	if err != nil {
		return err
	}
	if len(res.Runs) == 0 {
		return errors.New("no benchmark results in the input: run `go test -run='^$' -bench=. -benchmem ./...` and pipe its output here")
	}
	render(out, res, evaluate(res), *markdown)
	return nil
}
