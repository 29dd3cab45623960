package plan

import (
	"encoding/json"

	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
)

// Colors for a terminal; Render uses none when color is false.
type palette struct{ add, change, del, dim, reset string }

func colors(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{"\033[32m", "\033[33m", "\033[31m", "\033[2m", "\033[0m"}
}

func (pl palette) of(a Action) string {
	switch a {
	case Create:
		return pl.add
	case Update:
		return pl.change
	case Delete:
		return pl.del
	case Replace:
		return pl.change
	}
	return ""
}

// Render prints the plan as Terraform users expect to read it.
func Render(w io.Writer, p *Plan, color bool) {
	pl := colors(color)
	if drift := p.Drifted(); len(drift) > 0 {
		fmt.Fprintf(w, "Changes outside labnet since the last apply:\n\n")
		for _, c := range drift {
			fmt.Fprintf(w, "  # %s has changed\n", c.Addr)
			for _, d := range c.Status.Drift {
				fmt.Fprintf(w, "      %s%s%s\n", pl.dim, d, pl.reset)
			}
		}
		fmt.Fprintln(w)
	}
	if len(p.Changes) == 0 {
		fmt.Fprintf(w, "No changes. The lab matches the configuration.\n")
		return
	}
	fmt.Fprintf(w, "labnet will perform the following actions:\n\n")
	for _, c := range p.Changes {
		what := map[Action]string{Create: "created", Update: "updated in place", Replace: "replaced", Delete: "destroyed"}[c.Action]
		if c.Action == Replace && len(c.Forced) == 0 && c.Before != nil {
			what = "replaced"
		}
		fmt.Fprintf(w, "  # %s will be %s\n", c.Addr, what)
		for _, r := range c.Reasons {
			fmt.Fprintf(w, "  # (%s)\n", r)
		}
		on := ""
		if c.Host != "" && c.Host != c.Addr {
			on = " on " + c.Host
		}
		fmt.Fprintf(w, "%s%3s %s%s%s\n", pl.of(c.Action), c.Action.Symbol(), c.Addr, on, pl.reset)
		renderAttrs(w, c, pl)
		fmt.Fprintln(w)
	}
	add, change, destroy := p.Counts()
	fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
}

func renderAttrs(w io.Writer, c *Change, pl palette) {
	// "" is an absent attribute (states written before empty ones were
	// left out still hold them).
	keys := map[string]bool{}
	for k, v := range c.Before {
		keys[k] = keys[k] || v != ""
	}
	for k, v := range c.After {
		keys[k] = keys[k] || v != ""
	}
	var names []string
	for k, shown := range keys {
		if shown {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	width := 0
	for _, k := range names {
		width = max(width, len(k))
	}
	for _, k := range names {
		before, after := c.Before[k], c.After[k]
		inBefore, inAfter := before != "", after != ""
		switch {
		case c.Action == Delete:
			fmt.Fprintf(w, "      %s-%s %-*s = %s\n", pl.del, pl.reset, width, k, display(k, before))
		case !inBefore || c.Before == nil:
			fmt.Fprintf(w, "      %s+%s %-*s = %s\n", pl.add, pl.reset, width, k, display(k, after))
		case !inAfter:
			fmt.Fprintf(w, "      %s-%s %-*s = %s\n", pl.del, pl.reset, width, k, display(k, before))
		case before != after:
			force := ""
			if slices.Contains(c.Forced, k) {
				force = " # forces replacement"
			}
			fmt.Fprintf(w, "      %s~%s %-*s = %s -> %s%s%s%s\n", pl.change, pl.reset, width, k, display(k, before), display(k, after), pl.del, force, pl.reset)
		default:
			fmt.Fprintf(w, "        %-*s = %s\n", width, k, display(k, after))
		}
	}
}

// display shows an attribute the way a reader wants it: the nat table's
// rules one per line instead of their stored JSON, what a kind stores
// encoded as the kind shows it (a file: mode, size, digest).
func display(k, v string) string {
	if s, ok := kinds.Display(k, v); ok {
		return quote(s)
	}
	if k == "rules" && strings.HasPrefix(v, "[") {
		var rs []hostnet.NatRule
		if json.Unmarshal([]byte(v), &rs) == nil {
			var lines []string
			for _, r := range rs {
				lines = append(lines, fmt.Sprintf("%q", r.String()))
			}
			return "[\n          " + strings.Join(lines, ",\n          ") + ",\n        ]"
		}
	}
	return quote(v)
}

func quote(s string) string {
	if strings.HasPrefix(s, "[") || strings.HasPrefix(s, "{") {
		return s
	}
	return fmt.Sprintf("%q", s)
}
