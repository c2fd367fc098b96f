package runtime

import (
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"rumah-jakarta", ""},
		{"a", ""},
		{"r2d2", ""},
		{strings.Repeat("a", 50), ""},
		{"", "ErrNameEmpty"},
		{".", "ErrNameChar"},
		{"..", "ErrNameChar"},
		{"a/b", "ErrNameChar"},
		{"../../etc/x", "ErrNameChar"},
		{"-rf", "ErrNameLeadingDash"},
		{"rumah-", "ErrNameTrailingDash"},
		{"rumah jakarta", "ErrNameChar"},
		{"Rumah", "ErrNameChar"},
		{"rumah_jakarta", "ErrNameChar"},
		{strings.Repeat("a", 51), "ErrNameTooLong"},
		{"rumah-éé", "ErrNameNotASCII"},
		{"rumah\x00", "ErrNameChar"},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("ValidateName(%q) = %v, want nil", tt.name, err)
			}
			continue
		}
		if !usererr.Is(err, tt.wantErr) {
			t.Errorf("ValidateName(%q) = %v, want %s", tt.name, err, tt.wantErr)
		}
	}
}

func TestValidateHostname(t *testing.T) {
	valid := []string{"jakarta", "Jakarta", "rumah-1", "a.b.c", strings.Repeat("a", 63)}
	for _, h := range valid {
		if err := ValidateHostname(h); err != nil {
			t.Errorf("ValidateHostname(%q) = %v, want nil", h, err)
		}
	}
	invalid := []string{"", "-a", "a-", "a..b", ".a", "a.", "a b", "a_b", strings.Repeat("a", 64), "ä"}
	for _, h := range invalid {
		if err := ValidateHostname(h); !usererr.Is(err, "ErrHostnameInvalid") {
			t.Errorf("ValidateHostname(%q) = %v, want ErrHostnameInvalid", h, err)
		}
	}
}
