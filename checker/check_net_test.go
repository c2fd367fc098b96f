package checker

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/locales"
)

// littleEndian reports whether this machine prints /proc/net/tcp addresses
// the way the sample lines below were written (on x86-64).
func littleEndian() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

func TestParseProcNetTCP(t *testing.T) {
	if !littleEndian() {
		t.Skip("the sample lines are from a little-endian machine")
	}
	data := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 222 1 0000000000000000 100 0 0 10 0
   2: 0200000A:A1B2 0300000A:1F90 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
`
	got, err := parseProcNetTCP([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []tcpSocket{
		{netip.MustParseAddrPort("0.0.0.0:8080"), tcpListen, 12345},
		{netip.MustParseAddrPort("127.0.0.1:53"), tcpListen, 222},
		{netip.MustParseAddrPort("10.0.0.2:41394"), 1, 0},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseProcNetTCP = %v, want %v", got, want)
	}
}

func TestParseProcNetTCP6(t *testing.T) {
	if !littleEndian() {
		t.Skip("the sample lines are from a little-endian machine")
	}
	data := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000300000A:1F90 0000000000000000FFFF00000200000A:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 20 4 30 10 -1
   2: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6666 1 0000000000000000 100 0 0 10 0
`
	got, err := parseProcNetTCP([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[::]:8080", "10.0.0.3:8080", "[::1]:22"}
	if len(got) != len(want) {
		t.Fatalf("got %d sockets, want %d: %v", len(got), len(want), got)
	}
	for i, s := range got {
		if s.Local.String() != want[i] {
			t.Errorf("socket %d: local %s, want %s", i, s.Local, want[i])
		}
	}
}

func TestParseProcNetTCPBadLines(t *testing.T) {
	header := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tests := []struct {
		name, line string
	}{
		{"too few fields", "0: 00000000:1F90 00000000:0000 0A"},
		{"no colon", "0: 000000001F90 00000000:0000 0A 0:0 0:0 0 0 0 1"},
		{"odd address length", "0: 0000000:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1"},
		{"bad state", "0: 00000000:1F90 00000000:0000 ZZ 0:0 0:0 0 0 0 1"},
		{"bad inode", "0: 00000000:1F90 00000000:0000 0A 0:0 0:0 0 0 0 x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := parseProcNetTCP([]byte(header + tt.line + "\n")); err == nil {
				t.Errorf("parseProcNetTCP accepted %q: %v", tt.line, got)
			}
		})
	}
}

// TestParseProcNetTCPOwnListener reads this process's own /proc/self/net/tcp
// while it listens on a loopback port, so the parser meets the running
// kernel's real format on any byte order.
func TestParseProcNetTCPOwnListener(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := netip.MustParseAddrPort(l.Addr().String())

	data, err := os.ReadFile("/proc/self/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	sockets, err := parseProcNetTCP(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sockets {
		if s.Local == want {
			if s.State != tcpListen {
				t.Errorf("socket %s has state %#x, want %#x (listen)", s.Local, s.State, tcpListen)
			}
			if s.Inode == 0 {
				t.Errorf("socket %s has inode 0", s.Local)
			}
			return
		}
	}
	t.Errorf("listener %s not found in %v", want, sockets)
}

const sampleHosts = `127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
10.0.0.2	jakarta rumah-jakarta
10.0.0.3	rumah-bandung   # the neighbour
bad-address	rumah-bandung
fe80::1%eth0	rumah-zone
10.0.0.9 RUMAH-BOGOR
10.0.0.10 rumah-bogor
# 10.0.0.8 rumah-depok
10.0.0.11
`

func TestParseHosts(t *testing.T) {
	entries := parseHosts([]byte(sampleHosts))
	var lines []int
	for _, e := range entries {
		lines = append(lines, e.Line)
	}
	if got, want := fmt.Sprint(lines), "[1 2 3 4 7 8]"; got != want {
		t.Errorf("entries on lines %s, want %s", got, want)
	}
	if e := entries[3]; e.Text != "10.0.0.3 rumah-bandung" {
		t.Errorf("line 4 text %q, want the line without its comment", e.Text)
	}
}

