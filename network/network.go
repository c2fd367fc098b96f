// Package network connects containers to one bridge per state folder. It keeps
// the subnet and bridge name in ROOT/network.json and one IPv4 address per
// container in ROOT/network-addresses.json. It creates the bridge and the veth
// pairs with netlink, renders /etc/hosts, and installs optional NAT with
// nftables.
//
// Every read-modify-write of the two files happens under an exclusive flock on
// ROOT/network.lock, which this package takes itself. A caller that also holds
// the runtime's lock (ROOT/lock) must take that one first, so the order is
// always ROOT/lock, then ROOT/network.lock, and two processes never deadlock.
package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// DefaultSubnet is the subnet of a state folder whose first use names none.
const DefaultSubnet = "10.0.0.0/24"

// ConfigVersion is the version of network.json and network-addresses.json; a
// newer file is rejected.
const ConfigVersion = 1

// File names under the state folder.
const (
	configFile    = "network.json"
	addressesFile = "network-addresses.json"
	lockFile      = "network.lock"
)

// ErrNotConfigured is returned by Load when the state folder has no network.json
// yet. It wraps os.ErrNotExist.
var ErrNotConfigured = fmt.Errorf("network not configured: %w", os.ErrNotExist)

// Config is the network of one state folder, stored in ROOT/network.json.
type Config struct {
	Version int          `json:"version"`
	Subnet  netip.Prefix `json:"subnet"`  // for example 10.0.0.0/24
	Gateway netip.Addr   `json:"gateway"` // the bridge's address, the first in Subnet
	Bridge  string       `json:"bridge"`  // bridge link name, at most 15 bytes
	NAT     bool         `json:"nat"`     // masquerade traffic leaving the subnet
	// IPForwardChanged is set only by older rt-lab versions, which recorded
	// here that NAT switched net.ipv4.ip_forward from 0 to 1. The record
	// under /run/rt-lab/ip-forward replaces it; disableForward honours the
	// field once and clears it.
	IPForwardChanged bool `json:"ip_forward_changed,omitempty"`
}

// Options choose the network at the first use of a state folder.
type Options struct {
	Subnet string // CIDR such as 10.0.0.0/24; empty keeps the stored one or uses DefaultSubnet
	Bridge string // bridge link name; empty keeps the stored one or derives it from the root
	// Exists reports whether container name exists. See SetExists; nil counts
	// every allocation.
	Exists func(name string) bool
}

// Network is the network of one state folder.
type Network struct {
	root   string
	cfg    Config
	exists func(name string) bool
}

// Root returns the state folder.
func (n *Network) Root() string { return n.root }

// Config returns the stored configuration.
func (n *Network) Config() Config { return n.cfg }

// SetExists makes n count only the allocations of containers for which exists
// returns true when it decides whether the subnet, the bridge name or the
// bridge is in use. The other allocations are orphans, such as the address of a
// container whose folder a crash removed. They still hold their address, so no
// container gets it twice, but they block nothing. With nil, the default,
// every allocation counts.
func (n *Network) SetExists(exists func(name string) bool) { n.exists = exists }

func (n *Network) configPath() string    { return filepath.Join(n.root, configFile) }
func (n *Network) addressesPath() string { return filepath.Join(n.root, addressesFile) }

// lock takes the exclusive lock on ROOT/network.lock.
func (n *Network) lock() (*fsutil.Lock, error) {
	return lockRoot(n.root)
}

// lockConfig takes ROOT/network.lock and reads network.json under it. The
// caller unlocks the returned lock.
func (n *Network) lockConfig() (*fsutil.Lock, error) {
	l, err := n.lock()
	if err != nil {
		return nil, err
	}
	if err := n.readConfig(); err != nil {
		l.Unlock()
		return nil, err
	}
	return l, nil
}

// lockTable is lockConfig that also reads the address table.
func (n *Network) lockTable() (*fsutil.Lock, *addressTable, error) {
	l, err := n.lockConfig()
	if err != nil {
		return nil, nil, err
	}
	table, err := n.readAddresses()
	if err != nil {
		l.Unlock()
		return nil, nil, err
	}
	return l, table, nil
}

func lockRoot(root string) (*fsutil.Lock, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return fsutil.LockFile(filepath.Join(root, lockFile), true)
}

// Load returns the network of root as stored. It changes nothing and returns
// ErrNotConfigured when root has no network.json.
func Load(root string) (*Network, error) {
	n := &Network{root: filepath.Clean(root)}
	if err := n.readConfig(); err != nil {
		return nil, err
	}
	return n, nil
}

