package checker

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/network"
)

// testSwitchboard is a bridge that a test builds with netlink, as the RT
// office would, so that the network checks are proven without the runtime.
// Its name and subnet derive from a temporary folder of the test, so two
// tests never share them. The bridge is deleted when the test ends.
type testSwitchboard struct {
	tag     string // hex digits of a hash of the test's folder
	subnet  netip.Prefix
	address netip.Prefix // the bridge's address: the subnet's first host
	bridge  netlink.Link
	hosts   int // host numbers handed out after the bridge's
}

// testLinkPrefix starts the names of the links these tests make. It differs
// from network.LinkPrefix, so rt-lab's own recovery never takes them for its
// links, and a leftover after a crash is easy to spot.
const testLinkPrefix = "rtk"

func newSwitchboard(t *testing.T) *testSwitchboard {
	t.Helper()
	dir := t.TempDir()
	subnet, err := network.FreeSubnet(dir)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(dir))
	sw := &testSwitchboard{tag: hex.EncodeToString(sum[:])[:8], subnet: subnet}
	sw.address = netip.PrefixFrom(subnet.Addr().Next(), subnet.Bits())

	name := testLinkPrefix + "b-" + sw.tag
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
		t.Fatalf("create bridge %s: %v", name, err)
	}
	t.Cleanup(func() { deleteTestLink(t, name) })
	br, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: testIPNet(sw.address)}); err != nil {
		t.Fatalf("add %s to %s: %v", sw.address, name, err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		t.Fatal(err)
	}
	sw.bridge = br
	return sw
}

func testIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
}

// deleteTestLink deletes link name if it still exists.
func deleteTestLink(t *testing.T, name string) {
	l, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return
	}
	if err == nil {
		err = netlink.LinkDel(l)
	}
	if err != nil && !errors.Is(err, unix.ENODEV) {
		t.Errorf("cleanup: delete link %s: %v", name, err)
	}
}

// cable describes how plug connects a house. The zero value connects it fully.
type cable struct {
	noMaster bool       // leave the host end off the bridge
	hostDown bool       // leave the host end down
	eth0Down bool       // leave eth0 down (then no route is added)
	noAddr   bool       // give eth0 no address (then no route is added)
	noRoute  bool       // add no default route
	gateway  netip.Addr // the default route's gateway; the bridge's address if unset
}

// plug lays a veth pair from the bridge to the network namespace of pid: the
// host end is named from the switchboard's tag and house, the other end is
// eth0 with the next address of the subnet. It returns eth0's address and the
// host end's name, and deletes the pair when the test ends.
func (sw *testSwitchboard) plug(t *testing.T, house string, pid int, c cable) (netip.Prefix, string) {
	t.Helper()
	sw.hosts++
	addr := sw.address.Addr()
	for i := 0; i < sw.hosts; i++ {
		addr = addr.Next()
	}
	own := netip.PrefixFrom(addr, sw.subnet.Bits())
	sum := sha256.Sum256([]byte(sw.tag + "/" + house))
	hostName := testLinkPrefix + "v-" + hex.EncodeToString(sum[:])[:8]

	ns, err := netns.GetFromPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	attrs := netlink.LinkAttrs{Name: hostName}
	if !c.noMaster {
		attrs.MasterIndex = sw.bridge.Attrs().Index
	}
	veth := &netlink.Veth{LinkAttrs: attrs, PeerName: houseLink, PeerNamespace: netlink.NsFd(int(ns))}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("create veth %s with %s in pid %d: %v", hostName, houseLink, pid, err)
	}
	t.Cleanup(func() { deleteTestLink(t, hostName) })
	if !c.hostDown {
		if err := netlink.LinkSetUp(veth); err != nil {
			t.Fatal(err)
		}
	}

	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	eth, err := h.LinkByName(houseLink)
	if err != nil {
		t.Fatal(err)
	}
	if !c.noAddr {
		if err := h.AddrAdd(eth, &netlink.Addr{IPNet: testIPNet(own)}); err != nil {
			t.Fatal(err)
		}
	}
	if !c.eth0Down {
		if err := h.LinkSetUp(eth); err != nil {
			t.Fatal(err)
		}
	}
	if !c.noRoute && !c.noAddr && !c.eth0Down {
		gw := c.gateway
		if !gw.IsValid() {
			gw = sw.address.Addr()
		}
		route := &netlink.Route{LinkIndex: eth.Attrs().Index, Gw: gw.AsSlice()}
		if err := h.RouteAdd(route); err != nil {
			t.Fatalf("add default route via %s: %v", gw, err)
		}
	}
	return own, hostName
}

