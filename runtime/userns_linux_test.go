package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// hostUID returns the effective host uid of process pid.
func hostUID(t *testing.T, pid int) uint32 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid, err := strconv.ParseUint(strings.Fields(v)[1], 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			return uint32(uid)
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return 0
}

func ownerOf(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// houseCapMask is the CapEff line that confineThread leaves.
func houseCapMask() string {
	var mask uint64
	for _, c := range houseCapabilities {
		mask |= 1 << uint(c)
	}
	return fmt.Sprintf("%016x", mask)
}

func TestUserNSHouses(t *testing.T) {
	r := newTestRuntime(t)
	var houses []*Container
	for i, name := range []string{"rumah-satu", "rumah-dua"} {
		if _, err := r.Create(CreateOptions{Name: name}); err != nil {
			t.Fatal(err)
		}
		c, err := r.Start(name)
		if err != nil {
			t.Fatal(err)
		}
		want := uint32(idRangeFirst + i*idRangeSize)
		if !c.UserNS || c.IDBase != want {
			t.Errorf("%s: userns %v, id base %d; want a user namespace at %d", name, c.UserNS, c.IDBase, want)
		}
		if c.RootfsOwner != rootfsIdmapped && c.RootfsOwner != rootfsChowned {
			t.Errorf("%s: rootfs owner %q", name, c.RootfsOwner)
		}
		t.Logf("%s: base owned by its range through %s", name, c.RootfsOwner)
		if got := hostUID(t, c.PID); got != want {
			t.Errorf("%s: PID 1 runs as host uid %d, want %d", name, got, want)
		}
		houses = append(houses, c)
	}

	c := houses[0]
	if out, _ := execOutput(t, r, c.Name, "id", "-u"); strings.TrimSpace(out) != "0" {
		t.Errorf("id -u inside = %q, want 0", out)
	}
	if out, _ := execOutput(t, r, c.Name, "cat", "/proc/self/uid_map"); strings.Join(strings.Fields(out), " ") != "0 100000 65536" {
		t.Errorf("uid_map inside = %q", out)
	}
	out, _ := execOutput(t, r, c.Name, "grep", "CapEff", "/proc/self/status")
	if !strings.Contains(out, houseCapMask()) {
		t.Errorf("command's %q, want the house's set %s", strings.TrimSpace(out), houseCapMask())
	}
	// Root inside changes /etc: the file lands in the upper folder, owned by
	// the range's root on the host.
	if _, code := execOutput(t, r, c.Name, "sh", "-c", "echo salam > /etc/motd && chown 5:5 /etc/hostname"); code != 0 {
		t.Fatalf("write /etc/motd: exit %d", code)
	}
	if uid, gid := ownerOf(t, filepath.Join(r.UpperDir(c.Name), "etc", "motd")); uid != 100000 || gid != 100000 {
		t.Errorf("motd in the upper folder is owned by %d:%d, want 100000:100000", uid, gid)
	}
	if uid, _ := ownerOf(t, filepath.Join(r.UpperDir(c.Name), "etc", "hostname")); uid != 100005 {
		t.Errorf("hostname chowned to 5 inside is host uid %d, want 100005", uid)
	}
	// The house's root may not change its hostname: CAP_SYS_ADMIN is gone.
	var errOut strings.Builder
	code, err := r.Exec(c.Name, Process{Args: []string{"hostname", "lain"}, Stderr: &errOut})
	if err != nil || code == 0 || !strings.Contains(errOut.String(), "not permitted") {
		t.Errorf("hostname lain: exit %d, %v, %q; want refused", code, err, errOut.String())
	}
	// A command started by run-container is in the house's cgroup.
	inside, _ := execOutput(t, r, c.Name, "cat", "/proc/self/cgroup")
	host, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", c.PID))
	if err != nil {
		t.Fatal(err)
	}
	if inside != string(host) {
		t.Errorf("command's cgroups:\n%s\nPID 1's:\n%s", inside, host)
	}
	// A command that is missing or not executable gets the shell's statuses.
	if code, err := r.Exec(c.Name, Process{Args: []string{"tidak-ada"}}); code != ExitNotFound || !usererr.Is(err, "ErrCommandNotFound") {
		t.Errorf("missing command: exit %d, %v", code, err)
	}
	if _, code := execOutput(t, r, c.Name, "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit status %d, want 7", code)
	}

	// A deleted house's range is free again.
	if err := r.Delete(houses[0].Name, true); err != nil {
		t.Fatal(err)
	}
	again, err := r.Create(CreateOptions{Name: "rumah-tiga"})
	if err != nil {
		t.Fatal(err)
	}
	if again.IDBase != idRangeFirst {
		t.Errorf("new house got range %d, want the freed %d", again.IDBase, idRangeFirst)
	}
}