func TestLookupHostsV4(t *testing.T) {
	entries := parseHosts([]byte(sampleHosts))
	tests := []struct {
		name     string
		wantAddr string // "" when the name has no IPv4 entry
		wantLine int
	}{
		{"rumah-bandung", "10.0.0.3", 4},
		{"jakarta", "10.0.0.2", 3},
		{"rumah-bogor", "10.0.0.9", 7}, // the first entry wins; case does not matter
		{"localhost", "127.0.0.1", 1},
		{"ip6-localhost", "", 0},
		{"rumah-depok", "", 0}, // only in a comment
		{"rumah-zone", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := lookupHostsV4(entries, tt.name)
			if tt.wantAddr == "" {
				if ok {
					t.Errorf("found %v, want no entry", e)
				}
				return
			}
			if !ok {
				t.Fatal("no entry found")
			}
			if e.Addr.String() != tt.wantAddr {
				t.Errorf("address %s, want %s", e.Addr, tt.wantAddr)
			}
			if e.Line != tt.wantLine {
				t.Errorf("line %d, want %d", e.Line, tt.wantLine)
			}
		})
	}
}

func TestTargetProblem(t *testing.T) {
	tests := []struct {
		own, dst, want string
	}{
		{"10.0.0.2/24", "10.0.0.3", ""},
		{"10.0.0.2/24", "10.0.0.2", ""},
		{"10.0.0.2/24", "10.0.0.254", ""},
		{"10.0.0.2/30", "10.0.0.1", ""},
		{"192.168.7.2/16", "192.168.200.1", ""},
		{"10.0.0.2/24", "10.0.1.3", "CheckNetRefuseOutside"},
		{"10.0.0.2/24", "8.8.8.8", "CheckNetRefuseOutside"},
		{"10.0.0.2/24", "::1", "CheckNetRefuseOutside"},
		{"10.0.0.2/24", "10.0.0.0", "CheckNetRefuseSpecial"},
		{"10.0.0.2/24", "10.0.0.255", "CheckNetRefuseSpecial"},
		{"8.8.8.2/24", "8.8.8.8", "CheckNetRefuseSubnet"},
		{"10.0.0.2/8", "10.200.0.1", "CheckNetRefuseSubnet"},
		{"10.0.0.2/1", "8.8.8.8", "CheckNetRefuseSubnet"},
		{"10.0.0.2/31", "10.0.0.3", "CheckNetRefuseSubnet"},
	}
	for _, tt := range tests {
		t.Run(tt.own+" to "+tt.dst, func(t *testing.T) {
			got := targetProblem(netip.MustParsePrefix(tt.own), netip.MustParseAddr(tt.dst))
			if got != tt.want {
				t.Errorf("targetProblem = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInternetChecksum(t *testing.T) {
	// The example of RFC 1071 section 3: the one's complement sum is ddf2.
	data := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := internetChecksum(data); got != ^uint16(0xddf2) {
		t.Errorf("checksum %#04x, want %#04x", got, ^uint16(0xddf2))
	}
	if got := internetChecksum([]byte{0x01}); got != ^uint16(0x0100) {
		t.Errorf("odd length: checksum %#04x, want %#04x", got, ^uint16(0x0100))
	}
}

func TestEchoRequest(t *testing.T) {
	pkt := echoRequest(0x1234, 2)
	if pkt[0] != 8 || pkt[1] != 0 {
		t.Errorf("type %d code %d, want 8 0", pkt[0], pkt[1])
	}
	if got := binary.BigEndian.Uint16(pkt[4:]); got != 0x1234 {
		t.Errorf("id %#x, want 0x1234", got)
	}
	if got := binary.BigEndian.Uint16(pkt[6:]); got != 2 {
		t.Errorf("seq %d, want 2", got)
	}
	// A packet with a correct checksum sums to zero.
	if got := internetChecksum(pkt); got != 0 {
		t.Errorf("checksum over the packet is %#x, want 0", got)
	}
}

// ipv4Packet returns an IPv4 header of ihl bytes followed by payload.
func ipv4Packet(ihl int, payload []byte) []byte {
	pkt := make([]byte, ihl, ihl+len(payload))
	pkt[0] = 0x40 | byte(ihl/4)
	return append(pkt, payload...)
}

func TestIsEchoReply(t *testing.T) {
	reply := func(typ byte, id, seq uint16) []byte {
		b := make([]byte, 8)
		b[0] = typ
		binary.BigEndian.PutUint16(b[4:], id)
		binary.BigEndian.PutUint16(b[6:], seq)
		return b
	}
	tests := []struct {
		name string
		pkt  []byte
		want bool
	}{
		{"reply", ipv4Packet(20, reply(0, 7, 1)), true},
		{"reply after IP options", ipv4Packet(24, reply(0, 7, 1)), true},
		{"other id", ipv4Packet(20, reply(0, 8, 1)), false},
		{"other seq", ipv4Packet(20, reply(0, 7, 2)), false},
		{"echo request", ipv4Packet(20, reply(8, 7, 1)), false},
		{"unreachable", ipv4Packet(20, reply(3, 7, 1)), false},
		{"short", ipv4Packet(20, reply(0, 7, 1)[:6]), false},
		{"not IPv4", append([]byte{0x60}, make([]byte, 40)...), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isEchoReply(tt.pkt, 7, 1); got != tt.want {
				t.Errorf("isEchoReply = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSocketInode(t *testing.T) {
	tests := []struct {
		target string
		want   uint64
		ok     bool
	}{
		{"socket:[12345]", 12345, true},
		{"socket:[]", 0, false},
		{"socket:[12", 0, false},
		{"pipe:[12345]", 0, false},
		{"/dev/null", 0, false},
	}
	for _, tt := range tests {
		got, ok := socketInode(tt.target)
		if got != tt.want || ok != tt.ok {
			t.Errorf("socketInode(%q) = %d, %v; want %d, %v", tt.target, got, ok, tt.want, tt.ok)
		}
	}
}

// TestNetParamsRejected runs the network checks with parameters that are
// wrong in the lesson file: they fail before looking for any house.
func TestNetParamsRejected(t *testing.T) {
	env := newTestEnv(t, locales.EN)
	tests := []struct {
		check    string
		kv       []string
		evidence string
	}{
		{"can-reach", []string{"target", "10.0.0.3/24"}, "invalid target 10.0.0.3/24"},
		{"can-reach", []string{"target", "::1"}, "invalid target ::1"},
		{"can-reach", []string{"target", "../etc"}, "invalid target ../etc"},
		{"resolves", []string{"target", "10.0.0.3"}, "use a house name"},
		{"tcp-listening", []string{"port", "0"}, "invalid port 0"},
		{"tcp-listening", []string{"port", "65536"}, "invalid port 65536"},
		{"tcp-listening", []string{"port", "08080"}, "invalid port 08080"},
		{"tcp-listening", []string{"port", "http"}, "invalid port http"},
		{"tcp-reachable", []string{"target", "rumah-bandung", "port", "-1"}, "invalid port -1"},
		{"tcp-reachable", []string{"target", "rumah bandung", "port", "8080"}, "invalid target rumah bandung"},
	}
	for _, tt := range tests {
		t.Run(tt.check+" "+strings.Join(tt.kv, " "), func(t *testing.T) {
			res := run(env, tt.check, append([]string{"name", "rumah-jakarta"}, tt.kv...)...)
			assertResult(t, res, false, tt.evidence)
			if !strings.Contains(res.Expected, "bug in the lesson") {
				t.Errorf("expected %q, want the lesson-fix text", res.Expected)
			}
		})
	}
}

func TestNetChecksNeedRunningHouse(t *testing.T) {
	env := newTestEnv(t, locales.EN)
	for _, check := range []string{"veth-to-bridge", "default-route", "can-reach", "resolves", "tcp-listening",
		"tcp-reachable"} {
		t.Run(check, func(t *testing.T) {
			res := run(env, check, "name", "rumah-kosong", "target", "rumah-lain", "port", "8080")
			assertResult(t, res, false, "has no record of house rumah-kosong")
			if !strings.Contains(res.Expected, "house rumah-kosong running") {
				t.Errorf("expected %q, want house rumah-kosong running", res.Expected)
			}
		})
	}
}