// Open returns the network of root and writes network.json at first use. The
// first use is any call while no container has an address, so opts.Subnet and
// opts.Bridge may change the network until the first Allocate. Later a different
// subnet or bridge is a usage error. A new subnet is checked against the host's
// routes.
func Open(root string, opts Options) (*Network, error) {
	root = filepath.Clean(root)
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("network root %q is not an absolute path", root)
	}
	want, err := configFromOptions(root, opts)
	if err != nil {
		return nil, err
	}

	l, err := lockRoot(root)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()

	n := &Network{root: root, exists: opts.Exists}
	err = n.readConfig()
	if err != nil && !errors.Is(err, ErrNotConfigured) {
		return nil, err
	}
	if err == nil {
		merged, changed, err := n.mergeOptions(opts, want)
		if err != nil || !changed {
			return n, err
		}
		want = merged
	}
	if err := checkSubnetFree(want.Subnet, want.Bridge); err != nil {
		return nil, err
	}
	if n.cfg.Subnet.IsValid() && want.Subnet != n.cfg.Subnet {
		if err := n.dropOrphans(want.Subnet); err != nil {
			return nil, err
		}
	}
	n.cfg = want
	if err := n.writeConfig(); err != nil {
		return nil, err
	}
	return n, nil
}

// configFromOptions validates opts and fills in the defaults.
func configFromOptions(root string, opts Options) (Config, error) {
	subnet := opts.Subnet
	if subnet == "" {
		subnet = DefaultSubnet
	}
	prefix, err := ParseSubnet(subnet)
	if err != nil {
		return Config{}, err
	}
	bridge := opts.Bridge
	if bridge == "" {
		bridge = BridgeName(root)
	}
	if err := ValidateLinkName(bridge); err != nil {
		return Config{}, err
	}
	return Config{
		Version: ConfigVersion,
		Subnet:  prefix,
		Gateway: prefix.Addr().Next(),
		Bridge:  bridge,
	}, nil
}

// mergeOptions applies the options that were given to the stored config. It
// reports whether the config changes, and rejects a change while containers hold
// addresses. Orphan allocations (see SetExists) do not block a change: a new
// subnet drops them, because their addresses lie outside it.
func (n *Network) mergeOptions(opts Options, want Config) (Config, bool, error) {
	merged := n.cfg
	if opts.Subnet != "" {
		merged.Subnet = want.Subnet
		merged.Gateway = want.Gateway
	}
	if opts.Bridge != "" {
		merged.Bridge = want.Bridge
	}
	if merged.Subnet == n.cfg.Subnet && merged.Bridge == n.cfg.Bridge {
		return n.cfg, false, nil
	}
	table, err := n.readAddresses()
	if err != nil {
		return Config{}, false, err
	}
	if live := n.liveAllocations(table); len(live) > 0 {
		if merged.Subnet != n.cfg.Subnet {
			return Config{}, false, usererr.New(usererr.Usage, "ErrNetSubnetInUse",
				"Subnet", merged.Subnet.String(), "Current", n.cfg.Subnet.String(), "Count", len(live))
		}
		return Config{}, false, usererr.New(usererr.Usage, "ErrNetBridgeInUseRename",
			"Bridge", merged.Bridge, "Current", n.cfg.Bridge, "Count", len(live))
	}
	return merged, true, nil
}

// dropOrphans empties the address table before the subnet changes to subnet.
// mergeOptions has checked that only orphans are in it, whose addresses lie
// outside the new subnet. The table goes first, because a table that holds
// allocations must match the subnet in network.json.
func (n *Network) dropOrphans(subnet netip.Prefix) error {
	table, err := n.readAddresses()
	if err != nil || len(table.Allocations) == 0 {
		return err
	}
	empty := &addressTable{Allocations: map[string]Allocation{}}
	return n.writeTable(empty, subnet)
}

func (n *Network) readConfig() error {
	data, err := os.ReadFile(n.configPath())
	if errors.Is(err, os.ErrNotExist) {
		return ErrNotConfigured
	}
	if err != nil {
		return err
	}
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrNetFileCorrupt", "Path", n.configPath())
	}
	if cfg.Version > ConfigVersion {
		return usererr.New(usererr.Failed, "ErrNetFileVersion", "Path", n.configPath(), "Version", cfg.Version)
	}
	if err := validateConfig(cfg); err != nil {
		return usererr.Wrap(err, usererr.Failed, "ErrNetFileCorrupt", "Path", n.configPath())
	}
	n.cfg = cfg
	return nil
}

// validateConfig checks a config read from disk, which a user may have edited.
func validateConfig(cfg Config) error {
	if _, err := ParseSubnet(cfg.Subnet.String()); err != nil {
		return err
	}
	if cfg.Gateway != cfg.Subnet.Addr().Next() {
		return fmt.Errorf("gateway %s is not the first address of subnet %s", cfg.Gateway, cfg.Subnet)
	}
	return ValidateLinkName(cfg.Bridge)
}

func (n *Network) writeConfig() error {
	if err := fsutil.WriteJSONAtomic(n.configPath(), n.cfg, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", n.configPath(), err)
	}
	return nil
}
