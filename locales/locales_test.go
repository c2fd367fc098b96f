package locales

import (
	"bytes"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/locales/internal/catalogyaml"
)

func TestCatalogsLoad(t *testing.T) {
	for _, lang := range Langs {
		if _, err := newPrinter(lang); err != nil {
			t.Errorf("%s: %v", lang, err)
		}
	}
}

// TestCatalogSortedByID guards the binary search in Printer.T.
func TestCatalogSortedByID(t *testing.T) {
	for _, lang := range Langs {
		msgs := catalogMessages(lang)
		for i := 1; i < len(msgs); i++ {
			if msgs[i-1].ID >= msgs[i].ID {
				t.Errorf("%s catalog: %q comes before %q", lang, msgs[i-1].ID, msgs[i].ID)
			}
		}
	}
}

// TestGeneratedCatalogCurrent fails when a YAML catalog was edited without
// running the generator, because the binary renders catalog_gen.go only.
func TestGeneratedCatalogCurrent(t *testing.T) {
	want, err := catalogyaml.Source(os.DirFS("."))
	if err != nil {
		t.Fatalf("read the YAML catalogs: %v", err)
	}
	got, err := os.ReadFile("catalog_gen.go")
	if err != nil {
		t.Fatalf("%v; run `go generate ./locales` from the module root", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("locales/catalog_gen.go is out of date with locales/*.yaml; run `go generate ./locales` from the module root and commit the result")
	}
}

// fieldPattern finds template fields such as {{.Name}} or {{printf "%q" .Value}}.
var fieldPattern = regexp.MustCompile(`\.([A-Z][A-Za-z0-9]*)`)

func templateFields(s string) []string {
	seen := map[string]bool{}
	for _, action := range regexp.MustCompile(`{{[^}]*}}`).FindAllString(s, -1) {
		for _, m := range fieldPattern.FindAllStringSubmatch(action, -1) {
			seen[m[1]] = true
		}
	}
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

func TestCatalogsMatch(t *testing.T) {
	id, err := Catalog(ID)
	if err != nil {
		t.Fatal(err)
	}
	en, err := Catalog(EN)
	if err != nil {
		t.Fatal(err)
	}
	for key := range id {
		if _, ok := en[key]; !ok {
			t.Errorf("message %s is in the Indonesian catalog but not the English one", key)
		}
	}
	for key := range en {
		if _, ok := id[key]; !ok {
			t.Errorf("message %s is in the English catalog but not the Indonesian one", key)
		}
	}
	for key, idText := range id {
		enText, ok := en[key]
		if !ok {
			continue
		}
		if a, b := templateFields(idText), templateFields(enText); strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("message %s: fields %v in Indonesian, %v in English", key, a, b)
		}
		if strings.TrimSpace(idText) == "" || strings.TrimSpace(enText) == "" {
			t.Errorf("message %s is empty in one language", key)
		}
	}
}

func TestTemplateFields(t *testing.T) {
	got := templateFields(`house {{.Name}} has {{printf "%q" .Value}} and {{.Name}}`)
	if strings.Join(got, ",") != "Name,Value" {
		t.Errorf("fields = %v, want [Name Value]", got)
	}
}

func TestParseLang(t *testing.T) {
	tests := []struct {
		in   string
		want Lang
		ok   bool
	}{
		{"id", ID, true},
		{"en", EN, true},
		{"id_ID.UTF-8", ID, true},
		{"en_US.UTF-8", EN, true},
		{"en-GB", EN, true},
		{"C.UTF-8", "", false},
		{"POSIX", "", false},
		{"fr_FR", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseLang(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseLang(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRenderFallsBackToID(t *testing.T) {
	if got := For(EN).T("NoSuchMessageForTest", nil); got != "NoSuchMessageForTest" {
		t.Errorf("missing message renders %q, want its id", got)
	}
}
