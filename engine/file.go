package engine

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
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
	// Key, when set, names the upload: the same key with the same bytes
	// keeps one file (a form sent twice), answered alike.
	Key string
}

// KeepFile stores an uploaded file and returns it as an attachment, with a
// signed link that works for FileParams.TTL. The file's type is the one its
// content shows and must be one of baton.FileTypes; errors name u.Field.
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
	if u.Key != "" {
		sum := sha256.Sum256([]byte(u.Workspace + "\n" + u.Key + "\n" + name + "\n" + string(u.Data)))
		f.ID = "file_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
	}
	if err := e.store.Tx(ctx, func(tx baton.Tx) error {
		if _, err := tx.Workspace(u.Workspace); err != nil {
			return err
		}
		if u.Key != "" {
			if had, err := tx.File(u.Workspace, f.ID); err == nil {
				f = had // kept the first time
				return nil
			}
		}
		return tx.AddFile(f)
	}); err != nil {
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
