package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mag-desktop/magdesk/internal/server/ca"
)

// Several instances on one database must share the CA (clients trust one CA, and every
// instance verifies client certificates against it) and secret.key (TOTP secrets and launch
// assertions): `magd init` makes that data folder once, and IT copies it to each instance.

// Init prepares a data folder for instances sharing a database: secret.key and the CA with a
// server certificate for hostnames (keys 0600, folders 0700). Running it again on the folder
// keeps what is there (it re-issues the server certificate only for new hostnames).
func Init(dataDir string, hostnames []string, now time.Time) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("magd: create data folder: %w", err)
	}
	if err := os.Chmod(dataDir, 0o700); err != nil { // an existing folder becomes private too
		return fmt.Errorf("magd: %w", err)
	}
	path := filepath.Join(dataDir, secretFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if _, err := createSecret(path); err != nil {
			return fmt.Errorf("magd: %s: %w", path, err)
		}
	} else if err != nil {
		return fmt.Errorf("magd: %s: %w", path, err)
	}
	_, err := ca.LoadOrCreate(filepath.Join(dataDir, "ca"), hostnames, now)
	return err
}

const secretFile = "secret.key"

// sharedFolderFiles must exist before an instance opens a shared database.
var sharedFolderFiles = []string{secretFile, filepath.Join("ca", "ca.pem"), filepath.Join("ca", "ca-key.pem")}

// checkInitialised refuses a data folder without the shared files: an instance that made a CA
// and key of its own would issue certificates the others reject.
func (s *Server) checkInitialised(ctx context.Context) error {
	dir := s.cfg.DataDir
	for _, f := range sharedFolderFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			continue
		}
		if id, err := s.st.Setting(ctx, folderIdentityKey); err != nil {
			return err
		} else if id != "" {
			return fmt.Errorf("magd: %s lacks %s, and the database is in use by other instances: copy their data folder here, "+
				"or restore this one from its backup (packaging/README-IT.md)", dir, f)
		}
		return fmt.Errorf("magd: %s lacks %s: with a shared database every instance needs the same data folder; "+
			"run `magd init --data %s` once and copy that folder to each instance (packaging/README-IT.md)", dir, f, dir)
	}
	return nil
}

const folderIdentityKey = "data_folder_identity"

// checkSameFolder records which data folder (secret.key and CA) the database belongs to on
// first use, and refuses a folder that differs from it: a copy made by another `magd init`.
func (s *Server) checkSameFolder(ctx context.Context) error {
	caPEM, err := os.ReadFile(filepath.Join(s.cfg.DataDir, "ca", "ca.pem"))
	if err != nil {
		return fmt.Errorf("magd: %w", err)
	}
	m := hmac.New(sha256.New, subKey(s.secret, "data-folder-identity"))
	m.Write(caPEM)
	id := hex.EncodeToString(m.Sum(nil))
	if err := s.st.InitSetting(ctx, folderIdentityKey, id); err != nil {
		return err
	}
	have, err := s.st.Setting(ctx, folderIdentityKey)
	if err != nil {
		return err
	}
	if have != id {
		return fmt.Errorf("magd: the data folder %s is not the one the database was set up with (its CA or secret.key differs): "+
			"copy the data folder of the other instances here instead of running `magd init` again", s.cfg.DataDir)
	}
	return nil
}
