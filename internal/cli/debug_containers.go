package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/cgroups"
	"github.com/rt-lab/rt-lab/internal/diag"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

func (a *App) newDebugContainersCmd() *cobra.Command {
	opts := &debugOptions{}
	cmd := &cobra.Command{
		Use:     "containers [NAME] [--json]",
		Short:   a.P.T("DebugContainersShort", nil),
		Long:    a.P.T("DebugContainersLong", nil),
		Example: "  sudo rt-lab debug containers\n  sudo rt-lab debug containers rumah-jakarta --json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usererr.New(usererr.Usage, "ErrDebugOneName", "Command", cmd.CommandPath(), "Count", len(args))
			}
			return nil
		},
		PreRunE: a.needsRoot,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			return a.runDebugContainers(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, a.P.T("FlagJSON", nil))
	return cmd
}

// runDebugContainers compares each container's state file with the kernel.
// Any unhealthy container or orphan ends with exit status 1.
func (a *App) runDebugContainers(opts *debugOptions) error {
	r, err := a.Runtime()
	if err != nil {
		return err
	}

	in := &diag.Inspector{Runtime: r}
	rep, err := in.Inspect(opts.Name)
	if err != nil {
		return err
	}

	if opts.JSON {
		err = a.writeDebugJSON(a.containersJSON(rep))
	} else {
		err = a.printContainers(rep)
	}
	if err != nil {
		return err
	}
	if !rep.Healthy() {
		return &exitError{code: usererr.ExitFailed}
	}
	return nil
}

// issueJSON is one issue in `debug containers --json`.
type issueJSON struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data"`
}

// recordedJSON adds the rendered reasons to diag.Recorded.
type recordedJSON struct {
	diag.Recorded
	Error    string `json:"error,omitempty"`
	Rejected string `json:"rejected,omitempty"`
}

// houseJSON is one container in `debug containers --json`. Its Recorded field
// replaces the embedded one.
type houseJSON struct {
	*diag.Container
	Recorded recordedJSON `json:"recorded"`
	Healthy  bool         `json:"healthy"`
	Issues   []issueJSON  `json:"issues"`
}

type containersJSON struct {
	Root         string      `json:"root"`
	Healthy      bool        `json:"healthy"`
	Containers   []houseJSON `json:"containers"`
	Orphans      []issueJSON `json:"orphans"`
	NetworkError string      `json:"network_error,omitempty"`
}

func (a *App) containersJSON(rep *diag.Report) containersJSON {
	out := containersJSON{Root: rep.Root, Healthy: rep.Healthy(), Containers: []houseJSON{}, Orphans: a.issuesJSON(rep.Orphans)}
	if rep.NetworkError != nil {
		out.NetworkError = a.renderErr(rep.NetworkError)
	}
	for _, c := range rep.Containers {
		rec := recordedJSON{Recorded: c.Recorded, Error: c.Recorded.Error.Render(a.P), Rejected: c.Recorded.Rejected.Render(a.P)}
		out.Containers = append(out.Containers, houseJSON{Container: c, Recorded: rec, Healthy: c.Healthy(), Issues: a.issuesJSON(c.Issues)})
	}
	return out
}

func (a *App) issuesJSON(issues []diag.Issue) []issueJSON {
	out := []issueJSON{}
	for _, i := range issues {
		out = append(out, issueJSON{Code: i.Code, Message: a.issueText(i), Data: i.Data})
	}
	return out
}

// issueText renders an issue and its cause in the user's language.
func (a *App) issueText(i diag.Issue) string {
	s := i.Message().Render(a.P)
	if !i.Cause.IsZero() {
		s += ": " + i.Cause.Render(a.P)
	}
	return s
}

func (a *App) printContainers(rep *diag.Report) error {
	if len(rep.Containers) == 0 {
		a.info(a.Stderr, "DebugContainersEmpty", "Root", rep.Root)
	}
	for i, c := range rep.Containers {
		if i > 0 {
			fmt.Fprintln(a.Stdout)
		}
		if err := a.printContainer(c); err != nil {
			return err
		}
	}
	if rep.NetworkError != nil {
		fmt.Fprintf(a.Stdout, "\n! %s\n", a.P.Tf("DebugNetworkError", "Root", rep.Root, "Error", a.renderErr(rep.NetworkError)))
	}
	if len(rep.Orphans) > 0 {
		fmt.Fprintf(a.Stdout, "\n%s\n", a.P.Tf("DebugOrphansHeader", "Root", rep.Root))
		for _, o := range rep.Orphans {
			fmt.Fprintf(a.Stdout, "  ! %s\n", a.issueText(o))
		}
	}
	healthy := 0
	for _, c := range rep.Containers {
		if c.Healthy() {
			healthy++
		}
	}
	a.info(a.Stderr, "DebugContainersSummary", "Total", len(rep.Containers), "Healthy", healthy,
		"Unhealthy", len(rep.Containers)-healthy, "Orphans", len(rep.Orphans))
	return nil
}

