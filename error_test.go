package baton_test

import (
	"errors"
	"io"
	"testing"

	"github.com/batonhq/baton"
)

// TestErrorCause: %w keeps the cause for errors.Is and errors.As, the code
// and field stay the outer error's, and the message is the whole sentence.
func TestErrorCause(t *testing.T) {
	t.Parallel()
	desk := &baton.DeskError{Busy: true, Err: io.ErrUnexpectedEOF}
	err := baton.Errorf(baton.EUNAVAILABLE, "desk d1 is not usable: %w", desk)
	var de *baton.DeskError
	if !errors.As(err, &de) || !errors.Is(err, io.ErrUnexpectedEOF) || baton.ErrorCode(err) != baton.EUNAVAILABLE {
		t.Errorf("the cause is lost: %v", err)
	}
	if got := baton.ErrorMessage(err); got != "desk d1 is not usable: desk busy: unexpected EOF" {
		t.Errorf("message %q", got)
	}
	field := baton.FieldErrorf("settings.url", "not a URL: %w", io.EOF)
	if !errors.Is(field, io.EOF) || baton.ErrorField(field) != "settings.url" || baton.ErrorCode(field) != baton.EINVALID {
		t.Errorf("field error: %v", field)
	}
	if plain := baton.Errorf(baton.ENOTFOUND, "handoff %s not found", "h1"); plain.Err != nil || plain.Message != "handoff h1 not found" {
		t.Errorf("no cause given: %+v", plain)
	}
}
