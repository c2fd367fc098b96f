package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/procfs"
	"github.com/rt-lab/rt-lab/runtime"
)

func TestRecoverBadInput(t *testing.T) {
	root, env := debugRoot(t)
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-ada"); code != 0 {
		t.Fatalf("create rumah-ada: status %d: %s", code, errOut)
	}
	before, err := os.ReadFile(root + "/containers/rumah-ada/state.json")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string // text the error must contain
	}{
		{"two names", []string{"recover-state", "rumah-ada", "rumah-lain"}, "at most one"},
		{"unknown", []string{"recover-state", "rumah-hilang"}, "without a name"},
		{"invalid", []string{"recover-state", "a/b"}, "a/b"},
		{"unknown flag", []string{"recover-state", "--dryrun"}, "--dryrun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, env, tt.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.want)
			}
		})
	}
	if after, err := os.ReadFile(root + "/containers/rumah-ada/state.json"); err != nil || string(after) != string(before) {
		t.Errorf("bad input changed the house: %v\n%s", err, after)
	}
}

func TestRecoverDeadFather(t *testing.T) {
	root, env := debugRoot(t)
	for _, args := range [][]string{
		{"create-container", "rumah-medan"},
		{"run-container", "rumah-medan", "--", "true"},
	} {
		if code, _, errOut := runCLI(t, env, args...); code != 0 {
			t.Fatalf("%v: status %d: %s", args, code, errOut)
		}
	}
	code, out, errOut := runCLI(t, env, "recover-state")
	if code != 0 || !strings.Contains(out, "Nothing to repair") {
		t.Errorf("healthy complex: status %d, output %q %q; want 0 and nothing to repair", code, out, errOut)
	}

	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Get("rumah-medan")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(c.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for procfs.Alive(c.PID, c.PIDStart) {
		time.Sleep(10 * time.Millisecond)
	}

	code, out, _ = runCLI(t, env, "recover-state", "--dry-run")
	if code != 0 || !strings.Contains(out, "would repair: record rumah-medan as stopped") ||
		!strings.Contains(out, "nothing was changed") {
		t.Errorf("dry run: status %d, output:\n%s", code, out)
	}
	code, out, _ = runCLI(t, env, "--lang", "id", "recover-state", "rumah-medan")
	if code != 0 || !strings.Contains(out, "diperbaiki: catat rumah-medan sebagai berhenti") ||
		!strings.Contains(out, "diperbaiki: hapus cgroup rumah-medan") {
		t.Errorf("repair: status %d, output:\n%s", code, out)
	}
	code, out, _ = runCLI(t, env, "recover-state")
	if code != 0 || !strings.Contains(out, "Nothing to repair") {
		t.Errorf("second run: status %d, output:\n%s", code, out)
	}

	if err := os.WriteFile(r.StatePath("rumah-medan"), []byte(`{"version":`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, env, "recover-state")
	if code != 1 || !strings.Contains(out, "left as it is") ||
		!strings.Contains(out, "delete-container rumah-medan --force") {
		t.Errorf("unreadable state: status %d, output:\n%s\nwant status 1 and the delete --force advice", code, out)
	}
}

func TestRecoverStalePhoneBook(t *testing.T) {
	root, env := debugRoot(t)
	if code, _, errOut := runCLI(t, env, "create-container", "rumah-buku"); code != 0 {
		t.Fatalf("create: status %d: %s", code, errOut)
	}
	book := filepath.Join(root, "phonebook", "hosts")
	if err := os.WriteFile(book, []byte("junk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, env, "recover-state", "--dry-run")
	if code != 0 || !strings.Contains(out, "phone book "+book) {
		t.Errorf("dry run: status %d, output %q; want the stale phone book listed", code, out)
	}
	code, out, _ = runCLI(t, env, "recover-state")
	if code != 0 || !strings.Contains(out, "repaired: write the phone book") {
		t.Errorf("recover: status %d, output %q; want the phone book written", code, out)
	}
	data, err := os.ReadFile(book)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\trumah-buku\n") {
		t.Errorf("phone book after recover-state:\n%s", data)
	}
	if code, out, _ := runCLI(t, env, "recover-state"); code != 0 || !strings.Contains(out, "Nothing to repair") {
		t.Errorf("second run: status %d, output %q; want nothing to repair", code, out)
	}
}

func TestRecoverDetachedPhoneBook(t *testing.T) {
	root, env := debugRoot(t)
	for _, args := range [][]string{
		{"create-container", "rumah-lepas"},
		{"run-container", "rumah-lepas", "--", "true"},
	} {
		if code, _, errOut := runCLI(t, env, args...); code != 0 {
			t.Fatalf("%v: status %d: %s", args, code, errOut)
		}
	}
	if err := os.RemoveAll(filepath.Join(root, "phonebook")); err != nil {
		t.Fatal(err)
	}
	// The new phone book is written, but the running house still sees the
	// removed folder until it restarts.
	code, out, _ := runCLI(t, env, "recover-state")
	if code != 1 || !strings.Contains(out, "phone book folder that was removed") || !strings.Contains(out, "stop-container rumah-lepas") {
		t.Errorf("recover: status %d, output %q; want the detached house left with the restart advice", code, out)
	}
	for _, args := range [][]string{{"stop-container", "rumah-lepas"}, {"run-container", "rumah-lepas", "--", "true"}} {
		if code, _, errOut := runCLI(t, env, args...); code != 0 {
			t.Fatalf("%v: status %d: %s", args, code, errOut)
		}
	}
	if code, out, _ := runCLI(t, env, "recover-state"); code != 0 || !strings.Contains(out, "Nothing to repair") {
		t.Errorf("after the restart: status %d, output %q; want nothing to repair", code, out)
	}
}

func TestRecoverUnlinkedHosts(t *testing.T) {
	_, env := debugRoot(t)
	for _, args := range [][]string{
		{"create-container", "rumah-tanpa-buku"},
		{"run-container", "rumah-tanpa-buku", "--", "rm", "/etc/hosts"},
	} {
		if code, _, errOut := runCLI(t, env, args...); code != 0 {
			t.Fatalf("%v: status %d: %s", args, code, errOut)
		}
	}
	code, out, _ := runCLI(t, env, "recover-state")
	if code != 1 || !strings.Contains(out, "no longer the link to the phone book") {
		t.Errorf("recover: status %d, output %q; want the unlinked /etc/hosts left with the restart advice", code, out)
	}
}
