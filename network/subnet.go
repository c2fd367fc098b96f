package network

import (
	"crypto/sha256"
	"fmt"
	"net/netip"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// Subnet size limits as prefix lengths. A /30 holds the network, the bridge, one
// container and the broadcast address, so /31 and /32 hold no container. A /16
// holds 65533 containers, far more than one machine runs.
const (
	MinPrefixLen = 16
	MaxPrefixLen = 30
)

// privateRanges are the IPv4 ranges of RFC 1918. A subnet outside them would
// hide real hosts of the internet behind the bridge.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// ParseSubnet parses an IPv4 network in CIDR form inside an RFC 1918 range with a
// prefix length from MinPrefixLen to MaxPrefixLen. An address with host bits set,
// such as 10.0.0.5/24, is rejected with the network address as the fix.
func ParseSubnet(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, usererr.New(usererr.Usage, "ErrNetSubnetInvalid", "Subnet", s)
	}
	if p.Bits() > MaxPrefixLen {
		return netip.Prefix{}, usererr.New(usererr.Usage, "ErrNetSubnetTooSmall", "Subnet", s, "Max", MaxPrefixLen)
	}
	if p.Bits() < MinPrefixLen {
		return netip.Prefix{}, usererr.New(usererr.Usage, "ErrNetSubnetTooLarge", "Subnet", s, "Min", MinPrefixLen)
	}
	if p.Masked() != p {
		return netip.Prefix{}, usererr.New(usererr.Usage, "ErrNetSubnetNotNetwork", "Subnet", s, "Network", p.Masked().String())
	}
	if !isPrivate(p) {
		return netip.Prefix{}, usererr.New(usererr.Usage, "ErrNetSubnetNotPrivate", "Subnet", s)
	}
	return p, nil
}

func isPrivate(p netip.Prefix) bool {
	for _, r := range privateRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// Route is a host route as far as overlap checks need it.
type Route struct {
	Dst  netip.Prefix
	Link string // name of the outgoing link; empty when unknown
}

// findOverlap returns the first route in routes whose destination overlaps
// subnet. Default routes overlap everything and are skipped, and so are routes
// on bridge, which are the network's own.
func findOverlap(subnet netip.Prefix, bridge string, routes []Route) (Route, bool) {
	for _, r := range routes {
		if !r.Dst.IsValid() || r.Dst.Bits() == 0 || (bridge != "" && r.Link == bridge) {
			continue
		}
		if subnet.Overlaps(r.Dst) {
			return r, true
		}
	}
	return Route{}, false
}

// overlapError builds the usage error for subnet overlapping route, with a free
// subnet of the same size as the suggested fix.
func overlapError(subnet netip.Prefix, bridge string, route Route, routes []Route) error {
	suggest, ok := suggestSubnet(subnet.Bits(), bridge, routes)
	if !ok {
		return usererr.New(usererr.Usage, "ErrNetSubnetOverlapNoFree",
			"Subnet", subnet.String(), "Route", route.Dst.String(), "Link", route.Link)
	}
	return usererr.New(usererr.Usage, "ErrNetSubnetOverlap",
		"Subnet", subnet.String(), "Route", route.Dst.String(), "Link", route.Link, "Suggest", suggest.String())
}

// suggestSubnet returns the first subnet with prefix length bits inside the
// private ranges that overlaps none of routes.
func suggestSubnet(bits int, bridge string, routes []Route) (netip.Prefix, bool) {
	for _, r := range privateRanges {
		if bits < r.Bits() {
			continue
		}
		step := uint32(1) << (32 - bits)
		start := be32(r.Addr())
		count := uint32(1) << (bits - r.Bits())
		for i := uint32(0); i < count; i++ {
			p := netip.PrefixFrom(addrFrom32(start+i*step), bits)
			if _, overlaps := findOverlap(p, bridge, routes); !overlaps {
				return p, true
			}
		}
	}
	return netip.Prefix{}, false
}

func be32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrFrom32(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// checkSubnetFree rejects subnet when a host route other than bridge's own
// overlaps it.
func checkSubnetFree(subnet netip.Prefix, bridge string) error {
	routes, err := HostRoutes()
	if err != nil {
		return err
	}
	if r, ok := findOverlap(subnet, bridge, routes); ok {
		return overlapError(subnet, bridge, r, routes)
	}
	return nil
}

// checkStoredSubnetFree is checkSubnetFree for the subnet in network.json, as
// before the bridge is made again after a reboot. Its error names
// `rt-lab network set-subnet` as the fix, because the subnet of a complex
// with houses cannot change with --subnet.
func checkStoredSubnetFree(subnet netip.Prefix, bridge string) error {
	routes, err := HostRoutes()
	if err != nil {
		return err
	}
	r, ok := findOverlap(subnet, bridge, routes)
	if !ok {
		return nil
	}
	suggest, ok := suggestSubnet(subnet.Bits(), bridge, routes)
	if !ok {
		return usererr.New(usererr.Usage, "ErrNetSubnetTakenNoFree",
			"Subnet", subnet.String(), "Route", r.Dst.String(), "Link", r.Link)
	}
	return usererr.New(usererr.Usage, "ErrNetSubnetTaken",
		"Subnet", subnet.String(), "Route", r.Dst.String(), "Link", r.Link, "Suggest", suggest.String())
}

// FreeSubnet returns a /24 inside 10.0.0.0/8 that overlaps no host route. The
// search starts at a /24 derived from the SHA-256 of seed, so tests that pass
// their own temporary folder get distinct subnets even before either has made
// its bridge, unless two hashes meet in 16 bits.
func FreeSubnet(seed string) (netip.Prefix, error) {
	routes, err := HostRoutes()
	if err != nil {
		return netip.Prefix{}, err
	}
	p, ok := freeSubnetFrom(seed, routes)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("no /24 in 10.0.0.0/8 is free of host routes")
	}
	return p, nil
}

func freeSubnetFrom(seed string, routes []Route) (netip.Prefix, bool) {
	sum := sha256.Sum256([]byte(seed))
	start := uint32(sum[0])<<8 | uint32(sum[1])
	for i := uint32(0); i < 1<<16; i++ {
		slot := (start + i) & 0xffff
		p := netip.PrefixFrom(addrFrom32(10<<24|slot<<8), 24)
		if _, overlaps := findOverlap(p, "", routes); !overlaps {
			return p, true
		}
	}
	return netip.Prefix{}, false
}
