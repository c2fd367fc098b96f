package checker

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// checkHouseBuilt checks a created container's files without needing a process:
// its folder, the hostname file in its root, a static busybox in the shared base
// and a root entry in etc/passwd.
func checkHouseBuilt(env *Env, with map[string]string) Result {
	p := env.printer()
	name, want := with["name"], with["hostname"]
	res, fail := newResult(p)

	if !houseDirExists(env, name, res, fail) {
		res.Expected = p.Tf("CheckExpectBuilt", "Name", name, "Hostname", want)
		return *res
	}

	c, err := env.Runtime.Get(name)
	if err != nil {
		if usererr.Is(err, "ErrContainerNotFound") {
			fail("CheckNoRecord", "Name", name)
		} else {
			fail("CheckRecordUnreadable", "Name", name, "Error", usererr.Render(err, p))
		}
		res.Expected = p.Tf("CheckExpectBuilt", "Name", name, "Hostname", want)
		return *res
	}
	upper := env.Runtime.UpperDir(name)
	lower := ""
	if validBaseID(c.Base) {
		lower = env.Runtime.BaseDir(c.Base)
	} else {
		fail("CheckBadBase", "Base", c.Base)
	}

	hostnamePath, err := overlayFile(upper, lower, "etc/hostname")
	switch {
	case err != nil:
		fail("CheckFileMissing", "File", "/etc/hostname", "Error", err.Error())
	default:
		got, err := readSmall(hostnamePath)
		if err != nil {
			fail("CheckFileMissing", "File", "/etc/hostname", "Error", err.Error())
		} else if got = strings.TrimSpace(got); got != want {
			fail("CheckHostnameFileWrong", "Path", hostnamePath, "Got", got, "Want", want)
		} else {
			res.Evidence = append(res.Evidence, p.Tf("CheckHostnameFile", "Path", hostnamePath, "Got", got))
		}
	}

	if lower != "" {
		busybox := filepath.Join(lower, "bin", "busybox")
		interp, err := elfInterpreter(busybox)
		switch {
		case err != nil:
			fail("CheckBusyboxBad", "Path", busybox, "Error", err.Error())
		case interp != "":
			fail("CheckBusyboxDynamic", "Path", busybox, "Interp", interp)
		default:
			res.Evidence = append(res.Evidence, p.Tf("CheckBusyboxStatic", "Path", busybox))
		}
	}

	passwdPath, err := overlayFile(upper, lower, "etc/passwd")
	if err != nil {
		fail("CheckFileMissing", "File", "/etc/passwd", "Error", err.Error())
	} else if data, err := readSmall(passwdPath); err != nil {
		fail("CheckFileMissing", "File", "/etc/passwd", "Error", err.Error())
	} else if entry, ok := rootEntry(data); ok {
		res.Evidence = append(res.Evidence, p.Tf("CheckPasswdRoot", "Path", passwdPath, "Entry", entry))
	} else {
		fail("CheckPasswdNoRoot", "Path", passwdPath)
	}

	if !res.Passed {
		res.Expected = p.Tf("CheckExpectBuilt", "Name", name, "Hostname", want)
	}
	return *res
}

// validBaseID accepts a base id that stays a single folder name under base/.
func validBaseID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, `/\`)
}

// overlayFile resolves rel the way an overlay mount with upper over lower would:
// the upper layer wins, a whiteout (a 0:0 character device) deletes the name, and
// an opaque upper folder hides the lower one below it. See the kernel's
// Documentation/filesystems/overlayfs.rst. The file must be a regular file, so a
// symbolic link in the container is never followed on the host. An empty lower
// means the base is unknown.
func overlayFile(upper, lower, rel string) (string, error) {
	parts := strings.Split(rel, "/")
	lowerVisible := lower != ""
	for i := range parts {
		sub := filepath.Join(parts[:i+1]...)
		fi, err := os.Lstat(filepath.Join(upper, sub))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return "", err
		}
		if isWhiteout(fi) {
			return "", fmt.Errorf("%s: deleted in the upper layer (whiteout)", filepath.Join(upper, sub))
		}
		if i == len(parts)-1 {
			return regularFile(filepath.Join(upper, rel))
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("%s: not a folder", filepath.Join(upper, sub))
		}
		if isOpaque(filepath.Join(upper, sub)) {
			lowerVisible = false
		}
	}
	if !lowerVisible {
		return "", fmt.Errorf("%s: %w", filepath.Join(upper, rel), os.ErrNotExist)
	}
	return regularFile(filepath.Join(lower, rel))
}

func regularFile(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file (%s)", path, fi.Mode().Type())
	}
	return path, nil
}

func isWhiteout(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode()&os.ModeCharDevice != 0 && st.Rdev == 0
}

// isOpaque reports the overlay "opaque" mark on a folder: the trusted.overlay
// xattr, or user.overlay for mounts with the userxattr option.
func isOpaque(dir string) bool {
	buf := make([]byte, 8)
	for _, attr := range []string{"trusted.overlay.opaque", "user.overlay.opaque"} {
		n, err := unix.Lgetxattr(dir, attr, buf)
		if err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}

// readSmall reads at most 64 KiB of path: the files checked here are one line to a
// few dozen lines long.
func readSmall(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64*1024))
	return string(data), err
}

// rootEntry returns the passwd(5) line of user root with UID 0.
func rootEntry(passwd string) (string, bool) {
	for _, line := range strings.Split(passwd, "\n") {
		fields := strings.Split(strings.TrimSpace(line), ":")
		if len(fields) >= 7 && fields[0] == "root" && fields[2] == "0" {
			return strings.TrimSpace(line), true
		}
	}
	return "", false
}

// elfInterpreter returns the program interpreter (PT_INTERP) of the ELF executable
// at path, or "" for a statically linked one. A file that is not a regular ELF
// executable is an error.
func elfInterpreter(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return "", fmt.Errorf("ELF type %s is not an executable", f.Type)
	}
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(prog.Open(), 4096))
		if err != nil {
			return "", fmt.Errorf("read PT_INTERP: %w", err)
		}
		interp := strings.TrimRight(string(data), "\x00")
		if interp == "" {
			interp = "PT_INTERP"
		}
		return interp, nil
	}
	return "", nil
}