func TestUserNSChownedCopy(t *testing.T) {
	r := newTestRuntime(t)
	c, err := r.Create(CreateOptions{Name: "rumah-salin"})
	if err != nil {
		t.Fatal(err)
	}
	// A house whose first start found no idmapped mounts keeps its copy.
	c.RootfsOwner = rootfsChowned
	if err := r.save(c); err != nil {
		t.Fatal(err)
	}
	if c, err = r.Start(c.Name); err != nil {
		t.Fatal(err)
	}
	if c.RootfsOwner != rootfsChowned {
		t.Errorf("rootfs owner %q, want %q", c.RootfsOwner, rootfsChowned)
	}
	if uid, _ := ownerOf(t, filepath.Join(r.lowerDir(c.Name), "bin", "busybox")); uid != c.IDBase {
		t.Errorf("copied busybox is owned by %d, want %d", uid, c.IDBase)
	}
	if out, code := execOutput(t, r, c.Name, "sh", "-c", "echo x > /etc/passwd && id -u"); code != 0 || strings.TrimSpace(out) != "0" {
		t.Errorf("write /etc/passwd as root inside: exit %d, %q", code, out)
	}
}

func TestUserNSOwnershipMismatch(t *testing.T) {
	r := newTestRuntime(t)
	c, err := r.Create(CreateOptions{Name: "rumah-salah"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(r.UpperDir(c.Name), 0, 0); err != nil {
		t.Fatal(err)
	}
	_, err = r.Start(c.Name)
	if !usererr.Is(err, "ErrUserNSOwnership") {
		t.Fatalf("start with a root-owned upper folder: %v, want ErrUserNSOwnership", err)
	}
}

func TestNoUserNSHouse(t *testing.T) {
	r := newTestRuntime(t)
	c, err := r.Create(CreateOptions{Name: "rumah-lama", NoUserNS: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.UserNS || c.IDBase != 0 {
		t.Fatalf("userns %v, id base %d; want none", c.UserNS, c.IDBase)
	}
	if c, err = r.Start(c.Name); err != nil {
		t.Fatal(err)
	}
	if got := hostUID(t, c.PID); got != 0 {
		t.Errorf("PID 1 runs as host uid %d, want 0", got)
	}
	if out, _ := execOutput(t, r, c.Name, "cat", "/proc/self/uid_map"); strings.Join(strings.Fields(out), " ") != "0 0 4294967295" {
		t.Errorf("uid_map inside = %q", out)
	}
	out, _ := execOutput(t, r, c.Name, "grep", "CapEff", "/proc/self/status")
	if !strings.Contains(out, houseCapMask()) {
		t.Errorf("command's %q, want the house's set %s", strings.TrimSpace(out), houseCapMask())
	}
	if _, code := execOutput(t, r, c.Name, "sh", "-c", "echo salam > /etc/motd"); code != 0 {
		t.Fatalf("write /etc/motd: exit %d", code)
	}
	if uid, _ := ownerOf(t, filepath.Join(r.UpperDir(c.Name), "etc", "motd")); uid != 0 {
		t.Errorf("motd is owned by %d, want 0", uid)
	}
}

// TestUserNSDisabled runs checkUserNSSupport in a child process inside a new
// user namespace whose user.max_user_namespaces is 0, so the host's own setting
// is never touched. The child also confirms that the kernel then refuses a
// nested user namespace, which is the failure the error reports.
func TestUserNSDisabled(t *testing.T) {
	if os.Getenv("RT_LAB_TEST_USERNS_OFF_CHILD") == "1" {
		if err := os.WriteFile("/proc/sys/user/max_user_namespaces", []byte("0\n"), 0); err != nil {
			fmt.Println("write:", err)
			os.Exit(3)
		}
		if err := syscall.Unshare(syscall.CLONE_NEWUSER); err == nil {
			fmt.Println("unshare of a user namespace worked with the limit at 0")
			os.Exit(3)
		}
		var userErr *usererr.Error
		if err := checkUserNSSupport(); !errors.As(err, &userErr) {
			fmt.Printf("checkUserNSSupport: %v\n", err)
			os.Exit(3)
		}
		fmt.Println(userErr.ID)
		os.Exit(0)
	}
	testutil.RequireRoot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestUserNSDisabled$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RT_LAB_TEST_USERNS_OFF_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); !strings.HasPrefix(got, "ErrUserNSDisabled") {
		t.Fatalf("child printed %q, want ErrUserNSDisabled", got)
	}
	if err := checkUserNSSupport(); err != nil {
		t.Fatalf("the host's own setting changed: %v", err)
	}
}

func TestUserNSRangesFull(t *testing.T) {
	used := map[uint32]bool{}
	for k := uint32(0); k < maxIDRanges; k++ {
		used[idRangeFirst+k*idRangeSize] = true
	}
	_, err := firstFreeIDRange(used)
	var userErr *usererr.Error
	if !errors.As(err, &userErr) || userErr.ID != "ErrUserNSRangesFull" {
		t.Fatalf("all ranges taken: got %v, want ErrUserNSRangesFull", err)
	}
	for _, want := range []string{"65534", "--userns=false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not name %q", err, want)
		}
	}
	delete(used, idRangeFirst+7*idRangeSize)
	got, err := firstFreeIDRange(used)
	if err != nil {
		t.Fatalf("one range free: %v", err)
	}
	if want := uint32(idRangeFirst + 7*idRangeSize); got != want {
		t.Fatalf("one range free: got %d, want %d", got, want)
	}
}
