package core

import (
	"errors"
	"fmt"
)

// Kind classifies an error the way the C API's status enum does; capi maps each Kind to one
// TEMPORAL_ERR_* code. The values are not the C codes, so core stays free of C concerns.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalidArgument
	KindIO
	KindFormat
	KindShape
	KindDevice
	KindCancelled
	KindOutOfMemory
	KindNumeric
	KindUnsupported
)

var kindNames = [...]string{"internal", "invalid argument", "i/o", "format", "shape", "device",
	"cancelled", "out of memory", "numeric", "unsupported"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is an error with a Kind. Its message names the problem (tensor, dimension, file).
type Error struct {
	Kind Kind
	Msg  string
	Err  error // wrapped cause, may be nil
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errf makes an *Error of kind k.
func Errf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Wrap attaches kind k and a message to err (nil stays nil).
func Wrap(k Kind, err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Err: err}
}

// KindOf finds the outermost *Error in err's chain; plain errors are KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
