package certstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
)

// MinBackupPassword is the shortest password accepted for a backup file.
const MinBackupPassword = 8

// WritePKCS12File writes b to path as PKCS#12 (Modern encoder) under password, refusing to
// overwrite, then reads the file back and checks it holds the same certificate and key. On
// any failure the file is removed.
func WritePKCS12File(path string, b *Bundle, password string) error {
	const op = "write backup"
	if len(password) < MinBackupPassword {
		return newErr(CodeInvalidInput, op, nil, "the file password must have at least %d characters", MinBackupPassword)
	}
	data, err := EncodePKCS12(b, password)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return newErr(CodeInvalidInput, op, nil, "%s already exists: choose another file name", path)
	}
	if err != nil {
		return newErr(CodeBackupFailed, op, err, "cannot create %s: choose a folder you can write to", path)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return newErr(CodeBackupFailed, op, err, "cannot write %s (disk full?)", path)
	}
	back, err := os.ReadFile(path)
	if err == nil {
		var got *Bundle
		got, err = ParsePKCS12(back, password)
		if err == nil && !got.Equal(b) {
			err = errors.New("the file read back differs")
		}
	}
	if err != nil {
		os.Remove(path)
		return newErr(CodeBackupFailed, op, err, "the backup did not read back identically, so it was deleted and nothing else was done")
	}
	return nil
}

// RemoveOptions is the 2035 fix's choice about a backup.
type RemoveOptions struct {
	BackupPath     string // where the encrypted PKCS#12 goes
	BackupPassword string
	NoBackup       bool // the user explicitly declined a backup
}

// RemoveOutcome is the result of RemoveIdentity.
type RemoveOutcome struct {
	RemoveResult
	BackupPath string `json:"backup_path,omitempty"`
	Message    string `json:"message"`
}

// CloseBrowsersAdvice is what users must do after a removal: browsers keep the chosen
// certificate for a site until they restart.
const CloseBrowsersAdvice = "Close every browser window (browsers remember the certificate they chose for a site until they restart), then log in again."

// RemoveIdentity is the 2035 fix for one store, usable by CLI and GUI alike: back the identity
// up (unless explicitly declined) and prove the backup reads back, remove certificate and
// private key, and list the store again to prove both are gone.
func RemoveIdentity(ctx context.Context, st Store, fp Fingerprint, o RemoveOptions) (RemoveOutcome, error) {
	const op = "remove identity"
	out := RemoveOutcome{RemoveResult: RemoveResult{Fingerprint: fp, Location: st.Location()}}
	list, err := st.List(ctx)
	var pe *PartialError
	if err != nil && !errors.As(err, &pe) {
		return out, err
	}
	id, ok := find(list, fp)
	if !ok {
		return out, notFound(op, fp, st.Location())
	}
	if id.Key.Hardware {
		return out, newErr(CodeHardwareKey, op, nil, "the key of %s is on a smart card or token: MAG Desktop does not delete it; remove the card", fp.Short())
	}
	if id.Location.ReadOnly {
		return out, newErr(CodeReadOnly, op, nil, "%s is read-only for MAG Desktop: remove the certificate with the tool that manages it", id.Location.Label)
	}
	if !o.NoBackup {
		if o.BackupPath == "" {
			return out, newErr(CodeInvalidInput, op, nil, "choose a backup file, or explicitly choose to remove without a backup")
		}
		b, err := st.Export(ctx, fp)
		if err != nil {
			if errors.Is(err, ErrNotExportable) {
				return out, newErr(CodeNotExportable, op, err, "no backup can be made because the key can't be exported; nothing was removed (remove it without a backup only if you are sure you don't need it)")
			}
			return out, err
		}
		abs, _ := filepath.Abs(o.BackupPath)
		if err := WritePKCS12File(abs, b, o.BackupPassword); err != nil {
			return out, err
		}
		out.BackupPath = abs
	}
	res, err := st.Remove(ctx, fp)
	out.RemoveResult = res
	if err != nil {
		return out, err
	}
	after, err := st.List(ctx)
	if err != nil && !errors.As(err, &pe) {
		return out, err
	}
	if _, still := find(after, fp); still {
		return out, newErr(CodeVerifyFailed, op, nil, "%s is still listed in %s after removal", fp.Short(), st.Location().Label)
	}
	out.Message = "Removed the certificate"
	if res.KeyRemoved {
		out.Message += " and its private key"
	}
	out.Message += " from " + st.Location().Label + ". " + CloseBrowsersAdvice
	return out, nil
}