// shopHouse is a fake house whose PID 1 is busybox nc serving "halo" on TCP
// port 8080 to every visitor (-ll keeps it listening after a visit).
func shopHouse(t *testing.T, env *Env) fakeHouse {
	t.Helper()
	base := buildFakeBase(t, env.Runtime, hostBusybox(t))
	for _, applet := range []string{"nc", "echo"} {
		link := filepath.Join(base, "bin", applet)
		if err := os.Symlink("busybox", link); err != nil && !errors.Is(err, os.ErrExist) {
			t.Fatal(err)
		}
	}
	return fakeHouse{hostname: "bandung", initArgs: "/bin/nc -ll -p 8080 -e /bin/echo halo"}
}

// waitListening waits until something in the network namespace of pid
// listens on TCP port, because nc opens its socket after it starts.
func waitListening(t *testing.T, pid int, port uint16) {
	t.Helper()
	// No deadline: a house that never listens hangs until go test's -timeout.
	for {
		for _, file := range []string{"tcp", "tcp6"} {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, file))
			if err != nil {
				continue
			}
			sockets, _ := parseProcNetTCP(data)
			for _, s := range sockets {
				if s.State == tcpListen && s.Local.Port() == port {
					return
				}
			}
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			t.Fatalf("house pid %d exited before it listened on port %d", pid, port)
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 10e6}, nil)
	}
}

// icmpOutEchos returns the number of ICMP echo requests sent from the network
// namespace of pid, the OutEchos counter of /proc/PID/net/snmp.
func icmpOutEchos(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/snmp", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "Icmp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		for i, name := range names {
			if name == "OutEchos" && i < len(fields) {
				n, err := strconv.Atoi(fields[i])
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
		}
	}
	t.Fatalf("no Icmp OutEchos in /proc/%d/net/snmp", pid)
	return 0
}

