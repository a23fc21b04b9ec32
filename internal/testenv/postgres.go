package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the variable holding the URL of the PostgreSQL server that scripts/test.sh
// starts (scripts/postgres.sh); Postgres makes a database of its own on it for each test.
const PostgresEnv = "MAGDESK_TEST_POSTGRES"

// Postgres returns the URL of a new, empty database that is dropped when the test ends. Without
// MAGDESK_TEST_POSTGRES the test is skipped (fails under scripts/test.sh); to run such tests by
// hand: export MAGDESK_TEST_POSTGRES=$(scripts/postgres.sh start /tmp/pg).
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		Missing(t, PostgresEnv+" is not set: scripts/test.sh starts PostgreSQL; by hand, export "+
			PostgresEnv+"=$(scripts/postgres.sh start DIR)")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testenv: %s: %v", PostgresEnv, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	admin := func(stmt string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, stmt)
		return err
	}
	if err := admin(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("testenv: create a PostgreSQL database on %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		if err := admin(`DROP DATABASE ` + name + ` WITH (FORCE)`); err != nil {
			t.Errorf("testenv: drop PostgreSQL database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
