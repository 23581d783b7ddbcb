// Command probe-ncruces runs the probe workload on the ncruces driver alone.
//
//	probe-ncruces [messages [senders]]
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/batonhq/baton/relaybench/drivers/ncruces"
	"github.com/batonhq/baton/relaybench/drivers/probe"
)

func main() {
	n, senders := 20000, 32
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		senders, _ = strconv.Atoi(os.Args[2])
	}
	if err := probe.Run("ncruces", ncruces.Open, n, senders); err != nil {
		fmt.Fprintln(os.Stderr, "probe-ncruces:", err)
		os.Exit(1)
	}
}
