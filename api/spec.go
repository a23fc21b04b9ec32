package api

import _ "embed"

// OpenAPI is openapi.yaml, the contract of this package's types and paths, for validators.
//
//go:embed openapi.yaml
var OpenAPI []byte
