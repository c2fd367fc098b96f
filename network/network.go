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
	// IPForwardChanged records that enabling NAT switched net.ipv4.ip_forward
	// from 0 to 1, so removing NAT may switch it back.
	IPForwardChanged bool `json:"ip_forward_changed,omitempty"`
}

// Options choose the network at the first use of a state folder.
type Options struct {
	Subnet string // CIDR such as 10.0.0.0/24; empty keeps the stored one or uses DefaultSubnet
	Bridge string // bridge link name; empty keeps the stored one or derives it from the root
}

// Network is the network of one state folder.
type Network struct {
	root string
	cfg  Config
}

// Root returns the state folder.
func (n *Network) Root() string { return n.root }

// Config returns the stored configuration.
func (n *Network) Config() Config { return n.cfg }

func (n *Network) configPath() string    { return filepath.Join(n.root, configFile) }
func (n *Network) addressesPath() string { return filepath.Join(n.root, addressesFile) }

// lock takes the exclusive lock on ROOT/network.lock.
func (n *Network) lock() (*fsutil.Lock, error) {
	return lockRoot(n.root)
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

	n := &Network{root: root}
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
// addresses.
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
	if len(table.Allocations) > 0 {
		if merged.Subnet != n.cfg.Subnet {
			return Config{}, false, usererr.New(usererr.Usage, "ErrNetSubnetInUse",
				"Subnet", merged.Subnet.String(), "Current", n.cfg.Subnet.String(), "Count", len(table.Allocations))
		}
		return Config{}, false, usererr.New(usererr.Usage, "ErrNetBridgeInUseRename",
			"Bridge", merged.Bridge, "Current", n.cfg.Bridge, "Count", len(table.Allocations))
	}
	return merged, true, nil
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
