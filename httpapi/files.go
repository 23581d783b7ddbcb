package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/engine"
)

// maxUpload is the largest body an upload route reads: one file of
// baton.MaxFileSize and its multipart framing.
const maxUpload = baton.MaxFileSize + 64<<10

// uploadRoute reports whether path takes a file (its body limit is maxUpload).
func uploadRoute(path string) bool { return path == "/v1/files" || path == "/v1/inbox/files" }

// handleUpload keeps the file of a multipart/form-data body's part named
// "file" for the caller's workspace and answers it as an attachment, whose
// url the caller then sends in a message's attachments.
func handleUpload(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := eng.UploadTurn(r.Context())
		if err != nil {
			w.Header().Set("Retry-After", "1")
			encodeError(w, r, log, err)
			return
		}
		defer release()
		name, data, err := readUpload(r)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		ws := workspace(r.Context())
		if a := agentOf(r.Context()); a.ID != "" {
			ws = a.WorkspaceID
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		ctx, err := uploadKey(r, name, data)
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		att, err := eng.KeepFile(ctx, engine.Upload{Workspace: ws, Field: "file", Name: name, Data: data, Base: scheme + "://" + r.Host})
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		if engine.Replayed(ctx) {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		encode(w, http.StatusCreated, att)
	})
}

// uploadKey is r's context with its Idempotency-Key, if it has one, and a
// hash of the file's name and bytes (not of the body: a client sending the
// file again frames it with a new multipart boundary).
func uploadKey(r *http.Request, name string, data []byte) (context.Context, error) {
	keys := r.Header.Values(idempotencyHeader)
	switch {
	case len(keys) == 0:
		return r.Context(), nil
	case len(keys) > 1:
		return nil, &baton.Error{Code: baton.EBADREQUEST, Field: idempotencyHeader, Message: "is given more than once"}
	case !printableText(keys[0]):
		return nil, &baton.Error{Code: baton.EBADREQUEST, Field: idempotencyHeader, Message: "must be printable UTF-8 text"}
	case len(keys[0]) > maxIdempotencyKey:
		return nil, &baton.Error{Code: baton.EINVALID, Field: idempotencyHeader, Message: "is longer than 255 characters"}
	}
	key := keys[0]
	if a := agentOf(r.Context()); a.ID != "" {
		key = "agent:" + a.ID + ":" + key
	}
	sum := sha256.New()
	io.WriteString(sum, r.Method+" "+r.URL.Path+"\n"+name+"\n")
	sum.Write(data)
	return engine.WithIdempotency(r.Context(), key, hex.EncodeToString(sum.Sum(nil))), nil
}

// readUpload reads the one part named "file" of a multipart/form-data body:
// its file name and bytes. Any other part, a second file, or a file over
// baton.MaxFileSize is refused, naming the part.
func readUpload(r *http.Request) (name string, data []byte, err error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return "", nil, baton.Errorf(baton.EMEDIATYPE, "send the file as multipart/form-data, in a part named file")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, baton.Errorf(baton.EBADREQUEST, "the multipart body could not be read: %v", err)
	}
	found := false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, uploadError(err)
		}
		switch {
		case p.FormName() != "file":
			return "", nil, baton.FieldErrorf(p.FormName(), "is not a part this call takes: send the file alone, in a part named file")
		case found:
			return "", nil, baton.FieldErrorf("file", "is given twice: send one file per upload")
		}
		found = true
		name = p.FileName()
		data, err = io.ReadAll(io.LimitReader(p, baton.MaxFileSize+1))
		if err != nil {
			return "", nil, uploadError(err)
		}
		if len(data) > baton.MaxFileSize {
			return "", nil, &baton.Error{Code: baton.ETOOLARGE, Field: "file", Message: "is larger than " + strconv.Itoa(baton.MaxFileSize) + " bytes (10 MiB)"}
		}
	}
	if !found {
		return "", nil, baton.FieldErrorf("file", "is required: a part named file holding the file")
	}
	return name, data, nil
}

// uploadError is the problem for a multipart body that failed to arrive.
func uploadError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &baton.Error{Code: baton.ETOOLARGE, Field: "file", Message: "is larger than " + strconv.Itoa(baton.MaxFileSize) + " bytes (10 MiB)"}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errBodyTimeout
	}
	return baton.Errorf(baton.EBADREQUEST, "the multipart body could not be read: %v", err)
}

// handleFile serves a file by its signed link. The answer can hold nothing
// a browser runs: the type is one Baton keeps (never HTML or SVG), the
// browser may not sniff another, a sandbox policy forbids scripts, and
// anything but a picture is downloaded, not shown.
func handleFile(log *slog.Logger, eng *engine.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f, err := eng.OpenFile(r.Context(), r.PathValue("ws"), r.PathValue("id"), q.Get("exp"), q.Get("sig"))
		if err != nil {
			encodeError(w, r, log, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.Type)
		h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "private, max-age=60")
		disposition := "attachment"
		if f.Type == "image/png" || f.Type == "image/jpeg" || f.Type == "image/gif" || f.Type == "image/webp" {
			disposition = "inline"
		}
		h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(f.Data)
		}
	})
}
