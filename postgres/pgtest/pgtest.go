// Package pgtest gives tests a fresh PostgreSQL database of their own.
//
// The server is BATON_TEST_POSTGRES_URL, or postgres://postgres@127.0.0.1:5432/postgres
// when that is unset. A test is skipped only when the variable is unset and no
// server answers; with the variable set (as in CI) an unreachable server fails it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// DefaultURL is tried when BATON_TEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// admin connects to the server, skipping or failing as the package doc says.
func admin(ctx context.Context, t testing.TB) (*sql.DB, *url.URL) {
	t.Helper()
	raw, set := os.LookupEnv("BATON_TEST_POSTGRES_URL")
	if raw == "" {
		raw, set = DefaultURL, false
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal("BATON_TEST_POSTGRES_URL is not a URL")
	}
	db, err := sql.Open("pgx", raw)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		db.Close()
		if set {
			t.Fatalf("BATON_TEST_POSTGRES_URL: %v", err)
		}
		t.Skipf("no PostgreSQL at %s (set BATON_TEST_POSTGRES_URL): %v", DefaultURL, err)
	}
	return db, u
}

// Fresh creates an empty database, dropped when the test ends, and returns its URL.
func Fresh(t testing.TB) string {
	t.Helper()
	db, u := admin(context.Background(), t)
	defer db.Close()
	b := make([]byte, 8)
	rand.Read(b)
	name := "baton_test_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, _ := admin(context.Background(), t)
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
