package vminit

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The virtual machine loads xfrm_user only on demand, so opening a NETLINK_XFRM
// socket works only when the kernel can run modprobe, as on a host.
func TestModuleAutoload(t *testing.T) {
	requireVM(t)
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_XFRM)
	if err != nil {
		t.Fatalf("open a NETLINK_XFRM socket: %v (module autoloading through /sbin/modprobe failed)", err)
	}
	unix.Close(fd)
	modules, err := os.ReadFile("/proc/modules")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(modules), "xfrm_user ") {
		t.Errorf("xfrm_user is not in /proc/modules after the socket opened:\n%s", modules)
	}
}

func TestHostNetworkDevices(t *testing.T) {
	requireVM(t)
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, link := range links {
		names = append(names, link.Attrs().Name)
	}
	if want := []string{"lo", hostLink}; !slices.Equal(names, want) {
		t.Errorf("network devices = %q, want %q", names, want)
	}
	for _, name := range []string{"lo", hostLink} {
		link, err := netlink.LinkByName(name)
		if err != nil {
			t.Errorf("find %s: %v", name, err)
			continue
		}
		if link.Attrs().Flags&unix.IFF_UP == 0 {
			t.Errorf("%s is down, want up", name)
		}
	}
}

// systemd makes every mount shared, so a runtime that forgets to make its
// mounts private leaks them to the host. The machine must do the same.
func TestRootMountShared(t *testing.T) {
	requireVM(t)
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 6 && fields[4] == "/" {
			if !strings.HasPrefix(fields[6], "shared:") {
				t.Errorf("/ has optional fields %q, want shared:N", fields[6])
			}
			return
		}
	}
	t.Fatalf("no mount of / in mountinfo:\n%s", data)
}
