package runtime

import (
	"io"
	"time"
)

// CreateOptions describe a new container.
type CreateOptions struct {
	Name        string
	Hostname    string // empty: the name
	MemoryBytes int64  // 0: no limit
	CPUPercent  int    // 0: no limit
}

// Process is a command to run inside a running container.
type Process struct {
	Args   []string // empty: an interactive shell
	Env    []string // added to the container's default environment
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	TTY    bool // Stdin is the user's terminal: give the process the foreground
}

// Create records a new container and builds its root file system.
func (r *Runtime) Create(opts CreateOptions) (*Container, error) { panic("TODO") }

// Start starts container name's init if it is stopped and returns its state.
func (r *Runtime) Start(name string) (*Container, error) { panic("TODO") }

// Exec runs p inside running container name and returns its exit status.
func (r *Runtime) Exec(name string, p Process) (int, error) { panic("TODO") }

// Stop sends SIGTERM to the container's init, then SIGKILL after timeout.
func (r *Runtime) Stop(name string, timeout time.Duration) error { panic("TODO") }

// Delete removes every trace of container name. A running container needs force.
func (r *Runtime) Delete(name string, force bool) error { panic("TODO") }

// MaybeInit runs the container bootstrap when the binary was started as one.
func MaybeInit() {}
