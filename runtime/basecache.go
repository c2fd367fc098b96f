package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"golang.org/x/sys/unix"
)

// fileKey identifies the content of a file without reading it: any write,
// truncate, rename over or chmod of the file changes its inode, size, mtime or
// ctime. Userspace can set mtime back, but not ctime.
type fileKey struct {
	Device  uint64 `json:"device"`
	Inode   uint64 `json:"inode"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	CtimeNs int64  `json:"ctime_ns"`
}

// baseCache is the content of the base cache file: the base id that ensureBase
// computed for the busybox with Key and the base inputs Inputs (layout and
// house tool names).
type baseCache struct {
	Key    fileKey `json:"key"`
	Inputs string  `json:"inputs"`
	Base   string  `json:"base"`
}

// baseCacheRacyWindow keeps a busybox changed this recently out of the cache.
// A write in the same clock tick as the stat that made the key could leave
// mtime and ctime as they were, as git's "racy clean" entries show. ctime
// comes from a coarse clock, which ticks at most every 10 ms on common kernels
// (CONFIG_HZ 100 and up), so a second leaves a wide margin.
const baseCacheRacyWindow = time.Second

var baseIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

func (r *Runtime) baseCachePath() string { return filepath.Join(r.root, "base", "busybox-digest.json") }

func fileKeyOf(f *os.File) (fileKey, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fileKey{}, &os.PathError{Op: "fstat", Path: f.Name(), Err: err}
	}
	return fileKey{
		Device:  st.Dev,
		Inode:   st.Ino,
		Size:    st.Size,
		MtimeNs: st.Mtim.Nano(),
		CtimeNs: st.Ctim.Nano(),
	}, nil
}

// cachedBase returns the base id recorded for a busybox with key and for
// inputs, when the cache file has one and that base exists. The cache only
// saves ensureBase reading and hashing busybox, so anything doubtful is a miss,
// which costs a rehash. The file must be a regular file owned by rt-lab's user
// and writable by it alone, and it must parse. Its key, inputs and id form
// must match, and the base's own busybox must have the size of the one given.
//
// NOTE: an entry forged with a matching key that names another base whose
// busybox has the same size is accepted. Only rt-lab's user (root) can write
// the file, and that user can change the bases themselves as well.
func (r *Runtime) cachedBase(key fileKey, inputs string) (string, bool) {
	path := r.baseCachePath()
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return "", false
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil ||
		st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != uint32(os.Geteuid()) || st.Mode&0o022 != 0 ||
		st.Size > 64<<10 {
		return "", false
	}
	var c baseCache
	if err := json.NewDecoder(f).Decode(&c); err != nil {
		return "", false
	}
	if c.Key != key || c.Inputs != inputs || !baseIDPattern.MatchString(c.Base) {
		return "", false
	}
	fi, err := os.Lstat(filepath.Join(r.BaseDir(c.Base), "bin", "busybox"))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != key.Size {
		return "", false
	}
	return c.Base, true
}

// storeBaseCache records id as the base for a busybox with key and inputs. A
// zero key, or a busybox changed within baseCacheRacyWindow, is not recorded.
// The file is written in place and without fsync: cachedBase treats a file
// that a crash cut short as a miss, because a cut JSON object does not parse.
// Errors are ignored, because the cache only saves time.
func (r *Runtime) storeBaseCache(key fileKey, inputs, id string) {
	if key == (fileKey{}) || time.Since(time.Unix(0, key.CtimeNs)) < baseCacheRacyWindow {
		os.Remove(r.baseCachePath())
		return
	}
	data, err := json.Marshal(baseCache{Key: key, Inputs: inputs, Base: id})
	if err != nil {
		return
	}
	f, err := os.OpenFile(r.baseCachePath(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return
	}
	f.Write(data)
	f.Close()
}
