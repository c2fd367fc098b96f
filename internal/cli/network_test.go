package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/network"
)

// newNetworkRoot returns the environment of a fresh root folder and a subnet
// for it that no host route uses. Every house in it is deleted, and its
// bridge removed, when the test ends.
func newNetworkRoot(t *testing.T) (map[string]string, string) {
	t.Helper()
	testutil.RequireRoot(t)
	root := t.TempDir()
	subnet, err := network.FreeSubnet(root)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RT_LAB_ROOT": root, "RT_LAB_LANG": "en"}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(filepath.Join(root, "containers"))
		for _, e := range entries {
			runCLI(t, env, "delete-container", e.Name(), "--force", "--yes")
		}
		runCLI(t, env, "network", "remove-bridge", "--force")
	})
	return env, subnet.String()
}

func showNetwork(t *testing.T, env map[string]string) networkJSON {
	t.Helper()
	code, out, errOut := runCLI(t, env, "network", "show", "--json")
	if code != 0 {
		t.Fatalf("network show: exit %d: %s", code, errOut)
	}
	var got networkJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("network show --json: %v\n%s", err, out)
	}
	return got
}

func TestCreateSubnetFlag(t *testing.T) {
	env, subnet := newNetworkRoot(t)
	if got := showNetwork(t, env); got.Configured {
		t.Errorf("network before the first house: %+v, want not configured", got)
	}
	code, _, errOut := runCLI(t, env, "create-container", "rumah-a", "--subnet", subnet)
	if code != 0 {
		t.Fatalf("create --subnet %s: exit %d: %s", subnet, code, errOut)
	}
	if !strings.Contains(errOut, "phone number is") {
		t.Errorf("create output %q does not give the house's address", errOut)
	}
	got := showNetwork(t, env)
	if got.Subnet != subnet || !got.BridgePresent || len(got.Houses) != 1 || got.Houses[0].Name != "rumah-a" {
		t.Errorf("network after create: %+v, want subnet %s, the bridge and rumah-a", got, subnet)
	}

	other := "10.255.255.0/24"
	if other == subnet {
		other = "10.255.254.0/24"
	}
	tests := []struct {
		name, subnet, want string
	}{
		{"not a network", "10.0.0.5/33", `"10.0.0.5/33"`},
		{"letters", "abc", `"abc"`},
		{"too small", "10.0.0.0/31", "too small"},
		{"host bits", "10.0.0.5/24", "10.0.0.0"},
		{"public", "8.8.8.0/24", "not a private range"},
		{"in use", other, "an address in " + subnet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, env, "create-container", "rumah-b", "--subnet", tt.subnet)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.want)
			}
		})
	}
	entries, err := os.ReadDir(filepath.Join(env["RT_LAB_ROOT"], "containers"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("rejected subnets left houses behind: %v", entries)
	}
	if got := showNetwork(t, env); got.Subnet != subnet {
		t.Errorf("subnet after the rejected creates = %s, want %s", got.Subnet, subnet)
	}
}

