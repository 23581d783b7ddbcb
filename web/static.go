package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// The pages' templates and the files they load, in the binary.
var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static/*
	staticFS embed.FS
)

// asset is one static file, with a version (a hash of its bytes) that its
// URLs carry, so that a browser may keep it for as long as it does not change.
type asset struct {
	body    []byte
	ctype   string
	version string
}

// types are the static files' content types, by extension.
var types = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

// loadStatic reads the embedded static files.
func loadStatic() map[string]asset {
	out := map[string]asset{}
	entries, _ := fs.ReadDir(staticFS, "static")
	for _, e := range entries {
		b, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		sum := sha256.Sum256(b)
		out[e.Name()] = asset{body: b, ctype: types[path.Ext(e.Name())], version: hex.EncodeToString(sum[:6])}
	}
	return out
}

// assetURL is the versioned URL of a static file.
func assetURL(static map[string]asset, name string) string {
	a, ok := static[name]
	if !ok {
		panic("web: no static file " + name)
	}
	return "/static/" + name + "?v=" + a.version
}

// handleStatic serves an embedded file: cached for a year when asked for
// by its current version, revalidated otherwise.
func (s *Server) handleStatic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		a, ok := s.static[name]
		if !ok || a.ctype == "" {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", `"`+a.version+`"`)
		if r.URL.Query().Get("v") == a.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	})
}
