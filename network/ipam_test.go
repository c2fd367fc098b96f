package network

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// allocateHelperEnv makes the test binary a child that allocates addresses
// instead of running tests: its value is "ROOT NAME...".
const allocateHelperEnv = "RT_LAB_NETWORK_ALLOCATE"

func TestMain(m *testing.M) {
	if spec := os.Getenv(allocateHelperEnv); spec != "" {
		os.Exit(allocateHelper(strings.Fields(spec)))
	}
	os.Exit(m.Run())
}

// allocateHelper allocates an address for each name in args[1:] in root
// args[0] and prints one "NAME ADDRESS" line each.
func allocateHelper(args []string) int {
	n, err := Load(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, name := range args[1:] {
		a, err := n.Allocate(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%s %s\n", a.Name, a.Address)
	}
	return 0
}

// newTestNetwork writes network.json for subnet in a new temporary root
// without checking host routes, so it needs neither root nor a free subnet.
func newTestNetwork(t *testing.T, subnet string) *Network {
	t.Helper()
	root := t.TempDir()
	cfg, err := configFromOptions(root, Options{Subnet: subnet})
	if err != nil {
		t.Fatal(err)
	}
	n := &Network{root: root, cfg: cfg}
	if err := n.writeConfig(); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustAllocate(t *testing.T, n *Network, name string) Allocation {
	t.Helper()
	a, err := n.Allocate(name)
	if err != nil {
		t.Fatalf("Allocate(%s): %v", name, err)
	}
	return a
}

func TestAllocateFirstAddresses(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	a := mustAllocate(t, n, "rumah-jakarta")
	b := mustAllocate(t, n, "rumah-bandung")
	if a.Address.String() != "10.0.0.2" {
		t.Errorf("first address %s, want 10.0.0.2", a.Address)
	}
	if b.Address.String() != "10.0.0.3" {
		t.Errorf("second address %s, want 10.0.0.3", b.Address)
	}
	if a.ID == b.ID {
		t.Errorf("two containers share id %s", a.ID)
	}
}

func TestAllocateSameNameTwice(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	first := mustAllocate(t, n, "rumah-jakarta")
	again := mustAllocate(t, n, "rumah-jakarta")
	if again != first {
		t.Errorf("second Allocate = %+v, want %+v", again, first)
	}
}

func TestAllocateFillsSlash24(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	reserved := map[string]bool{"10.0.0.0": true, "10.0.0.1": true, "10.0.0.255": true}
	seen := map[netip.Addr]bool{}
	for i := 0; i < 253; i++ {
		a := mustAllocate(t, n, fmt.Sprintf("rumah-%d", i))
		if reserved[a.Address.String()] {
			t.Errorf("house %d got reserved address %s", i, a.Address)
		}
		if seen[a.Address] {
			t.Errorf("house %d got address %s twice", i, a.Address)
		}
		seen[a.Address] = true
	}
	_, err := n.Allocate("rumah-254")
	if !usererr.Is(err, "ErrNetFull") {
		t.Fatalf("254th Allocate = %v, want ErrNetFull", err)
	}
	if code := usererr.ExitCode(err); code != usererr.ExitUsage {
		t.Errorf("full subnet exit code %d, want %d", code, usererr.ExitUsage)
	}
	if !strings.Contains(err.Error(), "rumah-254") || !strings.Contains(err.Error(), "10.0.0.0/24") {
		t.Errorf("message %q does not name the house and the subnet", err)
	}
	if _, ok, _ := n.Allocation("rumah-254"); ok {
		t.Error("the rejected house was recorded")
	}
}

func TestAllocateSlash30HasOneAddress(t *testing.T) {
	n := newTestNetwork(t, "192.168.77.0/30")
	a := mustAllocate(t, n, "satu")
	if a.Address.String() != "192.168.77.2" {
		t.Errorf("address %s, want 192.168.77.2", a.Address)
	}
	if _, err := n.Allocate("dua"); !usererr.Is(err, "ErrNetFull") {
		t.Errorf("second Allocate = %v, want ErrNetFull", err)
	}
}

func TestReleaseReusesAddress(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	mustAllocate(t, n, "a")
	b := mustAllocate(t, n, "b")
	mustAllocate(t, n, "c")
	if err := n.Release("b"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := n.Allocation("b"); ok {
		t.Error("b still has an allocation after Release")
	}
	d := mustAllocate(t, n, "d")
	if d.Address != b.Address {
		t.Errorf("d got %s, want the freed %s", d.Address, b.Address)
	}
}

func TestReleaseUnknownName(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	if err := n.Release("tidak-ada"); err != nil {
		t.Errorf("Release of an unknown name = %v, want nil", err)
	}
}

func TestAllocateRejectsBadName(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	for _, name := range []string{"", "-a", "a-", "A", "a b", "a\nb", "../x", strings.Repeat("a", 64)} {
		if _, err := n.Allocate(name); !usererr.Is(err, "ErrNetContainerName") {
			t.Errorf("Allocate(%q) = %v, want ErrNetContainerName", name, err)
		}
	}
}

func TestAllocationsFileFormat(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	a := mustAllocate(t, n, "rumah-jakarta")
	data, err := os.ReadFile(filepath.Join(n.root, addressesFile))
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Version     int                          `json:"version"`
		Subnet      string                       `json:"subnet"`
		Allocations map[string]map[string]string `json:"allocations"`
	}
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	if table.Subnet != "10.0.0.0/24" {
		t.Errorf("subnet %q, want 10.0.0.0/24", table.Subnet)
	}
	got := table.Allocations["rumah-jakarta"]
	if got["address"] != "10.0.0.2" || got["id"] != a.ID {
		t.Errorf("record %v, want address 10.0.0.2 and id %s", got, a.ID)
	}
}

func TestCorruptAddressesFile(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	if err := os.WriteFile(filepath.Join(n.root, addressesFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Allocate("a"); !usererr.Is(err, "ErrNetFileCorrupt") {
		t.Errorf("Allocate with a damaged file = %v, want ErrNetFileCorrupt", err)
	}
}

func TestAllocateConcurrentGoroutines(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	const count = 20
	results := make([]Allocation, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := 0; i < count; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A Network of its own, as a separate process would have.
			own, err := Load(n.root)
			if err != nil {
				errs[i] = err
				return
			}
			results[i], errs[i] = own.Allocate(fmt.Sprintf("rumah-%d", i))
		}()
	}
	wg.Wait()

	seen := map[netip.Addr]string{}
	for i, a := range results {
		if errs[i] != nil {
			t.Errorf("house %d: %v", i, errs[i])
			continue
		}
		if other, ok := seen[a.Address]; ok {
			t.Errorf("%s and %s share %s", other, a.Name, a.Address)
		}
		seen[a.Address] = a.Name
	}

	all, err := n.Allocations()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != count {
		t.Errorf("%d allocations stored, want %d", len(all), count)
	}
}

func TestAllocateConcurrentProcesses(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	const procs, perProc = 6, 5
	cmds := make([]*exec.Cmd, procs)
	outputs := make([]*strings.Builder, procs)
	for p := 0; p < procs; p++ {
		spec := []string{n.root}
		for i := 0; i < perProc; i++ {
			spec = append(spec, fmt.Sprintf("rumah-%d-%d", p, i))
		}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), allocateHelperEnv+"="+strings.Join(spec, " "))
		outputs[p] = &strings.Builder{}
		cmd.Stdout = outputs[p]
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[p] = cmd
	}
	seen := map[string]string{}
	for p, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper %d: %v", p, err)
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(outputs[p].String()), "\n") {
			name, addr, _ := strings.Cut(line, " ")
			if other, ok := seen[addr]; ok {
				t.Errorf("%s and %s share %s", other, name, addr)
			}
			seen[addr] = name
		}
	}
	if len(seen) != procs*perProc {
		t.Errorf("%d distinct addresses, want %d", len(seen), procs*perProc)
	}
	all, err := n.Allocations()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != procs*perProc {
		t.Errorf("%d allocations stored, want %d", len(all), procs*perProc)
	}
}

func TestLoadWithoutConfig(t *testing.T) {
	if _, err := Load(t.TempDir()); err != ErrNotConfigured {
		t.Errorf("Load of an empty root = %v, want ErrNotConfigured", err)
	}
}

func TestLoadRejectsEditedGateway(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	n.cfg.Gateway = netip.MustParseAddr("10.0.0.9")
	if err := n.writeConfig(); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(n.root); !usererr.Is(err, "ErrNetFileCorrupt") {
		t.Errorf("Load = %v, want ErrNetFileCorrupt", err)
	}
}
