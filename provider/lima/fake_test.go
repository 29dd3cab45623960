package lima

// Test doubles for the unit tests of this package only: a fake `limactl`
// (a shell script that honours the CLI contract labnet relies on, records
// its argv and keeps a canned instance list, but runs no VM) and a fake
// guest (an in-process SSH server that runs commands on this machine with
// a fake `sudo` and a fake `ip`). The real thing is tested in
// lima_accept_test.go where limactl exists.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// fakeLimactl is a TEST DOUBLE of the limactl CLI.
const fakeLimactl = `#!/bin/sh
# TEST DOUBLE of the limactl CLI for labnet's unit tests only: it records its
# argv, keeps instances as directories under $LIMA_HOME and prints a canned
# ` + "`list --json`" + `; it runs no VM.
printf '%s\n' "$*" >> "$FAKE_LIMACTL_LOG"
case "$1" in
--version)
  echo "limactl version ${FAKE_LIMACTL_VERSION:-2.2.0}" ;;
list)
  if [ -n "$FAKE_LIMACTL_LIST" ]; then cat "$FAKE_LIMACTL_LIST"; exit 0; fi
  for d in "$LIMA_HOME"/*/; do
    [ -f "$d/lima.yaml" ] || continue
    n=$(basename "$d"); st=$(cat "$d/status"); port=0
    [ "$st" = Running ] && port=$FAKE_LIMACTL_SSH_PORT
    printf '{"name":"%s","status":"%s","dir":"%s","network":[{"lima":"user-v2","macAddress":"52:55:55:12:34:56","interface":"lima0"}],"sshLocalPort":%s,"sshConfigFile":"%s","sshAddress":"127.0.0.1","LimaHome":"%s","IdentityFile":"%s"}\n' \
      "$n" "$st" "${d%/}" "$port" "${d}ssh.config" "$LIMA_HOME" "$LIMA_HOME/_config/user"
  done ;;
create)
  case "$2" in --name=*) ;; *) echo "fake limactl: create wants --name= first" >&2; exit 2 ;; esac
  n=${2#--name=}; f=$4
  [ "$3" = --tty=false ] || { echo "fake limactl: create without --tty=false" >&2; exit 2; }
  [ -d "$LIMA_HOME/$n" ] && { echo "instance \"$n\" already exists" >&2; exit 1; }
  if [ -n "$FAKE_LIMACTL_KEYGEN" ] && [ ! -f "$LIMA_HOME/_config/user" ]; then
    # As Lima does: it makes the user's key on first use, checking for it
    # before taking its lock, so a create that overlaps the first one's
    # ssh-keygen fails.
    if ! mkdir "$LIMA_HOME/_config/.keygen" 2>/dev/null; then
      sleep 0.1
      echo "failed to run [ssh-keygen -t ed25519 -q -N  -C lima -f $LIMA_HOME/_config/user]: \"$LIMA_HOME/_config/user already exists. Overwrite (y/n)? \"" >&2; exit 1
    fi
    sleep 0.3
    cp "$FAKE_LIMACTL_KEYGEN" "$LIMA_HOME/_config/user"
  fi
  mkdir -p "$LIMA_HOME/$n" && cp "$f" "$LIMA_HOME/$n/lima.yaml" && echo Stopped > "$LIMA_HOME/$n/status"
  printf 'Host lima-%s\n  User fakeuser\n  Hostname 127.0.0.1\n' "$n" > "$LIMA_HOME/$n/ssh.config" ;;
start)
  n=$3
  case "$FAKE_LIMACTL_START" in
  fail)
    printf 'boot line %s\n' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 > "$LIMA_HOME/$n/ha.stderr.log"
    echo 'level=fatal msg="did not receive an event with the \"running\" status"' >&2; exit 1 ;;
  hang)
    echo "still waiting" > "$LIMA_HOME/$n/ha.stderr.log"
    exec sleep 30 ;;
  esac
  echo Running > "$LIMA_HOME/$n/status" ;;
stop)
  echo Stopped > "$LIMA_HOME/$3/status" ;;
delete)
  [ -d "$LIMA_HOME/$3" ] || { echo "failed to find the instance \"$3\"" >&2; exit 1; }
  rm -rf "$LIMA_HOME/$3" ;;
*)
  echo "fake limactl: unexpected $*" >&2; exit 2 ;;
esac
`

// fakeSudo is a TEST DOUBLE of sudo in the fake guest: it insists on -n,
// records the call and runs what follows `env -i VAR=...` with the fake
// guest's tools first on PATH.
const fakeSudo = `#!/bin/sh
[ "$1" = -n ] || { echo "fake sudo: want -n" >&2; exit 1; }
echo "$*" >> "$FAKE_SUDO_LOG"
shift
if [ "$1" = env ]; then shift; [ "$1" = -i ] && shift; fi
while :; do case "$1" in *=*) shift ;; *) break ;; esac; done
PATH="$FAKEBIN:/usr/bin:/bin" exec "$@"
`

// fakeIP is a TEST DOUBLE of ip in the fake guest: canned JSON.
const fakeIP = `#!/bin/sh
echo "$*" >> "$FAKE_IP_LOG"
cat "$FAKE_IP_JSON"
`

