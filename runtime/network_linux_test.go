package runtime

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// testSubnet returns a subnet for r's root that no host route uses, derived
// from the root's path, so two test roots never share one.
func testSubnet(t *testing.T, r *Runtime) string {
	t.Helper()
	p, err := network.FreeSubnet(r.Root())
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}

// createOnSubnet creates house name on subnet and starts it when start is set.
func createOnSubnet(t *testing.T, r *Runtime, name, subnet string, start bool) *Container {
	t.Helper()
	c, err := r.Create(CreateOptions{Name: name, Subnet: subnet})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if start {
		if c, err = r.Start(name); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
	}
	return c
}

func allocationOf(t *testing.T, r *Runtime, name string) network.Allocation {
	t.Helper()
	n, err := r.Network()
	if err != nil {
		t.Fatal(err)
	}
	a, ok, err := n.Allocation(name)
	if err != nil || !ok {
		t.Fatalf("allocation of %s: %v, found %v", name, err, ok)
	}
	return a
}

// hostLinks lists the links of the host's network namespace whose name starts
// with prefix.
func hostLinks(t *testing.T, prefix string) []string {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, prefix) {
			names = append(names, l.Attrs().Name)
		}
	}
	return names
}

func linkExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if err != nil && !errors.As(err, &notFound) {
		t.Fatal(err)
	}
	return err == nil
}

// waitFor runs cmd inside house name until it exits 0, at most tries times.
func waitFor(t *testing.T, r *Runtime, name string, tries int, cmd ...string) bool {
	t.Helper()
	for range tries {
		if _, code := execOutput(t, r, name, cmd...); code == 0 {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func TestTwoHousesTalk(t *testing.T) {
	r := newTestRuntime(t)
	subnet := testSubnet(t, r)
	a := createOnSubnet(t, r, "rumah-a", subnet, true)
	b := createOnSubnet(t, r, "rumah-b", subnet, true)
	prefix := netip.MustParsePrefix(subnet)
	for _, c := range []*Container{a, b} {
		if !prefix.Contains(c.Address) {
			t.Errorf("address of %s is %s, outside %s", c.Name, c.Address, subnet)
		}
	}
	if a.Address == b.Address {
		t.Fatalf("both houses have address %s", a.Address)
	}

	out, _ := execOutput(t, r, "rumah-a", "ip", "-o", "-4", "addr", "show", "eth0")
	if !strings.Contains(out, a.Address.String()+"/") {
		t.Errorf("eth0 of rumah-a = %q, want address %s", out, a.Address)
	}
	out, _ = execOutput(t, r, "rumah-a", "ip", "route")
	gateway := prefix.Addr().Next().String()
	if !strings.Contains(out, "default via "+gateway) {
		t.Errorf("routes of rumah-a = %q, want a default route via %s", out, gateway)
	}
	for _, c := range []*Container{a, b} {
		hosts, _ := execOutput(t, r, c.Name, "cat", "/etc/hosts")
		for _, other := range []*Container{a, b} {
			if !strings.Contains(hosts, other.Address.String()+"\t"+other.Name) {
				t.Errorf("/etc/hosts of %s lacks %s %s:\n%s", c.Name, other.Address, other.Name, hosts)
			}
		}
	}

	t.Run("ping by address", func(t *testing.T) {
		if out, code := execOutput(t, r, "rumah-a", "ping", "-c1", "-W2", b.Address.String()); code != 0 {
			t.Errorf("ping %s: exit %d\n%s", b.Address, code, out)
		}
	})
	t.Run("ping by name", func(t *testing.T) {
		if out, code := execOutput(t, r, "rumah-a", "ping", "-c1", "-W2", "rumah-b"); code != 0 {
			t.Errorf("ping rumah-b: exit %d\n%s", code, out)
		}
	})
	t.Run("tcp 8080", func(t *testing.T) {
		// The shop in rumah-b answers every visitor with one line. Reading the
		// answer on the visitor's side avoids racing the server's file writes.
		execOutput(t, r, "rumah-b", "sh", "-c", "nc -ll -p 8080 -e echo halo-8080 >/dev/null 2>&1 &")
		// 1F90 is port 8080 and 0A is TCP_LISTEN; busybox nc may listen on
		// IPv6, which /proc/net/tcp6 lists.
		listening := "cat /proc/net/tcp /proc/net/tcp6 | grep -q ':1F90 [0-9A-F]*:0000 0A'"
		if !waitFor(t, r, "rumah-b", 100, "sh", "-c", listening) {
			t.Fatal("nc in rumah-b never listened on port 8080")
		}
		out, code := execOutput(t, r, "rumah-a", "sh", "-c", "nc -w 2 rumah-b 8080 </dev/null")
		if code != 0 || !strings.Contains(out, "halo-8080") {
			t.Errorf("nc rumah-b 8080: exit %d, output %q; want 0 and halo-8080", code, out)
		}
	})

	linkA, linkB := allocationOf(t, r, "rumah-a").HostLink(), allocationOf(t, r, "rumah-b").HostLink()
	n, err := r.Network()
	if err != nil {
		t.Fatal(err)
	}
	bridgeName := n.Config().Bridge
	if !linkExists(t, linkA) || !linkExists(t, linkB) {
		t.Fatalf("host links %s and %s should exist while both houses run: %v", linkA, linkB, hostLinks(t, network.LinkPrefix+"v-"))
	}

	if err := r.Stop("rumah-a", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if linkExists(t, linkA) {
		t.Errorf("host link %s of rumah-a is left after stop", linkA)
	}
	if err := r.Stop("rumah-a", 10*time.Second); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if err := r.Delete("rumah-a", false); err != nil {
		t.Fatal(err)
	}
	hosts, _ := execOutput(t, r, "rumah-b", "cat", "/etc/hosts")
	if strings.Contains(hosts, "rumah-a") {
		t.Errorf("/etc/hosts of rumah-b still lists rumah-a after its delete:\n%s", hosts)
	}
	if !linkExists(t, bridgeName) {
		t.Errorf("bridge %s is gone while rumah-b still has an address", bridgeName)
	}

	if err := r.Delete("rumah-b", true); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{linkA, linkB, bridgeName} {
		if linkExists(t, name) {
			t.Errorf("link %s is left after both houses were deleted", name)
		}
	}
	all, err := n.Allocations()
	if err != nil || len(all) != 0 {
		t.Errorf("allocations after both deletes: %v, %v; want none", all, err)
	}
}

func TestCreateSubnetRules(t *testing.T) {
	r := newTestRuntime(t)
	subnet := testSubnet(t, r)
	createOnSubnet(t, r, "rumah-a", subnet, false)

	other := netip.MustParsePrefix(subnet)
	other = netip.PrefixFrom(other.Addr(), 25)
	tests := []struct {
		name, subnet, wantID string
	}{
		{"not a network", "10.0.0.5/33", "ErrNetSubnetInvalid"},
		{"letters", "abc", "ErrNetSubnetInvalid"},
		{"too small", "10.0.0.0/31", "ErrNetSubnetTooSmall"},
		{"host bits", "10.0.0.5/24", "ErrNetSubnetNotNetwork"},
		{"public", "8.8.8.0/24", "ErrNetSubnetNotPrivate"},
		{"in use", other.String(), "ErrNetSubnetInUse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Create(CreateOptions{Name: "rumah-b", Subnet: tt.subnet})
			if !usererr.Is(err, tt.wantID) || usererr.ExitCode(err) != usererr.ExitUsage {
				t.Errorf("create with subnet %q: %v, want usage error %s", tt.subnet, err, tt.wantID)
			}
			if _, err := os.Stat(r.ContainerDir("rumah-b")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("rejected create left the folder of rumah-b: %v", err)
			}
		})
	}
	t.Run("same subnet again", func(t *testing.T) {
		createOnSubnet(t, r, "rumah-c", subnet, false)
	})
	t.Run("no subnet keeps it", func(t *testing.T) {
		c := createOnSubnet(t, r, "rumah-d", "", false)
		if !netip.MustParsePrefix(subnet).Contains(c.Address) {
			t.Errorf("address %s is outside the root's subnet %s", c.Address, subnet)
		}
	})
}

func TestStartFailureRemovesVeth(t *testing.T) {
	r := newTestRuntime(t)
	c := createOnSubnet(t, r, "rumah-gagal", testSubnet(t, r), false)
	hostLink := allocationOf(t, r, c.Name).HostLink()
	// A link that is not a veth holds the name of the house's host end, so
	// Attach refuses to touch it and the start fails after the clone.
	other := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: hostLink}}
	if err := netlink.LinkAdd(other); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netlink.LinkDel(other) })

	_, err := r.Start(c.Name)
	if !usererr.Is(err, "ErrStartFailed") {
		t.Fatalf("start with the host link name taken: %v, want ErrStartFailed", err)
	}
	got, err := r.Get(c.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusStopped || got.PID != 0 {
		t.Errorf("after a failed start: status %s, pid %d", got.Status, got.PID)
	}
	if _, _, found, _ := scanInit(r.UpperDir(c.Name)); found {
		t.Error("an init runs on the house's overlay after a failed start")
	}
	checkNoGroup(t, r, c.Name, "after a failed start")
	if l, err := netlink.LinkByName(hostLink); err != nil || l.Type() != "bridge" {
		t.Errorf("the other link %s was changed: %v", hostLink, err)
	}

	// With the name free again the house starts and is connected.
	if err := netlink.LinkDel(other); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(c.Name); err != nil {
		t.Fatal(err)
	}
	if l, err := netlink.LinkByName(hostLink); err != nil || l.Type() != "veth" {
		t.Errorf("host end %s after the second start: %v", hostLink, err)
	}
}

