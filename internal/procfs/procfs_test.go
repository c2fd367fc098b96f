package procfs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseStatCommWithParens(t *testing.T) {
	line := "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 50 18446744073709551615\n"
	st, err := ParseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.Comm != "a (b) c" {
		t.Errorf("comm = %q, want %q", st.Comm, "a (b) c")
	}
	if st.State != 'S' {
		t.Errorf("state = %q, want S", st.State)
	}
	if st.PPID != 7 {
		t.Errorf("ppid = %d, want 7", st.PPID)
	}
	if st.StartTime != 123456 {
		t.Errorf("start time = %d, want 123456", st.StartTime)
	}
}

func TestParseStatRejectsBadText(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"42 sh S 1", "no comm field"},
		{"42 (sh) S 1 42", "5 fields"},
		{"42 (sh) S x 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0", "ppid"},
		{"42 (sh) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -9 0", "starttime"},
	} {
		_, err := ParseStat([]byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseStat(%q) error = %v, want one that contains %q", tc.text, err, tc.want)
		}
	}
}

func TestReadStatOfSelf(t *testing.T) {
	st, err := ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() {
		t.Errorf("PID = %d, want %d", st.PID, os.Getpid())
	}
	if st.PPID != os.Getppid() {
		t.Errorf("PPID = %d, want %d", st.PPID, os.Getppid())
	}
	if st.StartTime == 0 {
		t.Error("start time is 0")
	}
}

func TestReadNSpidFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte("Name:\tsh\nNSpid:\t4242\t1\nPPid:\t1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids, err := ReadNSpidFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int{4242, 1}) {
		t.Errorf("NSpid = %v, want [4242 1]", ids)
	}

	missing := filepath.Join(dir, "missing")
	if err := os.WriteFile(missing, []byte("Name:\tsh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadNSpidFile(missing); err == nil {
		t.Error("a status file without an NSpid line was accepted")
	}
}

func TestListPIDsSkipsOtherNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"12", "3", "0", "self", "sys", "100"} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pids, err := ListPIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pids, []int{3, 12, 100}) {
		t.Errorf("ListPIDs = %v, want [3 12 100]", pids)
	}
}

func TestSignalMasksFakeProc(t *testing.T) {
	proc := t.TempDir()
	saved := Root
	Root = proc
	t.Cleanup(func() { Root = saved })
	// SIGTERM (15) is bit 14 (0x4000), SIGUSR1 (10) is bit 9 (0x200).
	status := map[string]string{
		"1": "SigPnd:\t0000000000000000\nShdPnd:\t0000000000004000\nSigBlk:\t0000000000000000\nSigCgt:\t0000000000000200\n",
		"2": "SigPnd:\t0000000000000000\n",
	}
	for pid, text := range status {
		if err := os.MkdirAll(filepath.Join(proc, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proc, pid, "status"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if pending, err := SignalPending(1, 15); err != nil || !pending {
		t.Errorf("SignalPending(1, SIGTERM) = %v, %v; want true", pending, err)
	}
	if pending, err := SignalPending(1, 10); err != nil || pending {
		t.Errorf("SignalPending(1, SIGUSR1) = %v, %v; want false", pending, err)
	}
	if handled, err := SignalHandled(1, 10); err != nil || !handled {
		t.Errorf("SignalHandled(1, SIGUSR1) = %v, %v; want true", handled, err)
	}
	// pid 1 has no wchan file, so it is not waiting in sigtimedwait either.
	if handled, err := SignalHandled(1, 15); err != nil || handled {
		t.Errorf("SignalHandled(1, SIGTERM) = %v, %v; want false", handled, err)
	}
	if _, err := SignalPending(2, 15); err == nil {
		t.Error("SignalPending of a status without ShdPnd succeeded")
	}
}
