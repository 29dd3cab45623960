// Package all links every provider into a program: each registers itself
// (provider.Register) from its init. A new provider is one line here.
package all

import (
	_ "github.com/labnet-dev/labnet/provider/lima"
	_ "github.com/labnet-dev/labnet/provider/netns"
	_ "github.com/labnet-dev/labnet/provider/ssh"
)
