package network

import (
	"bytes"
	"fmt"
)

// RenderHosts returns the /etc/hosts of container self with hostname: the
// loopback names, then self and every other container of all by name. When self
// has no allocation, its hostname points at 127.0.1.1 as on a host without a
// network.
func RenderHosts(self, hostname string, all []Allocation) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	own := false
	for _, a := range all {
		if a.Name != self {
			continue
		}
		own = true
		fmt.Fprintf(&b, "%s\t%s\n", a.Address, namesOf(self, hostname))
	}
	if !own {
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", namesOf(self, hostname))
	}
	for _, a := range all {
		if a.Name != self {
			fmt.Fprintf(&b, "%s\t%s\n", a.Address, a.Name)
		}
	}
	return b.Bytes()
}

func namesOf(name, hostname string) string {
	if hostname == "" || hostname == name {
		return name
	}
	return hostname + " " + name
}

// Hosts renders /etc/hosts for container name with hostname from the current
// allocations, read without the lock.
func (n *Network) Hosts(name, hostname string) ([]byte, error) {
	all, err := n.Allocations()
	if err != nil {
		return nil, err
	}
	return RenderHosts(name, hostname, all), nil
}
