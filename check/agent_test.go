package check

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
)

// localAgent runs agent.py as a local process (no SSH); requests with
// netns "" use the agent's own network namespace: the machine's (only
// loopback is dialled), or with isolate a fresh one that has only lo,
// set up further by the shell commands in setup.
type localAgent struct {
	t   *testing.T
	in  io.WriteCloser
	out chan event
}

func newLocalAgent(t *testing.T, isolate bool, setup ...string) *localAgent {
	t.Helper()
	testutil.NeedTools(t, "python3")
	cmd := exec.Command("python3", "-c", agentPy)
	if isolate {
		sh := "ip link set dev lo up && "
		for _, c := range setup {
			sh += c + " && "
		}
		cmd = exec.Command("unshare", "--net", "sh", "-c", sh+`exec python3 -c "$0"`, agentPy)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &localAgent{t: t, in: in, out: make(chan event, 100)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("agent printed %q: %v", sc.Text(), err)
				continue
			}
			a.out <- ev
		}
		close(a.out)
	}()
	t.Cleanup(func() {
		in.Close() // EOF ends the agent
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent exited with %v: %s", err, stderr.String())
			}
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("agent did not end on EOF")
		}
	})
	return a
}

func (a *localAgent) send(r request) {
	a.t.Helper()
	b, _ := json.Marshal(r)
	if _, err := a.in.Write(append(b, '\n')); err != nil {
		a.t.Fatal(err)
	}
}

