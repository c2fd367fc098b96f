// Package usererr defines the error type that rt-lab shows to users: a message id
// from the locales catalogs, its template fields, and a kind that decides the exit
// status. Error() renders the English text, so logs and tests stay stable; the CLI
// renders the same error in the user's language.
package usererr

import (
	"errors"

	"github.com/rt-lab/rt-lab/locales"
)

// Kind classifies an error for the exit status.
type Kind int

// Error kinds. See ExitCode for the exit status of each.
const (
	// Failed is an operation that could not complete (exit status 1).
	Failed Kind = iota
	// Usage is bad input: a flag value, a name, an unknown container (exit 2).
	Usage
	// Environment is a machine that cannot run the request: not root, no static
	// busybox, a kernel without a feature (exit 3).
	Environment
)

// Exit statuses shared by every command.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitUsage       = 2
	ExitEnvironment = 3
)

// Error is a user-facing error.
type Error struct {
	Kind Kind
	ID   string         // message id in the locales catalogs
	Data map[string]any // template fields for the message
	Err  error          // underlying cause, shown after the message
}

// New returns an error of kind with message id and alternating field name, value
// pairs.
func New(kind Kind, id string, kv ...any) *Error {
	return &Error{Kind: kind, ID: id, Data: locales.Fields(kv...)}
}

// Wrap is New with an underlying cause.
func Wrap(err error, kind Kind, id string, kv ...any) *Error {
	e := New(kind, id, kv...)
	e.Err = err
	return e
}

func (e *Error) Error() string { return e.Render(locales.For(locales.EN)) }

func (e *Error) Unwrap() error { return e.Err }

// Render returns the message in p's language, followed by the cause if any.
func (e *Error) Render(p *locales.Printer) string {
	s := p.T(e.ID, e.Data)
	if e.Err != nil {
		s += ": " + Render(e.Err, p)
	}
	return s
}

// Render returns err in p's language when it is or wraps a user error, and
// err.Error() otherwise.
func Render(err error, p *locales.Printer) string {
	var ue *Error
	if errors.As(err, &ue) {
		return ue.Render(p)
	}
	return err.Error()
}

// ExitCode maps an error to the documented exit status.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *Error
	if errors.As(err, &ue) {
		switch ue.Kind {
		case Usage:
			return ExitUsage
		case Environment:
			return ExitEnvironment
		}
	}
	return ExitFailed
}

// Is reports whether err is a user error with message id.
func Is(err error, id string) bool {
	var ue *Error
	return errors.As(err, &ue) && ue.ID == id
}
