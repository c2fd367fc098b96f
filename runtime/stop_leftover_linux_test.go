package runtime

import (
	"os"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestStopRemovesLeftovers gives a stopped house the empty cgroup and the veth
// that a run-container killed part way leaves, and expects stop to remove
// both, and a second stop to change nothing.
func TestStopRemovesLeftovers(t *testing.T) {
	r := newTestRuntime(t)
	c := createOnSubnet(t, r, "rumah-sisa", testSubnet(t, r), false)
	if _, err := r.createCgroup(c); err != nil {
		t.Fatal(err)
	}
	groups := groupFolders(t, r, c.Name)
	for _, dir := range groups {
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("leftover cgroup %s was not made: %v", dir, err)
		}
	}
	hostLink := allocationOf(t, r, c.Name).HostLink()
	bridge, err := netlink.LinkByName(networkOf(t, r).Config().Bridge)
	if err != nil {
		t.Fatal(err)
	}
	// Both ends stay on the host, because the house's namespace is gone.
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostLink, MasterIndex: bridge.Attrs().Index},
		PeerName: "rt-p-" + allocationOf(t, r, c.Name).ID}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkDel(veth) })

	for i := 0; i < 2; i++ {
		if err := r.Stop(c.Name, DefaultStopTimeout); err != nil {
			t.Fatalf("stop call %d of a stopped house: %v", i+1, err)
		}
		checkNoGroup(t, r, c.Name, "after stop")
		if linkExists(t, hostLink) {
			t.Errorf("stop call %d left the veth %s", i+1, hostLink)
		}
	}
	got, err := r.Get(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusStopped || got.Address != c.Address {
		t.Errorf("after stop: status %s, address %s; want stopped with %s kept", got.Status, got.Address, c.Address)
	}
}
