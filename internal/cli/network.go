package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/network"
)

// networkJSON is the output of `network show --json`; its keys are stable.
type networkJSON struct {
	Configured    bool   `json:"configured"`
	Subnet        string `json:"subnet,omitempty"`
	Gateway       string `json:"gateway,omitempty"`
	Bridge        string `json:"bridge,omitempty"`
	BridgePresent bool   `json:"bridge_present"`
	NAT           bool   `json:"nat"`
	NATInstalled  bool   `json:"nat_installed"`
	// Isolated reports whether the forward rules that keep other complexes
	// away from the bridge are installed.
	Isolated bool               `json:"isolated"`
	Houses   []networkHouseJSON `json:"houses"`
}

type networkHouseJSON struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	HostLink    string `json:"host_link"`
	LinkPresent bool   `json:"link_present"`
	// Orphan marks an address whose house folder is gone, as after a delete
	// cut short. It blocks nothing; delete-container NAME --force frees it.
	Orphan bool `json:"orphan,omitempty"`
}

func (a *App) newNetworkCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network show|nat|set-subnet|remove-bridge",
		Short: a.P.T("NetworkShort", nil),
		Long:  a.P.T("NetworkLong", nil),
		Example: "  rt-lab network show\n  rt-lab network nat on\n" +
			"  rt-lab create-container rumah-jakarta --subnet 10.0.5.0/24\n" +
			"  rt-lab network set-subnet 10.0.6.0/24",
		Args: subcommandArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.newNetworkShowCmd(), a.newNetworkNATCmd(), a.newNetworkSetSubnetCmd(),
		a.newNetworkRemoveBridgeCmd())
	return cmd
}

func (a *App) newNetworkSetSubnetCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "set-subnet CIDR",
		Short:   a.P.T("NetworkSetSubnetShort", nil),
		Long:    a.P.T("NetworkSetSubnetLong", nil),
		Example: "  rt-lab network set-subnet 10.0.6.0/24",
		Args:    cobra.ArbitraryArgs,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usererr.New(usererr.Usage, "ErrSetSubnetArg", "Args", a.quoteArgs(args))
			}
			return a.runNetworkSetSubnet(args[0])
		},
	}
}

func (a *App) newNetworkShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "show [--json]",
		Short:   a.P.T("NetworkShowShort", nil),
		Args:    cobra.NoArgs,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runNetworkShow(asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, a.P.T("FlagJSON", nil))
	return cmd
}

func (a *App) newNetworkNATCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "nat on|off",
		Short:   a.P.T("NetworkNATShort", nil),
		Long:    a.P.T("NetworkNATLong", nil),
		Args:    cobra.ArbitraryArgs,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] != "on" && args[0] != "off" {
				return usererr.New(usererr.Usage, "ErrNATArg", "Args", a.quoteArgs(args))
			}
			return a.runNetworkNAT(args[0] == "on")
		},
	}
}

func (a *App) newNetworkRemoveBridgeCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "remove-bridge [--force]",
		Short:   a.P.T("NetworkRemoveBridgeShort", nil),
		Long:    a.P.T("NetworkRemoveBridgeLong", nil),
		Args:    cobra.NoArgs,
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runNetworkRemoveBridge(force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, a.P.T("FlagRemoveBridgeForce", nil))
	return cmd
}

func (a *App) runNetworkShow(asJSON bool) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	out := networkJSON{Houses: []networkHouseJSON{}}
	n, err := r.Network()
	switch {
	case errors.Is(err, network.ErrNotConfigured):
	case err != nil:
		return err
	default:
		if err := fillNetworkJSON(&out, n); err != nil {
			return err
		}
	}

	if asJSON {
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if !out.Configured {
		a.info(a.Stderr, "NetNotConfigured", "Default", network.DefaultSubnet)
		return nil
	}
	fmt.Fprintln(a.Stdout, a.P.Tf("NetShowSubnet", "Subnet", out.Subnet))
	fmt.Fprintln(a.Stdout, a.P.Tf("NetShowGateway", "Gateway", out.Gateway))
	fmt.Fprintln(a.Stdout, a.P.Tf("NetShowBridge", "Bridge", out.Bridge, "Present", out.BridgePresent))
	fmt.Fprintln(a.Stdout, a.P.Tf("NetShowNAT", "On", out.NAT, "Installed", out.NATInstalled))
	if out.BridgePresent {
		fmt.Fprintln(a.Stdout, a.P.Tf("NetShowIsolation", "On", out.Isolated))
	}
	if len(out.Houses) == 0 {
		return nil
	}
	fmt.Fprintln(a.Stdout)
	w := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, a.P.T("NetShowHeader", nil))
	for _, h := range out.Houses {
		cable := a.P.Tf("NetLinkPresent", "Present", h.LinkPresent)
		if h.Orphan {
			cable = a.P.Tf("NetOrphan", "Name", h.Name)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", h.Name, h.Address, h.HostLink, cable)
	}
	return w.Flush()
}

// fillNetworkJSON copies n's configuration and allocations into out, with
// what the kernel has: whether the bridge, each host link and the NAT rule
// exist.
func fillNetworkJSON(out *networkJSON, n *network.Network) error {
	cfg := n.Config()
	out.Configured = true
	out.Subnet, out.Gateway, out.Bridge = cfg.Subnet.String(), cfg.Gateway.String(), cfg.Bridge
	out.BridgePresent = linkExists(cfg.Bridge)
	out.NAT = cfg.NAT
	if out.BridgePresent {
		// A kernel without nf_tables has no rules to show, which the output
		// says; the rest of it is still worth showing.
		isolated, nat, err := n.RulesInstalled()
		if err != nil {
			slog.Warn("nftables rules not read", "error", err)
		}
		out.Isolated, out.NATInstalled = isolated, nat
	}
	all, err := n.Allocations()
	if err != nil {
		return err
	}
	orphans, err := n.Orphans()
	if err != nil {
		return err
	}
	orphan := map[string]bool{}
	for _, o := range orphans {
		orphan[o.Name] = true
	}
	for _, al := range all {
		out.Houses = append(out.Houses, networkHouseJSON{Name: al.Name, Address: al.Address.String(),
			HostLink: al.HostLink(), LinkPresent: linkExists(al.HostLink()), Orphan: orphan[al.Name]})
	}
	return nil
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

func (a *App) runNetworkNAT(on bool) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	if err := r.SetNAT(on); err != nil {
		return err
	}
	n, err := r.Network()
	if err != nil {
		return err
	}
	if on {
		a.info(a.Stderr, "NetNATOn", "Subnet", n.Config().Subnet)
	} else {
		a.info(a.Stderr, "NetNATOff", "Subnet", n.Config().Subnet)
	}
	return nil
}

func (a *App) runNetworkSetSubnet(subnet string) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	moved, err := r.SetSubnet(subnet)
	if err != nil {
		return err
	}
	n, err := r.Network()
	if err != nil {
		return err
	}
	cfg := n.Config()
	a.info(a.Stderr, "NetSubnetSet", "Subnet", cfg.Subnet, "Gateway", cfg.Gateway)
	for _, al := range moved {
		a.info(a.Stderr, "NetSubnetSetHouse", "Name", al.Name, "Address", al.Address)
	}
	return nil
}

func (a *App) runNetworkRemoveBridge(force bool) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}
	if err := r.RemoveBridge(force); err != nil {
		return err
	}
	a.info(a.Stderr, "NetBridgeRemoved")
	return nil
}
