package certstore

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code of this package.
type Code string

// Error codes. The CLI and GUI switch on these; the message says what to do.
const (
	CodeNotFound          Code = "CERT_NOT_FOUND"
	CodeWrongPassword     Code = "PKCS12_WRONG_PASSWORD"
	CodeCorrupt           Code = "PKCS12_CORRUPT"
	CodeToolMissing       Code = "TOOL_MISSING"
	CodeReadOnly          Code = "STORE_READ_ONLY"
	CodeNotExportable     Code = "KEY_NOT_EXPORTABLE"
	CodeHardwareKey       Code = "KEY_ON_HARDWARE"
	CodeVerifyFailed      Code = "VERIFY_FAILED"
	CodeUnsupported       Code = "UNSUPPORTED"
	CodeKeyringFailed     Code = "KEYRING_FAILED"
	CodeBackupFailed      Code = "BACKUP_FAILED"
	CodeToolFailed        Code = "TOOL_FAILED"
	CodeInvalidInput      Code = "INVALID_INPUT"
	CodeStoreUnavailable  Code = "STORE_UNAVAILABLE"
	CodeNeedsInteraction  Code = "NEEDS_USER_INTERACTION"
	CodeAlreadyPresent    Code = "CERT_ALREADY_PRESENT"
	CodeNoIdentityForUser Code = "NO_IDENTITY_FOR_USER"
)

// Error is every failure this package returns: a code, the operation, and a sentence for the
// user that says what happened and what to do.
type Error struct {
	Code Code
	Op   string // "nss remove", "file import", ...
	Msg  string
	Err  error // the cause, if any
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrNotFound) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Msg == "" && t.Err == nil && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrNotFound       = &Error{Code: CodeNotFound}
	ErrWrongPassword  = &Error{Code: CodeWrongPassword}
	ErrCorrupt        = &Error{Code: CodeCorrupt}
	ErrToolMissing    = &Error{Code: CodeToolMissing}
	ErrReadOnly       = &Error{Code: CodeReadOnly}
	ErrNotExportable  = &Error{Code: CodeNotExportable}
	ErrHardwareKey    = &Error{Code: CodeHardwareKey}
	ErrVerifyFailed   = &Error{Code: CodeVerifyFailed}
	ErrUnsupported    = &Error{Code: CodeUnsupported}
	ErrKeyringFailed  = &Error{Code: CodeKeyringFailed}
	ErrBackupFailed   = &Error{Code: CodeBackupFailed}
	ErrToolFailed     = &Error{Code: CodeToolFailed}
	ErrInvalidInput   = &Error{Code: CodeInvalidInput}
	ErrNoIdentity     = &Error{Code: CodeNoIdentityForUser}
	ErrAlreadyPresent = &Error{Code: CodeAlreadyPresent}
)

func newErr(code Code, op string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Op: op, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// CodeOf returns the code of err, or "" when err is not from this package.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
