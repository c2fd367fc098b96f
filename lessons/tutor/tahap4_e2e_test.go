package tutor

import (
	"encoding/json"
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

func TestTahap4StartAutoGivesFullMarks(t *testing.T) {
	requireRoot(t)
	testStartAutoFullMarks(t, buildRTLab(t), "tahap-4", func(c cli, _ *lessons.Stage) {
		// Resetting the stage deletes both houses, which takes their cables
		// and then the bridge of this root away.
		links := c.networkLinks()
		if _, stderr, code := c.run("reset", "tahap-4", "--yes"); code != 0 {
			c.t.Fatalf("reset tahap-4: exit %d\n%s", code, stderr)
		}
		for _, name := range links {
			if l, err := netlink.LinkByName(name); err == nil {
				c.t.Errorf("link %s (%s) is left after reset", name, l.Type())
			}
		}
	})
}

// TestTahap4StoppedHouseFailsCalls stops rumah-depok after the stage is done:
// the calls and the shop from rumah-bogor must then fail, because the checker
// calls for real and does not trust the earlier result.
func TestTahap4StoppedHouseFailsCalls(t *testing.T) {
	requireRoot(t)
	c := newStageCLI(t, buildRTLab(t), "en")
	c.mustRun("start", "tahap-4", "--auto")
	c.mustRun("stop-container", "rumah-depok")

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
