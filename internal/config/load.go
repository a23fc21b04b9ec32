package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// SettingsFile is the user settings file inside the home folder.
const SettingsFile = "settings.json"

// Home returns the per-user folder for settings and the app's own store: $MAGDESK_HOME, else
// os.UserConfigDir()/magdesk. It is created with mode 0700 when missing.
func Home() (string, error) {
	dir := os.Getenv("MAGDESK_HOME")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("no folder for settings (%w): set MAGDESK_HOME to a folder you own", err)
		}
		dir = filepath.Join(base, "magdesk")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cannot create the settings folder: %w; set MAGDESK_HOME to a folder you own", err)
	}
	return dir, nil
}

// Load merges defaults < home/settings.json < the system policy (SystemPolicy).
//
// It never fails closed: the returned Effective is always usable. A non-nil error reports
// problems (joined *Error values, each naming the file and key) with a source or a key that was
// therefore skipped; show it to the user or log it and carry on.
func Load(home string) (Effective, error) { return LoadWith(home, SystemPolicy()) }

// LoadWith is Load with an explicit policy reader.
func LoadWith(home string, policy PolicyReader) (Effective, error) {
	eff := Effective{Settings: Defaults(), Sources: map[string]Source{}}
	for _, k := range Keys() {
		eff.Sources[k] = SourceDefault
	}
	user, userErr := readUser(home)
	for k, v := range user {
		apply(&eff.Settings, k, v)
		eff.Sources[k] = SourceUser
	}
	pol, polErr := policy.ReadPolicy()
	for k, v := range pol.Values {
		apply(&eff.Settings, k, v)
		eff.Sources[k] = SourcePolicy
	}
	// A user id is only remembered where remembering is allowed.
	if !eff.RememberUserID {
		eff.LastUserID = ""
	}
	return eff, joinErrs(userErr, polErr)
}

// readUser reads and validates the user settings; unknown keys (from a newer version) are ignored.
func readUser(home string) (map[string]any, error) {
	path := filepath.Join(home, SettingsFile)
	data, found, err := readSmall(path)
	if !found {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{CodeSettingsInvalid, path, "", err}
	}
	raw, err := parseJSONObject(data)
	if err != nil {
		return nil, &Error{CodeSettingsInvalid, path, "", err}
	}
	return decode(CodeSettingsInvalid, path, raw, false, false)
}

// SaveUser writes s as the user's settings: home/settings.json, mode 0600, atomically (temp
// file, fsync, rename). Settings hold no secrets.
//
// Keys the current policy sets keep their previous user value, so a policy that is later
// removed does not leave its values behind as user choices; last_user_id is dropped when
// remembering is not allowed. Keys the file holds that this version does not know are kept
// (a newer version wrote them). A file that is not valid JSON is kept as settings.json.corrupt-<time>
// rather than lost. Invalid values in s are refused with an *Error naming the key.
func SaveUser(home string, s Settings) error { return saveUser(home, s, SystemPolicy()) }

func saveUser(home string, s Settings, policy PolicyReader) error {
	path := filepath.Join(home, SettingsFile)
	want, err := decode(CodeSettingsInvalid, path, values(s), false, false)
	if err != nil {
		return err
	}
	file := map[string]json.RawMessage{}
	data, found, err := readSmall(path)
	if err != nil {
		return fmt.Errorf("cannot read %s to update it: %w", path, err)
	}
	if found {
		if json.Unmarshal(data, &file) != nil || file == nil {
			bad := path + ".corrupt-" + strconv.FormatInt(time.Now().Unix(), 10)
			if err := os.Rename(path, bad); err != nil {
				return fmt.Errorf("%s is not valid JSON and could not be set aside: %w", path, err)
			}
			file = map[string]json.RawMessage{}
		}
	}
	pol, _ := policy.ReadPolicy() // a bad policy is reported by Load; here only its keys matter
	remember := s.RememberUserID
	if v, ok := pol.Values[KeyRememberUserID]; ok {
		remember = v.(bool)
	}
	for _, k := range Keys() {
		if _, locked := pol.Values[k]; locked {
			continue
		}
		v, ok := want[k]
		if !ok || (k == KeyLastUserID && !remember) {
			delete(file, k)
			continue
		}
		enc, err := json.Marshal(v)
		if err != nil {
			return err
		}
		file[k] = enc
	}
	out, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(out, '\n'))
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot save settings in %s: %w", filepath.Dir(path), err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("cannot save settings to %s: %w", path, err)
	}
	return nil
}

// joinErrs joins errors, flattening nested joins so callers can range over single *Error values.
func joinErrs(errs ...error) error {
	var flat []error
	for _, e := range errs {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			flat = append(flat, j.Unwrap()...)
		} else if e != nil {
			flat = append(flat, e)
		}
	}
	return errors.Join(flat...)
}
