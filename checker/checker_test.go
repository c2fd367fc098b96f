package checker

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/runtime"
)

func newTestEnv(t *testing.T, lang locales.Lang) *Env {
	t.Helper()
	r, err := runtime.New(runtime.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Runtime: r, P: locales.For(lang)}
}

func TestParams(t *testing.T) {
	for _, id := range IDs() {
		params, ok := Params(id)
		if !ok || len(params) == 0 || params[0] != "name" {
			t.Errorf("Params(%q) = %q, %v; want a list starting with name", id, params, ok)
		}
	}
	if got, _ := Params("own-namespace"); !slices.Equal(got, []string{"name", "ns"}) {
		t.Errorf("Params(own-namespace) = %q", got)
	}
	if _, ok := Params("no-such-check"); ok {
		t.Error("Params of an unknown id reported ok")
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	env := newTestEnv(t, locales.EN)
	tests := []struct {
		name     string
		check    lessons.Check
		evidence string
	}{
		{"unknown check", lessons.Check{Check: "no-such-check"}, "unknown check no-such-check"},
		{"missing params", lessons.Check{Check: "hostname", With: map[string]string{"name": "rumah"}},
			"missing the parameter hostname"},
		{"blank param", lessons.Check{Check: "house-running", With: map[string]string{"name": "  "}},
			"missing the parameter name"},
		{"invalid name", lessons.Check{Check: "house-running", With: map[string]string{"name": "../etc"}},
			"invalid name ../etc"},
		{"invalid ns", lessons.Check{Check: "own-namespace", With: map[string]string{"name": "rumah", "ns": "user"}},
			"invalid ns user; use one of: pid, net, uts, ipc, mnt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Run(env, tt.check)
			if res.Passed {
				t.Fatal("check passed")
			}
			if len(res.Evidence) != 1 || !strings.Contains(res.Evidence[0], tt.evidence) {
				t.Errorf("evidence = %q, want one line containing %q", res.Evidence, tt.evidence)
			}
			if !strings.Contains(res.Expected, "bug in the lesson") {
				t.Errorf("expected = %q, want the lesson-bug text", res.Expected)
			}
		})
	}
}

func TestRunMissingHouse(t *testing.T) {
	env := newTestEnv(t, locales.EN)
	res := Run(env, lessons.Check{Check: "house-built", With: map[string]string{"name": "kosong", "hostname": "kosong"}})
	if res.Passed {
		t.Fatal("house-built passed for a house that was never created")
	}
	if !strings.Contains(strings.Join(res.Evidence, "\n"), "does not exist") {
		t.Errorf("evidence = %q, want the missing folder", res.Evidence)
	}
	if !strings.Contains(res.Expected, "create-container") {
		t.Errorf("expected = %q, want the create command", res.Expected)
	}
}

// withProbe registers a check for one test.
func withProbe(t *testing.T, id string, run func(*Env, map[string]string) Result) {
	t.Helper()
	probes[id] = probe{params: []string{"v"}, run: run}
	t.Cleanup(func() { delete(probes, id) })
}

func TestGradeStep(t *testing.T) {
	withProbe(t, "test-pass", func(env *Env, with map[string]string) Result {
		return Result{Passed: true, Evidence: []string{"shared line", "saw " + with["v"]}}
	})
	withProbe(t, "test-fail", func(env *Env, with map[string]string) Result {
		return Result{Evidence: []string{"shared line"}, Expected: "need " + with["v"]}
	})
	pass := lessons.Check{Check: "test-pass", With: map[string]string{"v": "a"}}
	fail := lessons.Check{Check: "test-fail", With: map[string]string{"v": "b"}}
	hints := []lessons.Text{{ID: "petunjuk pertama", EN: "first hint"}, {ID: "kedua", EN: "second"}}

	tests := []struct {
		name         string
		checks       []lessons.Check
		wantPassed   bool
		wantPoints   int
		wantEvidence []string
		wantExpected string
		wantHint     string
	}{
		{"all pass", []lessons.Check{pass, pass}, true, 10, []string{"shared line", "saw a"}, "", ""},
		{"one fails", []lessons.Check{pass, fail}, false, 0, []string{"shared line", "saw a"}, "need b", "first hint"},
		{"same failure twice", []lessons.Check{fail, fail}, false, 0, []string{"shared line"}, "need b", "first hint"},
		{"no checks", nil, false, 0, []string{"step s1 has no checks, so nothing can show that it was done"},
			"a lesson file with valid checks: this is a bug in the lesson, please report it", "first hint"},
	}
	env := newTestEnv(t, locales.EN)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step := &lessons.Step{ID: "s1", Points: 10, Title: lessons.Text{ID: "Judul", EN: "Title"},
				Checks: tt.checks, Hints: hints}
			got := GradeStep(env, step)
			if got.Passed != tt.wantPassed {
				t.Errorf("Passed = %v, want %v", got.Passed, tt.wantPassed)
			}
			if got.Points != tt.wantPoints || got.Max != 10 {
				t.Errorf("points = %d/%d, want %d/10", got.Points, got.Max, tt.wantPoints)
			}
			if !slices.Equal(got.Evidence, tt.wantEvidence) {
				t.Errorf("Evidence = %q, want %q", got.Evidence, tt.wantEvidence)
			}
			if got.Expected != tt.wantExpected {
				t.Errorf("Expected = %q, want %q", got.Expected, tt.wantExpected)
			}
			if got.Hint != tt.wantHint {
				t.Errorf("Hint = %q, want %q", got.Hint, tt.wantHint)
			}
			if got.Title != "Title" || got.ID != "s1" {
				t.Errorf("ID, Title = %q, %q", got.ID, got.Title)
			}
		})
	}
}

