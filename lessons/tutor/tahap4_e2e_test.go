package tutor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/rt-lab/rt-lab/lessons"
)

// End-to-end tests of tahap 4 (bridge, veth pairs, ping, /etc/hosts and a TCP
// server). They build rt-lab, run the lesson against the real kernel network,
// and grade with `rt-lab check`. The checks send traffic only between the two
// houses of the stage.

// networkShowJSON is the part of `rt-lab network show --json` these tests read.
type networkShowJSON struct {
	Bridge string `json:"bridge"`
	Houses []struct {
		Name     string `json:"name"`
		HostLink string `json:"host_link"`
	} `json:"houses"`
}

// networkLinks returns the bridge and the host ends of the houses' cables
// that `rt-lab network show --json` names.
func (c cli) networkLinks() []string {
	c.t.Helper()
	stdout, stderr, code := c.run("network", "show", "--json")
	if code != 0 {
		c.t.Fatalf("network show: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var show networkShowJSON
	if err := json.Unmarshal([]byte(stdout), &show); err != nil {
		c.t.Fatalf("network show output is not JSON: %v\n%s", err, stdout)
	}
	links := []string{show.Bridge}
	for _, h := range show.Houses {
		links = append(links, h.HostLink)
	}
	return links
}

// removeBridgeOnCleanup removes the root's bridge when the test ends, after
// the reset that resetOnCleanup registers later (cleanups run last first), so
// a bridge that outlives its houses is not left behind by a failed test.
func (c cli) removeBridgeOnCleanup() {
	c.t.Cleanup(func() { c.run("network", "remove-bridge", "--force") })
}

func TestTahap4StartAutoGivesFullMarks(t *testing.T) {
	requireRoot(t)
	bin := buildRTLab(t)
	stage, err := lessons.Find("tahap-4")
	if err != nil {
		t.Fatal(err)
	}
	steps := len(stage.Steps)
	for _, lang := range []string{"id", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := cli{t: t, bin: bin, root: t.TempDir(), lang: lang}
			c.removeBridgeOnCleanup()
			c.resetOnCleanup()

			stdout, stderr, code := c.run("start", "tahap-4", "--auto")
			if code != 0 {
				t.Fatalf("start --auto: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if n := strings.Count(stdout, markPass); n != steps {
				t.Errorf("start --auto passed %d steps, want %d:\n%s", n, steps, stdout)
			}

			stdout, stderr, code = c.run("check", "tahap-4", "--format", "json")
			if code != 0 {
				t.Errorf("check: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			var report checkJSON
			if err := json.Unmarshal([]byte(stdout), &report); err != nil {
				t.Fatalf("check output is not JSON: %v\n%s", err, stdout)
			}
			want := 10 * steps
			if report.Score != want || report.Max != want || !report.Passed {
				t.Errorf("check: score %d/%d, passed %v; want %d/%d, passed",
					report.Score, report.Max, report.Passed, want, want)
			}

			// Resetting the stage deletes both houses, which takes their
			// cables and then the bridge of this root away.
			links := c.networkLinks()
			if _, stderr, code := c.run("reset", "tahap-4", "--yes"); code != 0 {
				t.Fatalf("reset tahap-4: exit %d\n%s", code, stderr)
			}
			for _, name := range links {
				if l, err := netlink.LinkByName(name); err == nil {
					t.Errorf("link %s (%s) is left after reset", name, l.Type())
				}
			}
		})
	}
}

// TestTahap4StoppedHouseFailsCalls stops rumah-depok after the stage is done:
// the calls and the shop from rumah-bogor must then fail, because the checker
// calls for real and does not trust the earlier result.
func TestTahap4StoppedHouseFailsCalls(t *testing.T) {
	requireRoot(t)
	c := cli{t: t, bin: buildRTLab(t), root: t.TempDir(), lang: "en"}
	c.removeBridgeOnCleanup()
	c.resetOnCleanup()
	if stdout, stderr, code := c.run("start", "tahap-4", "--auto"); code != 0 {
		t.Fatalf("start --auto: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, stderr, code := c.run("stop-container", "rumah-depok"); code != 0 {
		t.Fatalf("stop-container rumah-depok: exit %d\n%s", code, stderr)
	}

	passed := c.checkSteps("tahap-4")
	wants := map[string]bool{
		"dua-rumah":     false,
		"telepon-nomor": false,
		"buku-telepon":  false,
		"warung-8080":   false,
	}
	for id, want := range wants {
		if got, ok := passed[id]; !ok || got != want {
			t.Errorf("step %s: passed %v (found %v), want %v", id, got, ok, want)
		}
	}
}
