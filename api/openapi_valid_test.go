package api_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/mag-desktop/magdesk/api"
)

// TestOpenAPIIsValid loads openapi.yaml with an OpenAPI library and validates it. The library
// keeps any key it does not know as an extension, so a key that is neither a fixed field nor
// an x- extension (such as the pieces of an unquoted description with commas in a YAML flow
// mapping) is reported here.
func TestOpenAPIIsValid(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	seen := map[uintptr]bool{}
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			if v.Kind() == reflect.Pointer {
				if seen[v.Pointer()] {
					return
				}
				seen[v.Pointer()] = true
				// Paths and Responses keep their entries unexported, behind Map.
				if m := v.MethodByName("Map"); m.IsValid() && m.Type().NumIn() == 0 {
					walk(path, m.Call(nil)[0])
				}
			}
			walk(path, v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if !f.IsExported() {
					continue
				}
				if f.Name == "Extensions" {
					for _, k := range v.Field(i).MapKeys() {
						if !strings.HasPrefix(k.String(), "x-") {
							t.Errorf("%s: unknown key %q (not a field of this object, nor an x- extension)", path, k.String())
						}
					}
					continue
				}
				walk(path+"."+f.Name, v.Field(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(path+"/"+k.String(), v.MapIndex(k))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(path, v.Index(i))
			}
		}
	}
	walk("openapi", reflect.ValueOf(doc))
}
