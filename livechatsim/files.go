package livechatsim

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // image sizes of uploaded GIFs
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// file is an uploaded file, served under /api/file/lc/att/<license>/<hash>/<name>.
type file struct {
	name, ctype   string
	data          []byte
	width, height int
	used          bool
}

var executables = map[string]bool{".exe": true, ".bat": true, ".cmd": true, ".com": true, ".msi": true,
	".scr": true, ".dll": true, ".jar": true, ".vbs": true, ".ps1": true, ".sh": true, ".app": true}

// upload serves upload_file: multipart field "file", at most 10 MB.
func (s *Sim) upload(r *http.Request) (obj, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, MaxUpload+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("upload_file expects a multipart/form-data body")
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, badRequest("`file` is required")
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errf("entity_too_large", "Upload limit exceeded (10MB).")
		}
		if err != nil {
			return nil, badRequest("Malformed multipart body")
		}
		if p.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(p, MaxUpload+1))
		if errors.As(err, &mbe) || len(data) > MaxUpload {
			return nil, errf("entity_too_large", "Upload limit exceeded (10MB).")
		}
		if err != nil {
			return nil, badRequest("Malformed multipart body")
		}
		name := path.Base(p.FileName())
		if name == "." || name == "/" || name == "" {
			name = "file"
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.store(name, p.Header.Get("Content-Type"), data)
	}
}

// store keeps an uploaded file and returns {"url"}; callers hold s.mu.
func (s *Sim) store(name, ctype string, data []byte) (obj, error) {
	if len(data) > MaxUpload {
		return nil, errf("entity_too_large", "Upload limit exceeded (10MB).")
	}
	if executables[strings.ToLower(path.Ext(name))] {
		return nil, badRequest("Executable files are not allowed")
	}
	if ctype == "" || ctype == "application/octet-stream" {
		ctype = http.DetectContentType(data)
	}
	f := &file{name: name, ctype: ctype, data: data}
	if strings.HasPrefix(ctype, "image/") {
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
			f.width, f.height = cfg.Width, cfg.Height
		}
	}
	p := fmt.Sprintf("/api/file/lc/att/%d/%s/%s", s.cfg.LicenseID, hexID(32), url.PathEscape(name))
	s.files[p] = f
	base := s.base
	if base == "" {
		base = "http://localhost"
	}
	return obj{"url": base + p}, nil
}

func (s *Sim) serveFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.files[r.URL.EscapedPath()]
	if f == nil {
		f = s.files[r.URL.Path]
	}
	s.mu.Unlock()
	if f == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Write(f.data)
}
