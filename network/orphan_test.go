package network

import (
	"errors"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// only returns an exists function that accepts the given names.
func only(names ...string) func(string) bool {
	return func(name string) bool {
		for _, n := range names {
			if n == name {
				return true
			}
		}
		return false
	}
}

func TestOpenIgnoresOrphansForSubnet(t *testing.T) {
	root := t.TempDir()
	first := freeTestSubnet(t, root)
	second := freeTestSubnet(t, root+"/other")
	n, err := Open(root, Options{Subnet: first})
	if err != nil {
		t.Fatal(err)
	}
	mustAllocate(t, n, "rumah-hilang")

	if _, err := Open(root, Options{Subnet: second}); !usererr.Is(err, "ErrNetSubnetInUse") {
		t.Fatalf("Open without an exists function = %v, want ErrNetSubnetInUse", err)
	}
	moved, err := Open(root, Options{Subnet: second, Exists: only()})
	if err != nil {
		t.Fatalf("Open with only an orphan allocation: %v", err)
	}
	if got := moved.Config().Subnet.String(); got != second {
		t.Errorf("subnet %s, want %s", got, second)
	}
	all, err := moved.Allocations()
	if err != nil {
		t.Fatalf("allocations after the move: %v", err)
	}
	if len(all) != 0 {
		t.Errorf("allocations %v after the move, want the orphan dropped", all)
	}
}

func TestOpenCountsLiveHousesOnly(t *testing.T) {
	root := t.TempDir()
	first := freeTestSubnet(t, root)
	second := freeTestSubnet(t, root+"/other")
	n, err := Open(root, Options{Subnet: first})
	if err != nil {
		t.Fatal(err)
	}
	mustAllocate(t, n, "rumah-ada")
	mustAllocate(t, n, "rumah-hilang")
	_, err = Open(root, Options{Subnet: second, Exists: only("rumah-ada")})
	if !usererr.Is(err, "ErrNetSubnetInUse") {
		t.Fatalf("Open = %v, want ErrNetSubnetInUse", err)
	}
	var ue *usererr.Error
	if errors.As(err, &ue) && ue.Data["Count"] != 1 {
		t.Errorf("Count = %v, want 1: the orphan counted", ue.Data["Count"])
	}
}

func TestInUseAndOrphans(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	mustAllocate(t, n, "rumah-ada")
	mustAllocate(t, n, "rumah-hilang")
	n.SetExists(only("rumah-ada"))
	live, err := n.InUse()
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0].Name != "rumah-ada" {
		t.Errorf("InUse = %v, want rumah-ada", live)
	}
	orphans, err := n.Orphans()
	if err != nil {
		t.Fatal(err)
	}
	if len(orphans) != 1 || orphans[0].Name != "rumah-hilang" {
		t.Errorf("Orphans = %v, want rumah-hilang", orphans)
	}
	// The orphan keeps its address, so no new container gets it.
	a := mustAllocate(t, n, "rumah-baru")
	for _, o := range append(live, orphans...) {
		if a.Address == o.Address {
			t.Errorf("rumah-baru got %s, the address of %s", a.Address, o.Name)
		}
	}
}

func TestRemoveBridgeIgnoresOrphans(t *testing.T) {
	n := newHostNetwork(t)
	if err := n.EnsureBridge(); err != nil {
		t.Fatal(err)
	}
	mustAllocate(t, n, "rumah-hilang")
	if err := n.RemoveBridge(false); !usererr.Is(err, "ErrNetBridgeInUse") {
		t.Fatalf("RemoveBridge without an exists function = %v, want ErrNetBridgeInUse", err)
	}
	n.SetExists(only())
	if err := n.RemoveBridge(false); err != nil {
		t.Fatalf("RemoveBridge with only an orphan: %v", err)
	}
	checkNothingLeft(t, n, nil)
}
