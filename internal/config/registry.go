package config

import (
	"fmt"
	"strings"
)

// PolicyRegistryKey is the machine policy key under HKEY_LOCAL_MACHINE.
const PolicyRegistryKey = `SOFTWARE\Policies\MAG Desktop`

// Registry value types (winnt.h), so that decoding is testable off Windows.
const (
	regSZ       = 1
	regExpandSZ = 2
	regDWORD    = 4
	regMultiSZ  = 7
	regQWORD    = 11
)

// regValue is one value read from the policy key.
type regValue struct {
	Name string
	Type uint32
	Str  string   // REG_SZ, REG_EXPAND_SZ (already expanded)
	Strs []string // REG_MULTI_SZ
	Int  uint64   // REG_DWORD, REG_QWORD
}

// decodeRegistryPolicy validates the values of the policy key. Names are the registry-style
// names (ServerURL, RememberUserID, ...), matched case-insensitively as Windows does. Booleans
// are REG_DWORD 0/1 or REG_SZ "0"/"1"/"true"/"false"; CertStores is REG_MULTI_SZ or a REG_SZ
// list separated by commas. (The MSI writes every value as REG_SZ from its properties.)
func decodeRegistryPolicy(origin string, vals []regValue) (Policy, error) {
	raw := map[string]any{}
	var errs []error
	for _, v := range vals {
		spec, known := specFor(v.Name, true)
		switch v.Type {
		case regSZ, regExpandSZ:
			switch {
			case known && spec.kind == kindList:
				raw[v.Name] = splitList(v.Str)
			case known && spec.kind == kindBool:
				raw[v.Name] = stringBool(v.Str)
			default:
				raw[v.Name] = v.Str
			}
		case regMultiSZ:
			raw[v.Name] = v.Strs
		case regDWORD, regQWORD:
			raw[v.Name] = v.Int
		default:
			errs = append(errs, &Error{CodePolicyInvalid, origin, v.Name, fmt.Errorf("has unsupported registry type %d (use REG_SZ, REG_DWORD or REG_MULTI_SZ)", v.Type)})
		}
	}
	typed, err := decode(CodePolicyInvalid, origin, raw, true, true)
	return Policy{Origin: origin, Values: typed}, joinErrs(append(errs, err)...)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// stringBool maps a REG_SZ boolean to bool, "" to nil (not set), and leaves anything else as
// the string so that decoding reports it.
func stringBool(s string) any {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true":
		return true
	case "0", "false":
		return false
	case "":
		return nil
	}
	return s
}
