package kinds_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/internal/testutil"
	"github.com/labnet-dev/labnet/kinds"
)

// hostOf is the resources one host of a lab carries, in create order, of
// the kinds a script makes (hosts, networks, processes and nft tables are
// judged in other tests), with their kinds.
type hostSet struct {
	names   hostnet.Names
	host    string
	address string // the host's LAN address with its prefix length
	res     []*kinds.Resource
}

func hostSetOf(t *testing.T, lab, host string, kindsWanted ...string) hostSet {
	t.Helper()
	dir := filepath.Join("..", "labs", lab)
	if strings.Contains(lab, "/") {
		dir = filepath.Join("..", lab)
	}
	l, _, diags := config.Load(dir, config.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	hs := hostSet{names: hostnet.Names{Lab: l.Name}, host: host}
	for _, r := range kinds.Expand(l) {
		if r.Addr == host {
			hs.address = r.Attrs["address"] + "/" + strings.Split(r.Attrs["network_cidr"], "/")[1]
		}
		if r.Host == host && slices.Contains(kindsWanted, r.Kind) {
			hs.res = append(hs.res, r)
		}
	}
	return hs
}

// script is every resource's step as one host script (create, or update
// from what k read).
func (hs hostSet) script(t *testing.T, update bool, k *hostnet.Observed) string {
	t.Helper()
	s := hostnet.Script{Header: hostnet.HostPrep(hs.names)}
	for i, r := range hs.res {
		kd, _ := kinds.Get(r.Kind)
		st, err := kd.Step(hs.names, kinds.Op{Addr: r.Addr, Update: update, Before: r.Attrs, After: r.Attrs}, k)
		if err != nil {
			t.Fatal(err)
		}
		st.ID = i
		s.Steps = append(s.Steps, st)
	}
	return s.Render()
}

func (hs hostSet) observe() string {
	var w, p []kinds.Res
	for _, r := range hs.res {
		w = append(w, kinds.Res{Kind: r.Kind, Host: r.Host, Attrs: r.Attrs})
	}
	return hostnet.ObserveScript(hs.names, "h", *kinds.HostReads(w, p)[hs.host])
}

// drift judges every resource: their reasons, joined.
func (hs hostSet) drift(t *testing.T, out []byte) ([]string, *hostnet.Observed, bool) {
	t.Helper()
	k, err := hostnet.ParseObserved(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var all []string
	repairable := true
	for _, r := range hs.res {
		kd, _ := kinds.Get(r.Kind)
		v, err := kd.Judge(hs.names, r.Addr, r.Attrs, k, false)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Exists {
			repairable = false
		}
		repairable = repairable && !v.Unrepairable
		all = append(all, v.Drift...)
	}
	return all, k, repairable
}

// mutation is one property changed by hand on an applied host.
type mutation struct {
	name   string
	set    hostSet
	cmd    string   // shell, in the host's namespace
	reason string   // a drift reason must match this
	fields []string // the Link fields it changes ("Vxlan.VNI" for VxlanInfo's)
}

// TestDriftOfEveryProperty: on a real kernel, every property that the
// kinds' create steps set is changed by hand in turn; refresh must read
// it back and the kind's judge must name it (and an update must repair
// what it calls repairable). The table must change every field of
// hostnet.Link, hostnet.VxlanInfo, hostnet.IsoSeen and hostnet.FileSeen,
// every keyword the create steps give `ip link`, and every command of a
// container's isolation shell, so a property added to create or to refresh
// without a judge and a row here fails.
func TestDriftOfEveryProperty(t *testing.T) {
	testutil.NeedRoot(t)
	// The docker model with host binaries (labs/docker's run images).
	docker := hostSetOf(t, "config/testdata/valid/docker", "host.node[0]", kinds.Bridge, kinds.Container)
	flat := hostSetOf(t, "kubernetes-flat", "host.node[0]", kinds.PodNet, kinds.Pod)
	sdn := hostSetOf(t, "sdn", "host.node[0]", kinds.SegmentLink, kinds.Container, kinds.VM, kinds.NIC)
	links := hostSetOf(t, "acceptance/testdata/links", "host.h[0]", kinds.Bridge, kinds.Container, kinds.Link)
	// Two routers with private dirs and files, and a plain container.
	iso := hostSetOf(t, "config/testdata/valid/isolation", "host.h", kinds.Bridge, kinds.Container)
	attr := func(hs hostSet, addr, key string) string {
		for _, r := range hs.res {
			if r.Addr == addr {
				return r.Attrs[key]
			}
		}
		t.Fatalf("no %s on %s", addr, hs.host)
		return ""
	}
	veth, ns := attr(docker, "container.web[0]", "veth"), attr(docker, "container.web[0]", "netns")
	nicVeth, edgeNS := attr(sdn, "container.edge/nic[0]", "veth"), attr(sdn, "container.edge", "netns")
	local := attr(flat, "pod_net.node-0", "local")
	// In router r-0's mount or UTS namespace.
	inMnt := func(cmd string) string {
		return "nsenter --mount=" + attr(iso, "container.r[0]", "mount_ns") + " sh -c '" + cmd + "'"
	}
	uts := attr(iso, "container.r[0]", "uts_ns")
	remake := func(id, port, local, learning string) string {
		return `mac=$(ip -br link show dev flannel.1 | awk '{print $3}'); a=$(ip -4 -o addr show dev flannel.1 | awk '{print $4}')
ip link del flannel.1; ip link add flannel.1 type vxlan id ` + id + ` local ` + local + ` dstport ` + port + ` ` + learning + `
ip link set flannel.1 address "$mac" mtu 1450 alias ` + "labnet:kubernetes-flat:pod_net.node-0" + ` up; ip addr add "$a" dev flannel.1`
	}
	rows := []mutation{
		{"bridge down", docker, "ip link set docker0 down", `^docker0 is down$`, []string{"Up"}},
		{"bridge MTU", docker, "ip link set docker0 mtu 1400", `docker0 has MTU 1400, wants 1500`, []string{"MTU"}},
		{"bridge MAC", docker, "ip link set docker0 address 02:00:00:00:00:01", `docker0 has MAC 02:00:00:00:00:01`, []string{"MAC"}},
		{"bridge alias", docker, "ip link set docker0 alias someone-else", `docker0 is not marked as labnet's`, []string{"Alias"}},
		{"bridge address", docker, "ip addr flush dev docker0", `docker0 lacks address 172.17.0.1/16`, []string{"Addrs"}},
		{"bridge of another kind", docker, "ip link del docker0 && ip link add docker0 type veth peer name lnt-dk", `not a bridge`, []string{"Kind"}},
		{"veth on another bridge", docker, "ip link add lnt-o type bridge && ip link set " + veth + " master lnt-o", `is not on bridge docker0`, []string{"Master"}},
		{"veth MTU", docker, "ip link set " + veth + " mtu 1400", `veth ` + veth + ` has MTU 1400, wants 1500`, []string{"MTU"}},
		{"veth alias", docker, "ip link set " + veth + " alias x", `veth ` + veth + ` is not marked`, []string{"Alias"}},
		{"eth0 MAC", docker, "ip -n " + ns + " link set eth0 address 02:00:00:00:00:02", `eth0 has MAC 02:00:00:00:00:02`, []string{"MAC"}},
		{"eth0 MTU", docker, "ip -n " + ns + " link set eth0 mtu 1300", `eth0 has MTU 1300, wants 1500`, []string{"MTU"}},
		{"eth0 down", docker, "ip -n " + ns + " link set eth0 down", `^eth0 is down$`, []string{"Up"}},
		{"eth0 address", docker, "ip -n " + ns + " addr flush dev eth0", `eth0 has \[\]`, []string{"Addrs"}},
		{"vxlan VNI and port", flat, remake("99", "4789", local, "nolearning"), `flannel.1 has VNI 99, wants 1`, []string{"Vxlan.VNI", "Vxlan.Port"}},
		{"vxlan local address", flat, remake("1", "8472", "192.168.50.99", "nolearning"), `flannel.1 has local address 192.168.50.99`, []string{"Vxlan.Local"}},
		{"vxlan learning", flat, remake("1", "8472", local, "learning"), `flannel.1 has learning true, wants false`, []string{"Vxlan.Learning"}},
		{"vxlan MTU", flat, "ip link set flannel.1 mtu 1300", `flannel.1 has MTU 1300, wants 1450`, []string{"MTU"}},
		{"vxlan MAC", flat, "ip link set flannel.1 address 02:00:00:00:00:03", `flannel.1 has MAC 02:00:00:00:00:03`, []string{"MAC"}},
		{"vxlan alias", flat, "ip link set flannel.1 alias x", `flannel.1 is not marked`, []string{"Alias"}},
		{"vxlan address", flat, "ip addr flush dev flannel.1", `flannel.1 lacks 10.244.`, []string{"Addrs"}},
		{"vxlan down", flat, "ip link set flannel.1 down", `^flannel.1 is down$`, []string{"Up"}},
		{"vxlan of another kind", flat, "ip link del flannel.1 && ip link add flannel.1 type bridge", `flannel.1 is a "bridge" link, not a vxlan device`, []string{"Kind"}},
		{"cni0 MTU", flat, "ip link set cni0 mtu 1400", `cni0 has MTU 1400, wants 1450`, []string{"MTU"}},
		{"cni0 MAC", flat, "ip link set cni0 address 02:00:00:00:00:04", `cni0 has MAC 02:00:00:00:00:04`, []string{"MAC"}},
		{"segment vxlan off its bridge", sdn, "ip link set lnv-tenant-a nomaster", `lnv-tenant-a is not on lns-tenant-a`, []string{"Master"}},
		{"segment vxlan learning", sdn, "ip link set lnv-tenant-a type vxlan nolearning", `lnv-tenant-a has learning false, wants true`, []string{"Vxlan.Learning"}},
		{"segment bridge MTU", sdn, "ip link set lns-tenant-a mtu 1400", `lns-tenant-a has MTU 1400, wants 1450`, []string{"MTU"}},
		{"nic MAC", sdn, "ip -n " + edgeNS + " link set eth1 address 02:00:00:00:00:05", `eth1 has MAC 02:00:00:00:00:05`, []string{"MAC"}},
		{"link ends of two pairs", links, "ip -n ln.links.a link del eth1 && ip link add lnt-x netns ln.links.a type veth peer name lnt-y && " +
			"ip link add lnt-z netns ln.links.r type veth peer name lnt-w && ip -n ln.links.a link set lnt-x name eth1 && ip -n ln.links.r link set lnt-z name eth1",
			`eth1 in ln.links.a and eth1 in ln.links.r are not each other's peer`, []string{"Index", "Peer"}},
		{"link tunnel remote", links, "ip -n ln.links.r link del eth2 && ip link add eth2 netns ln.links.r type vxlan id " + attr(links, "link.r-b/end[0]", "vni") +
			" local 192.168.94.11 remote 192.168.94.77 dstport 4789 nolearning", `eth2 in ln.links.r has remote 192.168.94.77, wants 192.168.94.12`, []string{"Vxlan.Remote"}},
		{"link end MTU", links, "ip -n ln.links.r link set eth2 mtu 1400", `eth2 in ln.links.r has MTU 1400, wants 1450`, []string{"MTU"}},
		{"link host end down", links, "ip link set lk0 down", `^lk0 on the host is down$`, []string{"Up"}},
		{"nic veth MTU", sdn, "ip link set " + nicVeth + " mtu 1400", `veth ` + nicVeth + ` has MTU 1400, wants 1450`, []string{"MTU"}},
		{"hostname", iso, "nsenter --uts=" + uts + " hostname other", `^hostname is "other", wants "r-0"$`, []string{"Iso.Hostname"}},
		{"hosts entry", iso, inMnt("umount /etc/hosts"), `^hostname r-0 is not in /etc/hosts$`, []string{"Iso.Hosts"}},
		{"hosts entry edited", iso, inMnt("printf \"127.0.0.1 localhost\\n\" >/etc/hosts"), `^hostname r-0 is not in /etc/hosts$`, []string{"Iso.Hosts"}},
		{"private dir unmounted", iso, inMnt("umount /var/run/frr"), `^private dir /var/run/frr is not mounted$`, []string{"Iso.Tmpfs"}},
		{"private dir of another filesystem", iso, inMnt("umount /var/run/frr && mount -t ramfs labnet /var/run/frr"), `^private dir /var/run/frr is not mounted$`, []string{"Iso.Tmpfs"}},
		// The host's own /etc/frr shows through (this machine may have
		// FRR): the files must be written again in a new tmpfs, never there.
		{"private dir unmounted, files under it", iso, inMnt("umount -l /etc/frr"), `^private dir /etc/frr is not mounted$`, []string{"Iso.Tmpfs"}},
		{"file content", iso, inMnt("echo x >>/etc/frr/frr.conf"), `^file /etc/frr/frr.conf: content differs$`, []string{"File.SHA256"}},
		{"file mode", iso, inMnt("chmod 0600 /etc/frr/daemons"), `^file /etc/frr/daemons: mode is 0600, wants 0644$`, []string{"File.Mode"}},
		{"file deleted", iso, inMnt("rm /etc/frr/daemons"), `^file /etc/frr/daemons is missing$`, []string{"Iso.Files"}},
		{"file replaced by a directory", iso, inMnt("rm /etc/frr/daemons && mkdir /etc/frr/daemons"), `^file /etc/frr/daemons is not a regular file$`, []string{"File.SHA256"}},
		{"sysfs of the host", iso, inMnt("umount /sys"), `^/sys shows another network namespace`, []string{"Iso.SysMAC"}},
		{"uts namespace unbound", iso, "umount " + uts, `^uts namespace .*/r-0.uts is missing$`, []string{"Iso.UTS"}},
		{"mount namespace unbound", iso, "umount " + attr(iso, "container.r[0]", "mount_ns"), `^mount namespace .*/r-0.mnt is missing$`, []string{"Iso.Mount"}},
	}
	changed := map[string]bool{}
	for _, row := range rows {
		for _, f := range row.fields {
			changed[f] = true
		}
		t.Run(row.name, func(t *testing.T) { runMutation(t, row) })
	}
	// Every field refresh reads is changed by some row.
	need := func(typ reflect.Type, prefix string) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			switch {
			case f.Name == "Name" || f.Name == "Qdisc": // the key; shaping has its own tests
			case f.Name == "Vxlan":
			default:
				if !changed[prefix+f.Name] {
					t.Errorf("refresh reads %s%s, but no row changes it: add one (and a judge)", prefix, f.Name)
				}
			}
		}
	}
	need(reflect.TypeOf(hostnet.Link{}), "")
	need(reflect.TypeOf(hostnet.VxlanInfo{}), "Vxlan.")
	need(reflect.TypeOf(hostnet.IsoSeen{}), "Iso.")
	need(reflect.TypeOf(hostnet.FileSeen{}), "File.")
	// Every command a container's isolation shell runs sets something a
	// row changes, or is named here as shaping the commands only.
	for _, r := range iso.res {
		if r.Kind != kinds.Container {
			continue
		}
		kd, _ := kinds.Get(r.Kind)
		st, _ := kd.Step(iso.names, kinds.Op{Addr: r.Addr, After: r.Attrs}, nil)
		for _, cmd := range shellCommands(st.Shell) {
			field, known := isoCommands[cmd]
			switch {
			case !known:
				t.Errorf("%s: create runs %q, which refresh does not read and no judge compares (or add it to isoCommands)", r.Addr, cmd)
			case field != "" && !changed[field]:
				t.Errorf("%s: create runs %q (%s), but no row changes it", r.Addr, cmd, field)
			}
		}
	}
	// Every property the create steps give ip is one refresh reads.
	keyword := map[string]string{"address": "MAC", "mtu": "MTU", "alias": "Alias", "master": "Master", "up": "Up", "type": "Kind",
		"id": "Vxlan.VNI", "local": "Vxlan.Local", "remote": "Vxlan.Remote", "dstport": "Vxlan.Port", "nolearning": "Vxlan.Learning"}
	structural := map[string]int{"name": 1, "dev": 1, "netns": 1, "peer": 0} // words of the command's shape, and how many values follow
	word := regexp.MustCompile(`\S+`)
	for _, hs := range []hostSet{docker, flat, sdn, iso, links} {
		for _, r := range hs.res {
			kd, _ := kinds.Get(r.Kind)
			st, _ := kd.Step(hs.names, kinds.Op{Addr: r.Addr, After: r.Attrs}, nil)
			for _, line := range st.Batch {
				w := word.FindAllString(line, -1)
				if len(w) < 2 || w[0] != "link" || (w[1] != "add" && w[1] != "set") {
					continue
				}
				for i := 2; i < len(w); i++ {
					switch {
					case slices.Contains([]string{"name", "dev", "netns", "peer"}, w[i]):
						i += structural[w[i]]
					case keyword[w[i]] != "":
						if !changed[keyword[w[i]]] {
							t.Errorf("%s: create sets %q, but no row changes it", r.Addr, w[i])
						}
						if w[i] != "up" && w[i] != "nolearning" {
							i++
						}
					default:
						t.Errorf("%s: create sets %q (%q), which refresh does not read and no judge compares", r.Addr, w[i], line)
					}
				}
			}
		}
	}
}

