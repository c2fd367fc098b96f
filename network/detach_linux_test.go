package network

import (
	"testing"

	"github.com/vishvananda/netlink"
)

func TestDetachLeavesForeignLink(t *testing.T) {
	n := newHostNetwork(t)
	a := mustAllocate(t, n, "rumah-asing")
	// A link that is not a veth holds the name of the house's host end.
	foreign := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: a.HostLink()}}
	if err := netlink.LinkAdd(foreign); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkDel(foreign) })

	if err := n.Detach("rumah-asing"); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	if _, err := netlink.LinkByName(a.HostLink()); err != nil {
		t.Errorf("Detach deleted the foreign link %s: %v", a.HostLink(), err)
	}
}
