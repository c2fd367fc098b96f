package runtime

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/housetools"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// busyboxCandidates are searched in order when no busybox is given. Debian's
// busybox-static installs /bin/busybox.
var busyboxCandidates = []string{"/bin/busybox", "/usr/bin/busybox", "/sbin/busybox", "/usr/sbin/busybox"}

// FindBusybox returns the busybox to build houses from: explicit if set, else
// the first candidate on the system. It must be a static ELF, because a dynamic one
// needs a loader and libc that the house does not have.
func FindBusybox(explicit string) (string, error) {
	if explicit != "" {
		if err := CheckStatic(explicit); err != nil {
			return "", err
		}
		return explicit, nil
	}
	for _, path := range busyboxCandidates {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if err := CheckStatic(path); err != nil {
			return "", err
		}
		return path, nil
	}
	return "", usererr.New(usererr.Environment, "ErrBusyboxMissing")
}

// CheckStatic fails unless path is an executable ELF file with no program
// interpreter (PT_INTERP), that is, statically linked.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return usererr.New(usererr.Environment, "ErrBusyboxNotFound", "Path", path)
		}
		return usererr.Wrap(err, usererr.Environment, "ErrBusyboxNotELF", "Path", path)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return usererr.New(usererr.Environment, "ErrBusyboxDynamic", "Path", path)
		}
	}
	return nil
}

// baseLayout names the layout that buildBase creates. It is part of the base id,
// so a changed layout gets a new base and houses built on an old one keep theirs.
const baseLayout = "rt-lab base 2: busybox applets, house tools"

// baseInputs returns what the base id hashes before the busybox binary.
func baseInputs() string {
	return fmt.Sprintf("%s\n%s\n", baseLayout, strings.Join(housetools.Names(), " "))
}

// ensureBase returns the id of the shared read-only base built from busybox,
// building it on first use. The caller holds the root's lock. The id is a digest
// of the layout, the house tool names and the binary, so a new busybox or layout
// gets a new base and houses built on the old one keep theirs. The digest of an
// unchanged busybox comes from the base cache (see cachedBase).
func (r *Runtime) ensureBase(busybox string) (string, error) {
	f, err := os.Open(busybox)
	if err != nil {
		return "", usererr.Wrap(err, usererr.Environment, "ErrBusyboxNotFound", "Path", busybox)
	}
	defer f.Close()
	key, err := fileKeyOf(f)
	if err != nil {
		return "", err
	}
	inputs := baseInputs()
	if id, ok := r.cachedBase(key, inputs); ok {
		return id, nil
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "", usererr.Wrap(err, usererr.Environment, "ErrBusyboxNotFound", "Path", busybox)
	}
	h := sha256.New()
	io.WriteString(h, inputs)
	h.Write(data)
	id := hex.EncodeToString(h.Sum(nil)[:8])
	if after, err := fileKeyOf(f); err != nil || after != key || int64(len(data)) != key.Size {
		// busybox changed while it was read: use this digest once, cache none.
		key = fileKey{}
	}
	dir := r.BaseDir(id)
	if _, err := os.Stat(filepath.Join(dir, "bin", "busybox")); err == nil {
		r.storeBaseCache(key, inputs, id)
		return id, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-"+id+"-")
	if err != nil {
		return "", err
	}
	if err := buildBase(tmp, busybox, data); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("build base from %q: %w", busybox, err)
	}
	// A leftover base from a crashed build has no bin/busybox; replace it.
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := fsutil.SyncDir(filepath.Dir(dir)); err != nil {
		return "", err
	}
	r.storeBaseCache(key, inputs, id)
	return id, nil
}

// baseDirs are created in every base; the mount points among them are filled in
// the container's own mount namespace.
var baseDirs = []string{"bin", "sbin", "usr/bin", "usr/sbin", "usr/lib/rt-lab", "etc", "dev", "proc", "sys", "tmp",
	"root", "home", "mnt", "run", "var/log", "var/tmp"}

const (
	passwdFile = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	groupFile  = "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"
	// An inittab with no entries: busybox init then starts nothing on any console
	// and only reaps orphans and waits for signals (SIGTERM ends it).
	inittabFile = "# rt-lab: busybox init runs nothing here; it only reaps and waits for SIGTERM.\n"
)

func buildBase(dir, busybox string, data []byte) error {
	for _, d := range baseDirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(dir, "root"), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), data, 0o755); err != nil {
		return err
	}
	applets, err := listApplets(busybox)
	if err != nil {
		return err
	}
	for _, applet := range applets {
		if applet == "bin/busybox" {
			continue
		}
		link := filepath.Join(dir, applet)
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return err
		}
		if err := os.Symlink("/bin/busybox", link); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	files := map[string]string{"etc/passwd": passwdFile, "etc/group": groupFile, "etc/inittab": inittabFile}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return addHouseTools(dir)
}

// addHouseTools creates the empty mount point for the rt-lab binary, which each
// house's bootstrap bind-mounts there, and a link per house tool in
// housetools.ToolsDir. A tool link replaces a busybox applet link at the same
// path.
func addHouseTools(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, housetools.ToolsBinary), nil, 0o755); err != nil {
		return err
	}
	for _, name := range housetools.Names() {
		link := filepath.Join(dir, housetools.ToolsDir, name)
		if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.Symlink(housetools.ToolsBinary, link); err != nil {
			return err
		}
	}
	return nil
}

// listApplets runs `busybox --list-full`, which prints each applet's install path
// relative to / (for example "bin/sh" or "sbin/init").
func listApplets(busybox string) ([]string, error) {
	var out bytes.Buffer
	cmd := exec.Command(busybox, "--list-full")
	cmd.Stdout = &out
	cmd.Stderr = io.Discard
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("run %s --list-full: %w", busybox, err)
	}
	var applets []string
	for _, line := range strings.Split(out.String(), "\n") {
		line = strings.TrimSpace(line)
		// Reject anything that could escape the base folder.
		if line == "" || strings.HasPrefix(line, "/") || strings.Contains(line, "..") {
			continue
		}
		applets = append(applets, line)
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("%s --list-full printed no applets", busybox)
	}
	return applets, nil
}
