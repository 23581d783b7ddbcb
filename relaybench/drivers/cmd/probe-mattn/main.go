// Command probe-mattn runs the probe workload on the mattn driver alone.
//
//	probe-mattn [messages [senders]]
package main

import (
	"github.com/batonhq/baton/relaybench/drivers/mattn"
	"github.com/batonhq/baton/relaybench/drivers/probe"
)

func main() { probe.Main("mattn", mattn.Open) }
