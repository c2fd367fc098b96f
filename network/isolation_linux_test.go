package network

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"testing"

	"github.com/google/nftables"
)

// pingOnce sends one ICMP echo request from the network namespace of pid to
// addr and waits up to wait seconds for the reply.
func pingOnce(pid int, addr netip.Addr, wait int) error {
	cmd := exec.Command("nsenter", fmt.Sprintf("--net=/proc/%d/ns/net", pid),
		"ping", "-c", "1", "-W", fmt.Sprint(wait), addr.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ping %s from pid %d: %w\n%s", addr, pid, err, out)
	}
	return nil
}

func deleteTable(t *testing.T, n *Network) {
	t.Helper()
	conn, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	conn.DelTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: TableName(n.root)})
	if err := conn.Flush(); err != nil {
		t.Fatalf("delete table %s: %v", TableName(n.root), err)
	}
}

// TestComplexesIsolatedWithForwarding builds two complexes in a network
// namespace of the test, with ip_forward on there, and pings between their
// houses: inside a complex the ping passes, between complexes it is dropped,
// and without the tables the host routes it, so the drop is the rules' doing.
// All traffic stays inside namespaces the test made.
func TestComplexesIsolatedWithForwarding(t *testing.T) {
	enterNewNetns(t)
	setIPForward(t, "1")
	// With br_netfilter, bridged traffic passes the forward hook too. Turning
	// it on in this namespace makes the ping inside a complex prove that the
	// rules leave bridged traffic alone.
	const bridgeNF = "/proc/sys/net/bridge/bridge-nf-call-iptables"
	if err := os.WriteFile(bridgeNF, []byte("1\n"), 0o644); err != nil {
		t.Logf("bridged traffic does not pass the forward hook on this kernel: %v", err)
	}

	var complexes [2]*Network
	for i, subnet := range []string{"10.0.1.0/24", "10.0.2.0/24"} {
		n, err := Open(t.TempDir(), Options{Subnet: subnet})
		if err != nil {
			t.Fatal(err)
		}
		complexes[i] = n
	}
	a, b := complexes[0], complexes[1]
	a1PID, a2PID, b1PID := startInNewNetns(t), startInNewNetns(t), startInNewNetns(t)
	a1 := mustAttach(t, a, "rumah-a1", a1PID)
	a2 := mustAttach(t, a, "rumah-a2", a2PID)
	b1 := mustAttach(t, b, "rumah-b1", b1PID)
	checkIsolationRules(t, a)
	checkIsolationRules(t, b)

	if err := pingOnce(a1PID, a2.Address, 5); err != nil {
		t.Errorf("inside complex a: %v", err)
	}
	for _, tt := range []struct {
		name string
		from int
		to   netip.Addr
	}{{"a to b", a1PID, b1.Address}, {"b to a", b1PID, a1.Address}} {
		if err := pingOnce(tt.from, tt.to, 1); err == nil {
			t.Errorf("%s: the ping passed between complexes", tt.name)
		}
	}

	deleteTable(t, a)
	deleteTable(t, b)
	if err := pingOnce(a1PID, b1.Address, 5); err != nil {
		t.Fatalf("without the tables the host does not route between the complexes, so the test proves nothing: %v", err)
	}

	// One complex's table blocks both directions by itself.
	if err := a.EnsureBridge(); err != nil {
		t.Fatal(err)
	}
	if err := pingOnce(a1PID, b1.Address, 1); err == nil {
		t.Error("a to b passed with only a's table")
	}
	if err := pingOnce(b1PID, a1.Address, 1); err == nil {
		t.Error("b to a passed with only a's table")
	}

	// NAT adds its chain beside the isolation rules and does not reopen the
	// way between complexes.
	if err := a.SetNAT(true); err != nil {
		t.Fatal(err)
	}
	checkMasqueradeRule(t, a)
	checkIsolationRules(t, a)
	if err := pingOnce(a1PID, b1.Address, 1); err == nil {
		t.Error("a to b passed with NAT on in a")
	}
	if err := pingOnce(a1PID, a2.Address, 5); err != nil {
		t.Errorf("inside complex a with NAT on: %v", err)
	}
}
