package cli

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/locales"
	"github.com/rt-lab/rt-lab/network"
	"github.com/rt-lab/rt-lab/runtime"
)

// requireDot returns the path of Graphviz's dot. Without it the test is
// skipped, or fails when RT_LAB_REQUIRE_ROOT is set, because install-deps.sh
// installs it.
func requireDot(t *testing.T) string {
	t.Helper()
	dot, err := exec.LookPath("dot")
	if err == nil {
		return dot
	}
	if os.Getenv("RT_LAB_REQUIRE_ROOT") != "" {
		t.Fatal("dot not found: run sudo scripts/install-deps.sh, which installs graphviz for this test")
	}
	t.Skip("dot not found: run sudo scripts/install-deps.sh")
	return ""
}

// checkDOT renders graph with dot -Tsvg and fails on any error or warning.
func checkDOT(t *testing.T, graph string) string {
	t.Helper()
	cmd := exec.Command(requireDot(t), "-Tsvg")
	cmd.Stdin = strings.NewReader(graph)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("dot -Tsvg: %v\n%s\ngraph:\n%s", err, stderr.String(), graph)
	}
	return stdout.String()
}

// svgText returns s as dot writes it into SVG text, with '-' as an entity.
func svgText(s string) string { return strings.ReplaceAll(s, "-", "&#45;") }

// sampleTopology is a complex with one house at each end of a port, a port
// that leads to no house, and one house of each unplugged kind.
func sampleTopology() *topology {
	bogor := &topologyHouse{Name: "rumah-bogor", State: runtime.StatusRunning, PID: 4242,
		Address: netip.MustParseAddr("10.0.0.2"), EthName: "eth0", EthAddr: netip.MustParsePrefix("10.0.0.2/24")}
	return &topology{
		Root:   `/var/lib/rt-"lab"`,
		Subnet: netip.MustParsePrefix("10.0.0.0/24"),
		Kernel: network.Topology{Bridge: "rt-br-12345678", Present: true, Up: true,
			Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}},
		Ports: []topologyPort{
			{Port: network.Port{Name: "rt-v-aaaaaaaa", Type: "veth", Up: true}, House: bogor},
			{Port: network.Port{Name: "rt-v-bbbbbbbb", Type: "veth", Up: false}},
		},
		Unplugged: []topologyHouse{
			{Name: "rumah-bekasi", State: runtime.StatusStopped, Address: netip.MustParseAddr("10.0.0.4")},
			{Name: "rumah-cianjur", State: runtime.StatusRunning, PID: 77, Address: netip.MustParseAddr("10.0.0.5")},
			{Name: "rumah-rusak", State: runtime.StatusBroken},
		},
	}
}

func TestTopologyTree(t *testing.T) {
	want := map[locales.Lang]string{
		locales.EN: `Complex /var/lib/rt-"lab", subnet 10.0.0.0/24
rt-br-12345678 (bridge 10.0.0.1/24, up)
├── rt-v-aaaaaaaa (veth, up)
│   └── rumah-bogor: eth0 10.0.0.2/24, running (PID 4242)
├── rt-v-bbbbbbbb (veth, down)
│   └── ? the other end is in no running house of this complex
└── not plugged in
    ├── rumah-bekasi: 10.0.0.4 reserved, stopped
    ├── rumah-cianjur: running (PID 77) without a cable on the bridge; stop and start it to plug it in
    └── rumah-rusak: broken; rt-lab recover-state rumah-rusak repairs it or names the fix
`,
		locales.ID: `Kompleks /var/lib/rt-"lab", subnet 10.0.0.0/24
rt-br-12345678 (bridge 10.0.0.1/24, menyala)
├── rt-v-aaaaaaaa (veth, menyala)
│   └── rumah-bogor: eth0 10.0.0.2/24, berjalan (PID 4242)
├── rt-v-bbbbbbbb (veth, mati)
│   └── ? ujung lainnya tidak berada di rumah mana pun yang berjalan di kompleks ini
└── tidak tercolok
    ├── rumah-bekasi: 10.0.0.4 dipesan, berhenti
    ├── rumah-cianjur: berjalan (PID 77) tanpa kabel di bridge; hentikan lalu nyalakan lagi agar tercolok
    └── rumah-rusak: rusak; rt-lab recover-state rumah-rusak memperbaikinya atau menyebutkan cara memperbaikinya
`,
	}
	for lang, text := range want {
		var out bytes.Buffer
		a := testApp(lang)
		a.Stdout = &out
		if err := a.writeTree(sampleTopology()); err != nil {
			t.Fatal(err)
		}
		if out.String() != text {
			t.Errorf("%s tree:\n%s\nwant:\n%s", lang, out.String(), text)
		}
	}
}

