package runtime

// Read-only accessors for tools that inspect a root folder from outside the
// runtime, such as `rt-lab debug containers`. They return paths and change
// nothing.

// ContainersDir returns the folder that holds one folder per container.
func (r *Runtime) ContainersDir() string { return r.containersDir() }

// StatePath returns the path of container name's state file.
func (r *Runtime) StatePath(name string) string { return r.statePath(name) }

// RootfsDir returns the folder where container name's overlay is mounted, in
// the container's own mount namespace.
func (r *Runtime) RootfsDir(name string) string { return r.rootfsDir(name) }
