// Command baton runs the Baton human-handoff gateway.
//
//	baton [serve] [--config baton.yaml]   run the server (the default command)
//	baton migrate                         apply database migrations and exit
//	baton demo [--walk]                   a self-contained demo on a temporary database
//	baton version                         print the version
//
// Configuration comes from the environment (BATON_ADDR, BATON_DATABASE_URL,
// BATON_DB, BATON_SECRET_KEY, BATON_CONFIG, BATON_LOG_LEVEL) and an optional
// YAML file that declares workspaces; see run.go and package config.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "baton:", err)
		os.Exit(1)
	}
}