// runMutation applies the host's resources in a throwaway namespace,
// changes one property, reads the host and judges; then lets the kinds
// repair it (an update, when the judge calls it repairable) and judges
// again.
func runMutation(t *testing.T, row mutation) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name+".tmp"), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, name+".tmp"), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	hs := row.set
	// The host's LAN interface, as a netns host has it (routes to pods
	// use its address as their source).
	write("create.sh", "ip link add eth0 type veth peer name lnt-lan && ip addr add "+hs.address+" dev eth0 && ip link set eth0 up\n"+
		hs.script(t, false, nil))
	write("mutate.sh", "set -e\n"+row.cmd+"\n")
	write("observe.sh", hs.observe())
	driver := `set -e
mount -t tmpfs labnet-test /run && mkdir -p /run/netns
sh create.sh > create.out
sh observe.sh > before.tmp && mv before.tmp before.out
sh mutate.sh
sh observe.sh > mutated.tmp && mv mutated.tmp mutated.out
i=0; until [ -e repair.sh ] || [ $i -ge 3000 ]; do sleep 0.01; i=$((i+1)); done
sh repair.sh > repair.out
sh observe.sh > repaired.tmp && mv repaired.tmp repaired.out
`
	cmd := exec.Command("unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", driver)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	wait := func(name string) []byte {
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				return b
			}
			select {
			case err := <-done:
				create, _ := os.ReadFile(filepath.Join(dir, "create.out"))
				t.Fatalf("driver ended before %s: %v\n%s\n%s", name, err, out.String(), create)
			default:
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	if d, _, _ := hs.drift(t, wait("before.out")); len(d) > 0 {
		create, _ := os.ReadFile(filepath.Join(dir, "create.out"))
		write("repair.sh", "true")
		t.Fatalf("drift right after create: %q\n%s", d, create)
	}
	d, k, repairable := hs.drift(t, wait("mutated.out"))
	re := regexp.MustCompile(row.reason)
	if !slices.ContainsFunc(d, re.MatchString) {
		write("repair.sh", "true")
		<-done
		t.Fatalf("no drift reason matches %q: %q", row.reason, d)
	}
	if !repairable {
		write("repair.sh", "true") // the plan replaces it: other tests remake guests
		<-done
		t.Logf("replaced, not repaired: %q", d)
		return
	}
	write("repair.sh", hs.script(t, true, k))
	if err := <-done; err != nil {
		t.Fatalf("driver: %v\n%s", err, out.String())
	}
	if d, _, _ := hs.drift(t, wait("repaired.out")); len(d) > 0 {
		rep, _ := os.ReadFile(filepath.Join(dir, "repair.out"))
		t.Errorf("drift after the repair: %q\n%s", d, rep)
	}
}

