package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// subnetLockPath is the machine-wide lock held while a root chooses its subnet
// and creates the bridge that claims it. Each root has its own network lock,
// but another root sees a subnet only once its bridge adds a route, so without
// this lock two roots at first use would both take the default subnet. A
// variable so that tests can move it.
var subnetLockPath = "/run/rt-lab/subnet.lock"

func lockSubnets() (*fsutil.Lock, error) {
	if err := os.MkdirAll(filepath.Dir(subnetLockPath), 0o755); err != nil {
		return nil, err
	}
	return fsutil.LockFile(subnetLockPath, true)
}

// openNetwork returns the root's network configuration, writing it at first
// use. The caller holds the subnet lock.
//
// An explicit subnet goes to network.Open, which rejects one that overlaps a
// host route, and a change of subnet while a container has an address. Without
// one, the stored subnet (or network.DefaultSubnet at first use) is kept. But
// a host route, such as another root's bridge or a VPN, may overlap it. While
// no container has an address, such a subnet is replaced by a free /24
// derived from the root's path.
func (r *Runtime) openNetwork(subnet string) (*network.Network, error) {
	if subnet != "" {
		return network.Open(r.root, network.Options{Subnet: subnet, Exists: r.houseExists})
	}
	want, bridge := network.DefaultSubnet, network.BridgeName(r.root)
	n, err := r.loadNetwork()
	switch {
	case errors.Is(err, network.ErrNotConfigured):
	case err != nil:
		return nil, err
	default:
		live, err := n.InUse()
		if err != nil {
			return nil, err
		}
		if len(live) > 0 {
			return n, nil
		}
		want, bridge = n.Config().Subnet.String(), n.Config().Bridge
	}
	free, err := keepOrFreeSubnet(r.root, want, bridge)
	if err != nil {
		return nil, err
	}
	return network.Open(r.root, network.Options{Subnet: free, Exists: r.houseExists})
}

// houseExists reports whether container name has a folder. An address whose
// container has none is an orphan (see network.Network.SetExists): it blocks
// no change of subnet and no removal of the bridge.
func (r *Runtime) houseExists(name string) bool {
	_, err := os.Lstat(r.ContainerDir(name))
	return err == nil
}

// loadNetwork is network.Load for the root, counting only the addresses of
// houses that exist.
func (r *Runtime) loadNetwork() (*network.Network, error) {
	n, err := network.Load(r.root)
	if err != nil {
		return nil, err
	}
	n.SetExists(r.houseExists)
	return n, nil
}

// keepOrFreeSubnet returns want when no host route overlaps it, except
// routes on bridge, which are the root's own, and default routes. Otherwise it
// returns network.FreeSubnet for the root.
func keepOrFreeSubnet(root, want, bridge string) (string, error) {
	prefix, err := network.ParseSubnet(want)
	if err != nil {
		return "", err
	}
	routes, err := network.HostRoutes()
	if err != nil {
		return "", err
	}
	for _, route := range routes {
		if route.Dst.Bits() == 0 || route.Link == bridge || !route.Dst.Overlaps(prefix) {
			continue
		}
		free, err := network.FreeSubnet(root)
		if err != nil {
			return "", err
		}
		slog.Debug("subnet taken, using a free one", "subnet", want, "route", route.Dst, "link", route.Link, "free", free)
		return free.String(), nil
	}
	return want, nil
}

// allocate reserves container name's address and link id and creates the
// bridge if it is missing, as after a reboot. When the bridge cannot be made,
// an address that allocate reserved itself is released again, so a rejected
// create leaves none behind. The caller holds the subnet lock.
func allocate(n *network.Network, name, hostname string) (network.Allocation, error) {
	_, had, err := n.Allocation(name)
	if err != nil {
		return network.Allocation{}, err
	}
	a, err := n.Allocate(name)
	if err != nil {
		return network.Allocation{}, err
	}
	if err := n.EnsureBridge(); err != nil {
		if !had {
			if rerr := n.Release(name); rerr != nil {
				slog.Warn("address not released", "container", name, "error", rerr)
			}
		}
		return network.Allocation{}, err
	}
	if err := n.SetHostname(name, hostname); err != nil {
		return network.Allocation{}, err
	}
	return a, nil
}

