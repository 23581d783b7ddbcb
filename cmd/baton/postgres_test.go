package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/postgres"
)

// defaultPostgres is tried when BATON_TEST_POSTGRES_URL is unset; the test
// skips if nothing answers there.
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// freshPostgres creates an empty database for one test and returns its URL.
// It is dropped (WITH (FORCE)) when the test ends.
func freshPostgres(t *testing.T) string {
	t.Helper()
	admin, set := strings.TrimSpace(os.Getenv("BATON_TEST_POSTGRES_URL")), true
	if admin == "" {
		admin, set = defaultPostgres, false
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	db, err := postgres.OpenDB(ctx, admin)
	if err != nil {
		if set {
			t.Fatalf("BATON_TEST_POSTGRES_URL: %v", err)
		}
		t.Skipf("no PostgreSQL at %s (set BATON_TEST_POSTGRES_URL): %v", defaultPostgres, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "baton_cmd_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestServePostgres(t *testing.T) {
	dbURL := freshPostgres(t)
	key := make([]byte, 32)
	rand.Read(key)
	env := serveEnv(t)
	env["BATON_DATABASE_URL"] = dbURL
	env["BATON_SECRET_KEY"] = base64.StdEncoding.EncodeToString(key)

	// Two instances start together on the new database: both migrate and
	// apply the same config, then both serve.
	var ins [2]*instance
	var errs [2]error
	var wg sync.WaitGroup
	for i := range ins {
		wg.Go(func() { ins[i], errs[i] = launch(t, env) })
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		checkServing(t, in, env)
		if strings.Contains(in.stderr.String(), dbURL) {
			t.Errorf("the database URL is in the logs")
		}
	}
	for _, in := range ins {
		in.shutdown(t)
	}
}

func TestMigratePostgres(t *testing.T) {
	dbURL := freshPostgres(t)
	var out, errs bytes.Buffer
	if err := run(t.Context(), []string{"baton", "migrate"}, getenv(map[string]string{"BATON_DATABASE_URL": dbURL}), &out, &errs); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errs.String())
	}
	if got := out.String(); !strings.HasPrefix(got, "baton: postgres ") || !strings.Contains(got, "/baton_cmd_") || !strings.HasSuffix(got, " is migrated\n") {
		t.Errorf("migrate printed %q", out.String())
	}
}
