package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"howett.net/plist"
)

// Policy is the managed configuration in force: validated values by setting key
// (string, bool or []string) and where they were read from.
type Policy struct {
	Origin string
	Values map[string]any
}

// PolicyReader reads the machine's managed policy. A missing policy is an empty Policy and a nil
// error. Problems are *Error values (joined); whatever is valid is still returned beside them.
type PolicyReader interface {
	ReadPolicy() (Policy, error)
}

// maxPolicyBytes bounds policy and settings files; real ones are a few hundred bytes.
const maxPolicyBytes = 1 << 20

// JSONFile reads a policy.json: an object keyed by setting key (server_url, ...).
type JSONFile struct{ Path string }

// ReadPolicy implements PolicyReader.
func (f JSONFile) ReadPolicy() (Policy, error) {
	data, found, err := readSmall(f.Path)
	if !found || err != nil {
		return Policy{Origin: f.Path}, policyFileError(f.Path, err)
	}
	return decodeJSONPolicy(f.Path, data)
}

func decodeJSONPolicy(origin string, data []byte) (Policy, error) {
	raw, err := parseJSONObject(data)
	if err != nil {
		return Policy{Origin: origin}, &Error{CodePolicyInvalid, origin, "", err}
	}
	vals, err := decode(CodePolicyInvalid, origin, raw, false, true)
	return Policy{Origin: origin, Values: vals}, err
}

// PlistFile reads a macOS managed-preferences plist (XML or binary) keyed by the registry-style
// names (ServerURL, ...). Profiles add their own keys (PayloadUUID, ...), so unknown keys that
// macOS itself writes are ignored rather than reported.
type PlistFile struct{ Path string }

// ReadPolicy implements PolicyReader.
func (f PlistFile) ReadPolicy() (Policy, error) {
	data, found, err := readSmall(f.Path)
	if !found || err != nil {
		return Policy{Origin: f.Path}, policyFileError(f.Path, err)
	}
	return decodePlistPolicy(f.Path, data)
}

func decodePlistPolicy(origin string, data []byte) (Policy, error) {
	var raw map[string]any
	if _, err := plist.Unmarshal(data, &raw); err != nil {
		return Policy{Origin: origin}, &Error{CodePolicyInvalid, origin, "", fmt.Errorf("not a property list dictionary: %w", err)}
	}
	for k := range raw {
		if isAppleKey(k) {
			delete(raw, k)
		}
	}
	vals, err := decode(CodePolicyInvalid, origin, raw, true, true)
	return Policy{Origin: origin, Values: vals}, err
}

// isAppleKey reports keys that configuration profiles and cfprefsd add to managed plists.
func isAppleKey(k string) bool {
	return k == "PayloadUUID" || k == "PayloadIdentifier" || k == "PayloadType" || k == "PayloadVersion" ||
		k == "PayloadDisplayName" || k == "PayloadEnabled" || k == "PayloadOrganization" || k == "PayloadDescription" ||
		k == "mcx_preference_settings" || k == "_manualProfile" || k == "PayloadScope"
}

// noPolicy is the reader for systems without a policy location.
type noPolicy struct{}

func (noPolicy) ReadPolicy() (Policy, error) { return Policy{}, nil }

// readSmall reads a bounded file; found is false when it does not exist.
func readSmall(path string) (data []byte, found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxPolicyBytes+1))
	if err == nil && len(data) > maxPolicyBytes {
		err = fmt.Errorf("larger than %d bytes", maxPolicyBytes)
	}
	return data, true, err
}

func policyFileError(path string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{CodePolicyInvalid, path, "", err}
}

// parseJSONObject parses one JSON object with nothing after it.
func parseJSONObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if raw == nil {
		return nil, errors.New("not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("not valid JSON: data after the object")
	}
	return raw, nil
}
