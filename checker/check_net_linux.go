package checker

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	goruntime "runtime"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/procfs"
)

// houseNetns is an open handle on the network namespace of a house's PID 1,
// with a netlink socket inside it.
type houseNetns struct {
	pid   int
	inode uint64
	ns    netns.NsHandle
	nl    *netlink.Handle
}

// openHouseNetns opens the network namespace of pid. The namespace file stays
// open, so the namespace cannot go away while the checks use it, even if pid
// exits in between.
func openHouseNetns(pid int) (*houseNetns, error) {
	inode, err := procfs.NSInode(pid, "net")
	if err != nil {
		return nil, err
	}
	path := fmt.Sprintf("%s/%d/ns/net", procfs.Root, pid)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	ns := netns.NsHandle(fd)
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("open netlink in net namespace of pid %d: %w", pid, err)
	}
	return &houseNetns{pid: pid, inode: inode, ns: ns, nl: h}, nil
}

func (n *houseNetns) Close() {
	n.nl.Close()
	n.ns.Close()
}

// links returns the namespace's network devices, for evidence.
func (n *houseNetns) links() ([]link, error) {
	list, err := n.nl.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links of pid %d: %w", n.pid, err)
	}
	out := make([]link, len(list))
	for i, l := range list {
		out[i] = link{name: l.Attrs().Name, up: l.Attrs().Flags&net.FlagUp != 0}
	}
	return out, nil
}

// ethLink is one network device in a house, as netlink shows it.
type ethLink struct {
	Name  string
	Type  string // "veth", "dummy", ...: the IFLA_INFO_KIND
	Up    bool   // IFF_UP
	Index int
	// PeerIndex is IFLA_LINK: for a veth, the ifindex of the other end, counted
	// in the namespace that PeerNetnsID names. PeerNetnsID is
	// IFLA_LINK_NETNSID, or -1 when the other end is in the same namespace.
	PeerIndex   int
	PeerNetnsID int
	Addrs       []netip.Prefix // IPv4 addresses with their prefix length
}

// link returns device name in the namespace, or nil when there is none.
func (n *houseNetns) link(name string) (*ethLink, error) {
	l, err := n.nl.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find %s in net namespace of pid %d: %w", name, n.pid, err)
	}
	list, err := n.nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", name, err)
	}
	a := l.Attrs()
	return &ethLink{Name: a.Name, Type: l.Type(), Up: a.Flags&net.FlagUp != 0, Index: a.Index,
		PeerIndex: a.ParentIndex, PeerNetnsID: a.NetNsID, Addrs: ipv4Prefixes(list)}, nil
}

// ipv4Prefixes returns the IPv4 addresses in list with their prefix lengths.
func ipv4Prefixes(list []netlink.Addr) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range list {
		if p, ok := prefixOf(a.IPNet); ok {
			out = append(out, p)
		}
	}
	return out
}

func prefixOf(ipn *net.IPNet) (netip.Prefix, bool) {
	if ipn == nil {
		return netip.Prefix{}, false
	}
	addr, ok := netip.AddrFromSlice(ipn.IP.To4())
	if !ok {
		return netip.Prefix{}, false
	}
	bits, size := ipn.Mask.Size()
	if size != 32 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(addr, bits), true
}

// defaultRoute is an IPv4 default route in a house's main routing table.
type defaultRoute struct {
	Gateway netip.Addr // invalid when the route has no gateway
	Dev     string
}

// defaultRoutes lists the IPv4 default routes of the namespace's main table.
func (n *houseNetns) defaultRoutes() ([]defaultRoute, error) {
	routes, err := n.nl.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list routes of pid %d: %w", n.pid, err)
	}
	var out []defaultRoute
	for _, r := range routes {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		d := defaultRoute{Dev: "?"}
		if gw, ok := netip.AddrFromSlice(r.Gw.To4()); ok && r.Gw != nil {
			d.Gateway = gw
		}
		if l, err := n.nl.LinkByIndex(r.LinkIndex); err == nil {
			d.Dev = l.Attrs().Name
		}
		out = append(out, d)
	}
	return out, nil
}

// hostEnd is the host end of a house's veth pair, in the checker's own network
// namespace, and the device it is attached to.
type hostEnd struct {
	Name   string
	Up     bool
	Master *bridgeLink // nil when the link has no master
}

// bridgeLink is the master device of a host end: a bridge when all is well.
type bridgeLink struct {
	Name  string
	Type  string
	Up    bool
	Addrs []netip.Prefix
}

