//go:build !faultinject

package runtime

// step marks the end of step name of operation op. Normal builds compile it to
// nothing; see fault_on.go for the fault-injection build.
func step(op, name string) {}