func TestNeighbourNames(t *testing.T) {
	r := newTestRuntime(t)
	subnet := testSubnet(t, r)
	createOnSubnet(t, r, "rumah-jalan", subnet, true)
	createOnSubnet(t, r, "rumah-diam", subnet, false)
	// A house created later is in the phone book that both read: the running
	// one through its mount, the stopped one at its next start.
	late := createOnSubnet(t, r, "rumah-baru", subnet, false)

	hosts, _ := execOutput(t, r, "rumah-jalan", "cat", "/etc/hosts")
	if !strings.Contains(hosts, late.Address.String()+"\trumah-baru") {
		t.Errorf("running neighbour's /etc/hosts lacks rumah-baru:\n%s", hosts)
	}
	target, err := os.Readlink(r.UpperDir("rumah-diam") + "/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	if target != network.PhoneBookHosts {
		t.Errorf("stopped neighbour's /etc/hosts links to %q, want %q", target, network.PhoneBookHosts)
	}
	if _, err := r.Start("rumah-diam"); err != nil {
		t.Fatal(err)
	}
	if out, code := execOutput(t, r, "rumah-diam", "ping", "-c1", "-W2", "rumah-jalan"); code != 0 {
		t.Errorf("ping rumah-jalan from rumah-diam: exit %d\n%s", code, out)
	}
	names := hostLinks(t, network.LinkPrefix+"v-")
	for _, name := range []string{"rumah-jalan", "rumah-diam"} {
		if l := allocationOf(t, r, name).HostLink(); !slices.Contains(names, l) {
			t.Errorf("host link %s of running %s is missing", l, name)
		}
	}
}
