// Command rt-lab is a hands-on lab for Linux containers: a small container
// runtime, guided lessons and a checker that grades from what the kernel shows.
package main

import (
	"os"

	"github.com/rt-lab/rt-lab/internal/cli"
	"github.com/rt-lab/rt-lab/runtime"
)

func main() {
	// The same binary is the container's bootstrap process; see runtime.MaybeInit.
	runtime.MaybeInit()
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
