package network

import (
	"testing"
)

func TestReadTopology(t *testing.T) {
	enterNewNetns(t)
	n, err := Open(t.TempDir(), Options{Subnet: "10.0.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	bogorPID, depokPID := startInNewNetns(t), startInNewNetns(t)
	bogor := mustAttach(t, n, "rumah-bogor", bogorPID)
	depok := mustAttach(t, n, "rumah-depok", depokPID)

	// depok's namespace is not given, so its port has no peer.
	topo, err := ReadTopology(n.Config().Bridge, []int{bogorPID, 999999999})
	if err != nil {
		t.Fatal(err)
	}
	if !topo.Present || !topo.Up {
		t.Errorf("bridge present %v, up %v; want both", topo.Present, topo.Up)
	}
	if len(topo.Addresses) != 1 || topo.Addresses[0] != n.gatewayPrefix() {
		t.Errorf("bridge addresses %v, want %s", topo.Addresses, n.gatewayPrefix())
	}
	ports := map[string]Port{}
	for _, p := range topo.Ports {
		ports[p.Name] = p
	}
	if len(ports) != 2 {
		t.Fatalf("ports %+v, want the two houses' host ends", topo.Ports)
	}
	b, d := ports[bogor.HostLink()], ports[depok.HostLink()]
	if b.Type != "veth" || !b.Up {
		t.Errorf("port %s: type %s, up %v; want an up veth", b.Name, b.Type, b.Up)
	}
	if b.Peer == nil {
		t.Fatalf("port %s has no peer, want eth0 of pid %d", b.Name, bogorPID)
	}
	if b.Peer.PID != bogorPID || b.Peer.Name != ContainerLink || !b.Peer.Up {
		t.Errorf("peer of %s = %+v, want an up %s in pid %d", b.Name, b.Peer, ContainerLink, bogorPID)
	}
	want := n.Config().Subnet
	if len(b.Peer.Addresses) != 1 || b.Peer.Addresses[0].Addr() != bogor.Address || b.Peer.Addresses[0].Bits() != want.Bits() {
		t.Errorf("peer addresses %v, want %s/%d", b.Peer.Addresses, bogor.Address, want.Bits())
	}
	if d.Peer != nil {
		t.Errorf("port %s has peer %+v, but depok's pid was not given", d.Name, d.Peer)
	}

	// Both namespaces number their eth0 alike, so only the namespace id
	// distinguishes the two peers.
	topo, err = ReadTopology(n.Config().Bridge, []int{depokPID, bogorPID})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range topo.Ports {
		wantPID := map[string]int{bogor.HostLink(): bogorPID, depok.HostLink(): depokPID}[p.Name]
		if p.Peer == nil || p.Peer.PID != wantPID {
			t.Errorf("port %s: peer %+v, want pid %d", p.Name, p.Peer, wantPID)
		}
	}

	if err := n.RemoveBridge(true); err != nil {
		t.Fatal(err)
	}
	topo, err = ReadTopology(n.Config().Bridge, nil)
	if err != nil || topo.Present {
		t.Errorf("after RemoveBridge: present %v, error %v; want absent", topo.Present, err)
	}
}
