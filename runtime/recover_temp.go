package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// TempFile is a temporary file or folder that a write cut short left behind.
type TempFile struct {
	Name    string // the house whose folder holds it, or "" for the root
	Path    string
	ModTime time.Time
}

// Names of the temporary files and folders rt-lab writes. fsutil.WriteFileAtomic
// names its file "." + the target's name + ".tmp-" + random digits
// (os.CreateTemp), network.LinkHosts and the WriteHosts of older rt-lab
// versions ".hosts.rt-lab-" + 12 hex digits, and
// ensureBase builds a base in ".tmp-" + its id + "-" + random digits.
var (
	rootTempName  = regexp.MustCompile(`^\.(network|network-addresses|progress|settings)\.json\.tmp-[0-9]+$`)
	stateTempName = regexp.MustCompile(`^\.state\.json\.tmp-[0-9]+$`)
	hostsTempName = regexp.MustCompile(`^\.hosts\.rt-lab-[0-9a-f]{12}$`)
	baseTempName  = regexp.MustCompile(`^\.tmp-[0-9a-f]{16}-[0-9]+$`)
)

// unlockedAge is how old a temporary file in the root folder must be before
// it counts as stale. The lesson progress and settings files are written
// without the root's lock, so a younger one may belong to a write in progress.
// Every other temporary file is written under the lock, which Recover holds.
const unlockedAge = time.Minute

// StaleTempFiles lists the temporary files and folders of rt-lab that are
// older than before, of house name alone or, with name "", of the whole root.
// It only reads. A house's /etc/hosts is replaced inside the house's file
// system, so its temporary files are looked up there with symbolic links
// resolved inside the house, never on the host.
func (r *Runtime) StaleTempFiles(name string, before time.Time) ([]TempFile, error) {
	var names []string
	var out []TempFile
	if name != "" {
		names = []string{name}
	} else {
		out = r.staleRootTemps(before)
		entries, err := os.ReadDir(r.containersDir())
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() && ValidateName(e.Name()) == nil {
				names = append(names, e.Name())
			}
		}
	}
	for _, n := range names {
		out = append(out, staleIn(r.ContainerDir(n), n, stateTempName, before)...)
		etc, err := openHouseEtc(r.UpperDir(n))
		if err != nil {
			continue // no etc in the upper folder: no hosts file was ever written
		}
		out = append(out, staleAt(etc, filepath.Join(r.UpperDir(n), "etc"), n, before)...)
		etc.Close()
	}
	return out, nil
}

// staleRootTemps lists the stale temporary files of the root folder and the
// half-built bases under base/.
func (r *Runtime) staleRootTemps(before time.Time) []TempFile {
	out := staleIn(r.root, "", rootTempName, before.Add(-unlockedAge))
	return append(out, staleIn(filepath.Join(r.root, "base"), "", baseTempName, before)...)
}

// staleIn lists the entries of dir whose names match pattern and that are
// older than before.
func staleIn(dir, house string, pattern *regexp.Regexp, before time.Time) []TempFile {
	entries, _ := os.ReadDir(dir)
	var out []TempFile
	for _, e := range entries {
		if !pattern.MatchString(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err == nil && fi.ModTime().Before(before) {
			out = append(out, TempFile{Name: house, Path: filepath.Join(dir, e.Name()), ModTime: fi.ModTime()})
		}
	}
	return out
}

// staleAt lists the stale temporary hosts files in the open folder etc, which
// path names.
func staleAt(etc *os.File, path, house string, before time.Time) []TempFile {
	names, _ := etc.Readdirnames(-1)
	slices.Sort(names)
	var out []TempFile
	for _, n := range names {
		if !hostsTempName.MatchString(n) {
			continue
		}
		var st unix.Stat_t
		if unix.Fstatat(int(etc.Fd()), n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		mod := time.Unix(st.Mtim.Unix())
		if mod.Before(before) {
			out = append(out, TempFile{Name: house, Path: filepath.Join(path, n), ModTime: mod})
		}
	}
	return out
}

// openHouseEtc opens the folder etc of the house file system at root,
// resolving symbolic links as if root were "/", so that a link the house made
// cannot lead to the host's files (openat2(2) RESOLVE_IN_ROOT).
func openHouseEtc(root string) (*os.File, error) {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	defer unix.Close(rootFD)
	how := &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(rootFD, "etc", how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "openat2", Path: root + "/etc", Err: err}
		}
		return os.NewFile(uintptr(fd), root+"/etc"), nil
	}
}

// removeTemp removes path, a temporary file or folder of house name (or of the
// root when name is ""), after checking again that it is one and older than
// start. A running house's hosts file is removed through the house's own
// root, because an overlay's layers must not change under its mount.
func (r *Runtime) removeTemp(name, path string, start time.Time) error {
	path = filepath.Clean(path)
	dir, base := filepath.Split(path)
	dir = filepath.Clean(dir)
	notTemp := usererr.New(usererr.Failed, "ErrRecoverNotTemp", "Path", path)
	switch {
	case name == "" && dir == r.root && rootTempName.MatchString(base):
		return removeStale(path, start.Add(-unlockedAge), false)
	case name == "" && dir == filepath.Join(r.root, "base") && baseTempName.MatchString(base):
		return removeStale(path, start, true)
	case name == "" || ValidateName(name) != nil:
		return notTemp
	case dir == r.ContainerDir(name) && stateTempName.MatchString(base):
		return removeStale(path, start, false)
	case dir == filepath.Join(r.UpperDir(name), "etc") && hostsTempName.MatchString(base):
		return r.removeHostsTemp(name, base, start)
	}
	return notTemp
}

// removeStale removes path when it is older than before: a regular file, or
// a folder when folder is set.
func removeStale(path string, before time.Time, folder bool) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.ModTime().Before(before) {
		return usererr.New(usererr.Failed, "ErrRecoverTempFresh", "Path", path)
	}
	switch {
	case folder && fi.IsDir():
		return os.RemoveAll(path)
	case !folder && fi.Mode().IsRegular():
		return os.Remove(path)
	}
	return usererr.New(usererr.Failed, "ErrRecoverNotTemp", "Path", path)
}

// removeHostsTemp removes the temporary hosts file base from house name's
// etc folder.
func (r *Runtime) removeHostsTemp(name, base string, start time.Time) error {
	root := r.UpperDir(name)
	pid, _, found, err := scanInit(root)
	if err != nil {
		return err
	}
	if found {
		root = fmt.Sprintf("/proc/%d/root", pid)
	}
	etc, err := openHouseEtc(root)
	if err != nil {
		return err
	}
	defer etc.Close()
	path := root + "/etc/" + base
	var st unix.Stat_t
	err = unix.Fstatat(int(etc.Fd()), base, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case err == unix.ENOENT:
		return nil
	case err != nil:
		return &os.PathError{Op: "fstatat", Path: path, Err: err}
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return usererr.New(usererr.Failed, "ErrRecoverNotTemp", "Path", path)
	case !time.Unix(st.Mtim.Unix()).Before(start):
		return usererr.New(usererr.Failed, "ErrRecoverTempFresh", "Path", path)
	}
	if err := unix.Unlinkat(int(etc.Fd()), base, 0); err != nil && err != unix.ENOENT {
		return &os.PathError{Op: "unlinkat", Path: path, Err: err}
	}
	return nil
}
