package checker

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/locales"
)

func TestHouseFileMissingAndWritten(t *testing.T) {
	env := newTestEnv(t, locales.EN)
	with := map[string]string{"name": "rumah-a", "path": "/root/surat.txt"}
	if r := checkHouseFile(env, with); r.Passed {
		t.Fatalf("house-file passed without a letter: %v", r.Evidence)
	}
	file := filepath.Join(env.Runtime.UpperDir("rumah-a"), "root", "surat.txt")
	writeFile(t, file, "")
	if r := checkHouseFile(env, with); r.Passed {
		t.Fatalf("house-file passed with an empty letter: %v", r.Evidence)
	}
	writeFile(t, file, "Horas dari  Medan\nbaris dua\n")
	if r := checkHouseFile(env, with); !r.Passed {
		t.Fatalf("house-file failed with a letter: %v", r.Evidence)
	}
	got, _, fail := letterText(env, "rumah-a", "/root/surat.txt")
	if fail != nil {
		t.Fatalf("letterText failed: %v", fail.Evidence)
	}
	if got != "Horas dari Medan" {
		t.Errorf("letterText = %q, want %q", got, "Horas dari Medan")
	}
}

func TestFatherAfterFileStopped(t *testing.T) {
	env := newTestEnv(t, locales.EN)
	with := map[string]string{"name": "rumah-a", "path": "/root/surat.txt"}
	if r := checkFatherAfterFile(env, with); r.Passed {
		t.Fatalf("father-after-file passed without a letter: %v", r.Evidence)
	}
	writeFile(t, filepath.Join(env.Runtime.UpperDir("rumah-a"), "root", "surat.txt"), "hai\n")
	if r := checkFatherAfterFile(env, with); !r.Passed {
		t.Fatalf("father-after-file failed with no father running: %v", r.Evidence)
	}
}

func TestStartedAtOwnProcess(t *testing.T) {
	started, err := startedAt(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// One tick of /proc plus rounding of CLOCK_BOOTTIME against the wall clock.
	if started.After(time.Now().Add(20 * time.Millisecond)) {
		t.Errorf("own start time %v is in the future", started)
	}
	if time.Since(started) > 24*time.Hour {
		t.Errorf("own start time %v is more than a day ago", started)
	}
}
