package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSameDir(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{real, real + "/", true},
		{real, link, true},
		{real, dir, false},
		{"", real, false},
		{"/no/such/a", "/no/such/b", false},
	}
	for _, tt := range tests {
		if got := SameDir(tt.a, tt.b); got != tt.want {
			t.Errorf("SameDir(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
