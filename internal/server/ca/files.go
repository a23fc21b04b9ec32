package ca

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File names inside the CA directory.
const (
	caCertFile     = "ca.pem"
	caKeyFile      = "ca-key.pem"
	serverCertFile = "server.pem"
	serverKeyFile  = "server-key.pem"
)

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ca: cannot read %s: %w", path, err)
	}
	return true, nil
}

func existBoth(certPath, keyPath string) (haveCert, haveKey bool, err error) {
	if haveCert, err = exists(certPath); err == nil {
		haveKey, err = exists(keyPath)
	}
	return haveCert, haveKey, err
}

// readPEM reads the single PEM block of the given type from path.
func readPEM(path, blockType string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca: cannot read %s: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != blockType {
		return nil, fmt.Errorf("ca: %s is damaged: it holds no PEM %q block", path, blockType)
	}
	return block.Bytes, nil
}

func readCert(path string) (*x509.Certificate, error) {
	der, err := readPEM(path, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: %s is damaged: %w", path, err)
	}
	return cert, nil
}

func readKey(path string) (crypto.Signer, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("ca: %s is damaged: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ca: %s holds a %T, not a signing key", path, key)
	}
	return signer, nil
}

func keyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("ca: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// writeFile replaces path atomically (temporary file, fsync, rename) with the given mode, so
// that a crash leaves either the old or the new file, never half of one. With exclusive it
// refuses to replace an existing file (the CA key is never overwritten).
func writeFile(path string, data []byte, mode os.FileMode, exclusive bool) error {
	if exclusive {
		if ok, err := exists(path); err != nil || ok {
			return errors.Join(err, fmt.Errorf("ca: refusing to overwrite %s", path))
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("ca: cannot write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // the temporary name; already gone after a rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("ca: cannot write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return fmt.Errorf("ca: cannot write %s: %w", path, err)
	}
	if exclusive {
		// Link fails if path appeared meanwhile, where rename would silently replace it.
		if err := os.Link(tmp.Name(), path); err != nil {
			return fmt.Errorf("ca: cannot write %s: %w", path, err)
		}
	} else if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("ca: cannot write %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename durable. Some systems cannot sync a directory; that is no error.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
