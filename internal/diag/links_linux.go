package diag

import (
	"errors"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// netlinkView reads links from the host's network namespace with netlink.
type netlinkView struct{}

func (netlinkView) Link(name string) (linkInfo, bool, error) {
	l, err := netlink.LinkByName(name)
	if isLinkNotFound(err) {
		return linkInfo{}, false, nil
	}
	if err != nil {
		return linkInfo{}, false, err
	}
	info := linkInfo{Name: name, Type: l.Type(), Up: l.Attrs().Flags&net.FlagUp != 0}
	if idx := l.Attrs().MasterIndex; idx != 0 {
		if m, err := netlink.LinkByIndex(idx); err == nil {
			info.Master = m.Attrs().Name
		}
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return linkInfo{}, false, err
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		ones, _ := a.Mask.Size()
		if ok {
			info.Addrs = append(info.Addrs, netip.PrefixFrom(ip, ones))
		}
	}
	return info, true, nil
}

func (netlinkView) Ports(bridge string) ([]string, error) {
	br, err := netlink.LinkByName(bridge)
	if isLinkNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			names = append(names, l.Attrs().Name)
		}
	}
	return names, nil
}

func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}
