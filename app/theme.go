package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// variantTheme forces light or dark; the default theme follows the OS.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

// themeFor maps the Settings theme ("", "system", "light", "dark") to a Fyne theme.
func themeFor(name string) fyne.Theme {
	switch name {
	case "light":
		return variantTheme{theme.DefaultTheme(), theme.VariantLight}
	case "dark":
		return variantTheme{theme.DefaultTheme(), theme.VariantDark}
	}
	return theme.DefaultTheme()
}

// applyTheme sets the theme; following the system is Fyne's default, so at start nothing is
// changed then (a theme change re-renders every window).
func applyTheme(a fyne.App, name string) {
	if (name == "" || name == "system") && a.Settings().Theme() == theme.DefaultTheme() {
		return
	}
	a.Settings().SetTheme(themeFor(name))
}
