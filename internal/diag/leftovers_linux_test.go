package diag

import (
	"errors"
	"testing"

	"github.com/rt-lab/rt-lab/internal/leftovers"
)

func TestDiagCheckLeftovers(t *testing.T) {
	inUse := &leftovers.Set{Hash: "00000001", Bridge: "rt-br-00000001", InUse: true}
	idle := &leftovers.Set{Hash: "00000002", Table: "rtlab_00000002"}
	tests := []struct {
		name    string
		sets    []*leftovers.Set
		err     error
		verdict Verdict
		value   string
	}{
		{"none", nil, nil, OK, "DebugValueLeftoversNone"},
		{"only in use", []*leftovers.Set{inUse}, nil, OK, "DebugValueLeftoversNone"},
		{"one idle", []*leftovers.Set{inUse, idle}, nil, Warning, "DebugValueLeftovers"},
		{"cannot list", nil, errors.New("netlink: operation not permitted"), Warning, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := checkLeftovers(tt.sets, tt.err)
			if c.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s", c.Verdict, tt.verdict)
			}
			if c.Value.ID != tt.value {
				t.Errorf("value %q, want %q", c.Value.ID, tt.value)
			}
			if tt.value == "DebugValueLeftovers" && c.Value.Data["Names"] != "rtlab_00000002" {
				t.Errorf("names %v, want only the idle set's table", c.Value.Data["Names"])
			}
		})
	}
}