// reserveAddress is allocate for an existing container: it takes the subnet
// lock and opens the root's network first.
func (r *Runtime) reserveAddress(name, hostname string) (*network.Network, network.Allocation, error) {
	l, err := lockSubnets()
	if err != nil {
		return nil, network.Allocation{}, err
	}
	defer l.Unlock()
	n, err := r.openNetwork("")
	if err != nil {
		return nil, network.Allocation{}, err
	}
	a, err := allocate(n, name, hostname)
	return n, a, err
}

// disconnect removes container name's veth pair. With release it also frees
// the address and, when no container of the root has one left, removes the
// bridge, its nftables table, any veth left on it by a crash, and the phone
// book. Every step
// is safe to repeat, and a root without a network is left alone.
func (r *Runtime) disconnect(name string, release bool) error {
	n, err := r.loadNetwork()
	if errors.Is(err, network.ErrNotConfigured) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := n.Detach(name); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrNetDetachFailed", "Name", name)
	}
	if !release {
		return nil
	}
	if err := n.Release(name); err != nil {
		return err
	}
	live, err := n.InUse()
	if err != nil || len(live) > 0 {
		return err
	}
	if _, err := n.RemoveOrphanLinks(); err != nil {
		return err
	}
	if err := n.RemoveBridge(false); err != nil {
		return err
	}
	// No house is left to read the phone book. The next allocation writes it
	// again.
	return network.RemovePhoneBook(r.root)
}

// linkHosts makes c's /etc/hosts a symbolic link to the root's phone book
// (see network.LinkHosts). c must be stopped: the link is made in its overlay
// upper folder. In a house with a user namespace the link and the mount point
// belong to the house's root.
func (r *Runtime) linkHosts(c *Container) error {
	root := r.UpperDir(c.Name)
	if err := asHouseRoot(c, func() error { return network.LinkHosts(root) }); err != nil {
		return fmt.Errorf("link /etc/hosts of %s to the phone book: %w", c.Name, err)
	}
	return nil
}

// Network returns the network of the root as stored, counting only the
// addresses of houses that exist as in use. A root where no container was
// ever created returns network.ErrNotConfigured.
func (r *Runtime) Network() (*network.Network, error) {
	return r.loadNetwork()
}

// SetNAT turns outside access (masquerade of the root's subnet) on or off. At
// first use it configures the root's network as Create would, so the rule is
// installed with the bridge.
func (r *Runtime) SetNAT(on bool) error {
	l, err := r.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	sl, err := lockSubnets()
	if err != nil {
		return err
	}
	defer sl.Unlock()

	n, err := r.openNetwork("")
	if err != nil {
		return err
	}
	return n.SetNAT(on)
}

// RemoveBridge removes the root's bridge and its nftables table. It rejects
// the removal while any container has an address, unless force is set, which
// also deletes the veth pairs of running containers: they have no eth0 until
// their next start. The address of a container whose folder is gone does not
// count. A root without a network or bridge is not an error.
func (r *Runtime) RemoveBridge(force bool) error {
	l, err := r.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()

	n, err := r.loadNetwork()
	if errors.Is(err, network.ErrNotConfigured) {
		// The bridge may have outlived the root's network files.
		_, err := network.RemoveUnconfiguredBridge(r.root, force)
		return err
	}
	if err != nil {
		return err
	}
	return n.RemoveBridge(force)
}

// prepareNetwork gets c ready for a start. It reserves c's address, for a
// container created before rt-lab had a network, and recreates the bridge when
// it is missing, as after a reboot. It rewrites the phone book when a crash
// left it behind the address table. It links c's /etc/hosts to the phone book
// while c is stopped, which also moves a house of an older rt-lab, whose
// /etc/hosts is a file, to the phone book.
func (r *Runtime) prepareNetwork(c *Container) error {
	n, a, err := r.reserveAddress(c.Name, c.Hostname)
	if err != nil {
		return err
	}
	if c.Address != a.Address {
		c.Address = a.Address
		if err := r.save(c); err != nil {
			return err
		}
	}
	if err := n.UpdatePhoneBook(); err != nil {
		return err
	}
	return r.linkHosts(c)
}

// attach connects container name's init, pid, to the bridge: eth0 with its
// address and a default route via the bridge.
func (r *Runtime) attach(name string, pid int) error {
	n, err := network.Load(r.root)
	if err != nil {
		return err
	}
	return n.AttachPID(name, pid)
}
