package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Allocation is the address and link id of one container.
type Allocation struct {
	Name    string     `json:"name"`
	ID      string     `json:"id"` // 8 hex digits; see HostLinkName
	Address netip.Addr `json:"address"`
	// Hostname is the container's hostname, listed in the phone book next
	// to Name when it differs. Empty for an allocation of an older rt-lab
	// until the container's next start.
	Hostname string `json:"hostname,omitempty"`
}

// HostLink returns the name of the host end of the container's veth pair.
func (a Allocation) HostLink() string { return HostLinkName(a.ID) }

// addressTable is the content of ROOT/network-addresses.json.
type addressTable struct {
	Version     int                   `json:"version"`
	Subnet      netip.Prefix          `json:"subnet"`
	Allocations map[string]Allocation `json:"allocations"` // by container name
}

// maxLinkIDAttempts bounds the search for an id that no other container of the
// state folder uses. With 32-bit ids a second attempt is already rare.
const maxLinkIDAttempts = 100

// Allocate reserves an address and a link id for container name and returns
// them. A name that already has an allocation gets the same one again. The
// lowest free address after the bridge's is taken, so a freed address is reused
// first. It takes ROOT/network.lock.
func (n *Network) Allocate(name string) (Allocation, error) {
	if err := validateContainerName(name); err != nil {
		return Allocation{}, err
	}
	l, err := n.lock()
	if err != nil {
		return Allocation{}, err
	}
	defer l.Unlock()

	// Another process may have changed the subnet since n was opened, while no
	// container had an address.
	if err := n.readConfig(); err != nil {
		return Allocation{}, err
	}
	table, err := n.readAddresses()
	if err != nil {
		return Allocation{}, err
	}
	if a, ok := table.Allocations[name]; ok {
		return a, nil
	}
	addr, ok := freeAddress(n.cfg.Subnet, table.Allocations)
	if !ok {
		return Allocation{}, usererr.New(usererr.Usage, "ErrNetFull",
			"Subnet", n.cfg.Subnet.String(), "Name", name, "Count", len(table.Allocations))
	}
	id, err := n.freeLinkID(name, table.Allocations)
	if err != nil {
		return Allocation{}, err
	}
	a := Allocation{Name: name, ID: id, Address: addr}
	table.Allocations[name] = a
	if err := n.writeAddresses(table); err != nil {
		return Allocation{}, err
	}
	return a, nil
}

// SetHostname records hostname in the allocation of container name, for the
// phone book. It writes only when the hostname changed, and does nothing for
// a name without an allocation. It takes ROOT/network.lock.
func (n *Network) SetHostname(name, hostname string) error {
	l, table, err := n.lockTable()
	if err != nil {
		return err
	}
	defer l.Unlock()
	a, ok := table.Allocations[name]
	if !ok || a.Hostname == hostname {
		return nil
	}
	a.Hostname = hostname
	table.Allocations[name] = a
	return n.writeAddresses(table)
}

// Release frees the address of container name. Releasing a name without an
// allocation does nothing. It takes ROOT/network.lock.
func (n *Network) Release(name string) error {
	l, err := n.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()

	table, err := n.readAddresses()
	if err != nil {
		return err
	}
	if _, ok := table.Allocations[name]; !ok {
		return nil
	}
	delete(table.Allocations, name)
	return n.writeAddresses(table)
}

// Allocation returns the allocation of container name and whether it exists. It
// reads without the lock, which is safe because the file is replaced atomically.
func (n *Network) Allocation(name string) (Allocation, bool, error) {
	table, err := n.readAddresses()
	if err != nil {
		return Allocation{}, false, err
	}
	a, ok := table.Allocations[name]
	return a, ok, nil
}

// Allocations returns every allocation sorted by address, read without the lock
// like Allocation.
func (n *Network) Allocations() ([]Allocation, error) {
	table, err := n.readAddresses()
	if err != nil {
		return nil, err
	}
	return sortedAllocations(table.Allocations), nil
}

func sortedAllocations(m map[string]Allocation) []Allocation {
	out := make([]Allocation, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address.Less(out[j].Address) })
	return out
}

// freeAddress returns the lowest address of subnet that is not the network,
// the bridge (the first address) or the broadcast address, and not in used.
func freeAddress(subnet netip.Prefix, used map[string]Allocation) (netip.Addr, bool) {
	taken := make(map[netip.Addr]bool, len(used))
	for _, a := range used {
		taken[a.Address] = true
	}
	broadcast := lastAddress(subnet)
	for addr := subnet.Addr().Next().Next(); addr.Less(broadcast); addr = addr.Next() {
		if !taken[addr] {
			return addr, true
		}
	}
	return netip.Addr{}, false
}

