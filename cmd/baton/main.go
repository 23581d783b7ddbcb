// Command baton runs the Baton human-handoff gateway.
//
//	baton [serve] [--config FILE]    run the server (the default command)
//	baton migrate                    apply the database migrations and exit
//	baton apply -f FILE [--dry-run]  make the store match a YAML file, print the plan
//	baton config check -f FILE       check a YAML file without a database
//	baton admin init [--name NAME] [--force]
//	                                 create the first admin key, print it once
//	baton demo [--walk]              a self-contained demo on a temporary database
//	baton livechat webhooks --desk ID --url URL [--config FILE]
//	                                 register a LiveChat desk's chat webhooks
//	baton sim livechat [--addr HOST:PORT]
//	                                 run the LiveChat simulator
//	baton version                    print the version
//	baton help [COMMAND]             the help, or a command's
//
// Every command's --help prints its flags and the environment variables it
// reads (BATON_ADDR, BATON_DATABASE_URL, BATON_DB, BATON_SECRET_KEY,
// BATON_CONFIG, BATON_LOG_LEVEL, BATON_RETRY_SCALE, BATON_JOB_LEASE,
// BATON_SECURE_COOKIES, BATON_PUBLIC_URL) on
// stdout; help.go holds that text and run.go the rest; apply.go and admininit.go
// the commands of the YAML file and of admin keys. The YAML file that
// declares workspaces is package config's.
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
