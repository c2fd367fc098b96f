// Command init is PID 1 of the virtual machine that vmtest boots. The kernel
// passes the words after "--" on its command line as arguments, and init hands
// them to the test binary.
package main

import (
	"os"

	"github.com/rt-lab/rt-lab/internal/testutil/vminit"
)

func main() {
	vminit.Main(os.Args[1:])
}