// guestIPJSON is what `ip -j -4 addr show` prints on a Lima VM on user-v2.
const guestIPJSON = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"mtu":65536,"address":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"}]},` +
	`{"ifindex":2,"ifname":"eth0","flags":["BROADCAST","UP"],"mtu":1500,"address":"52:55:55:aa:bb:cc","addr_info":[{"family":"inet","local":"192.168.5.15","prefixlen":24,"scope":"global","dynamic":true,"label":"eth0"}]},` +
	`{"ifindex":3,"ifname":"lima0","flags":["BROADCAST","UP"],"mtu":1500,"address":"52:55:55:12:34:56","addr_info":[{"family":"inet","local":"192.168.104.7","prefixlen":24,"scope":"global","dynamic":true,"label":"lima0"}]}]`

type fakeLima struct {
	dir, home, argvLog, sudoLog, ipLog string
	port                               int
}

func writeExec(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// newFakeLima installs the fake limactl and guest and returns a provider
// driving them as a non-root user would.
func newFakeLima(t *testing.T) (*Provider, *fakeLima) {
	t.Helper()
	dir := t.TempDir()
	f := &fakeLima{dir: dir, home: filepath.Join(dir, "lima"), argvLog: filepath.Join(dir, "argv"), sudoLog: filepath.Join(dir, "sudo"), ipLog: filepath.Join(dir, "ip")}
	bin := filepath.Join(dir, "bin")
	guest := filepath.Join(dir, "guest")
	for _, d := range []string{bin, guest, filepath.Join(f.home, "_config")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeExec(t, filepath.Join(bin, "limactl"), fakeLimactl)
	writeExec(t, filepath.Join(guest, "sudo"), fakeSudo)
	writeExec(t, filepath.Join(guest, "ip"), fakeIP)
	ipJSON := filepath.Join(dir, "ip.json")
	if err := os.WriteFile(ipJSON, []byte(guestIPJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	// Lima's key pair, as the first limactl create makes it (newKey
	// removes it again, for the fake create to make).
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(priv, "lima")
	for _, path := range []string{filepath.Join(f.home, "_config", "user"), filepath.Join(dir, "userkey")} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	limaKey, _ := ssh.NewSignerFromKey(priv)
	f.port = fakeGuest(t, limaKey.PublicKey(), []string{
		"PATH=" + guest + ":/usr/bin:/bin", "FAKEBIN=" + guest,
		"FAKE_SUDO_LOG=" + f.sudoLog, "FAKE_IP_LOG=" + f.ipLog, "FAKE_IP_JSON=" + ipJSON,
	})
	t.Setenv("FAKE_LIMACTL_LOG", f.argvLog)
	t.Setenv("FAKE_LIMACTL_SSH_PORT", strconv.Itoa(f.port))
	t.Setenv("FAKE_LIMACTL_LIST", "")
	t.Setenv("FAKE_LIMACTL_START", "")
	t.Setenv("FAKE_LIMACTL_VERSION", "")
	t.Setenv("FAKE_LIMACTL_KEYGEN", "")
	p := New()
	p.Limactl = filepath.Join(bin, "limactl")
	p.Home = f.home
	p.geteuid = func() int { return 1000 }
	return p, f
}

// newKey makes this a Lima home that never ran: its first create makes
// the user's key, racing as Lima's does.
func (f *fakeLima) newKey(t *testing.T) {
	t.Helper()
	if err := os.Remove(filepath.Join(f.home, "_config", "user")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_LIMACTL_KEYGEN", filepath.Join(f.dir, "userkey"))
}

// argv returns the recorded limactl calls, one per line, without --version.
func (f *fakeLima) argv(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.argvLog)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" && l != "--version" {
			out = append(out, l)
		}
	}
	return out
}

func (f *fakeLima) reset(t *testing.T) {
	t.Helper()
	_ = os.Remove(f.argvLog)
}

// fakeGuest is a TEST DOUBLE of a Lima guest's sshd: it accepts only Lima's
// key and runs each exec request with /bin/sh -c on this machine, in env.
func fakeGuest(t *testing.T, allowed ssh.PublicKey, env []string) int {
	t.Helper()
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, _ := ssh.NewSignerFromKey(hk)
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == string(allowed.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("key not allowed")
		},
	}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveGuest(c, cfg, env)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func serveGuest(c net.Conn, cfg *ssh.ServerConfig, env []string) {
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for r := range creqs {
				if r.Type != "exec" {
					_ = r.Reply(false, nil)
					continue
				}
				if len(r.Payload) < 4 {
					_ = r.Reply(false, nil)
					return
				}
				n := binary.BigEndian.Uint32(r.Payload)
				command := string(r.Payload[4 : 4+n])
				_ = r.Reply(true, nil)
				cmd := exec.Command("/bin/sh", "-c", command)
				cmd.Env = env
				cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
				code := 0
				if err := cmd.Run(); err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						code = ee.ExitCode()
					} else {
						code = 127
					}
				}
				_, _ = io.WriteString(ch.Stderr(), "")
				_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
				return
			}
		}()
	}
}
