package config

import (
	"errors"

	"golang.org/x/sys/windows/registry"
)

// PolicyFile names the Windows policy location for messages and the support bundle.
const PolicyFile = `HKLM\` + PolicyRegistryKey

// SystemPolicy returns this OS's policy reader: HKLM\SOFTWARE\Policies\MAG Desktop.
func SystemPolicy() PolicyReader { return registryPolicy{} }

type registryPolicy struct{}

// ReadPolicy reads every value of the policy key; decoding is shared with the tests.
func (registryPolicy) ReadPolicy() (Policy, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, PolicyRegistryKey, registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS)
	if errors.Is(err, registry.ErrNotExist) {
		return Policy{Origin: PolicyFile}, nil
	}
	if err != nil {
		return Policy{Origin: PolicyFile}, &Error{CodePolicyInvalid, PolicyFile, "", err}
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		return Policy{Origin: PolicyFile}, &Error{CodePolicyInvalid, PolicyFile, "", err}
	}
	var vals []regValue
	var errs []error
	for _, name := range names {
		v, err := readRegValue(k, name)
		if err != nil {
			errs = append(errs, &Error{CodePolicyInvalid, PolicyFile, name, err})
			continue
		}
		vals = append(vals, v)
	}
	p, err := decodeRegistryPolicy(PolicyFile, vals)
	return p, joinErrs(append(errs, err)...)
}

func readRegValue(k registry.Key, name string) (regValue, error) {
	_, typ, err := k.GetValue(name, nil)
	if err != nil {
		return regValue{}, err
	}
	v := regValue{Name: name, Type: typ}
	switch typ {
	case registry.SZ, registry.EXPAND_SZ:
		v.Str, _, err = k.GetStringValue(name)
		if err == nil && typ == registry.EXPAND_SZ {
			v.Str, err = registry.ExpandString(v.Str)
		}
	case registry.MULTI_SZ:
		v.Strs, _, err = k.GetStringsValue(name)
	case registry.DWORD, registry.QWORD:
		v.Int, _, err = k.GetIntegerValue(name)
	}
	return v, err
}