// lastAddress returns the broadcast address of an IPv4 subnet.
func lastAddress(subnet netip.Prefix) netip.Addr {
	host := uint32(1)<<(32-subnet.Bits()) - 1
	return addrFrom32(be32(subnet.Addr()) | host)
}

// freeLinkID returns the first id derived for name that no other allocation
// uses.
func (n *Network) freeLinkID(name string, used map[string]Allocation) (string, error) {
	ids := make(map[string]bool, len(used))
	for _, a := range used {
		ids[a.ID] = true
	}
	for attempt := 0; attempt < maxLinkIDAttempts; attempt++ {
		if id := linkID(n.root, name, attempt); !ids[id] {
			return id, nil
		}
	}
	return "", fmt.Errorf("no free link id for %q after %d attempts", name, maxLinkIDAttempts)
}

// readAddresses reads the address table, which must belong to the subnet in
// network.json unless it is empty.
func (n *Network) readAddresses() (*addressTable, error) {
	table, err := n.readTable()
	if err != nil {
		return nil, err
	}
	if len(table.Allocations) > 0 && table.Subnet != n.cfg.Subnet {
		// Renumber writes the table before network.json, so a renumbering
		// cut short leaves this mismatch, and running it again finishes it.
		return nil, usererr.New(usererr.Failed, "ErrNetRenumberCut", "Path", n.addressesPath(),
			"Subnet", table.Subnet.String(), "Current", n.cfg.Subnet.String())
	}
	return table, nil
}

// readTable reads the address table whatever its subnet.
func (n *Network) readTable() (*addressTable, error) {
	table := &addressTable{Version: ConfigVersion, Subnet: n.cfg.Subnet, Allocations: map[string]Allocation{}}
	data, err := os.ReadFile(n.addressesPath())
	if errors.Is(err, os.ErrNotExist) {
		return table, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, table); err != nil {
		return nil, usererr.Wrap(err, usererr.Failed, "ErrNetFileCorrupt", "Path", n.addressesPath())
	}
	if table.Version > ConfigVersion {
		return nil, usererr.New(usererr.Failed, "ErrNetFileVersion", "Path", n.addressesPath(), "Version", table.Version)
	}
	if table.Allocations == nil {
		table.Allocations = map[string]Allocation{}
	}
	return table, nil
}

func (n *Network) writeAddresses(table *addressTable) error {
	return n.writeTable(table, n.cfg.Subnet)
}

// writeTable writes table for subnet, which may differ from network.json's
// while the subnet changes.
func (n *Network) writeTable(table *addressTable, subnet netip.Prefix) error {
	table.Version = ConfigVersion
	table.Subnet = subnet
	if err := fsutil.WriteJSONAtomic(n.addressesPath(), table, 0o644); err != nil {
		return err
	}
	return n.writePhoneBook(table)
}

// liveAllocations returns the allocations in table of containers that exist,
// sorted by address. See SetExists.
func (n *Network) liveAllocations(table *addressTable) []Allocation {
	var live []Allocation
	for _, a := range sortedAllocations(table.Allocations) {
		if n.exists == nil || n.exists(a.Name) {
			live = append(live, a)
		}
	}
	return live
}

// InUse returns the allocations of containers that exist (see SetExists),
// sorted by address and read without the lock like Allocation.
func (n *Network) InUse() ([]Allocation, error) {
	table, err := n.readAddresses()
	if err != nil {
		return nil, err
	}
	return n.liveAllocations(table), nil
}

// Orphans returns the allocations of containers that do not exist (see
// SetExists), sorted by address. Without an exists function there are none.
func (n *Network) Orphans() ([]Allocation, error) {
	table, err := n.readAddresses()
	if err != nil || n.exists == nil {
		return nil, err
	}
	var orphans []Allocation
	for _, a := range sortedAllocations(table.Allocations) {
		if !n.exists(a.Name) {
			orphans = append(orphans, a)
		}
	}
	return orphans, nil
}

// validateContainerName accepts the DNS labels that the runtime allows as
// container names, because the name goes into /etc/hosts unquoted.
func validateContainerName(name string) error {
	if name == "" || len(name) > 63 || name[0] == '-' || name[len(name)-1] == '-' {
		return usererr.New(usererr.Usage, "ErrNetContainerName", "Name", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return usererr.New(usererr.Usage, "ErrNetContainerName", "Name", name)
		}
	}
	return nil
}
