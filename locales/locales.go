// Package locales holds rt-lab's message catalogs (Indonesian and English) and
// renders a message by id in either language.
//
// Catalogs are YAML files named AREA.LANG.yaml (for example cli.en.yaml), each a
// map from message id to a text/template string. Every id and every template field
// must exist in both languages; TestCatalogsMatch enforces it.
//
// The YAML files are the source of truth, but the binary does not parse them.
// `go generate ./locales` turns them into catalog_gen.go, and
// TestGeneratedCatalogCurrent fails while that file is out of date. A printer
// loads only the messages of its own language into go-i18n, when it is first
// requested.
package locales

//go:generate go run ./internal/gencatalog

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Lang is a supported interface language.
type Lang string

// Supported languages. Indonesian is the default.
const (
	ID Lang = "id"
	EN Lang = "en"
)

// Langs lists the supported languages in their display order.
var Langs = []Lang{ID, EN}

// message is one entry of a generated catalog: an id and its text/template
// source.
type message struct {
	ID   string
	Text string
}

// newLocalizer builds a go-i18n bundle that contains only the messages of lang,
// and a localizer for it.
func newLocalizer(lang Lang) (*i18n.Localizer, error) {
	tag := language.Indonesian
	if lang == EN {
		tag = language.English
	}
	msgs := catalogMessages(lang)
	if len(msgs) == 0 {
		return nil, fmt.Errorf("no messages for language %q in catalog_gen.go", lang)
	}
	all := make([]i18n.Message, len(msgs))
	ptrs := make([]*i18n.Message, len(msgs))
	for i, m := range msgs {
		all[i] = i18n.Message{ID: m.ID, Other: m.Text}
		ptrs[i] = &all[i]
	}
	b := i18n.NewBundle(tag)
	if err := b.AddMessages(tag, ptrs...); err != nil {
		return nil, err
	}
	return i18n.NewLocalizer(b, string(lang)), nil
}

// ParseLang maps a flag value or a locale name such as "id_ID.UTF-8" or "en-GB"
// to a supported language. It reports false for anything else, including "C".
func ParseLang(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "_-.@"); i >= 0 {
		s = s[:i]
	}
	switch s {
	case "id", "in", "ind", "indonesian", "indonesia":
		return ID, true
	case "en", "eng", "english":
		return EN, true
	}
	return "", false
}

// Printer renders messages in one language.
type Printer struct {
	Lang Lang
	loc  *i18n.Localizer
}

var printers sync.Map // Lang -> *Printer

// For returns the printer for lang. An unknown lang falls back to Indonesian.
func For(lang Lang) *Printer {
	if lang != EN {
		lang = ID
	}
	if p, ok := printers.Load(lang); ok {
		return p.(*Printer)
	}
	loc, err := newLocalizer(lang)
	if err != nil {
		// The catalogs are compiled in, so this only happens in a broken build;
		// TestCatalogsLoad catches it.
		panic(err)
	}
	p, _ := printers.LoadOrStore(lang, &Printer{Lang: lang, loc: loc})
	return p.(*Printer)
}

// T renders message id with the template fields in data. A missing id renders as
// the id itself so a gap shows instead of an empty line.
func (p *Printer) T(id string, data map[string]any) string {
	s, err := p.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// Tf renders message id with fields given as alternating name, value pairs.
func (p *Printer) Tf(id string, kv ...any) string {
	return p.T(id, Fields(kv...))
}

// Fields builds a template map from alternating name, value pairs.
func Fields(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}

// Catalog returns the raw id -> template map of one language, for tests that
// check the catalogs. It reads the generated catalog, which is what the
// printers render, and returns an empty map for an unknown language.
func Catalog(lang Lang) (map[string]string, error) {
	msgs := catalogMessages(lang)
	out := make(map[string]string, len(msgs))
	for _, m := range msgs {
		out[m.ID] = m.Text
	}
	return out, nil
}

// IDs returns the sorted message ids of a catalog map.
func IDs(m map[string]string) []string {
	ids := make([]string, 0, len(m))
	for k := range m {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	return ids
}
