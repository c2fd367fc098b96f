package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/testutil"
	"github.com/rt-lab/rt-lab/runtime"
)

func TestMain(m *testing.M) {
	runtime.MaybeInit()
	os.Exit(m.Run())
}

func TestMedian(t *testing.T) {
	cases := []struct {
		name string
		in   samples
		want time.Duration
	}{
		{"empty", nil, 0},
		{"odd count", samples{5, 1, 3}, 3},
		{"even count", samples{4, 1, 3, 2}, 2},
	}
	for _, c := range cases {
		if got := c.in.median(); got != c.want {
			t.Errorf("%s: median(%v) = %v, want %v", c.name, c.in, got, c.want)
		}
	}
}

func TestSlope(t *testing.T) {
	cases := []struct {
		name string
		in   samples
		want time.Duration
	}{
		{"one sample", samples{7}, 0},
		{"constant", samples{5, 5, 5, 5}, 0},
		{"two per step", samples{1, 3, 5, 7}, 2},
		{"falling", samples{9, 6, 3}, -3},
	}
	for _, c := range cases {
		if got := c.in.slope(); got != c.want {
			t.Errorf("%s: slope(%v) = %v, want %v", c.name, c.in, got, c.want)
		}
	}
}

func TestFirstLast(t *testing.T) {
	s := samples{1, 2, 3, 10, 20, 30}
	first, last := s.firstLast(3)
	if first != 2 {
		t.Errorf("first = %v, want 2", first)
	}
	if last != 20 {
		t.Errorf("last = %v, want 20", last)
	}
	if first, last := s[:2].firstLast(10); first != last {
		t.Errorf("fewer samples than k: first %v and last %v differ", first, last)
	}
}

func TestParseScale(t *testing.T) {
	cases := []struct {
		in   string
		want []int
	}{
		{"", defaultScale},
		{"full", fullScale},
		{"3, 7", []int{3, 7}},
	}
	for _, c := range cases {
		got, err := parseScale(c.in)
		if err != nil {
			t.Errorf("parseScale(%q): %v", c.in, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("parseScale(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"0", "254", "ten", "10,", "-5"} {
		if _, err := parseScale(bad); err == nil {
			t.Errorf("parseScale(%q) accepted a bad house count", bad)
		}
	}
}

func TestParseFlagsRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"-runs", "0"},
		{"-runs", "many"},
		{"-only", "lifecycle,speed"},
		{"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted bad input", args)
		}
	}
}

func TestNewSpecMatchesHouse(t *testing.T) {
	s := newSpec(specOptions{
		Args: []string{"/bin/true"}, Hostname: "rumah", CgroupsPath: "/rt-lab-bench-x/true-1",
		Limits: cgroups.Limits{MemoryBytes: 64 << 20, CPUPercent: 50, Pids: 512}, Memsw: true,
	})
	var types []string
	for _, ns := range s.Linux.Namespaces {
		types = append(types, ns.Type)
	}
	slices.Sort(types)
	if want := []string{"ipc", "mount", "network", "pid", "uts"}; !slices.Equal(types, want) {
		t.Errorf("namespaces = %v, want %v", types, want)
	}
	r := s.Linux.Resources
	if r.Memory == nil || r.CPU == nil || r.Pids == nil {
		t.Fatalf("resources = %+v, want memory, cpu and pids", r)
	}
	if r.Memory.Limit != 64<<20 {
		t.Errorf("memory limit = %d, want 64 MiB", r.Memory.Limit)
	}
	if r.Memory.Swap == nil || *r.Memory.Swap != 64<<20 {
		t.Errorf("memory+swap limit = %v, want 64 MiB, so the container gets no swap", r.Memory.Swap)
	}
	if r.CPU.Quota != 50000 || r.CPU.Period != 100000 {
		t.Errorf("cpu = %d/%d, want 50000/100000", r.CPU.Quota, r.CPU.Period)
	}
	if r.Pids.Limit != 512 {
		t.Errorf("pids limit = %d, want 512", r.Pids.Limit)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Errorf("encode spec: %v", err)
	}
}

func TestNewSpecWithoutLimits(t *testing.T) {
	s := newSpec(specOptions{Args: []string{"/bin/true"}, NetnsPath: "/proc/1/ns/net"})
	r := s.Linux.Resources
	if r.Memory != nil || r.CPU != nil || r.Pids != nil {
		t.Errorf("resources = %+v, want none", r)
	}
	i := slices.IndexFunc(s.Linux.Namespaces, func(ns specNamespace) bool { return ns.Type == "network" })
	if i < 0 {
		t.Fatal("no network namespace in the spec")
	}
	if got := s.Linux.Namespaces[i].Path; got != "/proc/1/ns/net" {
		t.Errorf("network namespace path = %q, want /proc/1/ns/net", got)
	}
}

// newBenchRuntime returns a runtime on a fresh state folder with one stopped
// house, which keeps the bridge up, as in a lab with other houses. Every
// house and the bridge are removed when the benchmark ends.
func newBenchRuntime(b *testing.B) *runtime.Runtime {
	b.Helper()
	testutil.RequireRoot(b)
	root := b.TempDir()
	r, err := runtime.New(runtime.Options{Root: root})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := removeRoot(root); err != nil {
			b.Errorf("cleanup: %v", err)
		}
	})
	if _, err := r.Create(runtime.CreateOptions{Name: "tetangga"}); err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkLifecycleAPI measures Create, Start, Exec of true, Stop and
// Delete of one house through the Go API, with the limits of the `make bench` run.
// Run it with -cpuprofile to see where the time goes.
func BenchmarkLifecycleAPI(b *testing.B) {
	r := newBenchRuntime(b)
	var sum apiPhases
	i := 0
	for b.Loop() {
		i++
		p, err := apiLifecycle(r, fmt.Sprintf("rumah-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		sum.create += p.create
		sum.start += p.start
		sum.exec += p.exec
		sum.stop += p.stop
		sum.delete += p.delete
	}
	n := float64(i)
	b.ReportMetric(float64(sum.create.Microseconds())/n, "create-µs/op")
	b.ReportMetric(float64(sum.start.Microseconds())/n, "start-µs/op")
	b.ReportMetric(float64(sum.exec.Microseconds())/n, "exec-µs/op")
	b.ReportMetric(float64(sum.stop.Microseconds())/n, "stop-µs/op")
	b.ReportMetric(float64(sum.delete.Microseconds())/n, "delete-µs/op")
}

// BenchmarkExecTrue measures Exec of true in a running house.
func BenchmarkExecTrue(b *testing.B) {
	r := newBenchRuntime(b)
	const name = "rumah-masuk"
	if _, err := r.Create(runtime.CreateOptions{Name: name}); err != nil {
		b.Fatal(err)
	}
	if _, err := r.Start(name); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := execTrue(r, name); err != nil {
			b.Fatal(err)
		}
	}
}
