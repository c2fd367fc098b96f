package network

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

func TestRenderPhoneBook(t *testing.T) {
	all := []Allocation{
		{Name: "rumah-jakarta", Hostname: "jkt", Address: netip.MustParseAddr("10.0.0.2")},
		{Name: "rumah-bandung", Hostname: "rumah-bandung", Address: netip.MustParseAddr("10.0.0.3")},
		{Name: "rumah-bogor", Address: netip.MustParseAddr("10.0.0.4")},
	}
	want := "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"10.0.0.2\trumah-jakarta jkt\n" +
		"10.0.0.3\trumah-bandung\n" +
		"10.0.0.4\trumah-bogor\n"
	if got := string(RenderPhoneBook(all)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func phoneBook(t *testing.T, n *Network) string {
	t.Helper()
	return readFile(t, filepath.Join(PhoneBookDir(n.root), "hosts"))
}

func TestPhoneBookFollowsAllocations(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	mustAllocate(t, n, "rumah-jakarta")
	mustAllocate(t, n, "rumah-bandung")
	if err := n.SetHostname("rumah-jakarta", "jkt"); err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"10.0.0.2\trumah-jakarta jkt\n" +
		"10.0.0.3\trumah-bandung\n"
	if got := phoneBook(t, n); got != want {
		t.Errorf("after Allocate: got\n%s\nwant\n%s", got, want)
	}
	info, err := os.Stat(filepath.Join(PhoneBookDir(n.root), "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("phone book mode %v, want 0644", info.Mode().Perm())
	}

	if err := n.Release("rumah-jakarta"); err != nil {
		t.Fatal(err)
	}
	want = "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"10.0.0.3\trumah-bandung\n"
	if got := phoneBook(t, n); got != want {
		t.Errorf("after Release: got\n%s\nwant\n%s", got, want)
	}
	entries, err := os.ReadDir(PhoneBookDir(n.root))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("phone book folder holds %d entries, want only hosts", len(entries))
	}
}

// A crash between the address table and the phone book leaves the phone book
// behind; UpdatePhoneBook repairs it.
func TestUpdatePhoneBookRepairs(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	mustAllocate(t, n, "rumah-jakarta")
	path := filepath.Join(PhoneBookDir(n.root), "hosts")
	if err := os.WriteFile(path, []byte("stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.UpdatePhoneBook(); err != nil {
		t.Fatal(err)
	}
	if got := phoneBook(t, n); got != string(RenderPhoneBook([]Allocation{{Name: "rumah-jakarta", Address: netip.MustParseAddr("10.0.0.2")}})) {
		t.Errorf("after UpdatePhoneBook: %q", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := n.UpdatePhoneBook(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("missing phone book not written again: %v", err)
	}
}

func TestSetHostnameWithoutAllocation(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	if err := n.SetHostname("rumah-jakarta", "jkt"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := n.Allocation("rumah-jakarta"); err != nil || ok {
		t.Errorf("allocation %v, error %v; want none", ok, err)
	}
}

func TestNameConflict(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	mustAllocate(t, n, "rumah-bandung")
	if err := n.SetHostname("rumah-bandung", "bandung"); err != nil {
		t.Fatal(err)
	}
	mustAllocate(t, n, "rumah-lama") // an older allocation without a hostname
	tests := []struct {
		name, hostname, want string
	}{
		{"rumah-baru", "rumah-baru", ""},
		{"rumah-baru", "bandung", "rumah-bandung"},
		{"bandung", "bandung", "rumah-bandung"},
		{"rumah-baru", "rumah-bandung", "rumah-bandung"},
		{"rumah-baru", "rumah-lama", "rumah-lama"},
		{"rumah-bandung", "bandung", ""},
	}
	for _, tt := range tests {
		got, err := n.NameConflict(tt.name, tt.hostname)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("NameConflict(%s, %s) = %q, want %q", tt.name, tt.hostname, got, tt.want)
		}
	}
}

func TestPhoneBookFolderLinkRejected(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	mustAllocate(t, n, "rumah-a")
	elsewhere := t.TempDir()
	dir := PhoneBookDir(n.Root())
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, dir); err != nil {
		t.Fatal(err)
	}
	if err := n.UpdatePhoneBook(); !usererr.Is(err, "ErrPhoneBookNotFolder") {
		t.Errorf("UpdatePhoneBook through a linked folder: %v, want ErrPhoneBookNotFolder", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("the link's target got %d files", len(entries))
	}
}