// wait returns the next event for id, keeping others for later calls.
func (a *localAgent) wait(id int) event {
	a.t.Helper()
	// Generous: a loaded machine (VMs booting beside the tests) once took
	// more than 10 s to start the agent; only a hang should fail here.
	deadline := time.After(60 * time.Second)
	for {
		select {
		case ev, ok := <-a.out:
			if !ok {
				a.t.Fatalf("agent ended while waiting for %d", id)
			}
			if ev.ID == id {
				return ev
			}
			a.out <- ev // another request's: put it back
		case <-deadline:
			a.t.Fatalf("no event for request %d", id)
		}
	}
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestAgentListenConnect(t *testing.T) {
	for _, proto := range []string{"tcp", "udp"} {
		t.Run(proto, func(t *testing.T) {
			a := newLocalAgent(t, false)
			port := freePort(t, proto)
			a.send(request{ID: 1, Op: "listen", Proto: proto, Port: port, Token: "tok-right", Wait: 30})
			if ev := a.wait(1); ev.Event != "ready" {
				t.Fatalf("listen: %+v", ev)
			}
			// A client with another check's token is not an answer.
			a.send(request{ID: 2, Op: "connect", Proto: proto, Addr: "127.0.0.1", Port: port, Token: "tok-wrong", Timeout: 0.5})
			if ev := a.wait(2); ev.Event != "fail" {
				t.Fatalf("wrong token got %+v, want fail", ev)
			}
			a.send(request{ID: 3, Op: "connect", Proto: proto, Addr: "127.0.0.1", Port: port, Token: "tok-right", Timeout: 5})
			if ev := a.wait(3); ev.Event != "ok" {
				t.Fatalf("connect: %+v", ev)
			}
			if ev := a.wait(1); ev.Event != "peer" || ev.Addr != "127.0.0.1" || ev.Port == 0 {
				t.Fatalf("listener heard %+v, want peer 127.0.0.1", ev)
			}
		})
	}
}

func TestAgentStopAndErrors(t *testing.T) {
	a := newLocalAgent(t, false)
	port := freePort(t, "tcp")
	a.send(request{ID: 1, Op: "listen", Proto: "tcp", Port: port, Token: "x", Wait: 60})
	if ev := a.wait(1); ev.Event != "ready" {
		t.Fatalf("listen: %+v", ev)
	}
	start := time.Now()
	a.send(request{Op: "stop", Of: 1})
	if ev := a.wait(1); ev.Event != "nothing" {
		t.Fatalf("stopped listener said %+v, want nothing", ev)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stop took %s", d)
	}
	// The port is free again: the listener closed its socket.
	a.send(request{ID: 2, Op: "connect", Proto: "tcp", Addr: "127.0.0.1", Port: port, Token: "x", Timeout: 2})
	if ev := a.wait(2); ev.Event != "fail" || !strings.Contains(ev.Msg, "refused") {
		t.Errorf("connect to a stopped listener: %+v, want refused", ev)
	}
	// Two listeners on one port: the second says why it cannot.
	a.send(request{ID: 3, Op: "listen", Proto: "tcp", Port: port, Token: "y", Wait: 60})
	if ev := a.wait(3); ev.Event != "ready" {
		t.Fatalf("listen: %+v", ev)
	}
	a.send(request{ID: 4, Op: "listen", Proto: "tcp", Port: port, Token: "z", Wait: 60})
	if ev := a.wait(4); ev.Event != "error" || !strings.Contains(ev.Msg, "cannot listen") {
		t.Errorf("second listener: %+v", ev)
	}
	a.send(request{Op: "stop", Of: 3})
	a.wait(3)
	a.send(request{ID: 5, Op: "exec", Netns: "labnet-no-such-netns", Cmd: "true", Timeout: 5})
	if ev := a.wait(5); ev.Event != "error" || !strings.Contains(ev.Msg, "labnet-no-such-netns") {
		t.Errorf("exec in a missing namespace: %+v", ev)
	}
}

func TestAgentExec(t *testing.T) {
	a := newLocalAgent(t, false)
	a.send(request{ID: 1, Op: "exec", Cmd: "echo hello; echo last line; exit 3", Timeout: 5})
	if ev := a.wait(1); ev.Event != "exit" || ev.Code != 3 || !strings.Contains(ev.Out, "last line") {
		t.Errorf("exec: %+v", ev)
	}
	a.send(request{ID: 2, Op: "exec", Cmd: "sleep 5", Timeout: 0.3})
	if ev := a.wait(2); ev.Event != "exit" || ev.Code == 0 || !strings.Contains(ev.Out, "timed out") {
		t.Errorf("exec past its timeout: %+v", ev)
	}
}

func TestAgentPing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ping uses a raw socket and a namespace of its own: run as root")
	}
	a := newLocalAgent(t, true)
	a.send(request{ID: 1, Op: "ping", Addr: "127.0.0.1", Timeout: 2})
	if ev := a.wait(1); ev.Event != "ok" {
		t.Errorf("ping 127.0.0.1: %+v", ev)
	}
	// The agent's namespace has only lo: 192.0.2.1 has no route, nothing
	// leaves the machine, and the answer names the address.
	a.send(request{ID: 2, Op: "ping", Addr: "192.0.2.1", Timeout: 1})
	if ev := a.wait(2); ev.Event != "fail" || !strings.Contains(ev.Msg, "192.0.2.1") {
		t.Errorf("ping 192.0.2.1: %+v", ev)
	}
	// A lost echo request is sent again within the timeout (ping -c 1 -w):
	// this namespace drops the first one it gets (the agent's are 42
	// bytes; the quota lets echo requests through once 50 bytes are used).
	testutil.NeedTools(t, "nft")
	b := newLocalAgent(t, true,
		`nft add table inet lossy`,
		`nft add chain inet lossy in '{ type filter hook input priority 0; }'`,
		`nft add rule inet lossy in icmp type echo-request quota over 50 bytes accept`,
		`nft add rule inet lossy in icmp type echo-request drop`)
	b.send(request{ID: 3, Op: "ping", Addr: "127.0.0.1", Timeout: 3})
	if ev := b.wait(3); ev.Event != "ok" {
		t.Errorf("ping 127.0.0.1 losing the first echo request: %+v", ev)
	}
}
