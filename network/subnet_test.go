package network

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

func TestParseSubnet(t *testing.T) {
	tests := []struct {
		in     string
		wantID string // empty: valid
	}{
		{"10.0.0.0/24", ""},
		{"192.168.77.0/30", ""},
		{"172.16.0.0/16", ""},
		{"10.0.0.5/33", "ErrNetSubnetInvalid"},
		{"abc", "ErrNetSubnetInvalid"},
		{"", "ErrNetSubnetInvalid"},
		{"10.0.0.0", "ErrNetSubnetInvalid"},
		{" 10.0.0.0/24", "ErrNetSubnetInvalid"},
		{"fd00::/64", "ErrNetSubnetInvalid"},
		{"10.0.0.0/31", "ErrNetSubnetTooSmall"},
		{"10.0.0.0/32", "ErrNetSubnetTooSmall"},
		{"10.0.0.0/8", "ErrNetSubnetTooLarge"},
		{"10.0.0.5/24", "ErrNetSubnetNotNetwork"},
		{"8.8.8.0/24", "ErrNetSubnetNotPrivate"},
		{"172.32.0.0/24", "ErrNetSubnetNotPrivate"},
	}
	for _, tt := range tests {
		p, err := ParseSubnet(tt.in)
		if tt.wantID == "" {
			if err != nil {
				t.Errorf("ParseSubnet(%q) = %v, want nil", tt.in, err)
			} else if p.String() != tt.in {
				t.Errorf("ParseSubnet(%q) = %s", tt.in, p)
			}
			continue
		}
		if !usererr.Is(err, tt.wantID) {
			t.Errorf("ParseSubnet(%q) = %v, want %s", tt.in, err, tt.wantID)
			continue
		}
		if code := usererr.ExitCode(err); code != usererr.ExitUsage {
			t.Errorf("ParseSubnet(%q) exit code %d, want %d", tt.in, code, usererr.ExitUsage)
		}
	}
}

func TestParseSubnetNamesNetworkAddress(t *testing.T) {
	_, err := ParseSubnet("10.0.0.5/24")
	if !strings.Contains(err.Error(), "10.0.0.0/24") {
		t.Errorf("error %q does not name the network address 10.0.0.0/24", err)
	}
}

func TestFindOverlap(t *testing.T) {
	routes := []Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Link: "eth0"},
		{Dst: netip.MustParsePrefix("192.168.1.0/24"), Link: "eth0"},
		{Dst: netip.MustParsePrefix("10.8.0.0/16"), Link: "tun0"},
		{Dst: netip.MustParsePrefix("172.20.5.7/32"), Link: "wg0"},
		{Dst: netip.MustParsePrefix("10.0.0.0/24"), Link: "rt-br-own"},
	}
	tests := []struct {
		subnet string
		want   string // overlapping route; empty: none
	}{
		{"10.0.0.0/24", ""},            // only the bridge's own route
		{"10.1.0.0/24", ""},            // only the default route
		{"10.8.3.0/24", "10.8.0.0/16"}, // inside a larger route
		{"10.8.0.0/30", "10.8.0.0/16"},
		{"172.20.0.0/16", "172.20.5.7/32"}, // contains a host route
		{"192.168.1.128/25", "192.168.1.0/24"},
		{"192.168.2.0/24", ""},
	}
	for _, tt := range tests {
		r, ok := findOverlap(netip.MustParsePrefix(tt.subnet), "rt-br-own", routes)
		got := ""
		if ok {
			got = r.Dst.String()
		}
		if got != tt.want {
			t.Errorf("findOverlap(%s) = %q, want %q", tt.subnet, got, tt.want)
		}
	}
}

func TestOverlapErrorSuggestsFreeSubnet(t *testing.T) {
	routes := []Route{
		{Dst: netip.MustParsePrefix("10.0.0.0/23"), Link: "eth1"},
		{Dst: netip.MustParsePrefix("10.0.2.0/24"), Link: "eth2"},
	}
	subnet := netip.MustParsePrefix("10.0.0.0/24")
	err := overlapError(subnet, "rt-br-x", routes[0], routes)
	if !usererr.Is(err, "ErrNetSubnetOverlap") {
		t.Fatalf("overlapError = %v, want ErrNetSubnetOverlap", err)
	}
	msg := err.Error()
	for _, want := range []string{"10.0.0.0/24", "10.0.0.0/23", "eth1", "--subnet", "10.0.3.0/24"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
}

func TestFreeSubnetFromAvoidsRoutes(t *testing.T) {
	first, ok := freeSubnetFrom("/tmp/a", nil)
	if !ok {
		t.Fatal("no free subnet without routes")
	}
	taken := []Route{{Dst: first, Link: "eth0"}}
	second, ok := freeSubnetFrom("/tmp/a", taken)
	if !ok {
		t.Fatal("no free subnet with one route")
	}
	if second == first {
		t.Errorf("freeSubnetFrom returned the routed subnet %s", first)
	}
	if _, err := ParseSubnet(second.String()); err != nil {
		t.Errorf("freeSubnetFrom returned %s, which ParseSubnet rejects: %v", second, err)
	}
	if other, _ := freeSubnetFrom("/tmp/b", nil); other == first {
		t.Errorf("two seeds start at the same subnet %s", first)
	}
}

func TestLastAddress(t *testing.T) {
	tests := map[string]string{
		"10.0.0.0/24":     "10.0.0.255",
		"192.168.77.0/30": "192.168.77.3",
		"172.16.0.0/16":   "172.16.255.255",
	}
	for subnet, want := range tests {
		if got := lastAddress(netip.MustParsePrefix(subnet)).String(); got != want {
			t.Errorf("lastAddress(%s) = %s, want %s", subnet, got, want)
		}
	}
}