func TestGradeStepIndonesian(t *testing.T) {
	withProbe(t, "test-fail", func(env *Env, with map[string]string) Result {
		return Result{Evidence: []string{"x"}, Expected: "y"}
	})
	env := newTestEnv(t, locales.ID)
	step := &lessons.Step{ID: "s1", Points: 5, Title: lessons.Text{ID: "Judul", EN: "Title"},
		Checks: []lessons.Check{{Check: "test-fail", With: map[string]string{"v": "1"}}},
		Hints:  []lessons.Text{{ID: "petunjuk", EN: "hint"}}}
	got := GradeStep(env, step)
	if got.Title != "Judul" || got.Hint != "petunjuk" {
		t.Errorf("Title, Hint = %q, %q; want the Indonesian texts", got.Title, got.Hint)
	}
}

func TestGradeStage(t *testing.T) {
	withProbe(t, "test-pass", func(*Env, map[string]string) Result { return Result{Passed: true} })
	withProbe(t, "test-fail", func(*Env, map[string]string) Result { return Result{Expected: "e"} })
	stage := &lessons.Stage{ID: "tahap-9", Title: lessons.Text{ID: "Sembilan", EN: "Nine"}, Steps: []*lessons.Step{
		{ID: "a", Points: 3, Checks: []lessons.Check{{Check: "test-pass", With: map[string]string{"v": "1"}}}},
		{ID: "b", Points: 7, Checks: []lessons.Check{{Check: "test-fail", With: map[string]string{"v": "1"}}}},
	}}
	got := GradeStage(newTestEnv(t, locales.EN), stage)
	if got.Score != 3 || got.Max != 10 {
		t.Errorf("score = %d/%d, want 3/10", got.Score, got.Max)
	}
	if got.ID != "tahap-9" || got.Title != "Nine" || len(got.Steps) != 2 {
		t.Errorf("stage result = %+v", got)
	}
}

