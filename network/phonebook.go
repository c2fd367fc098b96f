package network

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// The phone book is one hosts file per state folder, ROOT/phonebook/hosts,
// that every house of the root reads. Its folder is bind-mounted read-only at
// PhoneBookMount in each house, and the house's /etc/hosts is a symbolic link
// to PhoneBookHosts (see LinkHosts). So a house that comes or goes changes one
// file, whatever the number of houses.
//
// NOTE: a house that an older rt-lab started keeps its own /etc/hosts file,
// which nothing updates any more, until its next start links it.
const (
	phoneBookDir  = "phonebook"
	phoneBookFile = "hosts"

	// PhoneBookMount is the folder inside a house where the phone book's
	// folder is mounted.
	PhoneBookMount = "/etc/rt-lab"
	// PhoneBookHosts is the phone book inside a house, the target of the
	// house's /etc/hosts.
	PhoneBookHosts = PhoneBookMount + "/" + phoneBookFile
)

// PhoneBookDir returns the folder of the phone book of state folder root.
func PhoneBookDir(root string) string { return filepath.Join(root, phoneBookDir) }

// RenderPhoneBook returns the phone book of a complex: the loopback names,
// then one line per allocation with the container's name and, when it differs,
// its hostname.
//
// The file is shared, so a hostname that two houses use, or that equals
// another house's name, would resolve to the first line that lists it in
// every house. Create rejects such names (see NameConflict).
//
// NOTE: houses created before that check may still share a name.
func RenderPhoneBook(all []Allocation) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, a := range all {
		names := a.Name
		if a.Hostname != "" && a.Hostname != a.Name {
			names += " " + a.Hostname
		}
		fmt.Fprintf(&b, "%s\t%s\n", a.Address, names)
	}
	return b.Bytes()
}

// writePhoneBook makes ROOT/phonebook/hosts list the allocations of table.
// An unchanged file is left alone. A changed one is written to a temporary
// file that is renamed over it, so a house never reads a half-written phone
// book. There is no fsync: the file is derived from the address table, and
// every start rewrites it when it differs (see UpdatePhoneBook), so after a
// crash it is repaired before any house reads it again.
func (n *Network) writePhoneBook(table *addressTable) error {
	dir := PhoneBookDir(n.root)
	path := filepath.Join(dir, phoneBookFile)
	content := RenderPhoneBook(sortedAllocations(table.Allocations))

	// Start bind-mounts this folder into every house, so it must be the
	// root's own folder, not a link to another place on the host.
	if fi, err := os.Lstat(dir); err == nil && !fi.IsDir() {
		return usererr.New(usererr.Failed, "ErrPhoneBookNotFolder", "Path", dir)
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	tmp, err := os.CreateTemp(dir, "."+phoneBookFile+".tmp-")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(content)
	if werr == nil {
		// Houses with a user namespace read the file as "others".
		werr = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write phone book %s: %w", path, werr)
	}
	return nil
}

// PhoneBookStale reports whether ROOT/phonebook/hosts, when there is an
// address table, is missing or lists other lines than the table gives. It
// only reads.
func (n *Network) PhoneBookStale() (bool, error) {
	all, err := n.Allocations()
	if err != nil {
		return false, err
	}
	if len(all) == 0 {
		return false, nil
	}
	old, err := os.ReadFile(filepath.Join(PhoneBookDir(n.root), phoneBookFile))
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !bytes.Equal(old, RenderPhoneBook(all)), nil
}

// UpdatePhoneBook rewrites ROOT/phonebook/hosts from the address table when it
// differs, as after a crash between a change of the table and the phone book.
// It takes ROOT/network.lock.
func (n *Network) UpdatePhoneBook() error {
	l, table, err := n.lockTable()
	if err != nil {
		return err
	}
	defer l.Unlock()
	return n.writePhoneBook(table)
}

// RemovePhoneBook deletes the phone book's folder. A missing folder is not an
// error.
func RemovePhoneBook(root string) error {
	err := os.RemoveAll(PhoneBookDir(root))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// NameConflict returns the house whose phone book names would clash with a
// new house called name with hostname: another house already called
// hostname, or whose hostname is name or hostname. Each name must lead to one
// address, or a lookup in the book finds the first line that has it. An empty
// result means no conflict.
func (n *Network) NameConflict(name, hostname string) (string, error) {
	all, err := n.Allocations()
	if err != nil {
		return "", err
	}
	for _, a := range all {
		if a.Name == name {
			continue
		}
		other := a.Hostname
		if other == "" {
			other = a.Name
		}
		if a.Name == hostname || other == name || other == hostname {
			return a.Name, nil
		}
	}
	return "", nil
}
