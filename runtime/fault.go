package runtime

// Operations whose steps a fault-injection build can interrupt.
const (
	opCreate = "create"
	opStart  = "start"
	opStop   = "stop"
	opDelete = "delete"
)

// faultSteps lists the steps of each multi-step operation in the order they
// run. The code calls step(op, name) once a step is done, so a binary built
// with the faultinject tag can kill itself there (see fault_on.go), and the
// crash tests walk this table to kill every operation after every step. A step
// that the code never reaches makes those tests fail, and so does a call with
// a name missing here.
var faultSteps = map[string][]string{
	opCreate: {"locked", "network-opened", "base-ready", "folder-made", "files-written",
		"address-reserved", "hosts-linked", "state-saved"},
	opStart: {"locked", "network-prepared", "cgroup-created", "bootstrap-cloned", "rootfs-ready",
		"veth-attached", "state-saved", "released", "running"},
	opStop: {"locked", "terminated", "cgroup-removed", "veth-removed", "state-saved"},
	opDelete: {"locked", "stopped", "cgroup-removed", "unmounted", "state-removed", "folder-removed",
		"address-released"},
}
