package web

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/batonhq/baton"
)

// Body limits: a form's, and a reply's, which may carry a file.
const (
	maxForm   = 1 << 20
	maxUpload = baton.MaxFileSize + maxForm
)

// limitBody caps r's body: maxUpload for a reply (POST
// /inbox/handoffs/{id}/reply), maxForm for anything else.
func limitBody(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	limit := int64(maxForm)
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/inbox/handoffs/") && strings.HasSuffix(r.URL.Path, "/reply") {
		limit = maxUpload
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
}

// parseForm reads a form sent as application/x-www-form-urlencoded or, with
// a file, multipart/form-data (its file parts over 1 MiB wait in temporary
// files, which the server removes when the request ends).
func parseForm(r *http.Request) error {
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(maxForm)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mbe):
		return &baton.Error{Code: baton.ETOOLARGE, Field: "file", Message: "the form is larger than the limit: a file may have at most 10 MiB"}
	}
	return baton.Errorf(baton.EBADREQUEST, "the form could not be read")
}
