package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/rt-lab/rt-lab/network"
)

// takeSubnetOnHost puts subnet's first address on a new bridge named after
// root, as another complex or a VPN would, and removes it when the test ends.
func takeSubnetOnHost(t *testing.T, root, subnet string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(root))
	name := "rt-t-" + hex.EncodeToString(sum[:4])
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := netlink.LinkAdd(br); err != nil {
		t.Fatalf("add bridge %s: %v", name, err)
	}
	t.Cleanup(func() { netlink.LinkDel(br) })
	p := netip.MustParsePrefix(subnet)
	ipNet := &net.IPNet{IP: p.Addr().Next().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
	if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: ipNet}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		t.Fatal(err)
	}
	return name
}

func mustRun(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, env, args...)
	if code != 0 {
		t.Fatalf("rt-lab %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errOut)
	}
	return out + errOut
}

// TestRefusedCreateLeavesNoAddress runs the steps that used to leave a root
// stuck: a create refused because another bridge took the subnet kept an
// address for a house that did not exist.
func TestRefusedCreateLeavesNoAddress(t *testing.T) {
	env, subnet := newNetworkRoot(t)
	mustRun(t, env, "create-container", "a", "--subnet", subnet)
	mustRun(t, env, "delete-container", "a", "--yes")
	taker := takeSubnetOnHost(t, env["RT_LAB_ROOT"], subnet)

	code, _, errOut := runCLI(t, env, "create-container", "b", "--subnet", subnet)
	if code != 2 {
		t.Errorf("create on a taken subnet: exit %d, want 2 (stderr %q)", code, errOut)
	}
	for _, want := range []string{taker, "rt-lab network set-subnet"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not contain %q", errOut, want)
		}
	}
	if got := showNetwork(t, env); len(got.Houses) != 0 {
		t.Errorf("addresses after the refused create: %+v, want none", got.Houses)
	}
	other, err := network.FreeSubnet(env["RT_LAB_ROOT"] + "/other")
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, "create-container", "b", "--subnet", other.String())
	if got := showNetwork(t, env); got.Subnet != other.String() || len(got.Houses) != 1 {
		t.Errorf("network after the move: %+v, want b alone on %s", got, other)
	}
}

// TestOrphanAddressCommands gives a name an address without a house, as an
// older rt-lab or a delete cut short did, and runs the commands the tester
// found blocked.
func TestOrphanAddressCommands(t *testing.T) {
	env, subnet := newNetworkRoot(t)
	mustRun(t, env, "create-container", "a", "--subnet", subnet)
	n, err := network.Load(env["RT_LAB_ROOT"])
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := n.Allocate("b")
	if err != nil {
		t.Fatal(err)
	}

	got := showNetwork(t, env)
	var marked bool
	for _, h := range got.Houses {
		marked = marked || h.Name == "b" && h.Orphan
	}
	if !marked {
		t.Errorf("network show --json: %+v, want b marked as an orphan", got.Houses)
	}
	code, out, _ := runCLI(t, env, "network", "show")
	if code != 0 || !strings.Contains(out, "delete-container b --force") {
		t.Errorf("network show: exit %d, stdout %q; want the fix for b", code, out)
	}
	code, _, errOut := runCLI(t, env, "network", "remove-bridge")
	if code != 2 || !strings.Contains(errOut, "houses (a)") {
		t.Errorf("remove-bridge: exit %d, stderr %q; want 2 naming house a only", code, errOut)
	}
	code, _, errOut = runCLI(t, env, "delete-container", "b", "--yes")
	if code != 2 || !strings.Contains(errOut, "delete-container b --force") {
		t.Errorf("delete without --force: exit %d, stderr %q; want 2 naming --force", code, errOut)
	}
	out = mustRun(t, env, "delete-container", "b", "--force")
	if !strings.Contains(out, orphan.Address.String()) {
		t.Errorf("delete --force output %q does not name the freed address %s", out, orphan.Address)
	}
	if _, ok, _ := n.Allocation("b"); ok {
		t.Error("delete-container b --force kept the address")
	}

	mustRun(t, env, "delete-container", "a", "--yes")
	if _, err := n.Allocate("c"); err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, "network", "remove-bridge")
	other, err := network.FreeSubnet(env["RT_LAB_ROOT"] + "/other")
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, "create-container", "d", "--subnet", other.String())
}

func TestCreateEmptySubnet(t *testing.T) {
	env, _ := newNetworkRoot(t)
	code, _, errOut := runCLI(t, env, "create-container", "rumah-a", "--subnet", "")
	if code != 2 || !strings.Contains(errOut, `""`) {
		t.Errorf("create --subnet \"\": exit %d, stderr %q; want 2 naming the empty value", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(env["RT_LAB_ROOT"], "containers", "rumah-a")); !os.IsNotExist(err) {
		t.Errorf("the refused create left a folder: %v", err)
	}
	if got := showNetwork(t, env); got.Configured {
		t.Errorf("the refused create configured the network: %+v", got)
	}
}

func TestNetworkSetSubnet(t *testing.T) {
	env, subnet := newNetworkRoot(t)
	mustRun(t, env, "create-container", "rumah-a", "--subnet", subnet)
	mustRun(t, env, "run-container", "rumah-a", "--", "true")
	next, err := network.FreeSubnet(env["RT_LAB_ROOT"] + "/next")
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no argument", []string{"network", "set-subnet"}, "exactly one"},
		{"two arguments", []string{"network", "set-subnet", next.String(), next.String()}, "exactly one"},
		{"not a subnet", []string{"network", "set-subnet", "abc"}, `"abc"`},
		{"running house", []string{"network", "set-subnet", next.String()}, "rumah-a"},
	} {
		code, _, errOut := runCLI(t, env, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tt.name, code, errOut, tt.want)
		}
	}
	if got := showNetwork(t, env); got.Subnet != subnet {
		t.Errorf("subnet after the refused moves: %s, want %s", got.Subnet, subnet)
	}

	mustRun(t, env, "stop-container", "rumah-a")
	code, _, errOut := runCLI(t, env, "network", "set-subnet", subnet)
	if code != 2 || !strings.Contains(errOut, "already uses") {
		t.Errorf("set-subnet to the same subnet: exit %d, stderr %q; want 2 saying it is in use already", code, errOut)
	}
	out := mustRun(t, env, "network", "set-subnet", next.String())
	want := next.Addr().Next().Next().String()
	if !strings.Contains(out, "rumah-a: "+want) {
		t.Errorf("set-subnet output %q does not give rumah-a's new address %s", out, want)
	}
	got := showNetwork(t, env)
	if got.Subnet != next.String() || got.Gateway != next.Addr().Next().String() {
		t.Errorf("network after set-subnet: %+v, want %s", got, next)
	}
	if len(got.Houses) != 1 || got.Houses[0].Address != want {
		t.Errorf("houses after set-subnet: %+v, want rumah-a at %s", got.Houses, want)
	}
	list := mustRun(t, env, "list-containers")
	if !strings.Contains(list, want) {
		t.Errorf("list-containers does not show the new address %s:\n%s", want, list)
	}
	mustRun(t, env, "run-container", "rumah-a", "--", "true")
}
