package units

import (
	"errors"
	"testing"
)

func TestParseSize(t *testing.T) {
	const maxBytes = 4 << 30
	tests := []struct {
		in         string
		bareFactor int64
		want       int64
		err        error // nil for success
	}{
		{"200", MiB, 200 * MiB, nil},
		{"0512", MiB, 512 * MiB, nil},
		{"08", MiB, 8 * MiB, nil},
		{"10485760", 1, 10 * MiB, nil},
		{"512k", 1, 512 << 10, nil},
		{"512KiB", MiB, 512 << 10, nil},
		{"8192k", 1, 8 * MiB, nil},
		{"16M", 1, 16 * MiB, nil},
		{"512m", 1, 512 * MiB, nil},
		{"16mb", 1, 16 * MiB, nil},
		{"512MB", 1, 512 * MiB, nil},
		{"0512M", 1, 512 * MiB, nil},
		{"1g", 1, 1 << 30, nil},
		{"1G", 1, 1 << 30, nil},
		{"4096b", MiB, 4096, nil},
		{"4g", 1, 4 << 30, nil},
		{"4096", MiB, 4 << 30, nil},
		{"0", MiB, 0, ErrSizeZero},
		{"0k", 1, 0, ErrSizeZero},
		{"0M", 1, 0, ErrSizeZero},
		{"5g", 1, 0, ErrSizeTooLarge},
		{"4097", MiB, 0, ErrSizeTooLarge},
		{"999999999999999", MiB, 0, ErrSizeTooLarge},
		{"", 1, 0, ErrSizeInvalid},
		{"-1", 1, 0, ErrSizeInvalid},
		{"-1M", 1, 0, ErrSizeInvalid},
		{"+1", 1, 0, ErrSizeInvalid},
		{"1.5", 1, 0, ErrSizeInvalid},
		{"0.5G", 1, 0, ErrSizeInvalid},
		{"1e3", 1, 0, ErrSizeInvalid},
		{"1e3M", 1, 0, ErrSizeInvalid},
		{"12 m", 1, 0, ErrSizeInvalid},
		{" 256", MiB, 0, ErrSizeInvalid},
		{"1t", 1, 0, ErrSizeInvalid},
		{"512T", 1, 0, ErrSizeInvalid},
		{"m", 1, 0, ErrSizeInvalid},
		{"M", 1, 0, ErrSizeInvalid},
		{"1234567890123456", 1, 0, ErrSizeInvalid},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in, tt.bareFactor, maxBytes)
		if tt.err == nil {
			if err != nil || got != tt.want {
				t.Errorf("ParseSize(%q, %d) = %d, %v; want %d", tt.in, tt.bareFactor, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("ParseSize(%q, %d) error = %v, want %v", tt.in, tt.bareFactor, err, tt.err)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"0512", 512, true},
		{"08", 8, true},
		{"999999999999999", 999999999999999, true},
		{"1234567890123456", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{" 1", 0, false},
		{"1.5", 0, false},
		{"1e3", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseDecimal(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseDecimal(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
