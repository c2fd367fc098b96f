package locales

import (
	"strings"
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
