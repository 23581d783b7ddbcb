package baton

import (
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
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

// fileExts are the extensions a file of each type may be named with; a
// name without one is taken too. Any other extension is refused, so that
// nobody is sent a picture or text named .bat, .hta or .html, which a
// desktop would open as a program or a page.
var fileExts = map[string][]string{
	"image/png":       {".png"},
	"image/jpeg":      {".jpg", ".jpeg", ".jpe"},
	"image/gif":       {".gif"},
	"image/webp":      {".webp"},
	"application/pdf": {".pdf"},
	"text/plain":      {".txt", ".text", ".log", ".md"},
	"text/csv":        {".csv"},
}

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
// naming field when it keeps no such file: one of FileTypes, named with one
// of that type's extensions or none.
func FileType(field, name string, data []byte) (string, error) {
	if len(data) == 0 {
		return "", FieldErrorf(field, "is empty")
	}
	if len(data) > MaxFileSize {
		return "", FieldErrorf(field, "is larger than %d bytes", MaxFileSize)
	}
	ext := strings.ToLower(path.Ext(name))
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	if sniffed == "text/plain" && ext == ".csv" {
		sniffed = "text/csv"
	}
	if !slices.Contains(FileTypes, sniffed) {
		return "", FieldErrorf(field, "is %s, which Baton does not keep: send %s", sniffed, strings.Join(FileTypes, ", "))
	}
	if ext != "" && !slices.Contains(fileExts[sniffed], ext) {
		return "", FieldErrorf(field, "is named %s but holds %s: name it %s", ext, sniffed, strings.Join(fileExts[sniffed], " or "))
	}
	return sniffed, nil
}

// FileName is name as Baton keeps it: its last path element, with control
// and format characters dropped (a right-to-left override would show
// "x.bat" as "xtab.jpg") and trailing dots and spaces cut (as Windows cuts
// them when it saves), or a field error when nothing is left, it is not
// UTF-8 or it is too long.
func FileName(field, name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", FieldErrorf(field, "has a name that is not UTF-8")
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '/' || r == '\\' {
			return -1
		}
		return r
	}, path.Base(strings.ReplaceAll(name, "\\", "/")))
	name = strings.TrimRight(strings.TrimSpace(name), ". ")
	switch {
	case name == "" || name == "." || name == "..":
		return "", FieldErrorf(field, "has no name")
	case len(name) > MaxFileName:
		return "", FieldErrorf(field, "has a name longer than %d bytes", MaxFileName)
	}
	return name, nil
}
