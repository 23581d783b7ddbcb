package baton

import (
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on the files Baton keeps.
const (
	MaxFileSize = 10 << 20 // bytes in one file
	MaxFileName = 200      // bytes of a file's name
)

// FileTypes are the kinds of file Baton keeps, by the type their content
// shows (http.DetectContentType, then the name's extension where the
// content alone cannot tell, as for CSV): pictures, PDF and plain text.
// Anything else (HTML, SVG, scripts, archives, executables) is refused, so
// a file Baton serves cannot run in a browser.
var FileTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/csv"}

// File is one uploaded file: an agent's or a bot's, kept by Baton and
// linked from messages by a signed URL.
type File struct {
	ID          string
	WorkspaceID string
	Name        string
	Type        string // one of FileTypes
	Size        int64
	Data        []byte
	CreatedAt   time.Time
}

// FileType is the type Baton keeps data named name as, or a field error
// naming field when it keeps no such file.
func FileType(field, name string, data []byte) (string, error) {
	if len(data) == 0 {
		return "", FieldErrorf(field, "is empty")
	}
	if len(data) > MaxFileSize {
		return "", FieldErrorf(field, "is larger than %d bytes", MaxFileSize)
	}
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	if sniffed == "text/plain" && strings.EqualFold(path.Ext(name), ".csv") {
		sniffed = "text/csv"
	}
	if !slices.Contains(FileTypes, sniffed) {
		return "", FieldErrorf(field, "is %s, which Baton does not keep: send %s", sniffed, strings.Join(FileTypes, ", "))
	}
	// The name must not say another type than the content, which a desk or
	// a browser saving the file would believe: x.html or x.svg holding text,
	// a picture named .pdf.
	ext := path.Ext(name)
	named, _, _ := mime.ParseMediaType(mime.TypeByExtension(ext))
	textual := strings.HasPrefix(sniffed, "text/") && strings.HasPrefix(named, "text/") && !slices.Contains(markup, named)
	if named != "" && named != sniffed && !textual {
		return "", FieldErrorf(field, "is named %s, which says %s, but holds %s: name it for what it holds", ext, named, sniffed)
	}
	return sniffed, nil
}

// markup are the text types a browser runs or renders, which a file of
// plain text must not be named as.
var markup = []string{"text/html", "text/xml", "text/css", "text/javascript", "text/ecmascript", "text/vbscript", "text/x-javascript"}

// FileName is name as Baton keeps it: its last path element, with control
// characters dropped, or a field error when nothing is left or it is too long.
func FileName(field, name string) (string, error) {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return -1
		}
		return r
	}, path.Base(strings.ReplaceAll(name, "\\", "/")))
	name = strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(name):
		return "", FieldErrorf(field, "has a name that is not UTF-8")
	case name == "" || name == "." || name == "..":
		return "", FieldErrorf(field, "has no name")
	case len(name) > MaxFileName:
		return "", FieldErrorf(field, "has a name longer than %d bytes", MaxFileName)
	}
	return name, nil
}
