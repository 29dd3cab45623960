package acceptance

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
	"github.com/labnet-dev/labnet/provider/netns"
	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// TestSecurity applies labs/docker with two extra processes whose argv is
// hostile shell text, then proves: the state directory and its secrets are
// private; no output and no state file carries private key material; the
// pinned host keys are the ones the hosts' sshd present; sshd listens only
// on the host's LAN address and refuses any key but the lab's; a changed
// host key stops plan and apply; and the hostile argv reaches the program
// as single arguments without any shell ever interpreting it.
func TestSecurity(t *testing.T) {
	l := newLab(t, "docker")
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	tag := hex.EncodeToString(rb[:])
	pwned := "/tmp/pwned-" + tag
	t.Cleanup(func() {
		files, _ := filepath.Glob(pwned + "*")
		for _, f := range files {
			os.Remove(f)
		}
	})
	hostile := []string{
		"a;b",
		"; touch " + pwned + "-semi ;",
		"$(touch " + pwned + ")",
		"`touch " + pwned + "-bt`",
		"' ; touch " + pwned + "-sq ; '",
		`" ; touch ` + pwned + `-dq ; "`,
		"first line\ntouch " + pwned + "-nl\n",
		"${HOME} $HOME %{ if true }x%{ endif } | touch " + pwned + "-pipe && touch " + pwned + "-and > " + pwned + "-redir",
		"",
		"*",
		`\`,
		"-c",
	}
	logs := map[string]string{ // process address -> its argv log inside its host's /run
		"process.hostile_host": "/run/labnet-argv-" + tag + "-host.json",
		"process.hostile_ctr":  "/run/labnet-argv-" + tag + "-ctr.json",
	}
	// A container with host binaries (the lab's run an image) for the
	// process that runs in a container's namespaces.
	hostileLab := "container \"plain\" {\n  host   = host.node[1]\n  bridge = bridge.docker0[1]\n}\n\n"
	for _, p := range []struct{ name, on string }{{"hostile_host", "host.node[0]"}, {"hostile_ctr", "container.plain"}} {
		code := fmt.Sprintf(`import sys, json, time; open(%q, "w").write(json.dumps(sys.argv)); time.sleep(86400)`, logs["process."+p.name])
		args := []string{hclString("python3"), hclString("-c"), hclString(code)}
		for _, h := range hostile {
			args = append(args, hclString(h))
		}
		hostileLab += fmt.Sprintf("process %q {\n  on      = %s\n  command = [\n    %s,\n  ]\n}\n\n", p.name, p.on, strings.Join(args, ",\n    "))
	}
	if err := os.WriteFile(filepath.Join(l.dir, "hostile.hcl"), []byte(hostileLab), 0o644); err != nil {
		t.Fatal(err)
	}
	l.must(0, "apply", "-auto-approve")
	stateDir := filepath.Join(l.dir, ".labnet")

	// The state directory and its secrets are private.
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{"", 0o700}, {"state.json", 0o600}, {"state.json.backup", 0o600}, {"id_ed25519", 0o600}} {
		fi, err := os.Stat(filepath.Join(stateDir, f.name))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if fi.Mode().Perm() != f.mode {
			t.Errorf(".labnet/%s has mode %v, want %v", f.name, fi.Mode().Perm(), f.mode)
		}
	}

	// No private key material in what labnet prints or keeps in the state:
	// neither the PEM armour nor any line of the lab's client key or of a
	// host's private host key.
	keyFile, err := os.ReadFile(filepath.Join(stateDir, "id_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	clientKey, err := ssh.ParsePrivateKey(keyFile)
	if err != nil {
		t.Fatalf("id_ed25519: %v", err)
	}
	secrets := pemBodyLines(keyFile)
	holders := map[string]string{}
	for _, h := range []string{"node-0", "node-1"} {
		holders[h] = holderPID(t, l.name, h)
		dir := "/proc/" + holders[h] + "/root/run/labnet-sshd"
		for _, f := range []struct {
			name string
			mode os.FileMode
		}{{"", 0o700}, {"host_key", 0o600}} {
			if fi, err := os.Stat(filepath.Join(dir, f.name)); err != nil || fi.Mode().Perm() != f.mode {
				t.Errorf("%s: %s/%s: %v (mode %v, want %v)", h, "/run/labnet-sshd", f.name, err, modeOf(fi), f.mode)
			}
		}
		hk, err := os.ReadFile(filepath.Join(dir, "host_key"))
		if err != nil {
			t.Fatalf("%s host key: %v", h, err)
		}
		secrets = append(secrets, pemBodyLines(hk)...)
	}
	if len(secrets) < 6 {
		t.Fatalf("found only %d lines of private keys to look for", len(secrets))
	}
	texts := map[string]string{}
	for _, args := range [][]string{{"show"}, {"show", "-json"}, {"plan"}, {"plan", "-json"}, {"output", "-json"}, {"state", "list"}} {
		out, errOut, code := l.run(args...)
		if code != 0 {
			t.Errorf("labnet %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		texts["labnet "+strings.Join(args, " ")] = out + errOut
	}
	for _, f := range []string{"state.json", "state.json.backup"} {
		b, err := os.ReadFile(filepath.Join(stateDir, f))
		if err != nil {
			t.Fatal(err)
		}
		texts[".labnet/"+f] = string(b)
	}
	for what, text := range texts {
		if strings.Contains(text, "PRIVATE KEY") {
			t.Errorf("%s contains PRIVATE KEY", what)
		}
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a line of a private key", what)
				break
			}
		}
	}

	// The pinned host keys are what the hosts' sshd present; the lab's key
	// logs in, a foreign key and a password do not.
	pins := pinnedHostKeys(t, filepath.Join(stateDir, "state.json"))
	if len(pins) != 2 {
		t.Fatalf("pinned host keys: %v, want 2", pins)
	}
	foreign := newSigner(t)
	for addr, pin := range pins {
		presented, err := sshLogin(l.name, pin.sshAddr, ssh.PublicKeys(clientKey))
		if err != nil {
			t.Errorf("%s: login with the lab's key: %v", addr, err)
		}
		if presented != pin.key {
			t.Errorf("%s: sshd presents %q, the state pins %q", addr, presented, pin.key)
		}
		for name, auth := range map[string]ssh.AuthMethod{"a foreign key": ssh.PublicKeys(foreign), "a password": ssh.Password("root")} {
			presented, err := sshLogin(l.name, pin.sshAddr, auth)
			if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
				t.Errorf("%s: login with %s: %v, want it refused", addr, name, err)
			}
			if presented != pin.key {
				t.Errorf("%s: the handshake with %s did not reach authentication (host key %q)", addr, name, presented)
			}
		}
	}

	// sshd listens on the host's LAN address only.
	for h, want := range map[string]string{"node-0": "192.168.50.11:22", "node-1": "192.168.50.12:22"} {
		out, err := exec.Command("nsenter", "-t", holders[h], "-n", "ss", "-Htln").Output()
		if err != nil {
			t.Fatalf("ss in %s: %v", h, err)
		}
		var listening []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(line); len(f) >= 4 {
				listening = append(listening, f[3])
			}
		}
		if len(listening) == 0 || slices.ContainsFunc(listening, func(a string) bool { return a != want }) {
			t.Errorf("%s: TCP listeners %v, want only %s:\n%s", h, listening, want, out)
		}
	}

	// The hostile argv arrived as single arguments, and no shell ran any of it.
	for addr, logPath := range logs {
		host := "node-0"
		if addr == "process.hostile_ctr" {
			host = "node-1"
		}
		var raw []byte
		deadline := time.Now().Add(10 * time.Second)
		for {
			raw, err = exec.Command("nsenter", "-t", holders[host], "-m", "-r", "-w", "cat", logPath).Output()
			if err == nil && len(raw) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		var argv []string
		if err := json.Unmarshal(raw, &argv); err != nil {
			t.Errorf("%s: argv log %s on %s: %v: %q", addr, logPath, host, err, raw)
			continue
		}
		if len(argv) < 1 || !slices.Equal(argv[1:], hostile) {
			t.Errorf("%s: sys.argv[1:] =\n%q\nwant\n%q", addr, argv[1:], hostile)
		}
		// The kernel agrees: the process's own argv, element by element.
		for _, pid := range strings.Split(ownedPIDs(t, l.name, addr), ",") {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			got := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
			if len(got) < 3 || got[0] != "python3" || !slices.Equal(got[3:], hostile) {
				t.Errorf("%s: pid %s argv %q", addr, pid, got)
			}
		}
	}
	for _, where := range []string{"", holders["node-0"], holders["node-1"]} {
		var out []byte
		if where == "" {
			files, _ := filepath.Glob(pwned + "*")
			out = []byte(strings.Join(files, " "))
		} else {
			out, _ = exec.Command("nsenter", "-t", where, "-m", "-r", "-w", "sh", "-c", "ls -d "+pwned+"* /run/pwned-* 2>/dev/null; true").Output()
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("a shell ran the hostile text (mount namespace of %q): %s", where, s)
		}
	}

	// A changed host key stops plan and apply and touches nothing.
	statePath := filepath.Join(stateDir, "state.json")
	orig, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(statePath, orig, 0o600) }) // before newLab's destroy runs
	other := ssh.MarshalAuthorizedKey(newSigner(t).PublicKey())
	tampered := tamperHostKey(t, orig, "host.node[0]", strings.TrimSpace(string(other)))
	if err := os.WriteFile(statePath, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"plan"}, {"apply", "-auto-approve"}} {
		out, errOut, code := l.run(args...)
		if code != 1 || !strings.Contains(out+errOut, "host key changed") {
			t.Errorf("labnet %s with a changed host key: exit %d, want 1 and %q:\n%s%s", strings.Join(args, " "), code, "host key changed", out, errOut)
		}
	}
	if pid := holderPID(t, l.name, "node-0"); pid != holders["node-0"] {
		t.Errorf("apply with a changed host key replaced the host (holder %s -> %s)", holders["node-0"], pid)
	}
	if err := os.WriteFile(statePath, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	l.must(0, "plan", "-detailed-exitcode")
}

// TestSecurityRejectsShellMetacharacters: lab names, resource labels and
// for_each keys become kernel names, paths and marks on the hosts, so any
// shell metacharacter in them is a validation error with a position.
func TestSecurityRejectsShellMetacharacters(t *testing.T) {
	testutil.NeedRoot(t) // only for labnetBin, built by TestMain as root
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	pwned := "/tmp/pwned-" + hex.EncodeToString(rb[:])
	const base = "network \"lan\" {\n  cidr = \"192.168.77.0/24\"\n}\n"
	cases := []struct {
		name, dir, hcl, want string
	}{
		{"lab name ;", "lab", `lab { name = "x;touch ` + pwned + `" }` + "\n" + base, "main.hcl:1:14: error: Invalid lab name"},
		{"lab name $()", "lab", `lab { name = "$(touch ` + pwned + `)" }` + "\n" + base, "main.hcl:1:14: error: Invalid lab name"},
		{"lab name backticks", "lab", "lab { name = \"`touch " + pwned + "`\" }\n" + base, "main.hcl:1:14: error: Invalid lab name"},
		{"lab name newline", "lab", `lab { name = "a\nb" }` + "\n" + base, "main.hcl:1:14: error: Invalid lab name"},
		{"lab directory", "x;touch " + filepath.Base(pwned), base, "error: Invalid lab name"},
		{"host label", "lab", "lab { name = \"sec\" }\n" + base + "host \"node;touch " + pwned + "\" {\n  network = network.lan\n}\n", "main.hcl:5:6: error: Invalid name"},
		{"bridge label", "lab", "lab { name = \"sec\" }\n" + base + "host \"n\" {\n  network = network.lan\n}\nbridge \"br'x\" {\n  host = host.n\n  cidr = \"10.9.0.0/24\"\n}\n", "main.hcl:8:8: error: Invalid name"},
		{"process label", "lab", "lab { name = \"sec\" }\n" + base + "host \"n\" {\n  network = network.lan\n}\nprocess \"p`touch " + pwned + "`\" {\n  on      = host.n\n  command = [\"true\"]\n}\n", "main.hcl:8:9: error: Invalid name"},
		{"check label", "lab", "lab { name = \"sec\" }\n" + base + "host \"n\" {\n  network = network.lan\n}\ncheck \"c$(touch " + pwned + ")\" {\n  from = host.n\n  exec = \"true\"\n}\n", "main.hcl:8:7: error: Invalid name"},
		{"for_each key", "lab", "lab { name = \"sec\" }\n" + base + "host \"n\" {\n  for_each = toset([\"a;touch " + pwned + "\"])\n  network  = network.lan\n}\n", "main.hcl:6:14: error: Invalid for_each key"},
		{"variable name", "lab", "lab { name = \"sec\" }\n" + base + "variable \"v;x\" {\n  default = 1\n}\n", "main.hcl:5:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(tc.hcl), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(labnetBin, "-chdir="+dir, "validate")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("validate: %v, want exit 1\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("validate does not say %q:\n%s", tc.want, out.String())
			}
			if _, err := os.Stat(filepath.Join(dir, ".labnet")); err == nil {
				t.Errorf("validate of an invalid lab created .labnet")
			}
		})
	}
	if files, _ := filepath.Glob(pwned + "*"); len(files) > 0 {
		t.Errorf("a shell ran lab text: %v", files)
	}
}

// hclString renders s as an HCL quoted string that evaluates to exactly s
// (no interpolation, no directives).
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '"':
			b.WriteString(`\"`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pemBodyLines returns the base64 lines of every PEM block in b.
func pemBodyLines(b []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return lines
}

func modeOf(fi os.FileInfo) os.FileMode {
	if fi == nil {
		return 0
	}
	return fi.Mode().Perm()
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type pin struct{ key, sshAddr string }

// pinnedHostKeys reads the host keys the state pins, by host address.
func pinnedHostKeys(t *testing.T, path string) map[string]pin {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Addr   string `json:"addr"`
			Kind   string `json:"kind"`
			Record struct {
				HostKey string `json:"host_key"`
				SSHAddr string `json:"ssh_addr"`
			} `json:"record"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	pins := map[string]pin{}
	for _, r := range st.Resources {
		if r.Kind == "host" {
			if r.Record.HostKey == "" || r.Record.SSHAddr == "" {
				t.Errorf("%s: no pinned host key or ssh address in the state", r.Addr)
				continue
			}
			pins[r.Addr] = pin{key: r.Record.HostKey, sshAddr: r.Record.SSHAddr}
		}
	}
	return pins
}

// tamperHostKey returns the state with addr's pinned host key replaced.
func tamperHostKey(t *testing.T, state []byte, addr, key string) []byte {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal(state, &st); err != nil {
		t.Fatal(err)
	}
	done := false
	for _, r := range st["resources"].([]any) {
		res := r.(map[string]any)
		if res["addr"] == addr {
			rec := res["record"].(map[string]any)
			if rec["host_key"] == key {
				t.Fatal("the replacement key is the pinned one")
			}
			rec["host_key"] = key
			done = true
		}
	}
	if !done {
		t.Fatalf("%s not in the state", addr)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// sshLogin connects to a host's sshd from inside the lab's underlay
// namespace, as labnet does, and tries to log in as root with auth. It
// returns the host key the server presented (authorized_keys form).
func sshLogin(lab, addr string, auth ssh.AuthMethod) (string, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// This thread enters the lab's namespace and is never unlocked, so
		// it ends with the goroutine instead of serving anything else.
		runtime.LockOSThread()
		f, err := os.Open(netns.UnderlayPath(lab))
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, err}
			return
		}
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		ch <- result{c, err}
	}()
	r := <-ch
	if r.err != nil {
		return "", r.err
	}
	defer r.c.Close()
	_ = r.c.SetDeadline(time.Now().Add(10 * time.Second))
	var presented string
	cfg := &ssh.ClientConfig{
		User: "root",
		Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			presented = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
			return nil
		},
		Timeout: 10 * time.Second,
	}
	c, chans, reqs, err := ssh.NewClientConn(r.c, addr, cfg)
	if err != nil {
		return presented, err
	}
	client := ssh.NewClient(c, chans, reqs)
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		return presented, err
	}
	defer s.Close()
	out, err := s.Output("id -u")
	if err == nil && strings.TrimSpace(string(out)) != "0" {
		err = fmt.Errorf("logged in as uid %q", out)
	}
	return presented, err
}
