package checker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// The network checks read the kernel only: devices, addresses and routes over
// netlink inside a house's network namespace and on the host, sockets in
// /proc/PID/net, and reachability with packets the checker sends itself from
// inside the house. The runtime's records serve only to find a house's PID 1.

// houseLink is the device that connects a house to the bridge.
const houseLink = "eth0"

// netHouse finds house name's PID 1 and opens its network namespace, which
// must not be the checker's own: a check run from the host's namespace would
// grade the host. On failure it returns the failed Result to hand back
// directly. The caller closes the namespace.
func netHouse(env *Env, name, expected string) (*house, *houseNetns, []string, *Result) {
	p := env.printer()
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return nil, nil, nil, fail
	}
	n, err := openHouseNetns(h.PID)
	if err != nil {
		ev = append(ev, p.Tf("CheckSetnsError", "Kind", "net", "PID", h.PID, "Error", err.Error()))
		return nil, nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	hostNS, err := procfs.SelfNSInode("net")
	if err != nil {
		n.Close()
		ev = append(ev, p.Tf("CheckProcError", "Error", err.Error()))
		return nil, nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	if n.inode == hostNS {
		n.Close()
		ev = append(ev, p.Tf("CheckNSCompare", "Kind", "net", "House", nsLabel("net", n.inode),
			"Host", nsLabel("net", hostNS)), p.Tf("CheckNSShared", "Kind", "net"))
		return nil, nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	return h, n, ev, nil
}

// houseEth0 returns the house's eth0 and an evidence line that describes it,
// or fails when the house has no eth0.
func houseEth0(p *locales.Printer, name string, n *houseNetns, ev []string, expected string) (*ethLink, []string, *Result) {
	eth, err := n.link(houseLink)
	if err != nil {
		ev = append(ev, p.Tf("CheckSetnsError", "Kind", "net", "PID", n.pid, "Error", err.Error()))
		return nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	if eth == nil {
		links, err := n.links()
		listed := "?"
		if err == nil {
			listed = formatLinks(links)
		}
		ev = append(ev, p.Tf("CheckNetNoEth0", "Name", name, "NS", nsLabel("net", n.inode), "Links", listed))
		return nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	ev = append(ev, p.Tf("CheckNetEth0", "Name", name, "NS", nsLabel("net", n.inode), "Type", eth.Type,
		"State", upWord(eth.Up), "Addrs", formatPrefixes(eth.Addrs)))
	return eth, ev, nil
}

// houseAddress returns the house's eth0 with its first IPv4 address, or fails
// when eth0 or its address is missing.
func houseAddress(p *locales.Printer, name string, n *houseNetns, ev []string, expected string) (netip.Prefix, []string, *Result) {
	eth, ev, fail := houseEth0(p, name, n, ev, expected)
	if fail != nil {
		return netip.Prefix{}, nil, fail
	}
	if len(eth.Addrs) == 0 {
		ev = append(ev, p.Tf("CheckNetEth0NoAddr", "Name", name))
		return netip.Prefix{}, nil, &Result{Evidence: ev, Expected: expected}
	}
	return eth.Addrs[0], ev, nil
}

// hostCable finds the host end of the house's veth eth and the device it is
// attached to, which must be a bridge. It adds evidence for both.
func hostCable(p *locales.Printer, n *houseNetns, eth *ethLink, ev []string, expected string) (*hostEnd, []string, *Result) {
	if eth.Type != "veth" {
		ev = append(ev, p.Tf("CheckNetEth0NotVeth", "Type", eth.Type))
		return nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	if eth.PeerNetnsID < 0 {
		ev = append(ev, p.T("CheckNetPeerInHouse", nil))
		return nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	end, err := n.hostPeer(eth)
	if err != nil {
		ev = append(ev, p.Tf("CheckNetLinkError", "Error", err.Error()))
		return nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	if end == nil {
		ev = append(ev, p.Tf("CheckNetPeerMissing", "Index", eth.PeerIndex))
		return nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	ev = append(ev, p.Tf("CheckNetPeer", "Link", end.Name, "State", upWord(end.Up)))
	switch {
	case end.Master == nil:
		ev = append(ev, p.Tf("CheckNetPeerNoMaster", "Link", end.Name))
	case end.Master.Type != "bridge":
		ev = append(ev, p.Tf("CheckNetPeerNotBridge", "Link", end.Name, "Master", end.Master.Name,
			"Type", end.Master.Type))
	default:
		ev = append(ev, p.Tf("CheckNetBridge", "Link", end.Name, "Bridge", end.Master.Name,
			"State", upWord(end.Master.Up), "Addrs", formatPrefixes(end.Master.Addrs)))
		return end, ev, nil
	}
	return nil, nil, &Result{Evidence: ev, Expected: expected}
}

// houseCable opens house name's network namespace and finds its eth0 and the
// host end of eth0's cable (see hostCable), adding evidence for each. The
// caller closes the namespace, which is closed already on failure.
func houseCable(env *Env, name, expected string) (*houseNetns, *ethLink, *hostEnd, []string, *Result) {
	p := env.printer()
	_, n, ev, fail := netHouse(env, name, expected)
	if fail != nil {
		return nil, nil, nil, nil, fail
	}
	eth, ev, fail := houseEth0(p, name, n, ev, expected)
	if fail != nil {
		n.Close()
		return nil, nil, nil, nil, fail
	}
	end, ev, fail := hostCable(p, n, eth, ev, expected)
	if fail != nil {
		n.Close()
		return nil, nil, nil, nil, fail
	}
	return n, eth, end, ev, nil
}

// sameSubnet returns the first pair of a house address and a bridge address
// where the house address's subnet contains the bridge address.
func sameSubnet(house, bridge []netip.Prefix) (netip.Prefix, netip.Prefix, bool) {
	for _, h := range house {
		for _, b := range bridge {
			if h.Masked().Contains(b.Addr()) {
				return h, b, true
			}
		}
	}
	return netip.Prefix{}, netip.Prefix{}, false
}

// checkVethToBridge checks the house's phone cable. eth0 in the house must be a
// veth that is up and has an IPv4 address. Its other end on the host must be up
// and attached to a bridge that is up and has an address in eth0's subnet.
func checkVethToBridge(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	expected := p.Tf("CheckNetExpectVeth", "Name", name)
	n, eth, end, ev, fail := houseCable(env, name, expected)
	if fail != nil {
		return *fail
	}
	defer n.Close()

	var problems []string
	if !eth.Up {
		problems = append(problems, p.T("CheckNetEth0Down", nil))
	}
	if len(eth.Addrs) == 0 {
		problems = append(problems, p.Tf("CheckNetEth0NoAddr", "Name", name))
	}
	if !end.Up {
		problems = append(problems, p.Tf("CheckNetPeerDown", "Link", end.Name))
	}
	if !end.Master.Up {
		problems = append(problems, p.Tf("CheckNetBridgeDown", "Bridge", end.Master.Name))
	}
	houseAddr, bridgeAddr, ok := sameSubnet(eth.Addrs, end.Master.Addrs)
	if !ok && len(eth.Addrs) > 0 {
		problems = append(problems, p.Tf("CheckNetBridgeOtherSubnet", "Bridge", end.Master.Name,
			"Subnet", eth.Addrs[0].Masked().String()))
	}
	if len(problems) > 0 {
		return Result{Evidence: append(ev, problems...), Expected: expected}
	}
	ev = append(ev, p.Tf("CheckNetCable", "Addr", houseAddr.String(), "Link", end.Name,
		"Bridge", end.Master.Name, "BridgeAddr", bridgeAddr.String()))
	return Result{Passed: true, Evidence: ev}
}

// checkDefaultRoute checks that every IPv4 default route of the house goes
// through eth0 via an address of the bridge that eth0's cable is attached to.
func checkDefaultRoute(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	expected := p.Tf("CheckNetExpectRoute", "Name", name)
	n, eth, end, ev, fail := houseCable(env, name, expected)
	if fail != nil {
		return *fail
	}
	defer n.Close()
	routes, err := n.defaultRoutes()
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckNetLinkError", "Error", err.Error())), Expected: expected}
	}
	if len(routes) == 0 {
		return Result{Evidence: append(ev, p.T("CheckNetNoRoute", nil)), Expected: expected}
	}
	want := make([]string, len(end.Master.Addrs))
	for i, a := range end.Master.Addrs {
		want[i] = a.Addr().String()
	}
	passed := true
	for _, r := range routes {
		gw := "-"
		if r.Gateway.IsValid() {
			gw = r.Gateway.String()
		}
		ev = append(ev, p.Tf("CheckNetRoute", "Name", name, "Gateway", gw, "Dev", r.Dev))
		if r.Dev != eth.Name || !slices.Contains(want, gw) {
			passed = false
			ev = append(ev, p.Tf("CheckNetRouteWrong", "Gateway", gw, "Dev", r.Dev, "Bridge", end.Master.Name,
				"Want", orDash(strings.Join(want, ", ")), "Eth", eth.Name))
		}
	}
	if !passed {
		return Result{Evidence: ev, Expected: expected}
	}
	return Result{Passed: true, Evidence: ev}
}

// checkCanReach sends ICMP echo requests from inside house name to target and
// passes on the first echo reply. Target is another house, whose address is
// read from its own eth0, or an IPv4 address. The checker sends nothing to an
// address outside the house's own subnet.
func checkCanReach(env *Env, with map[string]string) Result {
	p := env.printer()
	name, target := with["name"], with["target"]
	if bad := targetParamProblem(p, "can-reach", target, true); bad != nil {
		return *bad
	}
	expected := p.Tf("CheckNetExpectReach", "Name", name, "Target", target)
	n, own, dst, ev, fail := housePath(env, name, target, expected)
	if fail != nil {
		return *fail
	}
	defer n.Close()

	reply, err := n.ping(dst)
	switch {
	case errors.Is(err, errNoReply):
		ev = append(ev, p.Tf("CheckNetPingNoReply", "Addr", dst.String(), "Tries", pingTries, "Wait", pingWait.String()))
	case err != nil:
		ev = append(ev, p.Tf("CheckNetPingError", "Addr", dst.String(), "Error", err.Error()))
	default:
		ev = append(ev, p.Tf("CheckNetPingReply", "Addr", dst.String(), "From", own.Addr().String(),
			"RTT", reply.RTT.Round(time.Microsecond).String(), "Try", reply.Try, "Tries", pingTries))
		return Result{Passed: true, Evidence: ev}
	}
	return Result{Evidence: ev, Expected: expected}
}

// checkTCPReachable opens a TCP connection from inside house name to port of
// target and closes it at once. Target is as for can-reach.
func checkTCPReachable(env *Env, with map[string]string) Result {
	p := env.printer()
	name, target, portText := with["name"], with["target"], with["port"]
	if bad := targetParamProblem(p, "tcp-reachable", target, true); bad != nil {
		return *bad
	}
	port, bad := portParam(p, "tcp-reachable", portText)
	if bad != nil {
		return *bad
	}
	expected := p.Tf("CheckNetExpectTCP", "Name", name, "Target", target, "Port", port)
	n, _, dst, ev, fail := housePath(env, name, target, expected)
	if fail != nil {
		return *fail
	}
	defer n.Close()

	remote := netip.AddrPortFrom(dst, port)
	local, err := n.connect(remote)
	switch {
	case err == nil:
		ev = append(ev, p.Tf("CheckNetConnected", "Local", local.String(), "Remote", remote.String()))
		return Result{Passed: true, Evidence: ev}
	case errors.Is(err, errTimeout):
		ev = append(ev, p.Tf("CheckNetConnTimeout", "Remote", remote.String(), "Wait", tcpWait.String()))
	case errors.Is(err, syscall.ECONNREFUSED):
		ev = append(ev, p.Tf("CheckNetConnRefused", "Remote", remote.String()))
	default:
		ev = append(ev, p.Tf("CheckNetConnError", "Remote", remote.String(), "Error", err.Error()))
	}
	return Result{Evidence: ev, Expected: expected}
}

// housePath opens house name's network namespace and finds the address of its
// eth0 and the address of target to send to (see targetAddress). The caller
// closes the namespace, which is closed already on failure.
func housePath(env *Env, name, target, expected string) (*houseNetns, netip.Prefix, netip.Addr, []string, *Result) {
	_, n, ev, fail := netHouse(env, name, expected)
	if fail != nil {
		return nil, netip.Prefix{}, netip.Addr{}, nil, fail
	}
	own, ev, fail := houseAddress(env.printer(), name, n, ev, expected)
	if fail != nil {
		n.Close()
		return nil, netip.Prefix{}, netip.Addr{}, nil, fail
	}
	dst, ev, fail := targetAddress(env, target, own, ev, expected)
	if fail != nil {
		n.Close()
		return nil, netip.Prefix{}, netip.Addr{}, nil, fail
	}
	return n, own, dst, ev, nil
}

// targetAddress returns the address to send to from a house whose eth0 has
// own: target itself when it is an IPv4 address, otherwise the address on the
// eth0 of house target. It fails unless the address belongs to a neighbour in
// own's subnet.
func targetAddress(env *Env, target string, own netip.Prefix, ev []string, expected string) (netip.Addr, []string, *Result) {
	p := env.printer()
	dst, err := netip.ParseAddr(target)
	if err != nil {
		var fail *Result
		dst, ev, fail = houseAddressOf(env, target, own, ev, expected)
		if fail != nil {
			return netip.Addr{}, nil, fail
		}
	} else {
		ev = append(ev, p.Tf("CheckNetTargetGiven", "Addr", dst.String()))
	}
	if id := targetProblem(own, dst); id != "" {
		ev = append(ev, p.Tf(id, "Addr", dst.String(), "Subnet", own.Masked().String()))
		return netip.Addr{}, nil, &Result{Evidence: ev, Expected: expected}
	}
	return dst, ev, nil
}

// houseAddressOf reads the IPv4 address on house target's eth0 inside its own
// network namespace, preferring one in own's subnet. On failure it returns the
// failed Result, whose Expected requests target running when it is not.
func houseAddressOf(env *Env, target string, own netip.Prefix, ev []string, expected string) (netip.Addr, []string, *Result) {
	eth, ev, fail := targetEth0(env, target, ev, expected)
	if fail != nil {
		return netip.Addr{}, nil, fail
	}
	addr := eth.Addrs[0]
	for _, a := range eth.Addrs {
		if own.Masked().Contains(a.Addr()) {
			addr = a
			break
		}
	}
	return addr.Addr(), ev, nil
}

// targetEth0 reads the eth0 of house target inside its own network namespace,
// which must have an address, and appends its evidence to ev. On failure the
// Result's Expected requests target running when it is not.
func targetEth0(env *Env, target string, ev []string, expected string) (*ethLink, []string, *Result) {
	p := env.printer()
	_, n, tev, fail := netHouse(env, target, expected)
	if fail != nil {
		return nil, nil, &Result{Evidence: append(ev, fail.Evidence...), Expected: fail.Expected}
	}
	defer n.Close()
	eth, ev, fail := houseEth0(p, target, n, append(ev, tev...), expected)
	if fail != nil {
		return nil, nil, fail
	}
	if len(eth.Addrs) == 0 {
		ev = append(ev, p.Tf("CheckNetEth0NoAddr", "Name", target))
		return nil, nil, &Result{Evidence: ev, Expected: expected}
	}
	return eth, ev, nil
}

// targetProblem returns the id of the message that explains why the checker sends
// nothing from a house whose eth0 has own to dst, or "" when dst may be
// called. Checks only call neighbours: dst must be a host address inside own's
// subnet, and that subnet must be one the RT office could have handed out
// (network.ParseSubnet: private, /16 to /30), so that an address configured by
// hand cannot turn a check into traffic to the outside world.
func targetProblem(own netip.Prefix, dst netip.Addr) string {
	subnet := own.Masked()
	if _, err := network.ParseSubnet(subnet.String()); err != nil {
		return "CheckNetRefuseSubnet"
	}
	if !dst.Is4() || !subnet.Contains(dst) {
		return "CheckNetRefuseOutside"
	}
	if dst == subnet.Addr() || dst == lastInPrefix(subnet) {
		return "CheckNetRefuseSpecial"
	}
	return ""
}

// lastInPrefix returns the broadcast address of an IPv4 prefix.
func lastInPrefix(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(b[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// checkResolves checks that house name finds house target by name: the first
// IPv4 entry for target in the house's /etc/hosts is an address on target's
// eth0, read from target's own network namespace.
func checkResolves(env *Env, with map[string]string) Result {
	p := env.printer()
	name, target := with["name"], with["target"]
	if bad := targetParamProblem(p, "resolves", target, false); bad != nil {
		return *bad
	}
	expected := p.Tf("CheckNetExpectResolves", "Name", name, "Target", target)
	h, ev, fail := houseEvidence(env, name)
	if fail != nil {
		return *fail
	}
	eth, ev, fail := targetEth0(env, target, ev, expected)
	if fail != nil {
		return *fail
	}

	data, err := readHouseFile(h.PID, "/etc/hosts")
	if err != nil {
		return Result{Evidence: append(ev, p.Tf("CheckNetHostsRead", "Name", name, "Error", err.Error())),
			Expected: expected}
	}
	entry, ok := lookupHostsV4(parseHosts(data), target)
	if !ok {
		return Result{Evidence: append(ev, p.Tf("CheckNetHostsMissing", "Name", name, "Target", target)),
			Expected: expected}
	}
	ev = append(ev, p.Tf("CheckNetHostsEntry", "Name", name, "Line", entry.Line, "Text", entry.Text))
	for _, a := range eth.Addrs {
		if a.Addr() == entry.Addr {
			return Result{Passed: true, Evidence: ev}
		}
	}
	ev = append(ev, p.Tf("CheckNetHostsWrong", "Target", target, "Got", entry.Addr.String(),
		"Want", formatPrefixes(eth.Addrs)))
	return Result{Evidence: ev, Expected: expected}
}

// tcpListen is the state number of a listening socket in /proc/net/tcp
// (TCP_LISTEN in the kernel's include/net/tcp_states.h).
const tcpListen = 0x0A

// checkTCPListening checks that a socket in the house's network namespace
// listens on TCP port. /proc/PID/net/tcp and tcp6 list the sockets of the
// network namespace of PID, so reading them for the house's PID 1 shows the
// house's sockets and not the host's.
func checkTCPListening(env *Env, with map[string]string) Result {
	p := env.printer()
	name := with["name"]
	port, bad := portParam(p, "tcp-listening", with["port"])
	if bad != nil {
		return *bad
	}
	expected := p.Tf("CheckNetExpectListening", "Name", name, "Port", port)
	h, n, ev, fail := netHouse(env, name, expected)
	if fail != nil {
		return *fail
	}
	inode := n.inode
	n.Close()

	var listening []tcpSocket
	var paths []string
	for _, file := range []string{"tcp", "tcp6"} {
		path := fmt.Sprintf("%s/%d/net/%s", procfs.Root, h.PID, file)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && file == "tcp6" {
			continue // a kernel without IPv6
		}
		if err != nil {
			return Result{Evidence: append(ev, p.Tf("CheckProcDirError", "Path", path, "Error", err.Error())),
				Expected: expected}
		}
		sockets, err := parseProcNetTCP(data)
		if err != nil {
			return Result{Evidence: append(ev, p.Tf("CheckProcDirError", "Path", path, "Error", err.Error())),
				Expected: expected}
		}
		paths = append(paths, path)
		for _, s := range sockets {
			if s.State == tcpListen {
				listening = append(listening, s)
			}
		}
	}
	ev = append(ev, p.Tf("CheckNetListening", "NS", nsLabel("net", inode), "Files", strings.Join(paths, ", "),
		"Ports", formatSockets(listening)))

	var matches []tcpSocket
	for _, s := range listening {
		if s.Local.Port() == port {
			matches = append(matches, s)
		}
	}
	if len(matches) == 0 {
		return Result{Evidence: append(ev, p.Tf("CheckNetNotListening", "Port", port)), Expected: expected}
	}
	owners := socketOwners(h.PIDNS)
	for _, s := range matches {
		if m, ok := owners[s.Inode]; ok {
			ev = append(ev, p.Tf("CheckNetListener", "Comm", m.Comm, "Inner", m.InnerPID, "Host", m.HostPID,
				"Addr", s.Local.String()))
		} else {
			ev = append(ev, p.Tf("CheckNetListenerNoOwner", "Addr", s.Local.String(), "Inode", s.Inode))
		}
	}
	return Result{Passed: true, Evidence: ev}
}

// socketOwners maps socket inodes to the processes of pid namespace ns that
// hold them open, found through the /proc/PID/fd links "socket:[INODE]". A
// process that exits during the scan is skipped.
func socketOwners(ns uint64) map[uint64]member {
	members, err := family(ns)
	if err != nil {
		return nil
	}
	owners := map[uint64]member{}
	for _, m := range members {
		dir := fmt.Sprintf("%s/%d/fd", procfs.Root, m.HostPID)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			target, err := os.Readlink(dir + "/" + e.Name())
			if err != nil {
				continue
			}
			if inode, ok := socketInode(target); ok {
				if _, seen := owners[inode]; !seen {
					owners[inode] = m
				}
			}
		}
	}
	return owners
}

// socketInode parses an fd link target such as "socket:[12345]".
func socketInode(target string) (uint64, bool) {
	rest, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	rest, ok = strings.CutSuffix(rest, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	return n, err == nil
}

// targetParamProblem returns a failed Result when target is neither a valid
// house name nor, if addrOK, an IPv4 address: a mistake in the lesson file.
func targetParamProblem(p *locales.Printer, check, target string, addrOK bool) *Result {
	if addr, err := netip.ParseAddr(target); err == nil {
		if addrOK && addr.Is4() {
			return nil
		}
	} else if runtime.ValidateName(target) == nil {
		return nil
	}
	id := "CheckNetBadTargetName"
	if addrOK {
		id = "CheckNetBadTarget"
	}
	return &Result{Evidence: []string{p.Tf(id, "Check", check, "Value", target)},
		Expected: p.T("CheckExpectLessonFix", nil)}
}

// portParam parses a TCP port from 1 to 65535 written without leading zeros,
// or returns a failed Result for a mistake in the lesson file.
func portParam(p *locales.Printer, check, text string) (uint16, *Result) {
	n, err := strconv.ParseUint(text, 10, 16)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != text {
		return 0, &Result{Evidence: []string{p.Tf("CheckNetBadPort", "Check", check, "Value", text)},
			Expected: p.T("CheckExpectLessonFix", nil)}
	}
	return uint16(n), nil
}

// tcpSocket is one line of /proc/net/tcp or /proc/net/tcp6.
type tcpSocket struct {
	Local netip.AddrPort
	State int
	Inode uint64
}

// parseProcNetTCP parses /proc/net/tcp or /proc/net/tcp6. Addresses are hex
// 32-bit words, one for IPv4 and four for IPv6, each printed in the host's byte
// order. The port is hex in normal order.
func parseProcNetTCP(data []byte) ([]tcpSocket, error) {
	var out []tcpSocket
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if line == 1 || len(fields) == 0 {
			continue // the header: "sl local_address rem_address st ..."
		}
		if len(fields) < 10 {
			return nil, fmt.Errorf("line %d: %d fields, want at least 10", line, len(fields))
		}
		local, err := parseHexAddrPort(fields[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: local address %q: %w", line, fields[1], err)
		}
		state, err := strconv.ParseUint(fields[3], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("line %d: state %q: %w", line, fields[3], err)
		}
		inode, err := strconv.ParseUint(fields[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: inode %q: %w", line, fields[9], err)
		}
		out = append(out, tcpSocket{Local: local, State: int(state), Inode: inode})
	}
	return out, sc.Err()
}

// parseHexAddrPort parses "0100007F:1F90" (127.0.0.1:8080 on a little-endian
// machine) or its 32-digit IPv6 form.
func parseHexAddrPort(s string) (netip.AddrPort, error) {
	addrHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, errors.New("no colon")
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	raw, err := hex.DecodeString(addrHex)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(raw) != 4 && len(raw) != 16 {
		return netip.AddrPort{}, fmt.Errorf("%d address bytes, want 4 or 16", len(raw))
	}
	// Each 32-bit word was printed as a number in host order; turn it back
	// into the bytes it was stored as.
	stored := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(stored[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(stored)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// hostsEntry is one line of a hosts file with a valid address.
type hostsEntry struct {
	Line  int    // 1-based
	Text  string // the line without its comment, spaces collapsed
	Addr  netip.Addr
	Names []string
}

// parseHosts parses a hosts file (hosts(5)): an address, then names, with "#"
// starting a comment. Lines without a valid address or a name are skipped, as
// the C library's resolver skips them.
func parseHosts(data []byte) []hostsEntry {
	var out []hostsEntry
	for i, line := range strings.Split(string(data), "\n") {
		if before, _, found := strings.Cut(line, "#"); found {
			line = before
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(fields[0])
		if err != nil || addr.Zone() != "" {
			continue
		}
		out = append(out, hostsEntry{Line: i + 1, Text: strings.Join(fields, " "), Addr: addr, Names: fields[1:]})
	}
	return out
}

// lookupHostsV4 returns the first IPv4 entry that lists name, compared without
// regard to case as host names are, which is the address a lookup of name
// returns.
func lookupHostsV4(entries []hostsEntry, name string) (hostsEntry, bool) {
	for _, e := range entries {
		if !e.Addr.Is4() {
			continue
		}
		for _, n := range e.Names {
			if strings.EqualFold(n, name) {
				return e, true
			}
		}
	}
	return hostsEntry{}, false
}

// pingPayload fills the echo requests, so they are easy to recognise in a
// packet capture.
const pingPayload = "rt-lab check can-reach"

// echoRequest builds an ICMP echo request (RFC 792) with id and seq.
func echoRequest(id, seq uint16) []byte {
	b := make([]byte, 8+len(pingPayload))
	b[0] = 8 // type: echo request
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], pingPayload)
	binary.BigEndian.PutUint16(b[2:], internetChecksum(b))
	return b
}

// isEchoReply reports whether pkt, an IPv4 packet as a raw socket receives it
// with its IP header, is the ICMP echo reply with id and seq.
func isEchoReply(pkt []byte, id, seq uint16) bool {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return false
	}
	ihl := int(pkt[0]&0x0f) * 4
	if ihl < 20 || len(pkt) < ihl+8 {
		return false
	}
	icmp := pkt[ihl:]
	return icmp[0] == 0 && icmp[1] == 0 && // type: echo reply
		binary.BigEndian.Uint16(icmp[4:]) == id && binary.BigEndian.Uint16(icmp[6:]) == seq
}

// internetChecksum is the 16-bit one's complement checksum of RFC 1071.
func internetChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// upWord is the word ip link uses for a device's administrative state.
func upWord(up bool) string {
	if up {
		return "UP"
	}
	return "DOWN"
}

// formatPrefixes lists addresses as "10.0.0.2/24, 10.0.0.9/24", or "-".
func formatPrefixes(list []netip.Prefix) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
	}
	return orDash(strings.Join(parts, ", "))
}

// formatSockets lists local addresses as "0.0.0.0:8080, [::]:22", or "-".
func formatSockets(list []tcpSocket) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = s.Local.String()
	}
	return orDash(strings.Join(parts, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
