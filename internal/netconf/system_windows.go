package netconf

import (
	"context"
	"errors"
	"strings"

	"golang.org/x/sys/windows/registry"
)

const (
	internetSettings = `Software\Microsoft\Windows\CurrentVersion\Internet Settings`
	perUserPolicy    = `SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\Internet Settings`
)

type registryReader struct{}

// OSReader reads the Windows proxy settings from the registry: the Internet Options of the
// user (or of the machine when a policy sets ProxySettingsPerUser to 0) and WinHTTP's settings.
func OSReader() SystemReader { return registryReader{} }

func (registryReader) ReadSystem(context.Context) (System, error) {
	root := registry.CURRENT_USER
	if k, err := registry.OpenKey(registry.LOCAL_MACHINE, perUserPolicy, registry.QUERY_VALUE); err == nil {
		if n, _, err := k.GetIntegerValue("ProxySettingsPerUser"); err == nil && n == 0 {
			root = registry.LOCAL_MACHINE
		}
		k.Close()
	}
	var v WinINetValues
	k, err := registry.OpenKey(root, internetSettings, registry.QUERY_VALUE)
	if err != nil && !errors.Is(err, registry.ErrNotExist) {
		return System{Source: SourceWinINet}, err
	}
	if err == nil {
		if n, _, err := k.GetIntegerValue("ProxyEnable"); err == nil {
			v.ProxyEnable = uint32(n)
		}
		v.ProxyServer, _, _ = k.GetStringValue("ProxyServer")
		v.ProxyOverride, _, _ = k.GetStringValue("ProxyOverride")
		v.AutoConfigURL, _, _ = k.GetStringValue("AutoConfigURL")
		k.Close()
	}
	v.Connection = binaryValue(root, internetSettings+`\Connections`, "DefaultConnectionSettings")
	v.WinHTTP = binaryValue(registry.LOCAL_MACHINE, internetSettings+`\Connections`, "WinHttpSettings")
	return FromWinINet(v), nil
}

func binaryValue(root registry.Key, path, name string) []byte {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE)
	if err != nil {
		return nil
	}
	defer k.Close()
	b, _, err := k.GetBinaryValue(name)
	if err != nil {
		return nil
	}
	return b
}

// dnsSuffixes are the primary DNS suffix and the search list of this machine.
func dnsSuffixes() []string {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`, registry.QUERY_VALUE)
	if err != nil {
		return nil
	}
	defer k.Close()
	var out []string
	for _, name := range []string{"Domain", "NV Domain", "SearchList"} {
		if v, _, err := k.GetStringValue(name); err == nil {
			out = append(out, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })...)
		}
	}
	return out
}
