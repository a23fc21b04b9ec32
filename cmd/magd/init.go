package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/mag-desktop/magdesk/internal/server"
)

// initFolder is `magd init`: the data folder that every instance on a shared database reads.
func initFolder(args []string, stdout io.Writer) error {
	fs := newFlags("init")
	data := fs.String("data", "", "data folder to prepare")
	var hostnames multi
	fs.Var(&hostnames, "hostname", "host name clients use, for the server certificate (repeatable: the load balancer's name)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: init needs --data DIR and no other arguments", errUsage)
	}
	if err := server.Init(*data, hostnames, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `Data folder %s is ready:
  secret.key, ca/ca-key.pem, ca/server-key.pem   keys (0600): copy them only to magd hosts
  ca/ca.pem                                      the CA certificate MAG Desktop must trust
Copy the whole folder, unchanged, to every magd instance (e.g. rsync -a over SSH, or your
configuration management, keeping the owner and 0600/0700 modes), then start each with
  magd serve --data %s --db postgres://…
`, *data, filepath.Clean(*data))
	return nil
}
