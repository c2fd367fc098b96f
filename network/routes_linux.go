package network

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// HostRoutes lists the IPv4 routes of the host's network namespace in every
// routing table, so a subnet that a VPN routes through its own table counts too.
func HostRoutes() ([]Route, error) {
	filter := &netlink.Route{Table: 0} // with RT_FILTER_TABLE, table 0 means all tables
	list, err := retryDump(func() ([]netlink.Route, error) {
		return netlink.RouteListFiltered(netlink.FAMILY_V4, filter, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, fmt.Errorf("list host routes: %w", err)
	}
	names := map[int]string{}
	links, err := linkList()
	if err != nil {
		return nil, fmt.Errorf("list host links: %w", err)
	}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	var out []Route
	for _, r := range list {
		if r.Dst == nil {
			continue // a default route
		}
		ones, _ := r.Dst.Mask.Size()
		addr, ok := netip.AddrFromSlice(r.Dst.IP)
		if !ok {
			continue
		}
		out = append(out, Route{Dst: netip.PrefixFrom(addr.Unmap(), ones), Link: names[r.LinkIndex]})
	}
	return out, nil
}
