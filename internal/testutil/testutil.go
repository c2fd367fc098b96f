// Package testutil has helpers shared by rt-lab's tests.
package testutil

import (
	"os"
	"testing"
)

// RequireRoot skips t when not running as root, unless RT_LAB_REQUIRE_ROOT is set
// (CI sets it), in which case a skip would hide an untested kernel feature and the
// test fails instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("RT_LAB_REQUIRE_ROOT") != "" {
		t.Fatal("this test needs root and RT_LAB_REQUIRE_ROOT is set")
	}
	t.Skip("needs root")
}
