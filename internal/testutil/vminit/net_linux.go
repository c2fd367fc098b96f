package vminit

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// hostLink is the name of the dummy device that replaces a host's network card.
const hostLink = "eth0"

// setupNetwork brings lo up, as systemd does, and adds the dummy device eth0,
// so the machine's network namespace looks like a host's: lo and one card.
// The machine itself has no network card (qemu -nic none), and a dummy device
// sends nothing anywhere.
func setupNetwork() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	dummy := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: hostLink}}
	if err := netlink.LinkAdd(dummy); err != nil {
		return fmt.Errorf("add dummy device %s: %w", hostLink, err)
	}
	if err := netlink.LinkSetUp(dummy); err != nil {
		return fmt.Errorf("set %s up: %w", hostLink, err)
	}
	return nil
}
