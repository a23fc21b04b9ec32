//go:build windows

package certstore

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The system layer of the Windows backend: crypt32 and ncrypt through golang.org/x/sys/windows,
// plus the few procedures it does not wrap, loaded lazily from System32. No cgo.

var (
	crypt32                               = windows.NewLazySystemDLL("crypt32.dll")
	ncrypt                                = windows.NewLazySystemDLL("ncrypt.dll")
	procCertGetCertificateContextProperty = crypt32.NewProc("CertGetCertificateContextProperty")
	procPFXExportCertStoreEx              = crypt32.NewProc("PFXExportCertStoreEx")
	procNCryptOpenStorageProvider         = ncrypt.NewProc("NCryptOpenStorageProvider")
	procNCryptOpenKey                     = ncrypt.NewProc("NCryptOpenKey")
	procNCryptDeleteKey                   = ncrypt.NewProc("NCryptDeleteKey")
	procNCryptFreeObject                  = ncrypt.NewProc("NCryptFreeObject")
)

const (
	certKeyProvInfoPropID  = 2
	certFriendlyNamePropID = 11
	ncryptSilentFlag       = 0x40
	ncryptMachineKeyFlag   = 0x20
	exportPrivateKeys      = 0x0004
	reportNoPrivateKey     = 0x0001
	reportNotAbleToExport  = 0x0002
	nteBadKeyState         = 0x8009000B
	ntePerm                = 0x80090010
	encoding               = windows.X509_ASN_ENCODING | windows.PKCS_7_ASN_ENCODING
)

// cryptKeyProvInfo mirrors CRYPT_KEY_PROV_INFO.
type cryptKeyProvInfo struct {
	ContainerName *uint16
	ProvName      *uint16
	ProvType      uint32
	Flags         uint32
	ProvParamLen  uint32
	ProvParam     uintptr
	KeySpec       uint32
}

type winSys struct{}

func newWindowsStore() *WindowsStore { return &WindowsStore{sys: winSys{}} }

func openMY() (windows.Handle, error) {
	name, _ := windows.UTF16PtrFromString("MY")
	return windows.CertOpenStore(windows.CERT_STORE_PROV_SYSTEM_W, 0, 0,
		windows.CERT_SYSTEM_STORE_CURRENT_USER|windows.CERT_STORE_OPEN_EXISTING_FLAG, uintptr(unsafe.Pointer(name)))
}

func contextProperty(ctx *windows.CertContext, id uint32) ([]byte, bool) {
	var size uint32
	r, _, _ := procCertGetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), uintptr(id), 0, uintptr(unsafe.Pointer(&size)))
	if r == 0 || size == 0 {
		return nil, false
	}
	buf := make([]byte, size)
	r, _, _ = procCertGetCertificateContextProperty.Call(uintptr(unsafe.Pointer(ctx)), uintptr(id), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)))
	if r == 0 {
		return nil, false
	}
	return buf[:size], true
}

func (winSys) Enum() ([]winCert, error) {
	store, err := openMY()
	if err != nil {
		return nil, err
	}
	defer windows.CertCloseStore(store, 0)
	var out []winCert
	var ctx *windows.CertContext
	for {
		ctx, err = windows.CertEnumCertificatesInStore(store, ctx)
		if ctx == nil {
			break
		}
		wc := winCert{DER: append([]byte(nil), unsafe.Slice(ctx.EncodedCert, ctx.Length)...)}
		if buf, ok := contextProperty(ctx, certFriendlyNamePropID); ok {
			wc.FriendlyName = windows.UTF16PtrToString((*uint16)(unsafe.Pointer(&buf[0])))
		}
		if buf, ok := contextProperty(ctx, certKeyProvInfoPropID); ok && len(buf) >= int(unsafe.Sizeof(cryptKeyProvInfo{})) {
			info := (*cryptKeyProvInfo)(unsafe.Pointer(&buf[0]))
			wc.HasKey = true
			wc.Container = windows.UTF16PtrToString(info.ContainerName)
			wc.Provider = windows.UTF16PtrToString(info.ProvName)
			wc.ProvType, wc.KeySpec, wc.Flags = info.ProvType, info.KeySpec, info.Flags
		}
		out = append(out, wc)
	}
	if err != nil && !errors.Is(err, windows.Errno(windows.CRYPT_E_NOT_FOUND)) && !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return out, err
	}
	return out, nil
}

