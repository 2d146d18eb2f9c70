package main

/*
#include <stddef.h>
#include <stdlib.h>
int tcapi_log_level(void);
void tcapi_log(int level, const char *message);
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/debug"
	"unicode/utf8"
	"unsafe"

	"libtemporal/core"
)

// statusError carries a C status that has no core.Kind (BAD_HANDLE), or a capi-level decision.
type statusError struct {
	st  C.int
	msg string
}

func (e *statusError) Error() string { return e.msg }

func statusErrf(st C.int, format string, args ...any) error {
	return &statusError{st: st, msg: fmt.Sprintf(format, args...)}
}

// kindStatus maps core's error kinds to the header's status codes.
var kindStatus = map[core.Kind]C.int{
	core.KindInternal:        stInternal,
	core.KindInvalidArgument: stInvalidArgument,
	core.KindIO:              stIO,
	core.KindFormat:          stFormat,
	core.KindShape:           stShape,
	core.KindDevice:          stDevice,
	core.KindCancelled:       stCancelled,
	core.KindOutOfMemory:     stOutOfMemory,
	core.KindNumeric:         stNumeric,
	core.KindUnsupported:     stUnsupported,
}

func statusOf(err error) C.int {
	var se *statusError
	if errors.As(err, &se) {
		return se.st
	}
	if st, ok := kindStatus[core.KindOf(err)]; ok {
		return st
	}
	return stInternal
}

// guard runs one export's body. It turns a returned error into its status and message, and a
// panic into TEMPORAL_ERR_INTERNAL; with SetPanicOnFault a fault on caller memory touched from
// Go (the probes) is such a panic, so a bad pointer costs the caller a status, not the process.
// The previous SetPanicOnFault setting is restored because cgo reuses the goroutine of the
// calling C thread's extra M.
func guard(fn string, msg *C.char, msgCap C.size_t, body func() error) (st C.int) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			st = stInternal
			var text string
			if f, ok := r.(interface{ Addr() uintptr }); ok {
				text = fmt.Sprintf("%s: invalid caller memory: fault at address %#x", fn, f.Addr())
			} else {
				text = fmt.Sprintf("%s: internal error (please report): %v", fn, r)
			}
			putMsg(msg, msgCap, text)
			logf(logError, "%s", text)
		}
	}()
	if err := body(); err != nil {
		st = statusOf(err)
		if st == stOK {
			st = stInternal
		}
		text := fn + ": " + err.Error()
		putMsg(msg, msgCap, text)
		level := logDebug
		if st == stInternal {
			level = logError
		}
		logf(level, "%s", text)
		return st
	}
	return stOK
}

// putMsg copies text into the shim's message buffer (C memory), truncated and NUL-terminated.
func putMsg(msg *C.char, msgCap C.size_t, text string) {
	if msg == nil || msgCap == 0 {
		return
	}
	buf := unsafe.Slice((*byte)(unsafe.Pointer(msg)), int(msgCap))
	n := copy(buf[:len(buf)-1], elide(text, len(buf)-1))
	buf[n] = 0
}

// elide shortens text to at most max bytes by cutting its middle: messages start with a path
// and end with the cause (e.g. "file name too long"), so both ends are what a reader needs.
// The cut lands on UTF-8 boundaries where the text has them.
func elide(text string, max int) string {
	const mark = "…"
	if len(text) <= max || max < 2*len(mark)+16 {
		return text
	}
	head := (max - len(mark)) / 2
	tail := max - len(mark) - head
	for head > 0 && !utf8.RuneStart(text[head]) {
		head--
	}
	start := len(text) - tail
	for start < len(text) && !utf8.RuneStart(text[start]) {
		start++
	}
	return text[:head] + mark + text[start:]
}

// Log levels (temporal_log_level).
const (
	logError = 1
	logWarn  = 2
	logInfo  = 3
	logDebug = 4
)

// logf sends a message to the host's log callback, if one is installed for this level. The
// message goes through C memory (C.CString): no Go pointer reaches C.
func logf(level int, format string, args ...any) {
	if int(C.tcapi_log_level()) < level {
		return
	}
	s := C.CString(fmt.Sprintf(format, args...))
	C.tcapi_log(C.int(level), s)
	C.free(unsafe.Pointer(s))
}
