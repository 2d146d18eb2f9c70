package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestElideKeepsBothEnds: an over-long message (a long path, then the cause) keeps its start
// and its cause, fits the buffer, and stays valid UTF-8.
func TestElideKeepsBothEnds(t *testing.T) {
	path := "/tmp/" + strings.Repeat("é", 900) + "/model.safetensors"
	msg := "opening " + path + ": file name too long"
	got := elide(msg, 1023)
	if len(got) > 1023 || !strings.HasPrefix(got, "opening /tmp/") || !strings.HasSuffix(got, "file name too long") {
		t.Fatalf("elide gave %d bytes: %.60q … %.60q", len(got), got, got[len(got)-60:])
	}
	if !utf8.ValidString(got) || !strings.Contains(got, "…") {
		t.Fatalf("elided message is not valid UTF-8 or lacks the mark")
	}
	if short := "no such file"; elide(short, 1023) != short {
		t.Fatalf("a short message changed")
	}
}