// hostPeer finds the other end of the house's veth eth in the checker's
// network namespace, or returns nil when no host link is that end. A host link
// is the peer when it is a veth at eth's IFLA_LINK index, its own IFLA_LINK is
// eth's index, and its IFLA_LINK_NETNSID names the house's namespace. Index
// numbers are per namespace, so the index alone could name a stranger.
func (n *houseNetns) hostPeer(eth *ethLink) (*hostEnd, error) {
	l, err := netlink.LinkByIndex(eth.PeerIndex)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) || errors.Is(err, unix.ENODEV) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find host link %d: %w", eth.PeerIndex, err)
	}
	// Reading the link above made the kernel assign the house's namespace an
	// id in the host's namespace if it had none, so the lookup finds it.
	nsid, err := netlink.GetNetNsIdByFd(int(n.ns))
	if err != nil {
		return nil, fmt.Errorf("look up the id of net namespace %s: %w", nsLabel("net", n.inode), err)
	}
	a := l.Attrs()
	if l.Type() != "veth" || a.ParentIndex != eth.Index || nsid < 0 || a.NetNsID != nsid {
		return nil, nil
	}
	end := &hostEnd{Name: a.Name, Up: a.Flags&net.FlagUp != 0}
	if a.MasterIndex == 0 {
		return end, nil
	}
	m, err := netlink.LinkByIndex(a.MasterIndex)
	if err != nil {
		return nil, fmt.Errorf("find master %d of %s: %w", a.MasterIndex, a.Name, err)
	}
	list, err := netlink.AddrList(m, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", m.Attrs().Name, err)
	}
	end.Master = &bridgeLink{Name: m.Attrs().Name, Type: m.Type(), Up: m.Attrs().Flags&net.FlagUp != 0,
		Addrs: ipv4Prefixes(list)}
	return end, nil
}

// socket opens a socket in the house's network namespace. A socket belongs to
// the namespace of the thread that created it for its whole life
// (network_namespaces(7)), so only socket(2) has to run in the namespace.
// A goroutine locks its thread, joins the namespace with setns(2), creates the
// socket and joins the thread's first namespace again before it unlocks. If
// that return fails, the goroutine exits still locked, and the Go runtime ends
// the thread instead of reusing it for goroutines that expect the host's
// namespace. Ending threads is kept for that error, because a thread that ends
// sends its PR_SET_PDEATHSIG signal to the children it started (prctl(2)),
// such as a child started with SysProcAttr.Pdeathsig from that thread. The
// caller closes the returned descriptor.
func (n *houseNetns) socket(domain, typ, proto int) (int, error) {
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		goruntime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			goruntime.UnlockOSThread()
			done <- result{err: fmt.Errorf("open this thread's net namespace: %w", err)}
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(n.ns), unix.CLONE_NEWNET); err != nil {
			goruntime.UnlockOSThread()
			done <- result{err: os.NewSyscallError("setns", err)}
			return
		}
		fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
		if rerr := unix.Setns(int(orig), unix.CLONE_NEWNET); rerr == nil {
			goruntime.UnlockOSThread()
		}
		if err != nil {
			done <- result{err: os.NewSyscallError("socket", err)}
			return
		}
		done <- result{fd: fd}
	}()
	r := <-done
	return r.fd, r.err
}

// Echo request settings of the can-reach check: up to pingTries requests, one
// at a time, each awaited for pingWait. The first request to a neighbour also
// waits for ARP, which took under a millisecond on a local bridge in the
// tests.
const (
	pingTries = 3
	pingWait  = time.Second
)

// pingReply is the echo reply that arrived for a request.
type pingReply struct {
	Try int           // 1 for the first request
	RTT time.Duration // from sending the request to reading the reply
}

// errNoReply means that no echo reply arrived for any of the requests.
var errNoReply = errors.New("no echo reply")

// ping sends ICMP echo requests from the house's network namespace to dst
// until one is answered, at most pingTries, and returns errNoReply when none
// is. It uses a raw ICMP socket (raw(7), icmp(7)) opened in the namespace, so
// the requests leave through the house's own devices and routes, as those of
// ping inside the house would. The checker never runs a program from the
// house: the house's files belong to the student and could fake an answer.
func (n *houseNetns) ping(dst netip.Addr) (pingReply, error) {
	fd, err := n.socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	if err != nil {
		return pingReply{}, err
	}
	defer unix.Close(fd)

	var idBytes [2]byte
	if _, err := rand.Read(idBytes[:]); err != nil {
		return pingReply{}, err
	}
	id := binary.BigEndian.Uint16(idBytes[:])
	to := &unix.SockaddrInet4{Addr: dst.As4()}
	for try := 1; try <= pingTries; try++ {
		seq := uint16(try)
		sent := time.Now()
		if err := unix.Sendto(fd, echoRequest(id, seq), 0, to); err != nil {
			return pingReply{}, os.NewSyscallError("sendto", err)
		}
		ok, err := awaitEchoReply(fd, dst, id, seq, sent.Add(pingWait))
		if err != nil {
			return pingReply{}, err
		}
		if ok {
			return pingReply{Try: try, RTT: time.Since(sent)}, nil
		}
	}
	return pingReply{}, errNoReply
}

