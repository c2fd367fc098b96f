package tutor

import (
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/rt-lab/rt-lab/locales"
)

// TestInteractiveMenuOnTerminal drives the real survey menu through a
// pseudo-terminal, in Indonesian, with a fake grader.
func TestInteractiveMenuOnTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tty.Close()
		ptmx.Close()
	})
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	f.tutor.P = locales.For(locales.ID)
	f.tutor.Out, f.tutor.ask = nil, nil
	f.grader.pass["a"] = true
	c := newConsole(t, ptmx)

	done := make(chan error, 1)
	go func() { done <- f.tutor.Interactive(tty, tty) }()

	const last = "Keluar (progres Anda tersimpan)"
	c.expect("pengantar")
	menu := c.expect(last)
	if !strings.Contains(menu, "Pilih dengan tombol panah") || strings.Contains(menu, "Use arrows") {
		t.Errorf("the menu help is not in Indonesian:\n%s", menu)
	}
	c.waitRaw()
	c.send(keyEnter) // Periksa pekerjaan saya
	c.expect("Lulus! +10 dari 10 poin")
	c.expect("judul b")
	c.choose(last, actionHint)
	c.expect("Petunjuk 1 dari 2:")
	c.expect("(1 dari 2 sudah dilihat)")
	c.expect(last)
	c.waitRaw()
	c.send(keyCtrlC)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.expect("Sampai jumpa!")

	p := f.progress(t)
	if a := p.Lookup("tahap-1", "a"); !a.Done || a.How != HowChecked {
		t.Errorf("step a = %+v, want done by checking", a)
	}
	if b := p.Lookup("tahap-1", "b"); b.Done || b.HintsShown != 1 {
		t.Errorf("step b = %+v, want not done with one hint shown", b)
	}
}
