package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// takeSubnet puts subnet's first address on a new bridge named after the
// test's root, as another complex or a VPN would, and removes the bridge when
// the test ends.
func takeSubnet(t *testing.T, r *Runtime, subnet string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(r.Root()))
	name := "rt-t-" + hex.EncodeToString(sum[:4])
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := netlink.LinkAdd(br); err != nil {
		t.Fatalf("add bridge %s: %v", name, err)
	}
	t.Cleanup(func() { netlink.LinkDel(br) })
	p := netip.MustParsePrefix(subnet)
	addr := netip.PrefixFrom(p.Addr().Next(), p.Bits())
	ipNet := &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), 32)}
	if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: ipNet}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		t.Fatal(err)
	}
	return name
}

// networkOf returns r's network, failing the test when it has none.
func networkOf(t *testing.T, r *Runtime) *network.Network {
	t.Helper()
	n, err := r.Network()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// hasErrID reports whether a user error with message id is anywhere in err's
// chain; usererr.Is looks at the first one only.
func hasErrID(err error, id string) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if ue, ok := err.(*usererr.Error); ok && ue.ID == id {
			return true
		}
	}
	return false
}

func hasAllocation(t *testing.T, r *Runtime, name string) bool {
	t.Helper()
	_, ok, err := networkOf(t, r).Allocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestRejectedCreateReservesNothing lets another bridge take the stored subnet
// of a root without houses: a create with that subnet is rejected and leaves
// no address behind, so the root is not stuck.
func TestRejectedCreateReservesNothing(t *testing.T) {
	r := newTestRuntime(t)
	subnet := testSubnet(t, r)
	createOnSubnet(t, r, "rumah-a", subnet, false)
	if err := r.Delete("rumah-a", false); err != nil {
		t.Fatal(err)
	}
	taker := takeSubnet(t, r, subnet)

	_, err := r.Create(CreateOptions{Name: "rumah-b", Subnet: subnet})
	if !usererr.Is(err, "ErrNetSubnetTaken") || usererr.ExitCode(err) != usererr.ExitUsage {
		t.Fatalf("create on a taken subnet: %v, want usage error ErrNetSubnetTaken", err)
	}
	if !strings.Contains(err.Error(), taker) {
		t.Errorf("message %q does not name %s", err, taker)
	}
	if hasAllocation(t, r, "rumah-b") {
		t.Error("the rejected create kept an address for rumah-b")
	}
	if _, err := os.Stat(r.ContainerDir("rumah-b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the rejected create left a folder: %v", err)
	}
	// Without --subnet the root moves to a free subnet, as nothing holds it.
	c := createOnSubnet(t, r, "rumah-b", "", false)
	if netip.MustParsePrefix(subnet).Contains(c.Address) {
		t.Errorf("rumah-b got %s inside the taken subnet %s", c.Address, subnet)
	}
}

// TestOrphanAddressBlocksNothing reserves an address for a name without a
// folder, as a delete cut short or an older rt-lab leaves it.
func TestOrphanAddressBlocksNothing(t *testing.T) {
	r := newTestRuntime(t)
	subnet := testSubnet(t, r)
	createOnSubnet(t, r, "rumah-a", subnet, false)
	if err := r.Delete("rumah-a", false); err != nil {
		t.Fatal(err)
	}
	orphan, err := networkOf(t, r).Allocate("rumah-b")
	if err != nil {
		t.Fatal(err)
	}
	if err := networkOf(t, r).EnsureBridge(); err != nil {
		t.Fatal(err)
	}

	if addr, ok := r.OrphanAddress("rumah-b"); !ok || addr != orphan.Address {
		t.Errorf("OrphanAddress = %s, %v; want %s", addr, ok, orphan.Address)
	}
	if err := r.RemoveBridge(false); err != nil {
		t.Errorf("remove-bridge with only an orphan address: %v", err)
	}
	if err := r.Delete("rumah-b", false); !usererr.Is(err, "ErrContainerNotFound") {
		t.Errorf("delete without force = %v, want ErrContainerNotFound", err)
	}
	if err := r.Delete("rumah-b", true); err != nil {
		t.Fatalf("delete --force of an orphan address: %v", err)
	}
	if hasAllocation(t, r, "rumah-b") {
		t.Error("delete --force kept the orphan address")
	}

	// A new subnet drops the orphans instead of refusing.
	if _, err := networkOf(t, r).Allocate("rumah-c"); err != nil {
		t.Fatal(err)
	}
	other, err := network.FreeSubnet(r.Root() + "/other")
	if err != nil {
		t.Fatal(err)
	}
	c := createOnSubnet(t, r, "rumah-d", other.String(), false)
	if !other.Contains(c.Address) {
		t.Errorf("rumah-d got %s, want an address in %s", c.Address, other)
	}
	if hasAllocation(t, r, "rumah-c") {
		t.Error("the orphan address of rumah-c survived the change of subnet")
	}
}

// TestSetSubnetAfterTakeover plays a reboot after which another complex took
// the subnet: the house cannot start, the error names network set-subnet,
// and after the move both houses start and find each other by name.
func TestSetSubnetAfterTakeover(t *testing.T) {
	r := newTestRuntime(t)
	subnet := testSubnet(t, r)
	createOnSubnet(t, r, "rumah-w", subnet, true)
	createOnSubnet(t, r, "rumah-v", subnet, false)
	if err := r.Stop("rumah-w", DefaultStopTimeout); err != nil {
		t.Fatal(err)
	}
	// A reboot takes the bridge away; another complex then takes the subnet.
	if err := r.RemoveBridge(true); err != nil {
		t.Fatal(err)
	}
	other := newTestRuntime(t)
	createOnSubnet(t, other, "rumah-x", subnet, false)

	_, err := r.Start("rumah-w")
	if !hasErrID(err, "ErrNetSubnetTaken") || usererr.ExitCode(err) != usererr.ExitUsage {
		t.Fatalf("start on a taken subnet: %v, want usage error ErrNetSubnetTaken", err)
	}
	if !strings.Contains(err.Error(), "rt-lab network set-subnet ") {
		t.Errorf("message %q does not name network set-subnet", err)
	}

	next, err := network.FreeSubnet(r.Root() + "/moved")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetSubnet(subnet); !usererr.Is(err, "ErrNetSubnetTaken") {
		t.Errorf("set-subnet to its own, taken subnet = %v, want ErrNetSubnetTaken", err)
	}
	moved, err := r.SetSubnet(next.String())
	if err != nil {
		t.Fatalf("set-subnet %s: %v", next, err)
	}
	if len(moved) != 2 {
		t.Fatalf("moved %v, want two houses", moved)
	}
	for _, name := range []string{"rumah-w", "rumah-v"} {
		c, err := r.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if !next.Contains(c.Address) || c.Address != allocationOf(t, r, name).Address {
			t.Errorf("%s records %s, want its new address in %s", name, c.Address, next)
		}
	}
	v, err := r.Get("rumah-v")
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := os.ReadFile(filepath.Join(network.PhoneBookDir(r.Root()), "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hosts), v.Address.String()+"\trumah-v") {
		t.Errorf("phone book lacks the new address of rumah-v:\n%s", hosts)
	}

	for _, name := range []string{"rumah-w", "rumah-v"} {
		if _, err := r.Start(name); err != nil {
			t.Fatalf("start %s after the move: %v", name, err)
		}
	}
	if !waitFor(t, r, "rumah-w", 40, "ping", "-c", "1", "-W", "1", "rumah-v") {
		t.Error("rumah-w does not reach rumah-v by name after the move")
	}
	_, err = r.SetSubnet(subnet)
	if !usererr.Is(err, "ErrNetSetSubnetRunning") || !strings.Contains(err.Error(), "rumah-v, rumah-w") {
		t.Errorf("set-subnet with running houses = %v, want ErrNetSetSubnetRunning naming both", err)
	}
}
