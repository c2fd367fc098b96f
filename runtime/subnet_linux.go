package runtime

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// SetSubnet moves the complex to subnet and returns the houses' new addresses.
// Every house keeps its link id and gets an address in subnet, in the order of
// its old one. Its state file and the phone book follow, and the bridge, when it
// exists, gets the new gateway address. A root without a network gets subnet
// as its first one.
//
// Every house must be stopped, because a running house keeps its old address
// on eth0, and no house may be broken, because its state file cannot be
// rewritten. A subnet that a host route other than the bridge's uses is a
// usage error, as at create-container --subnet.
func (r *Runtime) SetSubnet(subnet string) ([]network.Allocation, error) {
	if _, err := network.ParseSubnet(subnet); err != nil {
		return nil, err
	}
	l, err := r.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	sl, err := lockSubnets()
	if err != nil {
		return nil, err
	}
	defer sl.Unlock()

	houses, err := r.stoppedHouses()
	if err != nil {
		return nil, err
	}
	n, err := r.loadNetwork()
	if errors.Is(err, network.ErrNotConfigured) {
		_, err = network.Open(r.root, network.Options{Subnet: subnet, Exists: r.houseExists})
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	moved, err := n.Renumber(subnet)
	if err != nil {
		return nil, err
	}

	// Both records below are rewritten at the house's next start too, so a
	// failure here is logged and does not undo the move.
	byName := make(map[string]network.Allocation, len(moved))
	for _, a := range moved {
		byName[a.Name] = a
	}
	for _, c := range houses {
		a, ok := byName[c.Name]
		if !ok {
			continue
		}
		c.Address = a.Address
		if err := r.save(c); err != nil {
			slog.Warn("state file not updated after the subnet moved", "container", c.Name, "error", err)
		}
	}
	return moved, nil
}

// stoppedHouses returns every house of the root, and rejects the move of the
// subnet while one runs, its init found by its state file or by its overlay,
// or while one is broken. The caller holds the lock.
func (r *Runtime) stoppedHouses() ([]*Container, error) {
	cs, err := r.List()
	if err != nil {
		return nil, err
	}
	var running, broken []string
	for _, c := range cs {
		switch c.Status {
		case StatusBroken:
			broken = append(broken, c.Name)
			continue
		case StatusRunning:
			running = append(running, c.Name)
			continue
		}
		_, _, found, err := r.findInit(c.Name)
		if err != nil {
			return nil, err
		}
		if found {
			running = append(running, c.Name)
		}
	}
	if len(running) > 0 {
		return nil, usererr.New(usererr.Usage, "ErrNetSetSubnetRunning", "Names", strings.Join(running, ", "))
	}
	if len(broken) > 0 {
		return nil, usererr.New(usererr.Usage, "ErrNetSetSubnetBroken", "Names", strings.Join(broken, ", "))
	}
	return cs, nil
}
