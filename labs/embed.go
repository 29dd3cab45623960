// Package labs embeds the example labs, one per network model, so that
// `labnet init TEMPLATE` can start a new lab from any of them.
package labs

import "embed"

// FS holds every lab's *.hcl files, under the lab's directory name.
//
//go:embed */*.hcl
var FS embed.FS