func TestNetworkCommands(t *testing.T) {
	env, subnet := newNetworkRoot(t)
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-nat", "--subnet", subnet); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}

	if code, _, errOut := runCLI(t, env, "network", "nat", "maybe"); code != 2 || !strings.Contains(errOut, "on or off") {
		t.Errorf("network nat maybe: exit %d, stderr %q; want 2 and the choices", code, errOut)
	}

	code, _, errOut := runCLI(t, env, "network", "remove-bridge")
	if code != 2 || !strings.Contains(errOut, "rumah-nat") {
		t.Errorf("remove-bridge with a house: exit %d, stderr %q; want 2 naming rumah-nat", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "delete-container", "rumah-nat", "--yes"); code != 0 {
		t.Fatalf("delete: exit %d: %s", code, errOut)
	}
	if got := showNetwork(t, env); got.BridgePresent || len(got.Houses) != 0 {
		t.Errorf("after the last delete: %+v, want no bridge and no houses", got)
	}
	if code, _, errOut := runCLI(t, env, "network", "remove-bridge"); code != 0 {
		t.Errorf("remove-bridge without a bridge: exit %d: %s", code, errOut)
	}
}

func TestBrokenHouseCommands(t *testing.T) {
	env, subnet := newNetworkRoot(t)
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-rusak", "--subnet", subnet); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	state := filepath.Join(env["RT_LAB_ROOT"], "containers", "rumah-rusak", "state.json")
	if err := os.WriteFile(state, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, env, "list-containers")
	if code != 0 || !strings.Contains(out, "rumah-rusak") || !strings.Contains(out, "broken") {
		t.Errorf("list: exit %d, stdout %q; want rumah-rusak as broken", code, out)
	}
	if !strings.Contains(errOut, "delete-container rumah-rusak --force") {
		t.Errorf("list stderr %q does not name the fix", errOut)
	}
	recoverAt := strings.Index(errOut, "recover-state rumah-rusak")
	if recoverAt < 0 || recoverAt > strings.Index(errOut, "delete-container rumah-rusak") {
		t.Errorf("list stderr %q does not name recover-state before delete-container", errOut)
	}
	code, _, errOut = runCLI(t, env, "create-container", "rumah-rusak")
	if code != 2 || !strings.Contains(errOut, "--force") {
		t.Errorf("create over a broken house: exit %d, stderr %q; want 2 naming --force", code, errOut)
	}
	code, _, errOut = runCLI(t, env, "delete-container", "rumah-rusak", "--yes")
	if code == 0 || !strings.Contains(errOut, "--force") {
		t.Errorf("delete without --force: exit %d, stderr %q; want a failure naming --force", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "delete-container", "rumah-rusak", "--force", "--yes"); code != 0 {
		t.Fatalf("delete --force: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Dir(state)); !os.IsNotExist(err) {
		t.Errorf("folder of the broken house left after delete --force: %v", err)
	}
}

func TestHalfBuiltHouseCommands(t *testing.T) {
	env, _ := newNetworkRoot(t)
	dir := filepath.Join(env["RT_LAB_ROOT"], "containers", "rumah-setengah")
	if err := os.MkdirAll(filepath.Join(dir, "upper", "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, env, "delete-container", "rumah-setengah", "--yes")
	if code != 2 || !strings.Contains(errOut, "never finished") {
		t.Errorf("delete without --force: exit %d, stderr %q; want 2 saying it was never finished", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "delete-container", "rumah-setengah", "--force", "--yes"); code != 0 {
		t.Fatalf("delete --force: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("half-built folder left after delete --force: %v", err)
	}
}

// TestNetworkNATInPrivateNamespace turns NAT on and off with the real binary
// run under unshare --net, so the masquerade rule and IP forwarding exist only
// in a network namespace the test made: a test must never enable NAT on the
// host. No traffic is sent.
func TestNetworkNATInPrivateNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	bin := testutil.BuildRTLab(t, false)
	root := t.TempDir()
	script := `set -e
R="$1"; B="$2"
"$B" --root "$R" create-container rumah-nat >/dev/null 2>&1
"$B" --root "$R" network nat on >/dev/null 2>&1
echo "on: $(cat /proc/sys/net/ipv4/ip_forward)"
"$B" --root "$R" network show --json
echo "---"
"$B" --root "$R" network nat off >/dev/null 2>&1
echo "off: $(cat /proc/sys/net/ipv4/ip_forward)"
"$B" --root "$R" network show --json
"$B" --root "$R" delete-container rumah-nat --force --yes >/dev/null 2>&1
`
	cmd := exec.Command("unshare", "--net", "sh", "-c", script, "sh", root, bin)
	cmd.Env = append(os.Environ(), "RT_LAB_LANG=en")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unshare --net: %v\n%s", err, out)
	}
	on, off, ok := strings.Cut(string(out), "---\n")
	if !ok {
		t.Fatalf("unexpected output:\n%s", out)
	}
	for _, tt := range []struct {
		part, forward string
		nat           bool
	}{{on, "on: 1", true}, {off, "off: 0", false}} {
		line, jsonText, _ := strings.Cut(tt.part, "\n")
		if line != tt.forward {
			t.Errorf("ip_forward in the private namespace: %q, want %q", line, tt.forward)
		}
		var got networkJSON
		if err := json.Unmarshal([]byte(jsonText), &got); err != nil {
			t.Fatalf("network show --json: %v\n%s", err, jsonText)
		}
		if got.NAT != tt.nat || got.NATInstalled != tt.nat {
			t.Errorf("%s: nat %v, installed %v; want %v", line, got.NAT, got.NATInstalled, tt.nat)
		}
	}
}
