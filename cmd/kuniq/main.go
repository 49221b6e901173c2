// Command kuniq counts unique users per time window from JSON frames.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kuniq:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	return fmt.Errorf("not yet wired: %v", args)
}
