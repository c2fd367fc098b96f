//go:build faultinject

package runtime

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// faultEnv names the step after which a fault-injection build kills itself,
// as OPERATION:STEP, such as create:folder-made. Only binaries built with
// -tags faultinject read it.
const faultEnv = "RT_LAB_FAULT"

var faultTarget = sync.OnceValue(func() string { return os.Getenv(faultEnv) })

// step kills the process with SIGKILL, as a crash or the OOM killer would, when
// RT_LAB_FAULT names op:name. Deferred undo functions do not run, so what is
// left is what a real crash after this step leaves. A step missing from
// faultSteps panics, so the table and the code cannot drift apart.
func step(op, name string) {
	if !slices.Contains(faultSteps[op], name) {
		panic(fmt.Sprintf("step %s:%s is not in faultSteps", op, name))
	}
	target := faultTarget()
	if target != op+":"+name {
		return
	}
	fmt.Fprintf(os.Stderr, "rt-lab: fault injection: killed after %s:%s\n", op, name)
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	for {
		time.Sleep(time.Second) // SIGKILL cannot be caught; wait for it to land
	}
}
