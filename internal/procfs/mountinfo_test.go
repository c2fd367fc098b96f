package procfs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseMountinfoOverlayRoot(t *testing.T) {
	const lines = `22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw
301 22 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/rt-lab/base/ab,upperdir=/tmp/a\040b/upper,workdir=/tmp/w
302 301 0:51 / /proc rw,nosuid - proc proc rw
`
	mounts, err := ParseMountinfo(strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 3 {
		t.Fatalf("parsed %d mounts, want 3", len(mounts))
	}
	top := mounts[1]
	if top.FSType != "overlay" {
		t.Errorf("file system type = %q, want overlay", top.FSType)
	}
	if got, _ := top.Option("upperdir"); got != "/tmp/a b/upper" {
		t.Errorf("upperdir = %q, want the unescaped /tmp/a b/upper", got)
	}
	if _, ok := top.Option("nosuch"); ok {
		t.Error("Option found a key that is not there")
	}
}

func TestTopMountOfRoot(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		wantType  string
		wantUpper string
		wantRoot  bool
	}{
		{
			name: "container root overlay",
			input: "540 480 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/rt-lab/base/b1," +
				"upperdir=/var/lib/rt-lab/containers/rumah/upper,workdir=/var/lib/rt-lab/containers/rumah/work\n" +
				"541 540 0:53 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n",
			wantType:  "overlay",
			wantUpper: "/var/lib/rt-lab/containers/rumah/upper",
			wantRoot:  true,
		},
		{
			name:      "escaped space and comma in upperdir",
			input:     `30 1 0:40 / / rw shared:1 master:2 - overlay none rw,upperdir=/tmp/my\040dir\054x/upper,workdir=/w` + "\n",
			wantType:  "overlay",
			wantUpper: "/tmp/my dir,x/upper",
			wantRoot:  true,
		},
		{
			name: "stacked root takes the last line",
			input: "20 1 8:1 / / rw - ext4 /dev/sda1 rw,errors=remount-ro\n" +
				"40 20 0:44 / / rw - overlay overlay rw,upperdir=/top/upper,workdir=/top/work\n",
			wantType:  "overlay",
			wantUpper: "/top/upper",
			wantRoot:  true,
		},
		{
			name:     "host root is ext4",
			input:    "26 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n",
			wantType: "ext4",
			wantRoot: true,
		},
		{
			name:     "no root mount",
			input:    "541 540 0:53 / /proc rw - proc proc rw\n",
			wantRoot: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mounts, err := ParseMountinfo(strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			m, ok := TopMount(mounts, "/")
			if ok != tt.wantRoot {
				t.Fatalf("TopMount found = %v, want %v", ok, tt.wantRoot)
			}
			if !ok {
				return
			}
			if m.FSType != tt.wantType {
				t.Errorf("FSType = %q, want %q", m.FSType, tt.wantType)
			}
			upper, _ := m.Option("upperdir")
			if upper != tt.wantUpper {
				t.Errorf("upperdir = %q, want %q", upper, tt.wantUpper)
			}
		})
	}
}

func TestParseMountinfoRejectsShortLine(t *testing.T) {
	for _, input := range []string{
		"22 1 0:21 / /\n",                 // no mount options
		"26 1 8:1 / / rw\n",               // no separator
		"26 1 8:1 / / rw - ext4\n",        // no source
		"26 1 8:1 / / rw shared:1 ext4\n", // optional field without separator
	} {
		if _, err := ParseMountinfo(strings.NewReader(input)); err == nil {
			t.Errorf("ParseMountinfo(%q) succeeded, want an error", input)
		}
	}
}

func TestParseMountinfoOptionalFields(t *testing.T) {
	input := "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n"
	mounts, err := ParseMountinfo(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 1 {
		t.Fatalf("got %d mounts, want 1", len(mounts))
	}
	m := mounts[0]
	if m.MountPoint != "/mnt2" || m.FSType != "ext3" || m.Source != "/dev/root" {
		t.Errorf("mount = %+v, want /mnt2 ext3 /dev/root", m)
	}
	if !slices.Equal(m.SuperOptions, []string{"rw", "errors=continue"}) {
		t.Errorf("super options = %q", m.SuperOptions)
	}
}

func TestUnescapeOctal(t *testing.T) {
	tests := []struct{ in, want string }{
		{`/plain/path`, "/plain/path"},
		{`/a\040b`, "/a b"},
		{`/tab\011x`, "/tab\tx"},
		{`/back\134slash`, `/back\slash`},
		{`/short\04`, `/short\04`},
		{`/not\999octal`, `/not\999octal`},
	}
	for _, tt := range tests {
		if got := unescapeOctal(tt.in); got != tt.want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRootMountFakeProc(t *testing.T) {
	proc := t.TempDir()
	saved := Root
	Root = proc
	t.Cleanup(func() { Root = saved })
	if err := os.MkdirAll(filepath.Join(proc, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	info := "1 0 0:50 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/u/upper,workdir=/u/work\n"
	if err := os.WriteFile(filepath.Join(proc, "42", "mountinfo"), []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := RootMount(42)
	if err != nil {
		t.Fatal(err)
	}
	if upper, _ := m.Option("upperdir"); upper != "/u/upper" {
		t.Errorf("upperdir = %q, want /u/upper", upper)
	}
	if _, err := RootMount(43); err == nil {
		t.Error("RootMount of a missing pid succeeded")
	}
}

func TestRootMountOfSelf(t *testing.T) {
	m, err := RootMount(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.MountPoint != "/" || m.FSType == "" {
		t.Errorf("root mount = %+v, want a mount at / with a type", m)
	}
}

func TestSignalPendingOfSelf(t *testing.T) {
	pending, err := SignalPending(os.Getpid(), 15)
	if err != nil {
		t.Fatal(err)
	}
	if pending {
		t.Error("SIGTERM pending for the test process, which nobody signalled")
	}
}
