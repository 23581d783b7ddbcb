package engine

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// FileParams say how the engine links the files it keeps.
type FileParams struct {
	// Key signs the links: the same on every instance. Without one the
	// engine keeps no files (uploads answer unavailable).
	Key []byte
	// URL is Baton's address as customers, agents and desks reach it
	// ("https://baton.example.com"), which links begin with. Empty: each
	// upload's own Base.
	URL string
	// TTL is how long a link works from its upload (default DefaultFileTTL).
	TTL time.Duration
}

// MaxUploads is how many uploads an engine reads at once; more wait for a
// turn up to UploadWait, then are refused (unavailable): each holds its
// file in memory while it is checked and stored.
const MaxUploads = 4

// UploadWait is how long an upload waits for a turn.
const UploadWait = 5 * time.Second

// UploadTurn waits for a turn to read an upload and returns its release,
// or unavailable when none came within UploadWait: callers take it before
// they read a file's bytes.
func (e *Engine) UploadTurn(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(UploadWait)
	defer t.Stop()
	select {
	case e.uploads <- struct{}{}:
		return func() { <-e.uploads }, nil
	case <-t.C:
		return nil, baton.Errorf(baton.EUNAVAILABLE, "too many uploads at once: send the file again in a moment")
	case <-ctx.Done():
		return nil, baton.Errorf(baton.EUNAVAILABLE, "the upload was cancelled while waiting for its turn: %w", ctx.Err())
	}
}

// DefaultFileTTL is how long a file's link works unless FileParams say otherwise.
const DefaultFileTTL = 30 * 24 * time.Hour

// Upload is one file to keep.
type Upload struct {
	Workspace string
	Field     string // the request's name for the file, which errors name ("file")
	Name      string // the file's name as the uploader gave it
	Data      []byte
	// Base is the address the upload came to ("http://127.0.0.1:8080"),
	// which the link begins with when FileParams.URL is empty.
	Base string
}

// KeepFile stores an uploaded file and returns it as an attachment, with a
// signed link that works for FileParams.TTL. The file's type is the one its
// content shows and must be one of baton.FileTypes; errors name u.Field.
// With an idempotency key in ctx (WithIdempotency, hashing the name and
// the bytes) the same upload again answers the first one's file. Each
// upload removes the workspace's files older than the TTL, whose links no
// longer work.
func (e *Engine) KeepFile(ctx context.Context, u Upload) (baton.Attachment, error) {
	if len(e.files.Key) == 0 {
		return baton.Attachment{}, baton.Errorf(baton.EUNAVAILABLE, "this Baton keeps no files: it was started without a key to sign their links")
	}
	name, err := baton.FileName(u.Field, u.Name)
	if err != nil {
		return baton.Attachment{}, err
	}
	typ, err := baton.FileType(u.Field, name, u.Data)
	if err != nil {
		return baton.Attachment{}, err
	}
	base := strings.TrimSuffix(cmp.Or(e.files.URL, u.Base), "/")
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		return baton.Attachment{}, baton.Errorf(baton.EINTERNAL, "file links: %q is not an http or https address", base)
	}
	f := baton.File{ID: baton.NewID("file"), WorkspaceID: u.Workspace, Name: name, Type: typ, Size: int64(len(u.Data)), Data: u.Data, CreatedAt: now()}
	id, replay, err := e.write(ctx, u.Workspace, func(tx *wtx) (string, error) {
		if _, err := live(tx, u.Workspace); err != nil {
			return "", err
		}
		// Files past their links' lifetime go as new ones come.
		if err := tx.DeleteFiles(u.Workspace, f.CreatedAt.Add(time.Microsecond-e.fileTTL())); err != nil {
			return "", err
		}
		return f.ID, tx.AddFile(f)
	})
	if err == nil && replay {
		err = e.store.View(ctx, func(tx baton.Tx) (err error) { f, err = tx.File(u.Workspace, id); return err })
	}
	if err != nil {
		return baton.Attachment{}, err
	}
	exp := f.CreatedAt.Add(e.fileTTL()).Unix()
	link := base + "/files/" + url.PathEscape(f.WorkspaceID) + "/" + url.PathEscape(f.ID) + "/" + url.PathEscape(name) +
		"?exp=" + strconv.FormatInt(exp, 10) + "&sig=" + e.fileSig(f.WorkspaceID, f.ID, exp)
	return baton.Attachment{URL: link, Name: name, Type: typ, Size: f.Size}, nil
}

// OpenFile reads the file a link names, when its signature is the engine's
// and it has not expired (forbidden otherwise: a link that is forged, cut
// or too old opens nothing, and says which).
func (e *Engine) OpenFile(ctx context.Context, ws, id, exp, sig string) (baton.File, error) {
	if len(e.files.Key) == 0 {
		return baton.File{}, baton.Errorf(baton.ENOTFOUND, "file %s not found", id)
	}
	at, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(e.fileSig(ws, id, at))) {
		return baton.File{}, baton.Errorf(baton.EFORBIDDEN, "this file link is not one Baton signed")
	}
	if now().Unix() >= at {
		return baton.File{}, baton.Errorf(baton.EFORBIDDEN, "this file link expired at %s", time.Unix(at, 0).UTC().Format(time.RFC3339))
	}
	var f baton.File
	err = e.store.View(ctx, func(tx baton.Tx) (err error) { f, err = tx.File(ws, id); return err })
	return f, err
}

// fileSig signs a link to file id of workspace ws that works until exp
// (unix seconds).
func (e *Engine) fileSig(ws, id string, exp int64) string {
	m := hmac.New(sha256.New, e.files.Key)
	m.Write([]byte("baton file\n" + ws + "\n" + id + "\n" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (e *Engine) fileTTL() time.Duration {
	if e.files.TTL > 0 {
		return e.files.TTL
	}
	return DefaultFileTTL
}
