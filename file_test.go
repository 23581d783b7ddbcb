package baton_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestFileType keeps pictures, PDF and text only under their own
// extensions (or none), whatever the name claims, and never markup.
func TestFileType(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	pdf := []byte("%PDF-1.7\n")
	text := []byte("@echo off\r\nstart calc\r\n")
	for _, c := range []struct {
		name string
		data []byte
		want string // "" : refused
	}{
		{"a.png", png, "image/png"}, {"A.PNG", png, "image/png"}, {"photo", png, "image/png"},
		{"a.pdf", pdf, "application/pdf"}, {"notes.txt", text, "text/plain"}, {"notes.md", text, "text/plain"},
		{"rows.csv", []byte("a,b\n1,2\n"), "text/csv"}, {"README", text, "text/plain"},
		{"run.bat", text, ""}, {"run.cmd", text, ""}, {"run.ps1", text, ""}, {"x.hta", pdf, ""}, {"x.bat", png, ""},
		{"x.lnk", text, ""}, {"x.scr", png, ""}, {"x.pdf", png, ""}, {"x.png", pdf, ""}, {"x.html", text, ""},
		{"x.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ""}, {"x.txt", []byte("<html><script>1</script>"), ""},
		{"x.zip", []byte("PK\x03\x04"), ""}, {"x.exe", []byte("MZ\x90\x00"), ""},
	} {
		got, err := baton.FileType("file", c.name, c.data)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
		if err != nil && baton.ErrorField(err) != "file" {
			t.Errorf("%s: the error names %q", c.name, baton.ErrorField(err))
		}
	}
}

// TestFileName keeps a name's last element, without control or format
// characters (a right-to-left override) and without trailing dots.
func TestFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"invoice.pdf": "invoice.pdf", `..\..\notes.txt`: "notes.txt", "../../etc/passwd": "passwd",
		"invoice\u202egpj.bat": "invoicegpj.bat", "a.html.": "a.html", "a.txt . .": "a.txt", "tab\there.txt": "tabhere.txt",
		"  spaced.png  ": "spaced.png", "zero\u200bwidth.png": "zerowidth.png",
	} {
		if got, err := baton.FileName("file", in); got != want || err != nil {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "..", "...", "\u202e", "\xff\xfe.txt", strings.Repeat("a", 201) + ".txt"} {
		if got, err := baton.FileName("file", in); err == nil {
			t.Errorf("%q: kept as %q", in, got)
		}
	}
}
