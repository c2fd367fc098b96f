package network

import (
	"errors"

	"github.com/vishvananda/netlink"
)

// dumpRetries bounds how often a netlink dump runs again after the kernel
// marked it interrupted (NLM_F_DUMP_INTR), because links, addresses or routes
// changed while it ran, as when another program adds a veth at that moment.
const dumpRetries = 10

// retryDump runs dump until it is not interrupted, at most dumpRetries times
// more. netlink returns the partial result with netlink.ErrDumpInterrupted,
// and the last one is returned with that error.
func retryDump[T any](dump func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) || attempt == dumpRetries {
			return v, err
		}
	}
}

// linkList is netlink.LinkList, retried when interrupted.
func linkList() ([]netlink.Link, error) { return retryDump(netlink.LinkList) }

// addrList is netlink.AddrList, retried when interrupted.
func addrList(link netlink.Link, family int) ([]netlink.Addr, error) {
	return retryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(link, family) })
}
