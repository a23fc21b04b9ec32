package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/mag-desktop/magdesk/api"
)

// TestOpenAPIDescribesEveryPath checks that openapi.yaml is an OpenAPI 3.1 document, that every
// Path* constant of types.go is one of its paths, that every $ref resolves, and that its list of
// problem codes is the catalogue.
func TestOpenAPIDescribesEveryPath(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                               `yaml:"openapi"`
		Paths      map[string]map[string]map[string]any `yaml:"paths"`
		Components map[string]map[string]any            `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml is not valid YAML: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi: %q", doc.OpenAPI)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "types.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Path") {
					continue
				}
				p, _ := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
				if _, ok := doc.Paths[p]; !ok {
					t.Errorf("%s (%s) is not in openapi.yaml", name.Name, p)
				}
				n++
			}
		}
	}
	if n < 20 || len(doc.Paths) != n {
		t.Errorf("%d Path constants, %d paths in openapi.yaml", n, len(doc.Paths))
	}
	for _, ref := range strings.Split(string(raw), `$ref: "#/components/`)[1:] {
		target := ref[:strings.IndexByte(ref, '"')]
		kind, name, _ := strings.Cut(target, "/")
		if _, ok := doc.Components[kind][name]; !ok {
			t.Errorf("$ref to a missing component %s", target)
		}
	}
	var codes struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Code struct {
							Enum []string `yaml:"enum"`
						} `yaml:"code"`
					} `yaml:"properties"`
				} `yaml:"Problem"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &codes); err != nil {
		t.Fatal(err)
	}
	enum := codes.Components.Schemas.Problem.Properties.Code.Enum
	for code := range api.Catalogue {
		if !slices.Contains(enum, string(code)) {
			t.Errorf("code %s is missing from the Problem schema", code)
		}
	}
	if len(enum) != len(api.Catalogue) {
		t.Errorf("the Problem schema lists %d codes, the catalogue has %d", len(enum), len(api.Catalogue))
	}
}
