#!/usr/bin/env bash
# make package -> dist/: the packaged builds, each target compiled once.
#
#   dist/magdesk-V-linux-amd64.tar.xz     fyne package of the Linux binary (no rebuild: --exe)
#   dist/magdesk_V_amd64.deb              nfpm: binary, icon, desktop entry (magdesk://), /etc/magdesk/
#   dist/magd_V_amd64.deb                 nfpm: magd, systemd unit, system user magd
#   dist/magdesk-V-windows-amd64.exe      fyne package -os windows with mingw-w64 (icon, version info)
#   dist/magdesk-V-windows-x64.msi        wixl: per-machine, policy properties, magdesk:// protocol
#   dist/test-signed/                     the .exe and .msi signed with a throwaway certificate
#                                         (only when no real signing certificate is given)
#   dist/policy-templates/                ADMX/ADML, macOS .mobileconfig, Linux policy.json example
#   dist/SHA256SUMS, dist/build-times.txt
#
# Signing with a real certificate: MAGDESK_SIGN_PKCS12=cert.p12 and MAGDESK_SIGN_PASSWORD_FILE=file
# (optionally MAGDESK_SIGN_TIMESTAMP_URL=http://timestamp.example). The version is the VERSION file.
# Tools (fyne CLI, nfpm) are built once into ${MAGDESK_TOOLS:-~/.cache/magdesk-tools}. DIST (inside
# the repository) changes the output folder; MAGDESK_PACKAGE_SERIAL=1 builds Windows after Linux
# instead of beside it. Timings: dist/build-times.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

. packaging/lib.sh
DIST=${DIST:-dist}
BUILD=$DIST/_build # the copied main package must lie inside the module
case "$(realpath -m "$DIST")" in
"$PWD"/*) ;;
*) echo "package: DIST must be a folder inside the repository (it holds the build copy), not $DIST" >&2; exit 2 ;;
esac
NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
# MSI versions are numeric: 1.2.3-rc1 -> 1.2.3.
MSI_VERSION=$(printf '%s' "$VERSION" | sed -E 's/^([0-9]+(\.[0-9]+){0,3}).*/\1/')

export LANG=C.UTF-8
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

times=()
started=$(date +%s)
step() { # step NAME COMMAND...: run and record the wall time
	local name=$1 t0 t1
	shift
	printf '\n== %s\n' "$name"
	t0=$(date +%s%N)
	"$@"
	t1=$(date +%s%N)
	local ds=$(((t1 - t0) / 100000000))
	times+=("$(printf '%-28s %5d.%d s' "$name" $((ds / 10)) $((ds % 10)))")
}

need() {
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "package: $t is missing: run ./scripts/deps.sh (make deps)" >&2; exit 1; }
	done
}
need go tar xz x86_64-w64-mingw32-gcc wixl msibuild msiinfo osslsigncode openssl convert

rm -rf "$DIST"
mkdir -p "$BUILD/linux" "$BUILD/windows" "$DIST/policy-templates"
ABS_BUILD=$(realpath "$BUILD")

# twice CMD...: run CMD, and once more if it fails. Where several go commands share a build
# cache, a cold build here sometimes fails with "could not import X (open : no such file or
# directory)"; the second run reuses what was compiled. A real compile error fails again.
twice() {
	"$@" && return
	echo "package: '$*' failed; running it once more" >&2
	"$@"
}

tools() {
	FYNE=$(tool fyne "$FYNE_CLI")
	NFPM_BIN=$(tool nfpm "$NFPM")
}

# magd is pure Go: a static binary, independent of the target's libc.
build_magd() {
	CGO_ENABLED=0 twice go build -trimpath -ldflags "-s -w -X $VERSION_PKG=$VERSION" -o "$BUILD/linux/magd" ./cmd/magd
}

# Same compile flags as `make build`, so a warm build cache is reused.
build_linux() {
	CGO_ENABLED=1 twice go build -ldflags "-s -w -X $VERSION_PKG=$VERSION" -o "$BUILD/linux/magdesk" ./cmd/magdesk
}