// writeHouseHosts replaces /etc/hosts inside the running house pid.
func writeHouseHosts(t *testing.T, pid int, content string) {
	t.Helper()
	path := fmt.Sprintf("/proc/%d/root/etc/hosts", pid)
	os.Remove(path)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// twoHouses builds rumah-jakarta and the shop rumah-bandung on one bridge,
// with a phone book in jakarta, and returns their PIDs and addresses.
type twoHouses struct {
	sw                   *testSwitchboard
	jakarta, bandung     int
	jakartaIP, bandungIP netip.Prefix
	jakartaEnd           string
}

func newTwoHouses(t *testing.T, env *Env) twoHouses {
	t.Helper()
	var th twoHouses
	th.sw = newSwitchboard(t)
	th.jakarta = fakeHouse{hostname: "jakarta"}.start(t, env.Runtime, "rumah-jakarta")
	th.bandung = shopHouse(t, env).start(t, env.Runtime, "rumah-bandung")
	th.jakartaIP, th.jakartaEnd = th.sw.plug(t, "rumah-jakarta", th.jakarta, cable{})
	th.bandungIP, _ = th.sw.plug(t, "rumah-bandung", th.bandung, cable{})
	writeHouseHosts(t, th.jakarta, fmt.Sprintf("127.0.0.1\tlocalhost\n%s\tjakarta rumah-jakarta\n%s\trumah-bandung\n",
		th.jakartaIP.Addr(), th.bandungIP.Addr()))
	waitListening(t, th.bandung, 8080)
	return th
}

func TestNetChecksPassOnFakeHouses(t *testing.T) {
	env := newRootEnv(t)
	th := newTwoHouses(t, env)
	jakartaIP, bandungIP := th.jakartaIP.Addr().String(), th.bandungIP.Addr().String()

	tests := []struct {
		check    string
		kv       []string
		evidence string
	}{
		{"veth-to-bridge", []string{"name", "rumah-jakarta"}, fmt.Sprintf(
			"the cable is complete: eth0 %s in the house, %s on the host, bridge %s with %s",
			th.jakartaIP, th.jakartaEnd, th.sw.bridge.Attrs().Name, th.sw.address)},
		{"veth-to-bridge", []string{"name", "rumah-bandung"}, "the cable is complete: eth0 " + th.bandungIP.String()},
		{"default-route", []string{"name", "rumah-jakarta"},
			fmt.Sprintf("default route in house rumah-jakarta: via %s dev eth0", th.sw.address.Addr())},
		{"can-reach", []string{"name", "rumah-jakarta", "target", "rumah-bandung"},
			fmt.Sprintf("echo reply from %s to the house (%s)", bandungIP, jakartaIP)},
		{"can-reach", []string{"name", "rumah-bandung", "target", "rumah-jakarta"}, "echo reply from " + jakartaIP},
		{"can-reach", []string{"name", "rumah-jakarta", "target", bandungIP}, "the target is the address " + bandungIP},
		{"can-reach", []string{"name", "rumah-jakarta", "target", th.sw.address.Addr().String()},
			"echo reply from " + th.sw.address.Addr().String()},
		{"resolves", []string{"name", "rumah-jakarta", "target", "rumah-bandung"},
			"/etc/hosts in house rumah-jakarta, line 3: " + bandungIP + " rumah-bandung"},
		{"tcp-listening", []string{"name", "rumah-bandung", "port", "8080"}, "nc (PID 1 in the house, host PID " +
			strconv.Itoa(th.bandung) + ") listens on"},
		{"tcp-reachable", []string{"name", "rumah-jakarta", "target", "rumah-bandung", "port", "8080"},
			fmt.Sprintf("TCP connection from inside the house (%s:", jakartaIP)},
		{"tcp-reachable", []string{"name", "rumah-jakarta", "target", bandungIP, "port", "8080"},
			"to " + bandungIP + ":8080 succeeded"},
	}
	for _, tt := range tests {
		t.Run(tt.check+" "+strings.Join(tt.kv[1:], " "), func(t *testing.T) {
			assertResult(t, run(env, tt.check, tt.kv...), true, tt.evidence)
		})
	}
}

// TestCanReachSendsEchoFromHouse proves that the echo request leaves from
// the house's own network namespace: the house's ICMP counter grows.
func TestCanReachSendsEchoFromHouse(t *testing.T) {
	env := newRootEnv(t)
	th := newTwoHouses(t, env)
	before := icmpOutEchos(t, th.jakarta)
	assertResult(t, run(env, "can-reach", "name", "rumah-jakarta", "target", "rumah-bandung"), true, "echo reply")
	if after := icmpOutEchos(t, th.jakarta); after <= before {
		t.Errorf("OutEchos in rumah-jakarta went from %d to %d, want it to grow", before, after)
	}
}

// TestCanReachRefusesOutside checks that an address outside the house's
// subnet gets no packet at all: the house's ICMP counter stays the same.
func TestCanReachRefusesOutside(t *testing.T) {
	env := newRootEnv(t)
	th := newTwoHouses(t, env)
	subnet := th.sw.subnet
	outside := []string{"192.0.2.1", "127.0.0.1", lastInPrefix(subnet).String(), subnet.Addr().String()}
	for _, target := range outside {
		t.Run(target, func(t *testing.T) {
			before := icmpOutEchos(t, th.jakarta)
			res := run(env, "can-reach", "name", "rumah-jakarta", "target", target)
			assertResult(t, res, false, "the checker sends nothing to "+target)
			if after := icmpOutEchos(t, th.jakarta); after != before {
				t.Errorf("OutEchos in rumah-jakarta went from %d to %d, want no request sent", before, after)
			}
			res = run(env, "tcp-reachable", "name", "rumah-jakarta", "target", target, "port", "8080")
			assertResult(t, res, false, "the checker sends nothing to "+target)
		})
	}
}

// TestNetChecksRefuseHostNamespace runs the checks on a house that shares the
// host's network namespace: they must fail and send nothing.
func TestNetChecksRefuseHostNamespace(t *testing.T) {
	env := newRootEnv(t)
	fakeHouse{hostname: "palsu", sharedNet: true}.start(t, env.Runtime, "rumah-palsu")
	for _, check := range []string{"veth-to-bridge", "default-route", "can-reach", "tcp-listening", "tcp-reachable"} {
		t.Run(check, func(t *testing.T) {
			res := run(env, check, "name", "rumah-palsu", "target", "127.0.0.1", "port", "22")
			assertResult(t, res, false, "the house shares the host's net namespace")
		})
	}
}

func TestNetCableFailures(t *testing.T) {
	env := newRootEnv(t)
	sw := newSwitchboard(t)
	otherGateway := lastInPrefix(sw.subnet).Prev()
	tests := []struct {
		name     string
		cable    *cable // nil: no cable at all
		check    string
		evidence string
	}{
		{"no cable", nil, "veth-to-bridge", "has no eth0, so no phone cable reaches it"},
		{"no cable route", nil, "default-route", "has no eth0"},
		{"off the bridge", &cable{noMaster: true}, "veth-to-bridge", "is not attached to any bridge"},
		{"off the bridge route", &cable{noMaster: true}, "default-route", "is not attached to any bridge"},
		{"host end down", &cable{hostDown: true}, "veth-to-bridge", "on the host is down"},
		{"eth0 down", &cable{eth0Down: true}, "veth-to-bridge", "eth0 in the house is down"},
		{"no address", &cable{noAddr: true}, "veth-to-bridge", "has no IPv4 address"},
		{"no route", &cable{noRoute: true}, "default-route", "has no default route"},
		{"other gateway", &cable{gateway: otherGateway}, "default-route",
			fmt.Sprintf("the default route via %s dev eth0 does not go through the switchboard", otherGateway)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("rumah-kabel-%d", i)
			pid := fakeHouse{hostname: "kabel"}.start(t, env.Runtime, name)
			if tt.cable != nil {
				sw.plug(t, name, pid, *tt.cable)
			}
			assertResult(t, run(env, tt.check, "name", name), false, tt.evidence)
		})
	}
}

