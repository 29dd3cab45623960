package hostnet

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/labnet-dev/labnet/remote"
)

// insidePy configures guests' namespaces: see inside.py's header.
var insidePy = netlinkPy + isolationPy + insideMain

// netlinkPy is the netlink code inside.py and observe.py share; it comes
// first in both programs (each is one `python3 -c`, nothing to install).
//
//go:embed netlink.py
var netlinkPy string

//go:embed inside.py
var insideMain string

// isolationPy makes and repairs containers' own mount and UTS namespaces
// (IsoStep) in inside.py's process.
//
//go:embed isolation.py
var isolationPy string

// Inside is what a step sets up inside a guest's namespace, applied by
// inside.py over netlink: each link gets exactly its one IPv4 address (any
// other is removed), its MTU and MAC, and is brought up; then the default
// route. Applying it twice changes nothing.
type Inside struct {
	Netns      string       `json:"netns"`        // "": the host's own namespace
	Lo         bool         `json:"lo,omitempty"` // bring lo up
	Links      []InsideLink `json:"links"`
	Gateway    string       `json:"gw,omitempty"` // default route via this address
	GatewayDev string       `json:"gwdev,omitempty"`
	// More: other namespaces the same step sets up (the far end of a
	// wire), each after the one before.
	More []*Inside `json:"more,omitempty"`
	// Iso: the container's own mount and UTS namespaces, made or repaired
	// after its network namespace is configured.
	Iso *IsoStep `json:"iso,omitempty"`
}

// InsideLink is one interface of a guest.
type InsideLink struct {
	Name string `json:"name"`
	Addr string `json:"addr,omitempty"` // "10.0.0.2/24": its one IPv4 address
	// Addrs: its IPv4 addresses instead, any number (none: it has none).
	Addrs []string `json:"addrs,omitempty"`
	Alias string   `json:"alias,omitempty"`
	MTU   int      `json:"mtu,omitempty"`
	MAC   string   `json:"mac,omitempty"`
	// Bridge: the host's bridge its veth is on, which announces its
	// address (a gratuitous ARP in its name) to the bridge's other ports.
	Bridge string `json:"bridge,omitempty"`
}

// Inside configures the container's eth0 and its default route.
func (c Container) Inside(n Names) *Inside {
	if c.HostVeth == "" {
		return &Inside{Netns: c.Netns, Lo: true, Links: []InsideLink{}}
	}
	in := &Inside{Netns: c.Netns, Lo: true, Links: []InsideLink{{Name: "eth0", Addr: fmt.Sprintf("%s/%d", c.Address, c.Bits), MTU: c.mtu(), MAC: n.MAC(c.Addr), Bridge: c.Bridge}}}
	if c.Gateway.IsValid() {
		in.Gateway, in.GatewayDev = c.Gateway.String(), "eth0"
	}
	return in
}

// Inside configures the guest's end of a NIC.
func (c NIC) Inside(n Names) *Inside {
	return &Inside{Netns: c.Netns, Links: []InsideLink{{Name: c.Ifname, Addr: c.Address.String(), MTU: c.MTU, MAC: n.MAC(c.Addr), Bridge: c.Bridge}}}
}

// insideLine is one guest of inside.py's input: the step and the span of
// its lines in the host's ip batch.
type insideLine struct {
	ID   int `json:"id"`
	From int `json:"from"`
	To   int `json:"to"`
	*Inside
}

// renderInside writes the part of a stage script that configures every
// step's guest: one python3 process for all of them. It sets $insfail to
// the steps that failed there (they have printed their @@fail/@@err).
func renderInside(b *strings.Builder, steps []Step, spans map[int][2]int) {
	var lines []string
	var ids []string
	for _, st := range steps {
		if st.Inside == nil {
			continue
		}
		sp, ok := spans[st.ID]
		if !ok {
			sp = [2]int{0, -1}
		}
		j, _ := json.Marshal(insideLine{ID: st.ID, From: sp[0], To: sp[1], Inside: st.Inside})
		lines = append(lines, string(j))
		ids = append(ids, fmt.Sprint(st.ID))
	}
	b.WriteString("insfail=''\n")
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "insout=$(python3 -I -S -c %s \"$ipfail\" 2>&1 <<'LABNET_INSIDE'\n%s\nLABNET_INSIDE\n)\n", remote.Quote(insidePy), strings.Join(lines, "\n"))
	// python3 missing or crashed: every guest whose batch went through
	// fails with what it said.
	b.WriteString("if [ $? -ne 0 ]; then\n")
	for _, st := range steps {
		if st.Inside == nil {
			continue
		}
		cond := "true"
		if sp, ok := spans[st.ID]; ok {
			cond = fmt.Sprintf("batchok %d %d", sp[0], sp[1])
		}
		fmt.Fprintf(b, "  %s && { echo '@@fail %d'; printf '%%s\\n' \"guest configuration (python3): $insout\" | sed 's/^/@@err %d /'; }\n", cond, st.ID, st.ID)
	}
	fmt.Fprintf(b, "  insfail='%s'\nelse\n", strings.Join(ids, " "))
	b.WriteString("  insfail=$(printf '%s\\n' \"$insout\" | sed -n 's/^@@fail \\([0-9][0-9]*\\)$/\\1/p')\n")
	b.WriteString("  [ -n \"$insout\" ] && printf '%s\\n' \"$insout\"\nfi\n")
}

