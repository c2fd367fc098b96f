// Package browsertest renders the class summary page in headless Chromium for
// tests: a screenshot to check that the page is not blank, and the DOM after
// the page's script ran. Chromium reads only the local file and is started with
// the flags that stop its background network traffic.
package browsertest

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"testing"
)

// flags keep Chromium away from the network and from the user's profile: no
// sync, no component or safe-browsing updates, no metrics, no first-run pages.
// run adds a profile folder inside the test's temporary folder.
var flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
	"--no-first-run", "--no-default-browser-check", "--disable-background-networking",
	"--disable-component-update", "--disable-default-apps", "--disable-sync", "--disable-extensions",
	"--metrics-recording-only", "--disable-breakpad", "--disable-domain-reliability",
	"--disable-client-side-phishing-detection", "--no-pings", "--safebrowsing-disable-auto-update",
	"--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication," +
		"CertificateTransparencyComponentUpdater",
	"--hide-scrollbars", "--force-device-scale-factor=1",
}

// Chromium returns the path of Debian's chromium. scripts/install-deps.sh
// installs it, so when RT_LAB_REQUIRE_ROOT is set (in CI) a missing browser
// fails the test instead of skipping it.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("RT_LAB_REQUIRE_ROOT") != "" {
		t.Fatal("chromium not found: run sudo scripts/install-deps.sh, which installs it for this test")
	}
	t.Skip("chromium not found: run sudo scripts/install-deps.sh")
	return ""
}

// run starts Chromium with a fresh profile in a temporary folder of t and
// returns its stdout.
func run(t testing.TB, args ...string) []byte {
	t.Helper()
	bin := Chromium(t)
	profile := t.TempDir()
	cmd := exec.Command(bin, append(append([]string{"--user-data-dir=" + profile}, flags...), args...)...)
	cmd.Env = []string{"HOME=" + profile, "PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", bin, args, err, stderr.String())
	}
	return stdout.Bytes()
}

// Screenshot renders the local page in a 1280 by 900 window, writes the PNG to
// shot and returns it decoded.
func Screenshot(t testing.TB, page, shot string) image.Image {
	t.Helper()
	run(t, "--screenshot="+shot, "--window-size=1280,900", "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", shot, err)
	}
	return img
}

// DumpDOM loads the local page, with fragment appended to its URL (such as
// "#sort=1-desc", or ""), and returns the DOM after its scripts ran.
func DumpDOM(t testing.TB, page, fragment string) string {
	t.Helper()
	return string(run(t, "--dump-dom", "file://"+page+fragment))
}

// ColourStats returns the number of distinct colours in img and of pixels that
// are not white.
func ColourStats(img image.Image) (colours, nonWhite int) {
	seen := map[[3]uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
			if r>>8 < 250 || g>>8 < 250 || b>>8 < 250 {
				nonWhite++
			}
		}
	}
	return len(seen), nonWhite
}

// StepCellRows counts the runs of screen lines that show the background of
// passed (#dafbe1) or failed (#ffebe9) step cells: one run per visible student
// row, because rows are separated by a border line.
func StepCellRows(img image.Image) int {
	near := func(v, want uint32) bool { return v+4 >= want && v <= want+4 }
	isCell := func(r, g, b uint32) bool {
		return (near(r, 0xda) && near(g, 0xfb) && near(b, 0xe1)) || (near(r, 0xff) && near(g, 0xeb) && near(b, 0xe9))
	}
	bounds := img.Bounds()
	rows, inRow := 0, false
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		count := 0
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if isCell(r>>8, g>>8, b>>8) {
				count++
			}
		}
		line := count >= 20
		if line && !inRow {
			rows++
		}
		inRow = line
	}
	return rows
}
