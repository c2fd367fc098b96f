// Package units parses the whole numbers and byte sizes that rt-lab and the
// house tools accept on their command lines. It returns plain errors, so each
// caller maps them to its own localized message.
package units

import (
	"errors"
	"strconv"
	"strings"
)

// MiB is the number of bytes in a mebibyte.
const MiB = 1 << 20

// Errors of ParseSize. Callers test them with errors.Is.
var (
	ErrSizeInvalid  = errors.New("invalid size")
	ErrSizeZero     = errors.New("size is zero")
	ErrSizeTooLarge = errors.New("size is too large")
)

// sizeSuffixes maps the accepted size suffixes (case-insensitive, without the
// empty one) to their factor. All are binary: k, kb and kib all mean 1024
// bytes, as in docker and runc.
var sizeSuffixes = map[string]int64{
	"b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
}

// ParseSize parses a size in bytes: a whole decimal number, leading zeros
// allowed ("0512" is 512), with an optional suffix b, k, kb, kib, m, mb, mib,
// g, gb or gib in any case. A number without a suffix is multiplied by
// bareFactor (1 for bytes, MiB for mebibytes). It returns ErrSizeInvalid for
// any other text, ErrSizeZero for a size of 0 and ErrSizeTooLarge for a size
// above maxBytes.
func ParseSize(s string, bareFactor, maxBytes int64) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, ok := ParseDecimal(s[:i])
	factor, known := sizeSuffixes[strings.ToLower(s[i:])]
	if s[i:] == "" {
		factor, known = bareFactor, true
	}
	if !ok || !known {
		return 0, ErrSizeInvalid
	}
	if n == 0 {
		return 0, ErrSizeZero
	}
	if n > maxBytes/factor {
		return 0, ErrSizeTooLarge
	}
	return n * factor, nil
}

// ParseDecimal accepts only ASCII digits (at most 15, so no overflow) and
// reads them as base 10, so "0512" is 512 and "08" is 8. Signs, spaces,
// fractions and exponents are rejected.
func ParseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 15 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
