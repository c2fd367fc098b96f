package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rt-lab/rt-lab/internal/fsutil"
)

// ipForwardPath is the sysctl net.ipv4.ip_forward of the caller's network
// namespace. Without it the host does not route the containers' packets out.
var ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// forwardStateDir holds, for each network namespace, the record of the state
// folders that need ip_forward. /run is a tmpfs, so the records go at reboot
// together with the bridges and with the sysctl's value. A variable so that
// tests can move it.
var forwardStateDir = "/run/rt-lab/ip-forward"

// forwardRecord is the content of one record file. ip_forward is a setting
// of the whole network namespace, while every state folder turns NAT on and
// off by itself. So the record lists every root that needs forwarding, and
// the last one to stop needing it restores the value.
type forwardRecord struct {
	// Restore is set when rt-lab switched ip_forward from 0 to 1, so that it
	// goes back to 0 once no root needs it.
	Restore bool     `json:"restore"`
	Roots   []string `json:"roots"` // sorted state folders
}

// enableForward records that the root needs ip_forward and sets it to 1.
func (n *Network) enableForward() error {
	return updateForward(func(rec *forwardRecord) error {
		rec.prune(n.root)
		if !slices.Contains(rec.Roots, n.root) {
			rec.Roots = append(rec.Roots, n.root)
			slices.Sort(rec.Roots)
		}
		on, err := readIPForward()
		if err != nil || on {
			return err
		}
		if err := os.WriteFile(ipForwardPath, []byte("1\n"), 0o644); err != nil {
			return err
		}
		rec.Restore = true
		return nil
	})
}

// disableForward removes the root from the record and sets ip_forward back to
// 0 when rt-lab switched it on and no other root needs it.
func (n *Network) disableForward() error {
	// network.json of an older rt-lab records the switch itself.
	legacy := n.cfg.IPForwardChanged
	err := updateForward(func(rec *forwardRecord) error {
		rec.prune("")
		rec.Roots = slices.DeleteFunc(rec.Roots, func(r string) bool { return r == n.root })
		rec.Restore = rec.Restore || legacy
		if len(rec.Roots) > 0 || !rec.Restore {
			return nil
		}
		if err := os.WriteFile(ipForwardPath, []byte("0\n"), 0o644); err != nil {
			return err
		}
		rec.Restore = false
		return nil
	})
	if err != nil || !legacy {
		return err
	}
	n.cfg.IPForwardChanged = false
	return n.writeConfig()
}

// prune drops the roots that no longer need forwarding: a root whose
// network.json is gone or has NAT off, or whose bridge does not exist in this
// network namespace, as when its folder was deleted by hand. keep is never
// dropped.
func (rec *forwardRecord) prune(keep string) {
	rec.Roots = slices.DeleteFunc(rec.Roots, func(root string) bool {
		if root == keep {
			return false
		}
		other, err := Load(root)
		if err != nil || !other.cfg.NAT {
			return true
		}
		_, err = netlink.LinkByName(other.cfg.Bridge)
		return err != nil
	})
}

// updateForward runs change on the record of the caller's network namespace
// under an exclusive lock and stores the result. A record with no root and
// nothing to restore is removed.
func updateForward(change func(*forwardRecord) error) error {
	path, err := forwardRecordPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(forwardStateDir, 0o755); err != nil {
		return err
	}
	l, err := fsutil.LockFile(path+".lock", true)
	if err != nil {
		return err
	}
	defer l.Unlock()

	var rec forwardRecord
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(data, &rec); err != nil {
			// A damaged record starts afresh. A root that needs forwarding
			// adds itself again at its next start or nat on.
			rec = forwardRecord{}
		}
	}
	if err := change(&rec); err != nil {
		return err
	}
	if len(rec.Roots) == 0 && !rec.Restore {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return fsutil.WriteJSONAtomic(path, rec, 0o644)
}

// forwardRecordPath returns the record file of the caller's network
// namespace, named by the namespace's cookie (SO_NETNS_COOKIE, Linux 5.14 and
// later), which the kernel never reuses while it runs. An older kernel gets
// the inode number of the namespace instead, which a later namespace may
// reuse: prune then drops the roots of the old one.
func forwardRecordPath() (string, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	cookie, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if err == nil {
		return filepath.Join(forwardStateDir, fmt.Sprintf("netns-%d.json", cookie)), nil
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return "", &os.PathError{Op: "stat", Path: "/proc/thread-self/ns/net", Err: err}
	}
	return filepath.Join(forwardStateDir, fmt.Sprintf("inode-%d.json", st.Ino)), nil
}

// readIPForward reports whether ip_forward is on.
func readIPForward() (bool, error) {
	data, err := os.ReadFile(ipForwardPath)
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(string(data)) != "0", nil
}
