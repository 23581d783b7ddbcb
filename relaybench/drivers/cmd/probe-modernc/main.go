// Command probe-modernc runs the probe workload on the modernc driver alone.
//
//	probe-modernc [messages [senders]]
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/batonhq/baton/relaybench/drivers/probe"
	"github.com/batonhq/baton/sqlite"
)

func main() {
	n, senders := 20000, 32
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		senders, _ = strconv.Atoi(os.Args[2])
	}
	if err := probe.Run("modernc", sqlite.Open, n, senders); err != nil {
		fmt.Fprintln(os.Stderr, "probe-modernc:", err)
		os.Exit(1)
	}
}
