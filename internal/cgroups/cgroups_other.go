//go:build !linux

package cgroups

import "errors"

// Detect fails: cgroups exist only on Linux.
func Detect() (Version, error) { return 0, errors.ErrUnsupported }

// DetectAt fails: cgroups exist only on Linux.
func DetectAt(base string) (Version, error) { return 0, errors.ErrUnsupported }

// New fails: cgroups exist only on Linux.
func New(cfg Config) (Manager, error) { return nil, errors.ErrUnsupported }

// ForProcess fails: cgroups exist only on Linux.
func ForProcess(pid int) (Manager, error) { return nil, errors.ErrUnsupported }

// CheckControllers fails: cgroups exist only on Linux.
func CheckControllers(v Version, base string) error { return errors.ErrUnsupported }

// ForGroups fails: cgroups exist only on Linux.
func ForGroups(v Version, base string, groups ProcGroups) (Manager, error) {
	return nil, errors.ErrUnsupported
}
