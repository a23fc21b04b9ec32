#!/usr/bin/env bash
# Installs what the build, the tests and the demo need on a Debian/Ubuntu machine that has
# only Go. Safe to run again: it installs only what is missing.
set -euo pipefail

PKGS=(
  ca-certificates gcc libc6-dev pkg-config git
  # Fyne's GLFW driver (cgo)
  libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  # a real window, screenshots and scripted input for the GUI smoke test
  xvfb xauth xdotool imagemagick
  # make screens: shrinks the gallery PNGs
  pngquant
  # a real Secret Service keyring (no dbus-x11: it makes godbus autolaunch stray daemons)
  dbus gnome-keyring libsecret-tools
  # NSS certificate databases, OpenSSL, TOTP reference, TLS scanner, SMTP server for tests
  libnss3-tools openssl oathtool sslscan python3 python3-aiosmtpd
  # a real forward proxy (plain, Basic authentication, chosen by a PAC script) for the proxy tests
  tinyproxy
  # GNOME's real gsettings and proxy schema, for the Linux desktop proxy reader's test
  libglib2.0-bin gsettings-desktop-schemas
  # magd on a shared database behind a load balancer (scripts/postgres.sh, scale-out tests)
  postgresql haproxy
  # a real browser for the federation tests (OIDC and SAML through launch links, chromedp)
  chromium
  # packaging: fyne's tar.xz, Windows cross-compile, MSI and signing
  xz-utils gcc-mingw-w64-x86-64 wixl msitools osslsigncode
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
go mod download