tarball() {
	mkdir -p "$BUILD/fyne-linux"
	(cd "$BUILD/fyne-linux" && "$FYNE" package -os linux --exe "$ABS_BUILD/linux/magdesk" --src "$ABS_BUILD/src/magdesk")
	mv "$BUILD/fyne-linux/MAG Desktop.tar.xz" "$DIST/magdesk-$VERSION-linux-amd64.tar.xz"
}

debs() {
	MAGDESK_VERSION=$VERSION MAGDESK_BIN=$BUILD/linux/magdesk \
		"$NFPM_BIN" package --config packaging/linux/magdesk.nfpm.yaml --packager deb --target "$DIST/"
	MAGDESK_VERSION=$VERSION MAGD_BIN=$BUILD/linux/magd \
		"$NFPM_BIN" package --config packaging/linux/magd.nfpm.yaml --packager deb --target "$DIST/"
}

# fyne links the icon, manifest and version resource in. It reads -ldflags only from GOFLAGS
# (one flag per -ldflags= entry) and drops them after its first `go build`; for Windows it builds
# twice (without, then with the resources) unless the executable exists. A placeholder makes it
# build once, with the resources and these flags.
build_windows() {
	local src=$BUILD/src/magdesk
	: >"$src/magdesk.exe"
	(cd "$src" &&
		CC=x86_64-w64-mingw32-gcc GOARCH=amd64 \
			GOFLAGS="-buildvcs=false -ldflags=-s -ldflags=-w -ldflags=-X=$VERSION_PKG=$VERSION" \
			twice "$FYNE" package -os windows --exe magdesk.exe)
	mv "$src/MAG Desktop.exe" "$BUILD/windows/magdesk.exe"
}

# sign IN OUT CERT_ARGS...: Authenticode with osslsigncode (exe and msi alike).
sign() {
	local in=$1 out=$2
	shift 2
	local ts=()
	[ -n "${MAGDESK_SIGN_TIMESTAMP_URL:-}" ] && ts=(-ts "$MAGDESK_SIGN_TIMESTAMP_URL")
	osslsigncode sign "$@" -n "MAG Desktop" -i https://github.com/mag-desktop/magdesk -h sha256 "${ts[@]}" \
		-in "$in" -out "$out" >/dev/null
}

# The policy properties the MSI accepts, as PROPERTY:RegistryName. Each value is written only
# when its property is given (component conditions, which wixl cannot express, set here).
MSI_POLICY="SERVERURL:ServerURL CABUNDLE:CABundle PROXYURL:ProxyURL PROXYMODE:ProxyMode PROXYPACURL:ProxyPACURL PROXYBYPASS:ProxyBypass LOGLEVEL:LogLevel THEME:Theme CERTSTORES:CertStores REMEMBERUSERID:RememberUserID DISABLEDEMO:DisableDemo CERTWARNINGDAYS:CertWarningDays STARTATLOGIN:StartAtLogin STARTMINIMISED:StartMinimised CLOSETOTRAY:CloseToTray"