func (a *App) printContainer(c *diag.Container) error {
	p := a.P
	if c.Healthy() {
		fmt.Fprintln(a.Stdout, p.Tf("DebugHouseHealthy", "Name", c.Name))
	} else {
		fmt.Fprintln(a.Stdout, p.Tf("DebugHouseUnhealthy", "Name", c.Name, "Count", len(c.Issues)))
	}
	w := tabwriter.NewWriter(a.Stdout, 0, 4, 2, ' ', 0)
	row := func(label, value string) { fmt.Fprintf(w, "  %s\t%s\n", p.T(label, nil), value) }

	row("DebugLabelState", a.stateText(c))
	row("DebugLabelInit", a.initText(c))
	if len(c.Processes) > 0 {
		row("DebugLabelProcesses", p.T("DebugProcessHeader", nil))
		for _, pr := range c.Processes {
			fmt.Fprintf(w, "  \t%d\t%d\t%s\n", pr.HostPID, pr.InnerPID, pr.Command)
		}
	}
	row("DebugLabelCgroup", a.cgroupText(c.Cgroup))
	if c.Cgroup.Stats != nil {
		row("DebugLabelUsage", a.usageText(c.Cgroup.Stats))
	}
	row("DebugLabelNetwork", a.networkText(c.Network))
	row("DebugLabelRootfs", a.rootfsText(c))
	if err := w.Flush(); err != nil {
		return err
	}
	for _, i := range c.Issues {
		fmt.Fprintf(a.Stdout, "  ! %s\n", a.issueText(i))
	}
	return nil
}

func (a *App) stateText(c *diag.Container) string {
	recorded := a.P.T("DebugRecorded_"+c.Recorded.State, nil)
	if c.Recorded.PID > 0 {
		recorded = a.P.Tf("DebugRecordedPID", "State", recorded, "PID", c.Recorded.PID)
	}
	return a.P.Tf("DebugStateLine", "Recorded", recorded, "Kernel", a.P.T("DebugKernel_"+c.Kernel, nil))
}

func (a *App) initText(c *diag.Container) string {
	if c.Init == nil {
		return a.P.T("DebugNone", nil)
	}
	source := "DebugInitFromState"
	if !c.Init.FromState {
		source = "DebugInitFromScan"
	}
	nspid := make([]string, len(c.Init.NSpid))
	for i, n := range c.Init.NSpid {
		nspid[i] = strconv.Itoa(n)
	}
	return a.P.Tf("DebugInitLine", "PID", c.Init.PID, "NSpid", strings.Join(nspid, " "),
		"Command", c.Init.Command, "Source", a.P.T(source, nil))
}

func (a *App) cgroupText(cg diag.CgroupInfo) string {
	path := cg.Paths[cgroups.Memory]
	switch {
	case path == "":
		return a.P.T("DebugNone", nil)
	case !cg.Exists:
		return a.P.Tf("DebugCgroupAbsent", "Path", path)
	}
	return path
}

func (a *App) usageText(st *cgroups.Stats) string {
	mib := func(n int64) string {
		if n < 1<<20 {
			return strconv.FormatInt(n>>10, 10) + " KiB"
		}
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	}
	memLimit, cpuLimit, pidsMax := a.P.T("NoLimit", nil), a.P.T("NoLimit", nil), a.P.T("NoLimit", nil)
	if st.MemoryLimit > 0 {
		memLimit = mib(st.MemoryLimit)
	}
	if st.CPUQuota > 0 && st.CPUPeriod > 0 {
		cpuLimit = a.formatCPU(int(st.CPUQuota * 100 / st.CPUPeriod))
	}
	if st.PidsMax > 0 {
		pidsMax = strconv.FormatInt(st.PidsMax, 10)
	}
	return a.P.Tf("DebugUsageLine", "Memory", mib(st.MemoryUsage), "MemoryLimit", memLimit,
		"CPU", strconv.FormatFloat(st.CPUUsage.Seconds(), 'f', 2, 64), "CPULimit", cpuLimit,
		"Pids", st.PidsCurrent, "PidsMax", pidsMax)
}

func (a *App) networkText(n *diag.NetInfo) string {
	if n == nil {
		return a.P.T("DebugNoAddress", nil)
	}
	link := "DebugLinkAbsent"
	switch {
	case n.LinkExists && n.OnBridge:
		link = "DebugLinkOnBridge"
	case n.LinkExists:
		link = "DebugLinkDetached"
	}
	return a.P.Tf("DebugNetworkLine", "Address", n.Address, "Link", n.Link,
		"State", a.P.Tf(link, "Bridge", n.Bridge))
}

func (a *App) rootfsText(c *diag.Container) string {
	fs := c.Rootfs
	where := a.P.T("DebugMountsNone", nil)
	if len(fs.Mounts) > 0 {
		var parts []string
		for _, m := range fs.Mounts {
			if c.Init != nil && m.MountNS == c.Init.MountNS {
				parts = append(parts, a.P.T("DebugMountInHouse", nil))
				continue
			}
			parts = append(parts, a.P.Tf("DebugMountElsewhere", "PID", m.PID, "MountPoint", m.MountPoint))
		}
		where = strings.Join(parts, "; ")
	}
	return a.P.Tf("DebugRootfsLine", "Path", fs.Path, "Mounts", where)
}
