// Command probe-mattn runs the probe workload on the mattn driver alone.
//
//	probe-mattn [messages [senders]]
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/batonhq/baton/relaybench/drivers/mattn"
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
	if err := probe.Run("mattn", mattn.Open, n, senders); err != nil {
		fmt.Fprintln(os.Stderr, "probe-mattn:", err)
		os.Exit(1)
	}
}
