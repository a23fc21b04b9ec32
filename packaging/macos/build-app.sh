#!/usr/bin/env bash
# Builds MAG Desktop.app and a .pkg on a Mac (it cannot be built on Linux: Fyne needs cgo with
# the macOS SDK). Needs Go and the Xcode command line tools (xcode-select --install).
#
#   packaging/macos/build-app.sh [arm64|amd64]      -> dist/macos/
#
#   MAG Desktop.app         fyne package -os darwin --release, bundle id com.magdesktop.magdesk
#                           (the managed-preferences domain), magdesk:// in CFBundleURLTypes
#   magdesk-V-macos-ARCH.pkg  installs the app into /Applications (for MDM)
#
# Signing: MAGDESK_MAC_APP_IDENTITY="Developer ID Application: ..." signs the app with the
# hardened runtime, MAGDESK_MAC_INSTALLER_IDENTITY="Developer ID Installer: ..." signs the pkg;
# without them the app is signed ad hoc (needed on Apple silicon after Info.plist is edited).
# Notarize afterwards (Apple tooling only):
#   xcrun notarytool submit dist/macos/magdesk-V-macos-ARCH.pkg --keychain-profile PROFILE --wait
#   xcrun stapler staple dist/macos/magdesk-V-macos-ARCH.pkg
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -s)" = Darwin ] || { echo "build-app.sh runs on macOS; on Linux use make package" >&2; exit 1; }
. packaging/lib.sh

ARCH=${1:-$(go env GOARCH)}
OUT=dist/macos
SRC=dist/_build/src/magdesk
BUNDLE_ID=com.magdesktop.magdesk
FYNE=$(tool fyne "$FYNE_CLI")

mkdir -p "$OUT"
prepare_src "$SRC"
(cd "$SRC" && GOARCH=$ARCH GOFLAGS="-buildvcs=false -ldflags=-X=$VERSION_PKG=$VERSION" "$FYNE" package -os darwin --release)
APP="$OUT/MAG Desktop.app"
rm -rf "$APP"
mv "$SRC/MAG Desktop.app" "$APP"

PLIST="$APP/Contents/Info.plist"
id=$(/usr/libexec/PlistBuddy -c "Print :CFBundleIdentifier" "$PLIST")
[ "$id" = "$BUNDLE_ID" ] || { echo "bundle id is $id, want $BUNDLE_ID (FyneApp.toml ID)" >&2; exit 1; }
/usr/libexec/PlistBuddy -c "Delete :CFBundleURLTypes" "$PLIST" 2>/dev/null || true
/usr/libexec/PlistBuddy \
	-c "Add :CFBundleURLTypes array" \
	-c "Add :CFBundleURLTypes:0 dict" \
	-c "Add :CFBundleURLTypes:0:CFBundleURLName string $BUNDLE_ID" \
	-c "Add :CFBundleURLTypes:0:CFBundleURLSchemes array" \
	-c "Add :CFBundleURLTypes:0:CFBundleURLSchemes:0 string magdesk" \
	"$PLIST"
plutil -lint "$PLIST"

if [ -n "${MAGDESK_MAC_APP_IDENTITY:-}" ]; then
	codesign --force --deep --options runtime --timestamp -s "$MAGDESK_MAC_APP_IDENTITY" "$APP"
else
	codesign --force --deep -s - "$APP"
fi
codesign --verify --strict "$APP"

PKG="$OUT/magdesk-$VERSION-macos-$ARCH.pkg"
sign=()
[ -n "${MAGDESK_MAC_INSTALLER_IDENTITY:-}" ] && sign=(--sign "$MAGDESK_MAC_INSTALLER_IDENTITY")
pkgbuild --component "$APP" --install-location /Applications --identifier "$BUNDLE_ID" \
	--version "$VERSION" "${sign[@]}" "$PKG"
rm -rf dist/_build
echo "built $APP and $PKG"
