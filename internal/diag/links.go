package diag

import (
	"errors"
	"net/netip"
	"slices"

	"github.com/rt-lab/rt-lab/network"
)

// linkInfo is one network interface of the host's network namespace.
type linkInfo struct {
	Name   string
	Type   string // "veth", "bridge", ...
	Master string // name of the bridge it is attached to, or ""
	Up     bool   // administratively up (IFF_UP)
	Addrs  []netip.Prefix
}

// linkView reads the host's network interfaces. The real one uses netlink;
// tests use a map.
type linkView interface {
	// Link returns the link called name; ok is false when there is none.
	Link(name string) (l linkInfo, ok bool, err error)
	// Ports lists the names of the links attached to bridge.
	Ports(bridge string) ([]string, error)
}

// checkBridge reports the bridge of root's network. A root without network.json
// or a bridge not created yet is fine: the first start of a container makes both.
func checkBridge(root string, links linkView) Check {
	c := Check{ID: CheckBridge, Verdict: OK}
	n, err := network.Load(root)
	if errors.Is(err, network.ErrNotConfigured) {
		c.Value = msg("DebugValueBridgeNone")
		return c
	}
	if err != nil {
		c.Verdict = Missing
		c.Value = errorValue(err)
		c.Fix = msg("DebugFixNetFile", "Root", root)
		return c
	}
	cfg := n.Config()
	gateway := netip.PrefixFrom(cfg.Gateway, cfg.Subnet.Bits()).String()
	l, ok, err := links.Link(cfg.Bridge)
	switch {
	case err != nil:
		c.Verdict, c.Value = Warning, errorValue(err)
	case !ok:
		c.Value = msg("DebugValueBridgeAbsent", "Bridge", cfg.Bridge, "Address", gateway)
	case l.Type != "bridge":
		c.Verdict = Missing
		c.Value = msg("DebugValueBridgeType", "Bridge", cfg.Bridge, "Type", l.Type)
		c.Fix = msg("DebugFixBridgeTaken", "Bridge", cfg.Bridge)
	case !slices.Contains(l.Addrs, netip.MustParsePrefix(gateway)) || !l.Up:
		c.Verdict = Warning
		c.Value = msg("DebugValueBridgeBroken", "Bridge", cfg.Bridge, "Address", gateway, "Up", l.Up)
		c.Fix = msg("DebugFixBridgeRepair")
	default:
		c.Value = msg("DebugValueBridge", "Bridge", cfg.Bridge, "Address", gateway)
	}
	return c
}
