# Shared by scripts/package.sh and packaging/macos/build-app.sh (sourced from the repository root).

VERSION=$(tr -d ' \t\r\n' <VERSION)
VERSION_PKG=github.com/mag-desktop/magdesk/internal/version.Version
FYNE_CLI=fyne.io/tools/cmd/fyne@v1.7.4
TOOLS=${MAGDESK_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/magdesk-tools}

tool() { # tool NAME MODULE@VERSION: path of a pinned Go tool, built on first use
	local dir="$TOOLS/$1-${2##*@}"
	if [ ! -x "$dir/$1" ]; then
		mkdir -p "$dir"
		GOBIN="$(cd "$dir" && pwd)" GOFLAGS=-buildvcs=false go install "$2" >&2
	fi
	echo "$(cd "$dir" && pwd)/$1"
}

# prepare_src DIR: a copy of the main package to run `fyne package` in. fyne rewrites
# FyneApp.toml (Build++) and drops fyne_metadata_init.go and fyne.syso beside the sources while
# it builds, so it never runs in cmd/magdesk. DIR must be inside the module (imports resolve);
# a path element starting with "_" keeps it out of ./... patterns.
prepare_src() {
	local src=$1
	rm -rf "$src"
	mkdir -p "$src"
	find cmd/magdesk -maxdepth 1 -name '*.go' ! -name '*_test.go' -exec cp {} "$src/" \;
	cp assets/icon.png "$src/Icon.png"
	sed -e "s/^Version = .*/Version = \"$VERSION\"/" -e 's#^Icon = .*#Icon = "Icon.png"#' \
		FyneApp.toml >"$src/FyneApp.toml"
}
