package network

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// freeTestSubnet returns a /24 that no host route uses, derived from root so
// that two tests pick different ones.
func freeTestSubnet(t testing.TB, root string) string {
	t.Helper()
	p, err := FreeSubnet(root)
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}

func TestOpenWritesConfig(t *testing.T) {
	root := t.TempDir()
	subnet := freeTestSubnet(t, root)
	n, err := Open(root, Options{Subnet: subnet})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, configFile))
	if err != nil {
		t.Fatal(err)
	}
	var stored Config
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	if stored != n.Config() {
		t.Errorf("stored %+v, returned %+v", stored, n.Config())
	}
	if stored.Subnet.String() != subnet {
		t.Errorf("subnet %s, want %s", stored.Subnet, subnet)
	}
	if stored.Gateway != stored.Subnet.Addr().Next() {
		t.Errorf("gateway %s is not the first address of %s", stored.Gateway, stored.Subnet)
	}
	if stored.Bridge != BridgeName(root) {
		t.Errorf("bridge %s, want %s", stored.Bridge, BridgeName(root))
	}
	if stored.NAT {
		t.Error("NAT is on by default")
	}
}

func TestOpenKeepsStoredSubnet(t *testing.T) {
	root := t.TempDir()
	subnet := freeTestSubnet(t, root)
	if _, err := Open(root, Options{Subnet: subnet}); err != nil {
		t.Fatal(err)
	}
	n, err := Open(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Config().Subnet.String(); got != subnet {
		t.Errorf("subnet %s after Open without options, want %s", got, subnet)
	}
}

func TestOpenChangesSubnetWhileEmpty(t *testing.T) {
	root := t.TempDir()
	first := freeTestSubnet(t, root)
	second := freeTestSubnet(t, root+"/other")
	if _, err := Open(root, Options{Subnet: first}); err != nil {
		t.Fatal(err)
	}
	n, err := Open(root, Options{Subnet: second})
	if err != nil {
		t.Fatalf("changing the subnet of an empty network: %v", err)
	}
	if got := n.Config().Subnet.String(); got != second {
		t.Errorf("subnet %s, want %s", got, second)
	}
}

func TestOpenRejectsSubnetChangeInUse(t *testing.T) {
	root := t.TempDir()
	first := freeTestSubnet(t, root)
	second := freeTestSubnet(t, root+"/other")
	n, err := Open(root, Options{Subnet: first})
	if err != nil {
		t.Fatal(err)
	}
	mustAllocate(t, n, "rumah-jakarta")
	_, err = Open(root, Options{Subnet: second})
	if !usererr.Is(err, "ErrNetSubnetInUse") {
		t.Fatalf("Open with another subnet = %v, want ErrNetSubnetInUse", err)
	}
	if code := usererr.ExitCode(err); code != usererr.ExitUsage {
		t.Errorf("exit code %d, want %d", code, usererr.ExitUsage)
	}
	again, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Config().Subnet.String(); got != first {
		t.Errorf("subnet changed to %s, want %s kept", got, first)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		opts   Options
		wantID string
	}{
		{Options{Subnet: "10.0.0.5/33"}, "ErrNetSubnetInvalid"},
		{Options{Subnet: "10.0.0.0/31"}, "ErrNetSubnetTooSmall"},
		{Options{Bridge: "a-bridge-name-too-long"}, "ErrNetLinkName"},
	}
	for _, tt := range tests {
		if _, err := Open(root, tt.opts); !usererr.Is(err, tt.wantID) {
			t.Errorf("Open(%+v) = %v, want %s", tt.opts, err, tt.wantID)
		}
	}
	if _, err := os.Stat(filepath.Join(root, configFile)); !os.IsNotExist(err) {
		t.Errorf("rejected options left %s behind: %v", configFile, err)
	}
}