// isoCommands are the commands a container's isolation shell may run, by
// the field of hostnet.IsoSeen or FileSeen refresh reads back for what it
// sets; "" for those that only shape the commands (and why).
var isoCommands = map[string]string{
	"unshare --uts":        "Iso.UTS",
	"unshare --mount":      "Iso.Mount",
	"hostname":             "Iso.Hostname",
	"mount -t sysfs":       "Iso.SysMAC",
	"mount -t tmpfs":       "Iso.Tmpfs",
	"base64":               "File.SHA256",
	"chmod":                "File.Mode",
	"mkdir":                "",          // where a mount point or a file goes
	"mountpoint":           "",          // whether the isolation dir is bound already
	"mount --bind":         "Iso.Hosts", // its /etc/hosts
	"cat":                  "Iso.Hosts", // the host's /etc/hosts, copied into it
	"printf":               "Iso.Hosts", // its hostname, added
	"mount --make-private": "",          // the isolation dir, mounted once per lab: judged by the namespace files in it
	":":                    "",          // the empty files the namespaces are bound on
	"nsenter":              "",          // enters the container's namespaces
	"sh":                   "",          // runs one of these scripts
	"set":                  "",
	"shift":                "",
	"umount":               "", // lets go of the host's namespace files copied into the new view
	"taskset":              "", // pins an unshare to one CPU
	"read":                 "", // the CPU that worked last
	"getconf":              "", // how many CPUs to try
	"echo":                 "", // the error when no CPU works
	"exit":                 "",
	"mv":                   "", // puts a written file in place
	"rm":                   "", // clears the way for it (a directory made by hand at its path)
	"true":                 "",
	"false":                "",
}

