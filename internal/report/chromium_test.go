package report

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/internal/report/browsertest"
	"github.com/rt-lab/rt-lab/locales"
)

// TestClassHTMLInChromium renders the page of three students in headless
// Chromium. Set RT_LAB_SCREENSHOT_DIR to keep the screenshot there.
func TestClassHTMLInChromium(t *testing.T) {
	browsertest.Chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "kelas.html")
	var b bytes.Buffer
	if err := WriteClassHTML(&b, fakeClass(t), locales.For(locales.EN), at(30)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "kelas.png")
	if keep := os.Getenv("RT_LAB_SCREENSHOT_DIR"); keep != "" {
		shot = filepath.Join(keep, "rt-lab-report.png")
	}

	img := browsertest.Screenshot(t, page, shot)
	t.Logf("screenshot: %s", shot)
	if got := img.Bounds().Size(); got.X != 1280 || got.Y != 900 {
		t.Errorf("screenshot is %v, want 1280x900", got)
	}
	colours, nonWhite := browsertest.ColourStats(img)
	if colours < 16 {
		t.Errorf("screenshot has %d distinct colours, want at least 16: the page looks blank", colours)
	}
	if total := img.Bounds().Dx() * img.Bounds().Dy(); nonWhite*100 < total {
		t.Errorf("only %d of %d pixels are not white: the page looks blank", nonWhite, total)
	}
	if rows := browsertest.StepCellRows(img); rows != 3 {
		t.Errorf("screenshot shows %d rows of step cells, want one per student (3)", rows)
	}

	// The fragment makes the page's script sort by score, highest first.
	dom := browsertest.DumpDOM(t, page, "#sort=1-desc")
	if !strings.Contains(dom, `data-sort-ready="true"`) {
		t.Fatalf("the page's script did not run: no data-sort-ready on <html>\n%s", dom)
	}
	if !regexp.MustCompile(`data-sortable="[1-9][0-9]*"`).MatchString(dom) {
		t.Errorf("the table has no sortable columns (data-sortable)")
	}
	var order []string
	for _, m := range regexp.MustCompile(`aria-controls="detail-\d+">([^<]*)</button>`).FindAllStringSubmatch(dom, -1) {
		order = append(order, m[1])
	}
	if got := strings.Join(order, " / "); got != "Siti Aminah / Budi | &lt;b&gt;Santoso&lt;/b&gt; / Citra" {
		t.Errorf("rows sorted by score, highest first = %s", got)
	}
	if !strings.Contains(dom, `data-col="1" data-type="num" scope="col" aria-sort="descending"`) {
		t.Errorf("the score column is not marked as sorted in descending order")
	}
}
