package network

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vishvananda/netlink"
)

func TestRemoveUnconfiguredBridge(t *testing.T) {
	n := newNetnsBridge(t)
	root := n.Root()
	// The folder's files go, the bridge and its table stay.
	for _, name := range []string{"network.json", "network-addresses.json"} {
		if err := os.Remove(filepath.Join(root, name)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	removed, err := RemoveUnconfiguredBridge(root, false)
	if err != nil {
		t.Fatal(err)
	}
	if !removed {
		t.Error("RemoveUnconfiguredBridge reported no bridge")
	}
	if _, err := netlink.LinkByName(BridgeName(root)); err == nil {
		t.Errorf("bridge %s is left", BridgeName(root))
	}
	if isolation, _, err := n.RulesInstalled(); err != nil || isolation {
		t.Errorf("table %s: isolation chain left %v, error %v", TableName(root), isolation, err)
	}
	if removed, err := RemoveUnconfiguredBridge(root, false); err != nil || removed {
		t.Errorf("second call: removed %v, error %v; want nothing to remove", removed, err)
	}
}

// newNetnsBridge moves the test into a new network namespace and returns the
// network of a new root on 10.0.0.0/24 with its bridge made.
func newNetnsBridge(t *testing.T) *Network {
	t.Helper()
	enterNewNetns(t)
	n, err := Open(t.TempDir(), Options{Subnet: "10.0.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.EnsureBridge(); err != nil {
		t.Fatal(err)
	}
	return n
}