func (winSys) DeleteKey(c winCert) error {
	container, err := windows.UTF16PtrFromString(c.Container)
	if err != nil {
		return err
	}
	provider, err := windows.UTF16PtrFromString(c.Provider)
	if err != nil {
		return err
	}
	if c.ProvType != 0 {
		// CryptoAPI (CSP) key: acquiring with CRYPT_DELETEKEYSET deletes the container.
		var h windows.Handle
		return windows.CryptAcquireContext(&h, container, provider, c.ProvType,
			windows.CRYPT_DELETEKEYSET|windows.CRYPT_SILENT|(c.Flags&windows.CRYPT_MACHINE_KEYSET))
	}
	var prov, key uintptr
	if r, _, _ := procNCryptOpenStorageProvider.Call(uintptr(unsafe.Pointer(&prov)), uintptr(unsafe.Pointer(provider)), 0); r != 0 {
		return fmt.Errorf("NCryptOpenStorageProvider: 0x%x", r)
	}
	defer procNCryptFreeObject.Call(prov)
	flags := uintptr(ncryptSilentFlag)
	if c.Flags&windows.CRYPT_MACHINE_KEYSET != 0 {
		flags |= ncryptMachineKeyFlag
	}
	if r, _, _ := procNCryptOpenKey.Call(prov, uintptr(unsafe.Pointer(&key)), uintptr(unsafe.Pointer(container)), uintptr(c.KeySpec), flags); r != 0 {
		return fmt.Errorf("NCryptOpenKey: 0x%x", r)
	}
	// NCryptDeleteKey frees the key handle, also on failure.
	if r, _, _ := procNCryptDeleteKey.Call(key, ncryptSilentFlag); r != 0 {
		return fmt.Errorf("NCryptDeleteKey: 0x%x", r)
	}
	return nil
}

func findBySHA1(store windows.Handle, der []byte) (*windows.CertContext, error) {
	sum := sha1.Sum(der)
	blob := windows.CryptHashBlob{Size: uint32(len(sum)), Data: &sum[0]}
	return windows.CertFindCertificateInStore(store, encoding, 0, windows.CERT_FIND_SHA1_HASH, unsafe.Pointer(&blob), nil)
}

func (winSys) DeleteCert(der []byte) error {
	store, err := openMY()
	if err != nil {
		return err
	}
	defer windows.CertCloseStore(store, 0)
	ctx, err := findBySHA1(store, der)
	if err != nil {
		return err
	}
	return windows.CertDeleteCertificateFromStore(ctx) // frees ctx
}

func (winSys) ImportPFX(pfx []byte, password string) error {
	pw, err := windows.UTF16PtrFromString(password)
	if err != nil {
		return err
	}
	blob := windows.CryptDataBlob{Size: uint32(len(pfx)), Data: &pfx[0]}
	tmp, err := windows.PFXImportCertStore(&blob, pw, windows.CRYPT_USER_KEYSET|windows.PKCS12_PREFER_CNG_KSP)
	if err != nil {
		return err
	}
	defer windows.CertCloseStore(tmp, 0)
	my, err := openMY()
	if err != nil {
		return err
	}
	defer windows.CertCloseStore(my, 0)
	var ctx *windows.CertContext
	added := 0
	for {
		ctx, _ = windows.CertEnumCertificatesInStore(tmp, ctx)
		if ctx == nil {
			break
		}
		// Only the certificate with a key goes to Personal; CA certificates stay out of it.
		if _, ok := contextProperty(ctx, certKeyProvInfoPropID); !ok {
			continue
		}
		if err := windows.CertAddCertificateContextToStore(my, ctx, windows.CERT_STORE_ADD_REPLACE_EXISTING, nil); err != nil {
			windows.CertFreeCertificateContext(ctx)
			return err
		}
		added++
	}
	if added == 0 {
		return errors.New("the PFX holds no certificate with a private key")
	}
	return nil
}

func (winSys) ExportPFX(der []byte, password string) ([]byte, error) {
	my, err := openMY()
	if err != nil {
		return nil, err
	}
	defer windows.CertCloseStore(my, 0)
	ctx, err := findBySHA1(my, der)
	if err != nil {
		return nil, err
	}
	defer windows.CertFreeCertificateContext(ctx)
	mem, err := windows.CertOpenStore(windows.CERT_STORE_PROV_MEMORY, 0, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	defer windows.CertCloseStore(mem, 0)
	if err := windows.CertAddCertificateContextToStore(mem, ctx, windows.CERT_STORE_ADD_ALWAYS, nil); err != nil {
		return nil, err
	}
	pw, err := windows.UTF16PtrFromString(password)
	if err != nil {
		return nil, err
	}
	var blob windows.CryptDataBlob
	flags := uintptr(exportPrivateKeys | reportNoPrivateKey | reportNotAbleToExport)
	call := func() error {
		r, _, e := procPFXExportCertStoreEx.Call(uintptr(mem), uintptr(unsafe.Pointer(&blob)), uintptr(unsafe.Pointer(pw)), 0, flags)
		if r != 0 {
			return nil
		}
		if en, ok := e.(windows.Errno); ok && (uint32(en) == nteBadKeyState || uint32(en) == ntePerm) {
			return errWinNotExportable
		}
		return e
	}
	if err := call(); err != nil {
		return nil, err
	}
	buf := make([]byte, blob.Size)
	blob.Data = &buf[0]
	if err := call(); err != nil {
		return nil, err
	}
	return buf[:blob.Size], nil
}
