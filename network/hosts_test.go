package network

import (
	"net/netip"
	"testing"
)

func TestRenderHosts(t *testing.T) {
	all := []Allocation{
		{Name: "rumah-jakarta", Address: netip.MustParseAddr("10.0.0.2")},
		{Name: "rumah-bandung", Address: netip.MustParseAddr("10.0.0.3")},
	}
	tests := []struct {
		name, self, hostname, want string
	}{
		{
			name: "own name first", self: "rumah-bandung", hostname: "rumah-bandung",
			want: "127.0.0.1\tlocalhost\n" +
				"::1\tlocalhost ip6-localhost ip6-loopback\n" +
				"10.0.0.3\trumah-bandung\n" +
				"10.0.0.2\trumah-jakarta\n",
		},
		{
			name: "hostname differs", self: "rumah-jakarta", hostname: "jkt",
			want: "127.0.0.1\tlocalhost\n" +
				"::1\tlocalhost ip6-localhost ip6-loopback\n" +
				"10.0.0.2\tjkt rumah-jakarta\n" +
				"10.0.0.3\trumah-bandung\n",
		},
		{
			name: "no allocation", self: "rumah-bogor", hostname: "rumah-bogor",
			want: "127.0.0.1\tlocalhost\n" +
				"::1\tlocalhost ip6-localhost ip6-loopback\n" +
				"127.0.1.1\trumah-bogor\n" +
				"10.0.0.2\trumah-jakarta\n" +
				"10.0.0.3\trumah-bandung\n",
		},
	}
	for _, tt := range tests {
		if got := string(RenderHosts(tt.self, tt.hostname, all)); got != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

func TestHostsListsAllocations(t *testing.T) {
	n := newTestNetwork(t, "10.0.0.0/24")
	mustAllocate(t, n, "rumah-jakarta")
	mustAllocate(t, n, "rumah-bandung")
	got, err := n.Hosts("rumah-jakarta", "rumah-jakarta")
	if err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"10.0.0.2\trumah-jakarta\n" +
		"10.0.0.3\trumah-bandung\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
