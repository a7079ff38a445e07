//go:build tools

// Package tools pins the Pulumi CLI as a build dependency of this wrapper module.
// `go install pkg@version` is refused because pulumi's pkg/go.mod has replace
// directives; a wrapper module that requires it (and repeats the one replace that
// matters) builds the same binary from the Go module proxy.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
