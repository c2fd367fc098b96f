package cli

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/rt-lab/rt-lab/runtime"
)

// treeNode is one line of the text tree and the lines below it.
type treeNode struct {
	label    string
	children []treeNode
}

// writeTree prints topo as a tree drawn with box-drawing characters: the
// bridge, each port with the house it leads to, then the houses without a
// cable.
func (a *App) writeTree(topo *topology) error {
	var b strings.Builder
	b.WriteString(a.P.Tf("TopoComplex", "Root", topo.Root, "Subnet", topo.subnet()) + "\n")
	root := treeNode{label: a.bridgeLabel(topo)}
	for _, p := range topo.Ports {
		port := treeNode{label: a.P.Tf("TopoPort", "Port", p.Name, "Type", p.Type, "Up", p.Up)}
		if p.House != nil {
			port.children = []treeNode{{label: a.pluggedLabel(p.House)}}
		} else {
			port.children = []treeNode{{label: a.P.T("TopoPeerUnknown", nil)}}
		}
		root.children = append(root.children, port)
	}
	if len(topo.Unplugged) > 0 {
		group := treeNode{label: a.P.T("TopoUnplugged", nil)}
		for i := range topo.Unplugged {
			group.children = append(group.children, treeNode{label: a.unpluggedLabel(&topo.Unplugged[i])})
		}
		root.children = append(root.children, group)
	}
	b.WriteString(root.label + "\n")
	writeChildren(&b, root.children, "")
	_, err := io.WriteString(a.Stdout, b.String())
	return err
}

func writeChildren(b *strings.Builder, children []treeNode, prefix string) {
	for i, c := range children {
		branch, indent := "├── ", "│   "
		if i == len(children)-1 {
			branch, indent = "└── ", "    "
		}
		b.WriteString(prefix + branch + c.label + "\n")
		writeChildren(b, c.children, prefix+indent)
	}
}

func (a *App) bridgeLabel(topo *topology) string {
	k := topo.Kernel
	if !k.Present {
		return a.P.Tf("TopoBridgeMissing", "Bridge", k.Bridge)
	}
	return a.P.Tf("TopoBridge", "Bridge", k.Bridge, "Addresses", joinPrefixes(k.Addresses), "Up", k.Up)
}

// pluggedLabel describes a running house at the end of a port, with the
// address read inside the house.
func (a *App) pluggedLabel(h *topologyHouse) string {
	addr := a.P.T("TopoNoAddress", nil)
	if h.EthAddr.IsValid() {
		addr = h.EthAddr.String()
	}
	return a.P.Tf("TopoHouseRunning", "Name", h.Name, "Link", h.EthName, "Address", addr, "PID", h.PID)
}

func (a *App) unpluggedLabel(h *topologyHouse) string {
	switch {
	case h.State == runtime.StatusBroken:
		_, command := a.suggestedCommand()
		return a.P.Tf("TopoHouseBroken", "Name", h.Name, "Command", command)
	case h.State == runtime.StatusRunning:
		return a.P.Tf("TopoHouseNoCable", "Name", h.Name, "PID", h.PID)
	case h.Address.IsValid():
		return a.P.Tf("TopoHouseStopped", "Name", h.Name, "Address", h.Address)
	}
	return a.P.Tf("TopoHouseNoAddress", "Name", h.Name)
}

// subnet returns the complex's subnet, or "" when it has no network yet.
func (topo *topology) subnet() string {
	if !topo.Subnet.IsValid() {
		return ""
	}
	return topo.Subnet.String()
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// writeDOT prints topo as an undirected Graphviz graph: the bridge as a box,
// each house as a house shape joined to it by its cable, named by both ends,
// and houses without a cable dashed, joined by a dotted line.
func (a *App) writeDOT(topo *topology) error {
	var b strings.Builder
	p := a.P
	b.WriteString("graph \"rt-lab\" {\n")
	fmt.Fprintf(&b, "\tlabel=%s;\n\tlabelloc=t;\n\tfontname=\"Helvetica\";\n",
		dotString(p.Tf("TopoDotTitle", "Root", topo.Root, "Subnet", topo.subnet())))
	b.WriteString("\tnode [fontname=\"Helvetica\"];\n\tedge [fontname=\"Helvetica\", fontsize=10];\n")

	k := topo.Kernel
	bridge := p.T("TopoDotBridgeMissing", nil)
	if k.Present {
		bridge = p.Tf("TopoDotBridge", "Addresses", joinPrefixes(k.Addresses), "Up", k.Up)
	}
	fmt.Fprintf(&b, "\tbridge [shape=box, style=\"rounded,filled\", fillcolor=\"#f3e7b3\", label=%s];\n",
		dotString(k.Bridge, bridge))
	for _, port := range topo.Ports {
		if port.House == nil {
			id := dotString("port:" + port.Name)
			fmt.Fprintf(&b, "\t%s [shape=box, style=dashed, label=%s];\n", id,
				dotString(port.Name, p.T("TopoDotNoHouse", nil)))
			fmt.Fprintf(&b, "\tbridge -- %s;\n", id)
			continue
		}
		h := port.House
		addr := p.T("TopoNoAddress", nil)
		if h.EthAddr.IsValid() {
			addr = h.EthAddr.String()
		}
		id := dotString("house:" + h.Name)
		fmt.Fprintf(&b, "\t%s [shape=house, label=%s];\n", id,
			dotString(h.Name, h.EthName+" "+addr, p.Tf("TopoDotRunning", "PID", h.PID)))
		fmt.Fprintf(&b, "\tbridge -- %s [label=%s];\n", id, dotString(port.Name+" ↔ "+h.EthName))
	}
	for _, h := range topo.Unplugged {
		id := dotString("house:" + h.Name)
		fmt.Fprintf(&b, "\t%s [shape=house, style=dashed, label=%s];\n", id, dotString(a.dotUnpluggedLines(h)...))
		fmt.Fprintf(&b, "\tbridge -- %s [style=dotted, color=gray, label=%s];\n", id,
			dotString(p.T("TopoDotUnplugged", nil)))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(a.Stdout, b.String())
	return err
}

func (a *App) dotUnpluggedLines(h topologyHouse) []string {
	p := a.P
	switch {
	case h.State == runtime.StatusBroken:
		return []string{h.Name, p.T("TopoDotBroken", nil)}
	case h.State == runtime.StatusRunning:
		return []string{h.Name, p.Tf("TopoDotNoCable", "PID", h.PID)}
	case h.Address.IsValid():
		return []string{h.Name, p.Tf("TopoDotReserved", "Address", h.Address), p.T("TopoDotStopped", nil)}
	}
	return []string{h.Name, p.T("TopoDotStopped", nil)}
}

// dotString quotes lines as one DOT string, with \n between them. DOT strings
// need only the double quote and the backslash escaped.
func dotString(lines ...string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	quoted := make([]string, len(lines))
	for i, l := range lines {
		quoted[i] = r.Replace(l)
	}
	return `"` + strings.Join(quoted, `\n`) + `"`
}
