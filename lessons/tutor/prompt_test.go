package tutor

import "testing"

func TestParseYesNo(t *testing.T) {
	tests := []struct {
		reply   string
		yes, ok bool
	}{
		{"y", true, true},
		{"Y", true, true},
		{"yes", true, true},
		{"YES", true, true},
		{"ya", true, true},
		{" Ya ", true, true},
		{"n", false, true},
		{"No", false, true},
		{"tidak", false, true},
		{"TIDAK", false, true},
		{"", false, true},
		{"yaa", false, false},
		{"t", false, false},
		{"ok", false, false},
	}
	for _, tt := range tests {
		yes, ok := ParseYesNo(tt.reply)
		if yes != tt.yes || ok != tt.ok {
			t.Errorf("ParseYesNo(%q) = %v, %v; want %v, %v", tt.reply, yes, ok, tt.yes, tt.ok)
		}
	}
}
