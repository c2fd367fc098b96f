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
// looks a message up in the generated catalog of its own language only when it
// renders that message.
package locales

//go:generate go run ./internal/gencatalog

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
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

// newPrinter returns the printer of lang. Its go-i18n bundle stays empty, and
// T hands go-i18n the message it found in the generated catalog as the default
// message. Adding all messages of a language to a bundle took about an eighth
// of the CPU time of `rt-lab --version` (perf record, go-i18n v2.7.0).
func newPrinter(lang Lang) (*Printer, error) {
	msgs := catalogMessages(lang)
	if len(msgs) == 0 {
		return nil, fmt.Errorf("no messages for language %q in catalog_gen.go", lang)
	}
	tag := language.Indonesian
	if lang == EN {
		tag = language.English
	}
	// The bundle's default language is lang, so the localizer renders a
	// default message as lang without reporting a missing translation.
	loc := i18n.NewLocalizer(i18n.NewBundle(tag), string(lang))
	return &Printer{Lang: lang, messages: msgs, loc: loc}, nil
}

// templateCache is a go-i18n template parser that keeps every template it
// parses, keyed by source and delimiters. go-i18n caches a parsed template per
// message only, and T builds a new message for each call. Parsed text/template
// templates are safe for concurrent use.
type templateCache struct {
	text   template.TextParser
	parsed sync.Map // templateKey -> template.ParsedTemplate
}

type templateKey struct{ src, leftDelim, rightDelim string }

var parsedTemplates templateCache

func (c *templateCache) Cacheable() bool { return true }

func (c *templateCache) Parse(src, leftDelim, rightDelim string) (template.ParsedTemplate, error) {
	key := templateKey{src, leftDelim, rightDelim}
	if t, ok := c.parsed.Load(key); ok {
		return t.(template.ParsedTemplate), nil
	}
	t, err := c.text.Parse(src, leftDelim, rightDelim)
	if err != nil {
		return nil, err
	}
	c.parsed.Store(key, t)
	return t, nil
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

// Printer renders messages in one language. It is safe for concurrent use.
type Printer struct {
	Lang     Lang
	messages []message // catalogMessages(Lang), sorted by id
	loc      *i18n.Localizer
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
	p, err := newPrinter(lang)
	if err != nil {
		// The catalogs are compiled in, so this only happens in a broken build;
		// TestCatalogsLoad catches it.
		panic(err)
	}
	stored, _ := printers.LoadOrStore(lang, p)
	return stored.(*Printer)
}

// T renders message id with the template fields in data. A missing id renders as
// the id itself so a gap shows instead of an empty line.
func (p *Printer) T(id string, data map[string]any) string {
	i, found := slices.BinarySearchFunc(p.messages, id, func(m message, id string) int {
		return strings.Compare(m.ID, id)
	})
	if !found {
		return id
	}
	text := p.messages[i].Text
	// go-i18n returns a text without template actions unchanged, so such a
	// text skips the localizer, whose language matching and per-call message
	// template took about 7 % of the CPU time of `rt-lab --version`.
	// TestPlainTextMatchesGoI18n checks that the two agree.
	if !strings.Contains(text, "{{") {
		return text
	}
	return p.localize(id, text, data)
}

// localize renders text, the template of message id, with go-i18n.
func (p *Printer) localize(id, text string, data map[string]any) string {
	s, err := p.loc.Localize(&i18n.LocalizeConfig{
		DefaultMessage: &i18n.Message{ID: id, Other: text},
		TemplateData:   data,
		TemplateParser: &parsedTemplates,
	})
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
