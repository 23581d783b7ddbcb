// Command probe-ncruces runs the probe workload on the ncruces driver alone.
//
//	probe-ncruces [messages [senders]]
package main

import (
	"github.com/batonhq/baton/relaybench/drivers/ncruces"
	"github.com/batonhq/baton/relaybench/drivers/probe"
)

func main() { probe.Main("ncruces", ncruces.Open) }