func TestNetBridgeFailures(t *testing.T) {
	env := newRootEnv(t)
	sw := newSwitchboard(t)
	pid := fakeHouse{hostname: "jakarta"}.start(t, env.Runtime, "rumah-jakarta")
	sw.plug(t, "rumah-jakarta", pid, cable{})
	br := sw.bridge

	if err := netlink.LinkSetDown(br); err != nil {
		t.Fatal(err)
	}
	assertResult(t, run(env, "veth-to-bridge", "name", "rumah-jakarta"), false, "is down")
	if err := netlink.LinkSetUp(br); err != nil {
		t.Fatal(err)
	}

	if err := netlink.AddrDel(br, &netlink.Addr{IPNet: testIPNet(sw.address)}); err != nil {
		t.Fatal(err)
	}
	res := run(env, "veth-to-bridge", "name", "rumah-jakarta")
	assertResult(t, res, false, fmt.Sprintf("has no address in eth0's subnet %s", sw.subnet))
	assertResult(t, res, false, fmt.Sprintf("is attached to bridge %s (UP, IPv4 -)", br.Attrs().Name))
}

func TestNetReachFailures(t *testing.T) {
	env := newRootEnv(t)
	th := newTwoHouses(t, env)
	lonely := fakeHouse{hostname: "sepi"}.start(t, env.Runtime, "rumah-sepi")
	th.sw.plug(t, "rumah-sepi", lonely, cable{eth0Down: true})
	nobody := lastInPrefix(th.sw.subnet).Prev().String()

	tests := []struct {
		check    string
		kv       []string
		evidence string
	}{
		{"can-reach", []string{"target", "rumah-tidak-ada"}, "has no record of house rumah-tidak-ada"},
		{"can-reach", []string{"target", nobody}, fmt.Sprintf("no echo reply from %s to 3 requests", nobody)},
		{"can-reach", []string{"target", "rumah-sepi"}, "no echo reply from"},
		{"tcp-reachable", []string{"target", "rumah-bandung", "port", "9090"}, "refused the connection"},
		{"tcp-reachable", []string{"target", "rumah-tidak-ada", "port", "8080"}, "has no record of house rumah-tidak-ada"},
	}
	for _, tt := range tests {
		t.Run(tt.check+" "+strings.Join(tt.kv, " "), func(t *testing.T) {
			res := run(env, tt.check, append([]string{"name", "rumah-jakarta"}, tt.kv...)...)
			assertResult(t, res, false, tt.evidence)
		})
	}
	t.Run("not listening", func(t *testing.T) {
		res := run(env, "tcp-listening", "name", "rumah-jakarta", "port", "8080")
		assertResult(t, res, false, "nothing in the house listens on TCP port 8080")
	})
}