// awaitEchoReply reads ICMP packets from fd until the echo reply from src
// with id and seq arrives (true) or deadline passes (false). A raw socket
// receives every ICMP packet of the namespace, such as the replies to a ping
// the student runs at the same time, so the others are skipped.
func awaitEchoReply(fd int, src netip.Addr, id, seq uint16, deadline time.Time) (bool, error) {
	buf := make([]byte, 1500)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false, nil
		}
		ready, err := pollIn(fd, left)
		if err != nil {
			return false, err
		}
		if !ready {
			continue
		}
		size, from, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, os.NewSyscallError("recvfrom", err)
		}
		sa, ok := from.(*unix.SockaddrInet4)
		if ok && netip.AddrFrom4(sa.Addr) == src && isEchoReply(buf[:size], id, seq) {
			return true, nil
		}
	}
}

// pollIn waits up to wait for fd to become readable.
func pollIn(fd int, wait time.Duration) (bool, error) {
	return pollFor(fd, unix.POLLIN, wait)
}

func pollFor(fd int, events int16, wait time.Duration) (bool, error) {
	ms := int(wait / time.Millisecond)
	if ms < 1 {
		ms = 1
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
	count, err := unix.Poll(fds, ms)
	if errors.Is(err, unix.EINTR) {
		return false, nil
	}
	if err != nil {
		return false, os.NewSyscallError("poll", err)
	}
	return count > 0, nil
}

// TCP connection settings of the tcp-reachable check. A SYN that goes
// unanswered is sent again after 1 second (the kernel's initial
// retransmission timeout), so tcpWait allows for two retransmissions.
const tcpWait = 3 * time.Second

// errTimeout means that the TCP handshake did not finish within tcpWait.
var errTimeout = errors.New("timed out")

// connect opens a TCP connection from the house's network namespace to dst
// and closes it at once. It returns the local address the house used.
func (n *houseNetns) connect(dst netip.AddrPort) (netip.AddrPort, error) {
	fd, err := n.socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, unix.IPPROTO_TCP)
	if err != nil {
		return netip.AddrPort{}, err
	}
	defer unix.Close(fd)

	err = unix.Connect(fd, &unix.SockaddrInet4{Addr: dst.Addr().As4(), Port: int(dst.Port())})
	if errors.Is(err, unix.EINTR) {
		// connect(2): after EINTR the connection is set up in the background.
		err = unix.EINPROGRESS
	}
	if errors.Is(err, unix.EINPROGRESS) {
		deadline := time.Now().Add(tcpWait)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return netip.AddrPort{}, errTimeout
			}
			ready, perr := pollFor(fd, unix.POLLOUT, left)
			if perr != nil {
				return netip.AddrPort{}, perr
			}
			if ready {
				break
			}
		}
		code, gerr := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if gerr != nil {
			return netip.AddrPort{}, os.NewSyscallError("getsockopt", gerr)
		}
		err = nil
		if code != 0 {
			err = unix.Errno(code)
		}
	}
	if err != nil {
		return netip.AddrPort{}, os.NewSyscallError("connect", err)
	}
	local := netip.AddrPort{}
	if sa, err := unix.Getsockname(fd); err == nil {
		if in4, ok := sa.(*unix.SockaddrInet4); ok {
			local = netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), uint16(in4.Port))
		}
	}
	return local, nil
}

// readHouseFile reads path (absolute, as the house sees it) from the file
// system of pid. Paths resolve with openat2(2) RESOLVE_IN_ROOT below
// /proc/PID/root, so a symbolic link in the house resolves inside the house, as
// the house's own programs see it, and never reaches the host's files.
func readHouseFile(pid int, path string) ([]byte, error) {
	root := fmt.Sprintf("%s/%d/root", procfs.Root, pid)
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)
	how := &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	var fd int
	for {
		fd, err = unix.Openat2(rootFD, path, how)
		if !errors.Is(err, unix.EINTR) && !errors.Is(err, unix.EAGAIN) {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: path, Err: errors.New("not a regular file")}
	}
	// /etc/hosts is small, so only the first MiB of a file that a house made
	// huge is read.
	return io.ReadAll(io.LimitReader(f, 1<<20))
}
