package cli

import (
	"errors"
	"net/netip"
	"sort"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// topology is the content of show-topology's drawing: the bridge and its
// ports as the kernel has them, each port with the house its other end leads
// to, and the houses that no port leads to.
type topology struct {
	Root   string
	Subnet netip.Prefix
	Kernel network.Topology
	Ports  []topologyPort
	// Unplugged are the houses without a cable on the bridge: stopped ones
	// with their reserved address, running ones whose cable is missing, and
	// broken ones. Sorted by name.
	Unplugged []topologyHouse
}

// topologyPort is one port of the bridge and the house at its other end;
// House is nil when no running house of the complex holds the other end.
type topologyPort struct {
	network.Port
	House *topologyHouse
}

type topologyHouse struct {
	Name    string
	State   runtime.Status
	PID     int          // of init, while the house runs
	Address netip.Addr   // reserved address, from the runtime's records
	EthName string       // the other end of the cable, read inside the house
	EthAddr netip.Prefix // its address, read inside the house
}

func (a *App) newTopologyCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "show-topology [--format text|dot]",
		Short:   a.P.T("TopologyShort", nil),
		Long:    a.P.T("TopologyLong", nil),
		Example: "  rt-lab show-topology\n  rt-lab show-topology --format dot | dot -Tsvg > kompleks.svg",
		Args:    cobra.NoArgs,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "dot" {
				return usererr.New(usererr.Usage, "ErrTopologyFormat", "Format", format)
			}
			return a.runTopology(format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", a.P.T("FlagTopologyFormat", nil))
	return cmd
}

func (a *App) runTopology(format string) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	n, err := r.Network()
	if errors.Is(err, network.ErrNotConfigured) {
		a.info(a.Stderr, "TopoNotConfigured", "Root", r.Root())
		if format == "dot" {
			return a.writeDOT(&topology{Root: r.Root()})
		}
		return nil
	}
	if err != nil {
		return err
	}
	topo, err := readTopology(r, n)
	if err != nil {
		return err
	}
	if format == "dot" {
		return a.writeDOT(topo)
	}
	return a.writeTree(topo)
}

// readTopology reads the bridge of n from the kernel and matches each port
// with the running house whose network namespace holds the other end.
func readTopology(r *runtime.Runtime, n *network.Network) (*topology, error) {
	cs, err := r.List()
	if err != nil {
		return nil, err
	}
	houses := make(map[int]*topologyHouse) // by PID of init
	var pids []int
	all := make([]*topologyHouse, 0, len(cs))
	for _, c := range cs {
		h := &topologyHouse{Name: c.Name, State: c.Status, Address: c.Address}
		if c.Status == runtime.StatusRunning {
			h.PID = c.PID
			houses[c.PID] = h
			pids = append(pids, c.PID)
		}
		all = append(all, h)
	}
	cfg := n.Config()
	kernel, err := network.ReadTopology(cfg.Bridge, pids)
	if err != nil {
		return nil, err
	}

	topo := &topology{Root: r.Root(), Subnet: cfg.Subnet, Kernel: kernel}
	plugged := map[*topologyHouse]bool{}
	for _, p := range kernel.Ports {
		tp := topologyPort{Port: p}
		if p.Peer != nil {
			if h := houses[p.Peer.PID]; h != nil && !plugged[h] {
				h.EthName = p.Peer.Name
				if len(p.Peer.Addresses) > 0 {
					h.EthAddr = p.Peer.Addresses[0]
				}
				tp.House = h
				plugged[h] = true
			}
		}
		topo.Ports = append(topo.Ports, tp)
	}
	sort.SliceStable(topo.Ports, func(i, j int) bool { return portOrder(topo.Ports[i]) < portOrder(topo.Ports[j]) })
	for _, h := range all {
		if !plugged[h] {
			topo.Unplugged = append(topo.Unplugged, *h)
		}
	}
	return topo, nil
}

// portOrder sorts ports by the name of their house, and ports that lead to
// no house last, by their own name.
func portOrder(p topologyPort) string {
	if p.House != nil {
		return "0" + p.House.Name
	}
	return "1" + p.Name
}
