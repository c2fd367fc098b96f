package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/network"
)

// TestPhoneBookInHouse checks, for a house with and one without a user
// namespace, that /etc/hosts inside reads the root's phone book with the
// hostname listed, that the house cannot write it, and that ping finds a
// neighbour by name through the link.
func TestPhoneBookInHouse(t *testing.T) {
	for _, noUserNS := range []bool{false, true} {
		r := newTestRuntime(t)
		subnet := testSubnet(t, r)
		c, err := r.Create(CreateOptions{Name: "rumah-bogor", Hostname: "bogor", Subnet: subnet, NoUserNS: noUserNS})
		if err != nil {
			t.Fatal(err)
		}
		neighbour := createOnSubnet(t, r, "rumah-depok", subnet, true)
		if _, err := r.Start(c.Name); err != nil {
			t.Fatal(err)
		}

		hosts, code := execOutput(t, r, c.Name, "cat", "/etc/hosts")
		if code != 0 {
			t.Fatalf("userns %v: cat /etc/hosts: exit %d", !noUserNS, code)
		}
		if !strings.Contains(hosts, c.Address.String()+"\trumah-bogor bogor\n") {
			t.Errorf("userns %v: /etc/hosts lacks the house's own line:\n%s", !noUserNS, hosts)
		}
		if !strings.Contains(hosts, neighbour.Address.String()+"\trumah-depok\n") {
			t.Errorf("userns %v: /etc/hosts lacks rumah-depok:\n%s", !noUserNS, hosts)
		}
		if out, code := execOutput(t, r, c.Name, "sh", "-c", "echo x >> /etc/rt-lab/hosts"); code == 0 {
			t.Errorf("userns %v: the house appended to the phone book: %s", !noUserNS, out)
		}
		if out, code := execOutput(t, r, c.Name, "ping", "-c1", "-W2", "rumah-depok"); code != 0 {
			t.Errorf("userns %v: ping rumah-depok: exit %d\n%s", !noUserNS, code, out)
		}
		if out, code := execOutput(t, r, c.Name, "hostname", "-i"); code != 0 || strings.TrimSpace(out) != c.Address.String() {
			t.Errorf("userns %v: hostname -i = %q, exit %d; want %s", !noUserNS, out, code, c.Address)
		}
		data, err := os.ReadFile(filepath.Join(network.PhoneBookDir(r.Root()), "hosts"))
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != hosts {
			t.Errorf("userns %v: house reads\n%s\nhost phone book holds\n%s", !noUserNS, hosts, data)
		}
	}
}

// TestStartMovesOldHostsFile starts a house whose /etc/hosts is a regular
// file, as an older rt-lab wrote it, and checks that start links it to the
// phone book.
func TestStartMovesOldHostsFile(t *testing.T) {
	r := newTestRuntime(t)
	c := createOnSubnet(t, r, "rumah-lama", testSubnet(t, r), false)
	path := filepath.Join(r.UpperDir(c.Name), "etc", "hosts")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("127.0.0.1\tlocalhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(c.Name); err != nil {
		t.Fatal(err)
	}
	target, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	if target != network.PhoneBookHosts {
		t.Errorf("/etc/hosts links to %q, want %q", target, network.PhoneBookHosts)
	}
	hosts, _ := execOutput(t, r, c.Name, "cat", "/etc/hosts")
	if !strings.Contains(hosts, c.Address.String()+"\trumah-lama") {
		t.Errorf("/etc/hosts after the start lacks the house:\n%s", hosts)
	}
}

// TestStartRepairsPhoneBook changes the phone book as a crash between the
// address table and the phone book would leave it, and checks that the next
// start repairs it and that deleting the last house removes it.
func TestStartRepairsPhoneBook(t *testing.T) {
	r := newTestRuntime(t)
	c := createOnSubnet(t, r, "rumah-rusak", testSubnet(t, r), false)
	path := filepath.Join(network.PhoneBookDir(r.Root()), "hosts")
	if err := os.WriteFile(path, []byte("127.0.0.1\tlocalhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Start(c.Name); err != nil {
		t.Fatal(err)
	}
	hosts, _ := execOutput(t, r, c.Name, "cat", "/etc/hosts")
	if !strings.Contains(hosts, c.Address.String()+"\trumah-rusak") {
		t.Errorf("/etc/hosts after the start lacks the house:\n%s", hosts)
	}
	if err := r.Delete(c.Name, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(network.PhoneBookDir(r.Root())); !os.IsNotExist(err) {
		t.Errorf("phone book folder after the last delete: %v, want it removed", err)
	}
}