func TestTopologyDOTIsValid(t *testing.T) {
	for _, lang := range locales.Langs {
		for name, topo := range map[string]*topology{
			"sample":    sampleTopology(),
			"no bridge": {Root: "/r", Kernel: network.Topology{Bridge: "rt-br-1"}},
		} {
			var out bytes.Buffer
			a := testApp(lang)
			a.Stdout = &out
			if err := a.writeDOT(topo); err != nil {
				t.Fatal(err)
			}
			if name == "no bridge" && strings.Contains(out.String(), "subnet") {
				t.Errorf("%s %s: a complex without a network has a subnet in\n%s", lang, name, out.String())
			}
			svg := checkDOT(t, out.String())
			if name == "sample" && !strings.Contains(svg, svgText("rumah-bogor")) {
				t.Errorf("%s %s: the picture does not name rumah-bogor", lang, name)
			}
		}
	}
}

func TestDOTString(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{"a", "b"}, `"a\nb"`},
		{[]string{`say "hi"`}, `"say \"hi\""`},
		{[]string{`back\slash`}, `"back\\slash"`},
		{[]string{"two\nlines"}, `"two\nlines"`},
	}
	for _, tt := range tests {
		if got := dotString(tt.lines...); got != tt.want {
			t.Errorf("dotString(%q) = %s, want %s", tt.lines, got, tt.want)
		}
	}
}

// TestShowTopologyReadsKernel draws a complex with two running houses and a
// stopped one. One running house gets another address on eth0 by hand, which
// the drawing must show, because it reads the house's namespace and not the
// records.
func TestShowTopologyReadsKernel(t *testing.T) {
	env, subnet := newNetworkRoot(t)
	mustRun(t, env, "create-container", "rumah-bogor", "--subnet", subnet)
	mustRun(t, env, "create-container", "rumah-depok")
	mustRun(t, env, "create-container", "rumah-bekasi")
	for _, name := range []string{"rumah-bogor", "rumah-depok"} {
		mustRun(t, env, "run-container", name, "--", "true")
	}
	prefix := netip.MustParsePrefix(subnet)
	moved := netip.PrefixFrom(prefix.Addr().Next().Next().Next().Next().Next().Next(), prefix.Bits()) // .6
	mustRun(t, env, "run-container", "rumah-depok", "--", "sh", "-c",
		fmt.Sprintf("ip addr flush dev eth0 && ip addr add %s dev eth0", moved))

	r, err := runtime.New(runtime.Options{Root: env["RT_LAB_ROOT"]})
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.Network()
	if err != nil {
		t.Fatal(err)
	}
	house := map[string]*runtime.Container{}
	for _, name := range []string{"rumah-bogor", "rumah-depok", "rumah-bekasi"} {
		if house[name], err = r.Get(name); err != nil {
			t.Fatal(err)
		}
	}
	link := func(name string) string {
		a, _, _ := n.Allocation(name)
		return a.HostLink()
	}

	out := mustRun(t, env, "show-topology")
	bogor := house["rumah-bogor"]
	for _, want := range []string{
		fmt.Sprintf("%s (bridge %s/%d, up)", n.Config().Bridge, n.Config().Gateway, prefix.Bits()),
		fmt.Sprintf("├── %s (veth, up)\n│   └── rumah-bogor: eth0 %s/%d, running (PID %d)",
			link("rumah-bogor"), bogor.Address, prefix.Bits(), bogor.PID),
		fmt.Sprintf("%s (veth, up)\n│   └── rumah-depok: eth0 %s, running (PID %d)",
			link("rumah-depok"), moved, house["rumah-depok"].PID),
		fmt.Sprintf("└── not plugged in\n    └── rumah-bekasi: %s reserved, stopped", house["rumah-bekasi"].Address),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show-topology does not contain\n%s\nin:\n%s", want, out)
		}
	}

	graph := mustRun(t, env, "show-topology", "--format", "dot")
	svg := checkDOT(t, graph)
	for _, name := range []string{"rumah-bogor", "rumah-depok", "rumah-bekasi", link("rumah-bogor")} {
		if !strings.Contains(svg, svgText(name)) {
			t.Errorf("the picture does not name %s", name)
		}
	}

	code, _, errOut := runCLI(t, env, "show-topology", "--format", "svg")
	if code != 2 || !strings.Contains(errOut, `"svg"`) {
		t.Errorf("--format svg: exit %d, stderr %q; want 2 naming the value", code, errOut)
	}
}
