// Command probe-modernc runs the probe workload on the modernc driver alone.
//
//	probe-modernc [messages [senders]]
package main

import (
	"github.com/batonhq/baton/relaybench/drivers/probe"
	"github.com/batonhq/baton/sqlite"
)

func main() { probe.Main("modernc", sqlite.Open) }
