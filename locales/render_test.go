package locales

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestEveryMessageRenders renders every message id in both languages with
// each of its template fields set, once with text values and once with empty
// ones so that both branches of an {{if}} are rendered. A message must render
// to text that has no template hole ("<no value>"), no fmt verb error ("%!")
// and is not its own id, which T returns when rendering fails.
func TestEveryMessageRenders(t *testing.T) {
	for _, lang := range Langs {
		cat, err := Catalog(lang)
		if err != nil {
			t.Fatal(err)
		}
		p := For(lang)
		for _, id := range IDs(cat) {
			fields := templateFields(cat[id])
			for _, empty := range []bool{false, true} {
				data := map[string]any{}
				for _, f := range fields {
					data[f] = "value-of-" + f
					if empty {
						data[f] = ""
					}
				}
				got := p.T(id, data)
				switch {
				case got == id && strings.TrimSpace(cat[id]) != id:
					t.Errorf("%s %s does not render with fields %v", lang, id, fields)
				case strings.Contains(got, "<no value>"):
					t.Errorf("%s %s has a template hole with fields %v: %q", lang, id, fields, got)
				case strings.Contains(got, "%!"):
					t.Errorf("%s %s has a fmt verb error: %q", lang, id, got)
				}
				if !empty {
					for _, f := range fields {
						if !strings.Contains(got, "value-of-"+f) && !strings.Contains(cat[id], "if ."+f) &&
							!strings.Contains(cat[id], "if not ."+f) {
							t.Errorf("%s %s does not show its field %s: %q", lang, id, f, got)
						}
					}
				}
			}
		}
	}
}

// testPrinter returns a printer of English over messages, which must be
// sorted by id.
func testPrinter(t *testing.T, messages []message) *Printer {
	t.Helper()
	p, err := newPrinter(EN)
	if err != nil {
		t.Fatal(err)
	}
	p.messages = messages
	return p
}

func TestRenderBrokenTemplateShowsID(t *testing.T) {
	p := testPrinter(t, []message{{"Broken", "house {{.Name"}, {"Fine", "house {{.Name}}"}})
	if got := p.Tf("Broken", "Name", "h1"); got != "Broken" {
		t.Errorf("message with a broken template renders %q, want its id", got)
	}
	if got := p.Tf("Fine", "Name", "h1"); got != "house h1" {
		t.Errorf("Fine renders %q, want %q", got, "house h1")
	}
}

func TestRenderKeepsParsedTemplate(t *testing.T) {
	src := "house {{.Name}} is kept in the template cache"
	p := testPrinter(t, []message{{"Kept", src}})
	if got := p.Tf("Kept", "Name", "h1"); got != "house h1 is kept in the template cache" {
		t.Fatalf("first render = %q", got)
	}
	first, ok := parsedTemplates.parsed.Load(templateKey{src: src})
	if !ok {
		t.Fatal("the parsed template is not in the cache after the first render")
	}
	if got := p.Tf("Kept", "Name", "h2"); got != "house h2 is kept in the template cache" {
		t.Errorf("second render = %q", got)
	}
	second, _ := parsedTemplates.parsed.Load(templateKey{src: src})
	if first != second {
		t.Error("the second render parsed the template again")
	}
}

// TestRenderConcurrent is meant for go test -race, because For returns one
// shared printer per language to every goroutine.
func TestRenderConcurrent(t *testing.T) {
	p := testPrinter(t, []message{{"Greet", "hello {{.Name}}"}})
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("h%d", i)
			if got := p.Tf("Greet", "Name", name); got != "hello "+name {
				errs <- got
			}
		}()
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent render returned %q", got)
	}
}

// TestPlainTextMatchesGoI18n guards the shortcut in Printer.T: go-i18n must
// render every catalog text without template actions as the text itself.
func TestPlainTextMatchesGoI18n(t *testing.T) {
	for _, lang := range Langs {
		p := For(lang)
		plain := 0
		for _, m := range catalogMessages(lang) {
			if strings.Contains(m.Text, "{{") {
				continue
			}
			plain++
			if got := p.localize(m.ID, m.Text, map[string]any{"Name": "h1"}); got != m.Text {
				t.Errorf("%s %s: go-i18n renders %q, want the text unchanged %q", lang, m.ID, got, m.Text)
			}
			if got := p.Tf(m.ID, "Name", "h1"); got != m.Text {
				t.Errorf("%s %s: T renders %q, want the text unchanged %q", lang, m.ID, got, m.Text)
			}
		}
		if plain == 0 {
			t.Errorf("%s catalog has no text without template actions, so this test checks nothing", lang)
		}
	}
}

func TestOrphanCgroupListsProcessesOnlyWhenAny(t *testing.T) {
	p := For(EN)
	got := p.Tf("DebugIssue_cgroup_orphan", "Path", "/cg/x", "Count", 1, "PIDs", "22300")
	if want := "cgroup /cg/x belongs to no house, and these processes still run in it: 22300"; got != want {
		t.Errorf("with a process: %q, want %q", got, want)
	}
	got = p.Tf("DebugIssue_cgroup_orphan", "Path", "/cg/x", "Count", 0, "PIDs", "")
	if want := "cgroup /cg/x belongs to no house and is empty"; got != want {
		t.Errorf("empty: %q, want %q", got, want)
	}
}
