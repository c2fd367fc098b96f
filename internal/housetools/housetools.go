// Package housetools is the multi-call mode of the rt-lab binary: small commands
// that busybox lacks, run inside every container.
//
// The runtime bind-mounts the static rt-lab binary read-only at ToolsBinary in
// every container and links each tool name in /usr/bin to it. The kernel then
// starts rt-lab with argv[0] set to the tool name, and Main picks the tool from
// its base name:
//
//	eat-memory SIZE [--hold DURATION]   allocate and touch SIZE of memory
//	burn-cpu [SECONDS] [--workers N]    keep N threads busy for SECONDS
//	ipcmk -Q [-p MODE]                  create a System V message queue
//	ipcs [-q]                           list the System V message queues
//	ipcrm -q MSQID...                   remove System V message queues
//
// Messages follow RT_LAB_LANG, then LC_ALL, LC_MESSAGES and LANG, then default to
// Indonesian. Exit status: 0 success, 1 failure, 2 invalid usage.
package housetools

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/locales"
)

// ToolsBinary is the path of the rt-lab binary inside every container.
const ToolsBinary = "/usr/lib/rt-lab/rt-lab"

// ToolsDir is the folder inside a container that holds a link per tool name.
const ToolsDir = "/usr/bin"

// env carries what a tool needs from its process, so tests can call a tool
// without touching the real streams.
type env struct {
	stdout io.Writer
	stderr io.Writer
	p      *locales.Printer
}

// tool is one command. run returns the exit status, or an error that Main
// renders in the user's language with its exit status from usererr.ExitCode.
type tool struct {
	name   string
	helpID string // message id of the --help text
	run    func(e *env, args []string) (int, error)
}

// tools lists every command in the order of the package documentation.
var tools = []tool{
	{"eat-memory", "EatMemoryHelp", eatMemory},
	{"burn-cpu", "BurnCPUHelp", burnCPU},
	{"ipcmk", "IpcmkHelp", ipcmk},
	{"ipcs", "IpcsHelp", ipcs},
	{"ipcrm", "IpcrmHelp", ipcrm},
}

// Names returns the tool names, which the runtime links to ToolsBinary.
func Names() []string {
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.name
	}
	return names
}

// Main runs the tool named by the base name of argv0 with args and returns its
// exit status. handled is false, and nothing runs, when argv0 names no tool.
func Main(argv0 string, args []string) (exitCode int, handled bool) {
	t, ok := lookup(argv0)
	if !ok {
		return 0, false
	}
	e := &env{stdout: os.Stdout, stderr: os.Stderr, p: locales.For(chooseLang(os.Getenv))}
	return e.runTool(t, args), true
}

func lookup(argv0 string) (tool, bool) {
	base := filepath.Base(argv0)
	for _, t := range tools {
		if t.name == base {
			return t, true
		}
	}
	return tool{}, false
}

// runTool prints help for -h or --help anywhere before "--", else runs t.
func (e *env) runTool(t tool, args []string) int {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" {
			fmt.Fprintln(e.stdout, e.p.T(t.helpID, nil))
			return usererr.ExitOK
		}
	}
	code, err := t.run(e, args)
	if err == nil {
		return code
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", t.name, usererr.Render(err, e.p))
	var ue *usererr.Error
	if errors.As(err, &ue) && ue.Kind == usererr.Usage {
		fmt.Fprintln(e.stderr, e.p.Tf("HouseToolsSeeHelp", "Tool", t.name))
	}
	return usererr.ExitCode(err)
}

// chooseLang picks the message language: RT_LAB_LANG, then the first of LC_ALL,
// LC_MESSAGES and LANG that is set, then Indonesian. Unlike the rt-lab command,
// a tool ignores an unknown RT_LAB_LANG instead of failing, because a lesson
// command that prints nothing but a language error would teach nothing.
func chooseLang(getenv func(string) string) locales.Lang {
	if l, ok := locales.ParseLang(getenv("RT_LAB_LANG")); ok {
		return l
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			if l, ok := locales.ParseLang(v); ok {
				return l
			}
			break
		}
	}
	return locales.ID
}
