package network

import "github.com/vishvananda/netlink"

// SetNAT turns NAT for the subnet on or off and stores the choice in
// network.json. Turning it on installs the masquerade rule at once when the
// bridge exists, and otherwise at the next EnsureBridge. Turning it off removes
// the rule and keeps the isolation rules. It takes ROOT/network.lock.
func (n *Network) SetNAT(on bool) error {
	l, err := n.lockConfig()
	if err != nil {
		return err
	}
	defer l.Unlock()
	if n.cfg.NAT != on {
		n.cfg.NAT = on
		if err := n.writeConfig(); err != nil {
			return err
		}
	}
	if _, err := netlink.LinkByName(n.cfg.Bridge); isLinkNotFound(err) {
		if on {
			return nil // EnsureBridge installs the rules with the bridge
		}
		return n.removeRulesLeniently()
	}
	if err := n.installRules(); err != nil {
		return err
	}
	if on {
		return nil
	}
	if err := n.disableForward(); err != nil {
		return n.natError(err)
	}
	return nil
}
