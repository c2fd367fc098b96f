// Command rt-lab is a hands-on lab for Linux containers: a small container
// runtime, guided lessons and a checker that grades from what the kernel shows.
package main

import (
	"os"

	"github.com/rt-lab/rt-lab/internal/cli"
	"github.com/rt-lab/rt-lab/internal/housetools"
	"github.com/rt-lab/rt-lab/runtime"
)

func main() {
	// The same binary is the container's bootstrap process; see runtime.MaybeInit.
	runtime.MaybeInit()
	// Inside a house it is also eat-memory, burn-cpu, ipcmk, ipcs and ipcrm,
	// chosen by the name it was started as; see housetools.
	if code, ok := housetools.Main(os.Args[0], os.Args[1:]); ok {
		os.Exit(code)
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
