// Package labs embeds the example labs, one per network model, so that
// `labnet init TEMPLATE` can start a new lab from any of them.
package labs

import "embed"

// FS holds every lab's *.hcl files, under the lab's directory name, and
// the files they read (routing's FRR configuration templates).
//
//go:embed */*.hcl routing/frr
var FS embed.FS
