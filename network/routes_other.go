//go:build !linux

package network

import "errors"

// HostRoutes is available on Linux only.
func HostRoutes() ([]Route, error) {
	return nil, errors.New("listing host routes needs Linux")
}
