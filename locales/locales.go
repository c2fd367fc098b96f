// Package locales holds rt-lab's message catalogs (Indonesian and English) and
// renders a message by id in either language.
//
// Catalogs are YAML files named AREA.LANG.yaml (for example cli.en.yaml), each a
// map from message id to a text/template string. Every id and every template field
// must exist in both languages; TestCatalogsMatch enforces it.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
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

//go:embed *.yaml
var catalogFS embed.FS

var (
	loadOnce sync.Once
	bundle   *i18n.Bundle
	loadErr  error
)

func load() (*i18n.Bundle, error) {
	loadOnce.Do(func() {
		b := i18n.NewBundle(language.Indonesian)
		b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
		files, err := fs.Glob(catalogFS, "*.yaml")
		if err != nil {
			loadErr = err
			return
		}
		for _, name := range files {
			data, err := catalogFS.ReadFile(name)
			if err != nil {
				loadErr = err
				return
			}
			if _, err := b.ParseMessageFileBytes(data, name); err != nil {
				loadErr = fmt.Errorf("parse catalog %s: %w", name, err)
				return
			}
		}
		bundle = b
	})
	return bundle, loadErr
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
	b, err := load()
	if err != nil {
		// The catalogs are embedded, so this only happens in a broken build;
		// TestCatalogsLoad catches it.
		panic(err)
	}
	p := &Printer{Lang: lang, loc: i18n.NewLocalizer(b, string(lang))}
	printers.Store(lang, p)
	return p
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

// Catalog returns the raw id -> template map of one language, for tests and for
// `lessons validate`.
func Catalog(lang Lang) (map[string]string, error) {
	files, err := fs.Glob(catalogFS, "*."+string(lang)+".yaml")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range files {
		data, err := catalogFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var m map[string]string
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("parse catalog %s: %w", name, err)
		}
		for k, v := range m {
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("catalog %s: message id %q defined twice", name, k)
			}
			out[k] = v
		}
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
