package checker

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// TestNetChecksOnRuntimeHouses grades two houses that the runtime built and
// connected, one of them running a TCP server, with every network check.
func TestNetChecksOnRuntimeHouses(t *testing.T) {
	env := newRuntimeEnv(t)
	r := env.Runtime

	subnet, err := network.FreeSubnet(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rumah-utara", "rumah-selatan"} {
		opts := runtime.CreateOptions{Name: name, Subnet: subnet.String()}
		if _, err := r.Create(opts); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		if _, err := r.Start(name); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
	}
	shop := "nc -ll -p 8080 -e echo halo </dev/null >/dev/null 2>&1 &"
	if code, err := r.Exec("rumah-selatan", runtime.Process{Args: []string{"sh", "-c", shop}}); err != nil || code != 0 {
		t.Fatalf("exec nc: status %d, %v", code, err)
	}
	selatan, err := r.Get("rumah-selatan")
	if err != nil {
		t.Fatal(err)
	}
	waitListening(t, selatan.PID, 8080)
	addr := selatan.Address.String()

	tests := []struct {
		check    string
		kv       []string
		evidence string
	}{
		{"veth-to-bridge", []string{"name", "rumah-utara"}, "the cable is complete: eth0 "},
		{"veth-to-bridge", []string{"name", "rumah-selatan"}, fmt.Sprintf("the cable is complete: eth0 %s/%d",
			addr, subnet.Bits())},
		{"default-route", []string{"name", "rumah-utara"},
			fmt.Sprintf("default route in house rumah-utara: via %s dev eth0", subnet.Addr().Next())},
		{"can-reach", []string{"name", "rumah-utara", "target", "rumah-selatan"}, "echo reply from " + addr},
		{"can-reach", []string{"name", "rumah-utara", "target", addr}, "echo reply from " + addr},
		{"resolves", []string{"name", "rumah-utara", "target", "rumah-selatan"}, addr + " rumah-selatan"},
		{"tcp-listening", []string{"name", "rumah-selatan", "port", "8080"}, "nc (PID "},
		{"tcp-reachable", []string{"name", "rumah-utara", "target", "rumah-selatan", "port", "8080"},
			fmt.Sprintf("to %s:8080 succeeded", addr)},
	}
	for _, tt := range tests {
		t.Run(tt.check+" "+strings.Join(tt.kv[1:], " "), func(t *testing.T) {
			assertResult(t, run(env, tt.check, tt.kv...), true, tt.evidence)
		})
	}

	// A stopped house loses its cable: the checks that need it fail, and the
	// checker sends nothing to its old address.
	if err := r.Stop("rumah-selatan", 0); err != nil {
		t.Fatal(err)
	}
	t.Run("stopped house", func(t *testing.T) {
		assertResult(t, run(env, "veth-to-bridge", "name", "rumah-selatan"), false, "house rumah-selatan is not running")
		assertResult(t, run(env, "can-reach", "name", "rumah-utara", "target", "rumah-selatan"), false,
			"house rumah-selatan is not running")
		assertResult(t, run(env, "can-reach", "name", "rumah-utara", "target", addr), false,
			"no echo reply from "+addr)
		assertResult(t, run(env, "default-route", "name", "rumah-utara"), true, "default route in house rumah-utara")
	})
}
