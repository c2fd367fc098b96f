package cli

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/locales"
)

// Settings are the choices rt-lab remembers per root folder.
type Settings struct {
	Lang    string `json:"lang,omitempty"`
	Student string `json:"student,omitempty"`
}

func settingsPath(root string) string { return filepath.Join(root, "settings.json") }

// LoadSettings reads ROOT/settings.json. A missing or unreadable file gives empty
// settings, because every setting has a default.
func LoadSettings(root string) Settings {
	var s Settings
	data, err := os.ReadFile(settingsPath(root))
	if err == nil {
		_ = json.Unmarshal(data, &s)
	}
	return s
}

// LangChoice returns the saved language, if any.
func (s Settings) LangChoice() (locales.Lang, bool) {
	if s.Lang == "" {
		return "", false
	}
	return locales.ParseLang(s.Lang)
}

// SaveSettings writes ROOT/settings.json atomically, creating the root folder.
func SaveSettings(root string, s Settings) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	return fsutil.WriteJSONAtomic(settingsPath(root), s, 0o644)
}