func TestFormatEvidence(t *testing.T) {
	members := []member{{HostPID: 900, InnerPID: 1, Comm: "init"}, {HostPID: 950, InnerPID: 7, Comm: "sleep"}}
	tests := []struct{ name, got, want string }{
		{"ns label", nsLabel("pid", 4026532871), "pid:[4026532871]"},
		{"nspid", formatNSpid([]int{12345, 1}), "12345 1"},
		{"family", formatFamily(members), "1 init, 7 sleep"},
		{"empty family", formatFamily(nil), "-"},
		{"pids", formatPIDs([]int{1, 5, 9}), "1 5 9"},
		{"no pids", formatPIDs(nil), "-"},
		{"links", formatLinks([]link{{name: "lo", up: true}, {name: "eth0"}}), "lo (UP), eth0 (DOWN)"},
		{"no links", formatLinks(nil), "-"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestEvidenceMessagesRender(t *testing.T) {
	for _, lang := range locales.Langs {
		got := locales.For(lang).Tf("CheckInitFound", "PID", 12345, "Comm", "init",
			"NS", nsLabel("pid", 4026532871), "NSpid", "12345 1")
		if !strings.Contains(got, "12345") || !strings.Contains(got, "pid:[4026532871]") || strings.Contains(got, "<no value>") {
			t.Errorf("%s: CheckInitFound = %q", lang, got)
		}
	}
}

func TestPIDSets(t *testing.T) {
	both, either := intersectUnion([]int{1, 2, 5}, []int{1, 5, 8})
	if !slices.Equal(both, []int{1, 5}) || !slices.Equal(either, []int{1, 2, 5, 8}) {
		t.Errorf("intersectUnion = %v, %v", both, either)
	}
	if got := difference([]int{1, 2, 3}, []int{2}); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("difference = %v", got)
	}
}

func TestRootEntry(t *testing.T) {
	tests := []struct {
		name, passwd string
		want         bool
	}{
		{"busybox passwd", "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1::/:/bin/false\n", true},
		{"root not first", "nobody:x:65534:65534::/:/bin/false\nroot:x:0:0::/root:/bin/sh", true},
		{"root with other uid", "root:x:1000:0::/root:/bin/sh\n", false},
		{"toor only", "toor:x:0:0::/root:/bin/sh\n", false},
		{"short line", "root:x:0\n", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		if _, got := rootEntry(tt.passwd); got != tt.want {
			t.Errorf("%s: rootEntry = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// writeELF writes a minimal little-endian x86-64 ELF header with a PT_INTERP
// program header when interp is not empty.
func writeELF(t *testing.T, path string, typ elf.Type, interp string) {
	t.Helper()
	const ehsize, phsize = 64, 56
	hdr := elf.Header64{Type: uint16(typ), Machine: uint16(elf.EM_X86_64), Version: 1,
		Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Shentsize: 64}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var progs []elf.Prog64
	if interp != "" {
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_INTERP), Off: ehsize + phsize,
			Filesz: uint64(len(interp) + 1), Memsz: uint64(len(interp) + 1), Align: 1})
	}
	progs = append(progs, elf.Prog64{Type: uint32(elf.PT_LOAD), Align: 4096})
	hdr.Phnum = uint16(len(progs))
	if interp != "" {
		progs[0].Off = ehsize + uint64(len(progs))*phsize
	}
	var buf bytes.Buffer
	for _, v := range []any{hdr, progs} {
		if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
			t.Fatal(err)
		}
	}
	buf.WriteString(interp + "\x00")
	if err := os.WriteFile(path, buf.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestELFInterpreter(t *testing.T) {
	dir := t.TempDir()
	static := filepath.Join(dir, "static")
	writeELF(t, static, elf.ET_EXEC, "")
	staticPIE := filepath.Join(dir, "static-pie")
	writeELF(t, staticPIE, elf.ET_DYN, "")
	dynamic := filepath.Join(dir, "dynamic")
	writeELF(t, dynamic, elf.ET_EXEC, "/lib64/ld-linux-x86-64.so.2")
	object := filepath.Join(dir, "object")
	writeELF(t, object, elf.ET_REL, "")
	text := filepath.Join(dir, "script")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(static, link); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path, want string
		wantErr          bool
	}{
		{"static", static, "", false},
		{"static pie", staticPIE, "", false},
		{"dynamic", dynamic, "/lib64/ld-linux-x86-64.so.2", false},
		{"relocatable object", object, "", true},
		{"shell script", text, "", true},
		{"symbolic link", link, "", true},
		{"missing", filepath.Join(dir, "none"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := elfInterpreter(tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("interpreter = %q, want %q", got, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOverlayFile(t *testing.T) {
	dir := t.TempDir()
	upper, lower := filepath.Join(dir, "upper"), filepath.Join(dir, "lower")
	writeFile(t, filepath.Join(lower, "etc", "passwd"), "base")
	writeFile(t, filepath.Join(lower, "etc", "hostname"), "base")
	writeFile(t, filepath.Join(upper, "etc", "hostname"), "upper")
	writeFile(t, filepath.Join(lower, "etc", "group"), "base")
	if err := os.Symlink("/etc/shadow", filepath.Join(upper, "etc", "group")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, lower, rel, want string
	}{
		{"upper wins", lower, "etc/hostname", filepath.Join(upper, "etc", "hostname")},
		{"base below", lower, "etc/passwd", filepath.Join(lower, "etc", "passwd")},
		{"unknown base", "", "etc/passwd", ""},
		{"symbolic link in upper", lower, "etc/group", ""},
		{"missing", lower, "etc/shadow", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := overlayFile(upper, tt.lower, tt.rel)
			if got != tt.want {
				t.Errorf("overlayFile = %q, %v; want %q", got, err, tt.want)
			}
			if (tt.want == "") != (err != nil) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// TestOverlayFileWhiteoutOpaque needs root to create a 0:0 character device and a
// trusted.* extended attribute, the marks overlayfs itself writes.
func TestOverlayFileWhiteoutOpaque(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	upper, lower := filepath.Join(dir, "upper"), filepath.Join(dir, "lower")
	writeFile(t, filepath.Join(lower, "etc", "passwd"), "base")
	writeFile(t, filepath.Join(lower, "opaque", "file"), "base")
	if err := os.MkdirAll(filepath.Join(upper, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(upper, "etc", "passwd"), unix.S_IFCHR|0o600, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(upper, "opaque"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(upper, "opaque"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Skipf("file system of %s has no trusted xattrs: %v", dir, err)
	}

	if got, err := overlayFile(upper, lower, "etc/passwd"); err == nil {
		t.Errorf("whiteout: overlayFile = %q, want an error", got)
	}
	if got, err := overlayFile(upper, lower, "opaque/file"); err == nil {
		t.Errorf("opaque folder: overlayFile = %q, want an error", got)
	}
}