var (
	shellSplit = regexp.MustCompile(`&&|\|\||;|\n|\{|\}|\$\(|\bthen\b|\bdo\b|\belse\b`)
	quoted     = regexp.MustCompile(`'\\''`)
)

// shellCommands lists the commands of a shell text, the scripts it passes
// to sh -c included (quotes dropped), without here-document bodies, by
// their name and, for mount and unshare, the option that says what they do.
func shellCommands(text string) []string {
	var out []string
	var lines []string
	skip := ""
	for _, line := range strings.Split(text, "\n") {
		if skip != "" {
			if line == skip {
				skip = ""
			}
			continue
		}
		if i := strings.Index(line, "<<'"); i >= 0 {
			skip = strings.TrimSuffix(strings.Fields(line[i+3:])[0], "'")
		}
		lines = append(lines, line)
	}
	text = strings.ReplaceAll(quoted.ReplaceAllString(strings.Join(lines, "\n"), "'"), "'", "")
	for _, part := range shellSplit.Split(text, -1) {
		w := strings.Fields(part)
		if len(w) == 0 || strings.HasPrefix(w[0], "#") || slices.Contains([]string{"while", "done", "for", "fi", "if", "elif", "[", "break"}, w[0]) || strings.HasPrefix(w[0], "(") ||
			strings.HasPrefix(w[0], "n=") || strings.HasPrefix(w[0], "c=") || strings.HasPrefix(w[0], "ok=") || strings.HasPrefix(w[0], "cpu=") || strings.HasPrefix(strings.TrimLeft(w[0], "0123456789"), ">") || strings.HasPrefix(w[0], "labnet-") {
			continue
		}
		cmd := w[0]
		if _, after, ok := strings.Cut(cmd, ":+"); ok {
			cmd = after // ${v:+cmd ...}: cmd runs when v is set
		}
		if (cmd == "mount" || cmd == "unshare") && len(w) > 1 {
			if w[1] == "-c" && len(w) > 2 { // no canonical paths: says nothing of what it mounts
				w = append(w[:1], w[2:]...)
			}
			opt := w[1]
			if opt == "-t" && len(w) > 2 {
				opt += " " + w[2]
			}
			cmd += " " + strings.SplitN(opt, "=", 2)[0]
		}
		out = append(out, cmd)
	}
	return out
}
