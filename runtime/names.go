package runtime

import (
	"unicode/utf8"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// MaxNameLen is the longest container name. Names are also hostnames and
// phone-book entries, so they follow DNS label rules (RFC 1123) within this length.
const MaxNameLen = 50

// ValidateName rejects anything but a lower-case DNS label of 1 to MaxNameLen
// characters: a-z, 0-9 and '-', starting and ending with a letter or digit. It
// runs before the name is joined to any path, so "..", "a/b" and "-rf" never
// reach the file system.
func ValidateName(name string) error {
	switch {
	case name == "":
		return usererr.New(usererr.Usage, "ErrNameEmpty")
	case !utf8.ValidString(name) || !isASCII(name):
		return usererr.New(usererr.Usage, "ErrNameNotASCII", "Name", name)
	case len(name) > MaxNameLen:
		return usererr.New(usererr.Usage, "ErrNameTooLong", "Name", name, "Len", len(name), "Max", MaxNameLen)
	case name[0] == '-':
		return usererr.New(usererr.Usage, "ErrNameLeadingDash", "Name", name)
	}
	for i := 0; i < len(name); i++ {
		if !isLabelChar(name[i]) {
			return usererr.New(usererr.Usage, "ErrNameChar", "Name", name, "Char", string(name[i]))
		}
	}
	if name[len(name)-1] == '-' {
		return usererr.New(usererr.Usage, "ErrNameTrailingDash", "Name", name)
	}
	return nil
}

// ValidateHostname accepts a hostname of one or more RFC 1123 labels separated by
// dots, at most 64 bytes (HOST_NAME_MAX on Linux), each label at most 63.
func ValidateHostname(h string) error {
	if h == "" {
		return usererr.New(usererr.Usage, "ErrHostnameInvalid", "Hostname", h)
	}
	if len(h) > 64 || !isASCII(h) {
		return usererr.New(usererr.Usage, "ErrHostnameInvalid", "Hostname", h)
	}
	label := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '.':
			if label == 0 || h[i-1] == '-' {
				return usererr.New(usererr.Usage, "ErrHostnameInvalid", "Hostname", h)
			}
			label = 0
		case isLabelChar(c) || (c >= 'A' && c <= 'Z'):
			if label == 0 && c == '-' {
				return usererr.New(usererr.Usage, "ErrHostnameInvalid", "Hostname", h)
			}
			label++
			if label > 63 {
				return usererr.New(usererr.Usage, "ErrHostnameInvalid", "Hostname", h)
			}
		default:
			return usererr.New(usererr.Usage, "ErrHostnameInvalid", "Hostname", h)
		}
	}
	if label == 0 || h[len(h)-1] == '-' {
		return usererr.New(usererr.Usage, "ErrHostnameInvalid", "Hostname", h)
	}
	return nil
}

func isLabelChar(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
