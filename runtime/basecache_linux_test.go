package runtime

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/testutil"
)

// copyBusybox copies the host's busybox to a file under dir, with extra
// appended so that its digest differs. ensureBase caches no digest for it
// until baseCacheRacyWindow has passed.
func copyBusybox(t *testing.T, dir string, extra string) string {
	t.Helper()
	src, err := FindBusybox("")
	if err != nil {
		t.Skip(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	path := filepath.Join(dir, "busybox")
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if _, err := out.WriteString(extra); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func ensureBaseOK(t *testing.T, r *Runtime, busybox string) string {
	t.Helper()
	id, err := r.ensureBase(busybox)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestBaseCacheFollowsBusybox(t *testing.T) {
	testutil.RequireRoot(t)
	r, err := New(Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	busybox := copyBusybox(t, t.TempDir(), "")

	fresh := ensureBaseOK(t, r, busybox)
	if _, err := os.Stat(r.baseCachePath()); err == nil {
		t.Error("a busybox changed less than baseCacheRacyWindow ago was cached")
	}
	time.Sleep(baseCacheRacyWindow + 100*time.Millisecond)
	if id := ensureBaseOK(t, r, busybox); id != fresh {
		t.Fatalf("second ensureBase returned base %s, want %s", id, fresh)
	}
	if _, err := os.Stat(r.baseCachePath()); err != nil {
		t.Fatalf("no base cache after an unchanged busybox: %v", err)
	}
	if id := ensureBaseOK(t, r, busybox); id != fresh {
		t.Errorf("ensureBase from the cache returned base %s, want %s", id, fresh)
	}

	// A busybox replaced in place gets its own base.
	other := filepath.Dir(busybox)
	f, err := os.OpenFile(filepath.Join(other, "busybox"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\x00"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	changed := ensureBaseOK(t, r, busybox)
	if changed == fresh {
		t.Errorf("a changed busybox kept base %s", fresh)
	}
}

func TestBaseCacheRejectsBadFile(t *testing.T) {
	testutil.RequireRoot(t)
	r, err := New(Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	busybox := copyBusybox(t, dir, "")
	// A second base, which a forged cache entry names.
	decoy := ensureBaseOK(t, r, copyBusybox(t, t.TempDir(), "decoy"))
	time.Sleep(baseCacheRacyWindow + 100*time.Millisecond)
	want := ensureBaseOK(t, r, busybox)
	good, err := os.ReadFile(r.baseCachePath())
	if err != nil {
		t.Fatal(err)
	}
	if string(good) == "" {
		t.Fatal("empty base cache")
	}
	f, err := os.Open(busybox)
	if err != nil {
		t.Fatal(err)
	}
	key, err := fileKeyOf(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	inputs := baseInputs()

	cases := []struct {
		name  string
		entry baseCache
		raw   string
		mode  os.FileMode
	}{
		{name: "cut short", raw: `{"key":{"device":1`, mode: 0o600},
		{name: "not JSON", raw: "\x00\x00\x00", mode: 0o600},
		{name: "other base, same key", entry: baseCache{Key: key, Inputs: inputs, Base: decoy}, mode: 0o600},
		{name: "missing base", entry: baseCache{Key: key, Inputs: inputs, Base: "0123456789abcdef"}, mode: 0o600},
		{name: "path in id", entry: baseCache{Key: key, Inputs: inputs, Base: "../../etc"}, mode: 0o600},
		{name: "writable by others", entry: baseCache{Key: key, Inputs: inputs, Base: decoy}, mode: 0o666},
	}
	for _, c := range cases {
		data := []byte(c.raw)
		if c.raw == "" {
			data = mustJSON(t, c.entry)
		}
		if err := os.WriteFile(r.baseCachePath(), data, c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(r.baseCachePath(), c.mode); err != nil {
			t.Fatal(err)
		}
		if id := ensureBaseOK(t, r, busybox); id != want {
			t.Errorf("%s: ensureBase returned base %s, want %s", c.name, id, want)
		}
		os.Remove(r.baseCachePath())
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