msi() { # msi EXE_DIR OUT
	local dir=$1 out=$2
	convert assets/icon.png -define icon:auto-resize=256,64,48,32,16 "$dir/magdesk.ico"
	wixl -a x64 -D Version="$MSI_VERSION" -D SourceDir="$dir" -o "$out" packaging/windows/magdesk.wxs 2> >(grep -v -e "no property named 'Secure'" -e '^$' >&2)
	local secure="WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED"
	for pair in $MSI_POLICY; do
		local prop=${pair%%:*} name=${pair##*:}
		msibuild "$out" -q "UPDATE \`Component\` SET \`Condition\` = '$prop' WHERE \`Component\` = 'Policy$name'"
		secure="$secure;$prop"
	done
	msibuild "$out" -q "UPDATE \`Property\` SET \`Value\` = '$secure' WHERE \`Property\` = 'SecureCustomProperties'"
}

windows_packages() {
	local exe=$DIST/magdesk-$VERSION-windows-amd64.exe
	local msi_out=$DIST/magdesk-$VERSION-windows-x64.msi
	if [ -n "${MAGDESK_SIGN_PKCS12:-}" ]; then
		local pass
		pass=$(cat "${MAGDESK_SIGN_PASSWORD_FILE:?set MAGDESK_SIGN_PASSWORD_FILE to the file holding the PKCS#12 password}")
		sign "$BUILD/windows/magdesk.exe" "$exe" -pkcs12 "$MAGDESK_SIGN_PKCS12" -pass "$pass"
		cp "$exe" "$BUILD/windows/magdesk.exe"
		msi "$BUILD/windows" "$BUILD/windows/unsigned.msi"
		sign "$BUILD/windows/unsigned.msi" "$msi_out" -pkcs12 "$MAGDESK_SIGN_PKCS12" -pass "$pass"
		return
	fi
	cp "$BUILD/windows/magdesk.exe" "$exe"
	msi "$BUILD/windows" "$msi_out"
	# No certificate given: prove the signing path with a throwaway self-signed one.
	local t=$DIST/test-signed
	mkdir -p "$t" "$BUILD/testsign"
	openssl req -x509 -newkey rsa:3072 -nodes -days 7 -subj "/CN=MAG Desktop test signing (throwaway)" \
		-addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
		-keyout "$BUILD/testsign/key.pem" -out "$t/test-signing-cert.pem" 2>/dev/null
	sign "$exe" "$BUILD/testsign/magdesk.exe" -certs "$t/test-signing-cert.pem" -key "$BUILD/testsign/key.pem"
	cp "$BUILD/testsign/magdesk.exe" "$t/magdesk-$VERSION-windows-amd64.exe"
	msi "$BUILD/testsign" "$BUILD/testsign/unsigned.msi"
	sign "$BUILD/testsign/unsigned.msi" "$t/magdesk-$VERSION-windows-x64.msi" -certs "$t/test-signing-cert.pem" -key "$BUILD/testsign/key.pem"
	rm -f "$BUILD/testsign/key.pem"
}

templates() {
	cp -r packaging/windows/admx "$DIST/policy-templates/windows"
	cp packaging/macos/magdesk.mobileconfig "$DIST/policy-templates/"
	cp packaging/linux/policy.json.example "$DIST/policy-templates/policy.json"
	cp packaging/README-IT.md "$DIST/"
}

step "tools (fyne, nfpm)" tools
step "copy main package" prepare_src "$BUILD/src/magdesk"

# Each cgo build spends minutes in one single-threaded C compile (GLFW and GL), so the Windows
# build runs beside the Linux steps, in its own session so that a failure stops it too.
# MAGDESK_PACKAGE_SERIAL=1 runs it after them instead.
win_pid=
if [ "${MAGDESK_PACKAGE_SERIAL:-}" != 1 ]; then
	export BUILD VERSION VERSION_PKG FYNE
	export -f build_windows twice
	win_t0=$(date +%s%N)
	setsid bash -c build_windows >"$BUILD/windows.log" 2>&1 &
	win_pid=$!
	trap '[ -n "$win_pid" ] && kill -- -"$win_pid" 2>/dev/null; true' EXIT
fi
step "build magd (linux)" build_magd
step "build magdesk (linux, cgo)" build_linux
step "tar.xz (fyne package)" tarball
step "deb (nfpm)" debs
if [ -n "$win_pid" ]; then
	printf '\n== build magdesk.exe (mingw, started beside the Linux steps)\n'
	status=0
	wait "$win_pid" || status=$?
	win_pid=
	cat "$BUILD/windows.log"
	[ "$status" -eq 0 ] || { echo "package: the Windows build failed" >&2; exit 1; }
	ds=$((($(date +%s%N) - win_t0) / 100000000))
	times+=("$(printf '%-28s %5d.%d s (parallel, from its start)' "build magdesk.exe (mingw)" $((ds / 10)) $((ds % 10)))")
else
	step "build magdesk.exe (mingw)" build_windows
fi
step "msi + signing" windows_packages
step "policy templates" templates
rm -rf "$BUILD"
(cd "$DIST" && find . -type f ! -name SHA256SUMS ! -name build-times.txt | sed 's#^\./##' | sort | xargs -d '\n' sha256sum >SHA256SUMS)

{
	printf 'make package %s, %s\n' "$VERSION" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '%s\n' "${times[@]}"
	printf '%-28s %7d s\n' total $(($(date +%s) - started))
} | tee "$DIST/build-times.txt"
ls -la "$DIST"