// Unbind is what a step lets go of: namespace files bound under dir (the
// lab's isolation dir, removed when none is left).
type Unbind struct {
	Files []string `json:"files"`
	Dir   string   `json:"dir"`
}

//go:embed unbind.py
var unbindPy string

// renderUnbindWhole writes, for a stage whose steps unbind every namespace
// file the lab's isolation dir holds (the lab's last containers on the
// host: the dir's listing is exactly their files), one lazy umount of the
// dir, a tmpfs of labnet's own, which lets go of them all, and the dir's
// removal, with no python3 start (~40 ms, most of such a removal); unbind.py
// does the files one by one after the batch if it fails or does not apply.
// It runs before the host's ip batch: tearing a thousand mount namespaces
// down while the kernel cleans up the network namespaces ip has just
// deleted, or while ip deletes them, took up to 300 ms instead of ~50.
func renderUnbindWhole(b *strings.Builder, steps []Step) {
	dir, files := unbindAll(steps)
	if dir == "" {
		return
	}
	// The shell lists in byte order (LC_ALL=C) as Go sorts, and no name
	// holds a space (kinds checks the paths).
	sort.Strings(files)
	b.WriteString(`unbwhole() { w=$2; set -- "$1"/*; [ "$*" = "$w" ]; }` + "\n")
	d := remote.Quote(dir)
	fmt.Fprintf(b, "unbdone=''\nif [ ! -d %s ]; then unbdone=1\nelif unbwhole %s %s; then umount -l %s 2>/dev/null && rmdir %s && unbdone=1\nfi\n",
		d, d, remote.Quote(strings.Join(files, " ")), d, d)
}

// renderUnbind writes the part of a stage script that unbinds every step's
// namespace files: one python3 for all of them, unless renderUnbindWhole's
// umount of the whole dir did it. It sets $unbfail to the steps that failed
// there (they have printed their @@fail/@@err), and defines unbindok; a
// stage that unbinds nothing gets none of it.
func renderUnbind(b *strings.Builder, steps []Step) {
	var lines, ids []string
	for _, st := range steps {
		if st.Unbind == nil {
			continue
		}
		j, _ := json.Marshal(struct {
			ID int `json:"id"`
			*Unbind
		}{st.ID, st.Unbind})
		lines = append(lines, string(j))
		ids = append(ids, fmt.Sprint(st.ID))
	}
	if len(lines) == 0 {
		return // nothing to unbind: the script is as it was without it
	}
	b.WriteString("unbfail=''\n")
	whole, _ := unbindAll(steps)
	if whole != "" {
		b.WriteString(`if [ -n "$unbdone" ]; then :; else` + "\n")
	}
	fmt.Fprintf(b, "unbout=$(python3 -I -S -c %s 2>&1 <<'LABNET_UNBIND'\n%s\nLABNET_UNBIND\n)\n", remote.Quote(unbindPy), strings.Join(lines, "\n"))
	// python3 missing or crashed: every step fails with what it said.
	all := strings.Join(ids, " ")
	fmt.Fprintf(b, "if [ $? -ne 0 ]; then\n  for id in %s; do echo \"@@fail $id\"; printf '%%s\\n' \"namespace files (python3): $unbout\" | sed \"s/^/@@err $id /\"; done\n  unbfail='%s'\n", all, all)
	b.WriteString("else\n  unbfail=$(printf '%s\\n' \"$unbout\" | sed -n 's/^@@fail \\([0-9][0-9]*\\)$/\\1/p')\n  [ -n \"$unbout\" ] && printf '%s\\n' \"$unbout\"\nfi\n")
	if whole != "" {
		b.WriteString("fi\n")
	}
	b.WriteString(`unbindok() { for i in $unbfail; do [ "$i" = "$1" ] && return 1; done; return 0; }` + "\n")
}

// unbindAll gives the one isolation dir every step's files are in, and the
// files, each once; "" when there are several dirs (unbind.py then does
// them).
func unbindAll(steps []Step) (dir string, files []string) {
	seen := map[string]bool{}
	for _, st := range steps {
		u := st.Unbind
		if u == nil {
			continue
		}
		if u.Dir == "" || (dir != "" && u.Dir != dir) {
			return "", nil
		}
		dir = u.Dir
		for _, f := range u.Files {
			if path.Dir(f) != dir {
				return "", nil
			}
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	return dir, files
}

// ElidePrograms replaces the embedded programs of a rendered script with a
// placeholder naming their file: golden files show a script's shape, and
// the programs have tests of their own.
func ElidePrograms(script string) string {
	script = strings.ReplaceAll(script, remote.Quote(insidePy), "'<hostnet/inside.py>'")
	script = strings.ReplaceAll(script, remote.Quote(unbindPy), "'<hostnet/unbind.py>'")
	return strings.ReplaceAll(script, remote.Quote(nsReader), "'<hostnet/observe.py>'")
}
