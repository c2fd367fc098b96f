package network

import (
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

func TestBridgeNameFitsAndDiffers(t *testing.T) {
	a := BridgeName("/var/lib/rt-lab")
	b := BridgeName("/var/lib/rt-lab2")
	for _, name := range []string{a, b} {
		if len(name) > MaxLinkName {
			t.Errorf("bridge name %q is %d bytes, more than %d", name, len(name), MaxLinkName)
		}
		if !strings.HasPrefix(name, LinkPrefix) {
			t.Errorf("bridge name %q does not start with %q", name, LinkPrefix)
		}
		if err := ValidateLinkName(name); err != nil {
			t.Errorf("bridge name %q is invalid: %v", name, err)
		}
	}
	if a == b {
		t.Errorf("two roots share bridge name %q", a)
	}
	if again := BridgeName("/var/lib/rt-lab"); again != a {
		t.Errorf("BridgeName is not stable: %q then %q", a, again)
	}
}

func TestHostLinkNameSharedPrefix(t *testing.T) {
	root := "/var/lib/rt-lab"
	names := []string{"rumah-jakarta-selatan-1", "rumah-jakarta-selatan-2"}
	seen := map[string]string{}
	for _, name := range names {
		link := HostLinkName(linkID(root, name, 0))
		if len(link) > MaxLinkName {
			t.Errorf("host link %q of %s is %d bytes, more than %d", link, name, len(link), MaxLinkName)
		}
		if other, ok := seen[link]; ok {
			t.Errorf("%s and %s share host link %q", other, name, link)
		}
		seen[link] = name
	}
}

func TestLinkIDDependsOnRootAndAttempt(t *testing.T) {
	base := linkID("/a", "rumah", 0)
	if linkID("/b", "rumah", 0) == base {
		t.Error("equal names in two roots get the same id")
	}
	if linkID("/a", "rumah", 1) == base {
		t.Error("a second attempt gets the same id")
	}
	if len(base) != idLen {
		t.Errorf("id %q has %d characters, want %d", base, len(base), idLen)
	}
}

func TestValidateLinkName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"rt-br-1a2b3c4d", true},
		{"br_0.lab", true},
		{"abcdefghijklmno", true},   // 15 bytes
		{"abcdefghijklmnop", false}, // 16 bytes
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"a b", false},
		{"eth0:1", false},
	}
	for _, tt := range tests {
		err := ValidateLinkName(tt.name)
		if tt.ok && err != nil {
			t.Errorf("ValidateLinkName(%q) = %v, want nil", tt.name, err)
		}
		if !tt.ok && !usererr.Is(err, "ErrNetLinkName") {
			t.Errorf("ValidateLinkName(%q) = %v, want ErrNetLinkName", tt.name, err)
		}
	}
}