func TestResolvesFailures(t *testing.T) {
	env := newRootEnv(t)
	th := newTwoHouses(t, env)
	bandungIP := th.bandungIP.Addr().String()
	wrongIP := lastInPrefix(th.sw.subnet).Prev().String()

	// A file on the host with the right entry: a link to it from inside the
	// house must resolve inside the house and miss it.
	hostFile := filepath.Join(t.TempDir(), "hosts")
	writeFile(t, hostFile, bandungIP+" rumah-bandung\n")

	tests := []struct {
		name     string
		setup    func(root string)
		wantPass bool
		evidence string
	}{
		{"missing entry", func(root string) { writeHouseHosts(t, th.jakarta, "127.0.0.1 localhost\n") }, false,
			"has no IPv4 entry for rumah-bandung"},
		{"wrong address", func(root string) {
			writeHouseHosts(t, th.jakarta, wrongIP+" rumah-bandung\n"+bandungIP+" rumah-bandung\n")
		}, false, fmt.Sprintf("the phone book gives %s for rumah-bandung, but the eth0 of rumah-bandung has %s",
			wrongIP, th.bandungIP)},
		{"no file", func(root string) { os.Remove(root + "/etc/hosts") }, false, "cannot read /etc/hosts"},
		{"link to host file", func(root string) {
			os.Remove(root + "/etc/hosts")
			if err := os.Symlink(hostFile, root+"/etc/hosts"); err != nil {
				t.Fatal(err)
			}
		}, false, "no such file or directory"},
		{"link inside house", func(root string) {
			writeFile(t, root+"/tmp/hosts.real", bandungIP+" rumah-bandung\n")
			os.Remove(root + "/etc/hosts")
			if err := os.Symlink("/tmp/hosts.real", root+"/etc/hosts"); err != nil {
				t.Fatal(err)
			}
		}, true, "line 1: " + bandungIP + " rumah-bandung"},
	}
	root := fmt.Sprintf("/proc/%d/root", th.jakarta)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(root)
			res := run(env, "resolves", "name", "rumah-jakarta", "target", "rumah-bandung")
			assertResult(t, res, tt.wantPass, tt.evidence)
		})
	}
	t.Run("target not running", func(t *testing.T) {
		res := run(env, "resolves", "name", "rumah-jakarta", "target", "rumah-tidak-ada")
		assertResult(t, res, false, "has no record of house rumah-tidak-ada")
	})
}
