package main

import (
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

type cpioEntry struct {
	name         string
	mode         uint32
	major, minor int
	data         string
}

// readCPIO parses a newc archive up to the trailer.
func readCPIO(t *testing.T, archive []byte) []cpioEntry {
	t.Helper()
	var entries []cpioEntry
	offset := 0
	align := func() { offset = (offset + 3) &^ 3 }
	field := func(i int) int {
		v, err := strconv.ParseUint(string(archive[offset+6+8*i:offset+14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("field %d at offset %d: %v", i, offset, err)
		}
		return int(v)
	}
	for {
		if offset%4 != 0 {
			t.Fatalf("entry at offset %d is not 4-byte aligned", offset)
		}
		if magic := string(archive[offset : offset+6]); magic != "070701" {
			t.Fatalf("magic at offset %d = %q", offset, magic)
		}
		mode, size, major, minor, nameSize := field(1), field(6), field(9), field(10), field(11)
		start := offset + 110
		name := string(archive[start : start+nameSize-1])
		if archive[start+nameSize-1] != 0 {
			t.Fatalf("name %q is not NUL-terminated", name)
		}
		offset = start + nameSize
		align()
		if name == "TRAILER!!!" {
			return entries
		}
		data := string(archive[offset : offset+size])
		offset += size
		align()
		entries = append(entries, cpioEntry{name, uint32(mode), major, minor, data})
	}
}

func TestCPIOWriterEntries(t *testing.T) {
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	c.File("/bin/hello", 0o755, 5, strings.NewReader("hello"))
	c.Symlink("bin/sh", "/bin/busybox")
	c.CharDev("dev/console", 0o600, 5, 1)
	c.Dir("tmp", 0o1777)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	want := []cpioEntry{
		{"bin", cpioDir | 0o755, 0, 0, ""},
		{"bin/hello", cpioRegular | 0o755, 0, 0, "hello"},
		{"bin/sh", cpioSymlink | 0o777, 0, 0, "/bin/busybox"},
		{"dev", cpioDir | 0o755, 0, 0, ""},
		{"dev/console", cpioCharDev | 0o600, 5, 1, ""},
		{"tmp", cpioDir | 0o1777, 0, 0, ""},
	}
	got := readCPIO(t, buf.Bytes())
	if len(got) != len(want) {
		t.Fatalf("archive has %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestCPIOWriterShortFile(t *testing.T) {
	c := newCPIOWriter(&bytes.Buffer{})
	if err := c.File("x", 0o644, 10, strings.NewReader("short")); err == nil {
		t.Fatal("File with fewer bytes than its size succeeded, want an error")
	}
	if err := c.Close(); err == nil {
		t.Error("Close after a failed File succeeded, want the same error")
	}
}

// GNU cpio, when installed, must list the same names.
func TestCPIOWriterGNUCPIO(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("GNU cpio is not installed")
	}
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	c.File("etc/passwd", 0o644, 4, strings.NewReader("root"))
	c.Symlink("bin/sh", "busybox")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cpio", "--list", "--quiet")
	cmd.Stdin = &buf
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio --list: %v", err)
	}
	if got, want := string(out), "etc\netc/passwd\nbin\nbin/sh\n"; got != want {
		t.Errorf("cpio --list = %q, want %q", got, want)
	}
}
