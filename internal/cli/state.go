package cli

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// stateFile records the last server used, the CA files given for servers and pending TOTP
// enrolments (which account is current on a server is the service's). It holds no secret
// (tokens are in the keyring), so a plain file in MAGDESK_HOME is right for it.
const stateFile = "cli-state.json"

type state struct {
	// LastServer is used when neither --server nor the settings name one.
	LastServer string `json:"last_server,omitempty"`
	// Enrollments maps "server|user" to a pending TOTP enrolment id between otp enroll and
	// otp verify (an id, not the secret).
	Enrollments map[string]string `json:"enrollments,omitempty"`
	// CAFiles maps a server to the CA file (absolute path) given with --ca at the last login.
	CAFiles map[string]string `json:"ca_files,omitempty"`
}

func loadState(home string) (state, error) {
	st := state{Enrollments: map[string]string{}, CAFiles: map[string]string{}}
	if home == "" {
		return st, nil
	}
	data, err := os.ReadFile(filepath.Join(home, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		// A damaged state file only loses the last server and pending enrolments; start afresh.
		return state{Enrollments: map[string]string{}, CAFiles: map[string]string{}}, nil
	}
	if st.Enrollments == nil {
		st.Enrollments = map[string]string{}
	}
	if st.CAFiles == nil {
		st.CAFiles = map[string]string{}
	}
	return st, nil
}

// saveState writes the state atomically (temp file + rename), mode 0600.
func saveState(home string, st state) error {
	if home == "" {
		return nil
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(home, stateFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(home, stateFile))
}

// rememberServer remembers this run's server as the last one, with the CA file given by --ca
// for it.
func (e *Env) rememberServer() error {
	st, err := loadState(e.Home)
	if err != nil {
		return err
	}
	server := e.serverKey()
	if e.CAFile != "" {
		if abs, err := filepath.Abs(e.CAFile); err == nil {
			st.CAFiles[server] = abs
		}
	}
	st.LastServer = server
	return saveState(e.Home, st)
}

// setEnrollment remembers (id != "") or forgets the pending TOTP enrolment of user on server.
func (e *Env) setEnrollment(server, user, id string) error {
	st, err := loadState(e.Home)
	if err != nil {
		return err
	}
	key := server + "|" + user
	if id == "" {
		delete(st.Enrollments, key)
	} else {
		st.Enrollments[key] = id
	}
	return saveState(e.Home, st)
}

func (e *Env) enrollment(server, user string) string {
	st, _ := loadState(e.Home)
	return st.Enrollments[server+"|"+user]
}
