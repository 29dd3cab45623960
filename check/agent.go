package check

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/labnet-dev/labnet/remote"
)

// agentPy is the program each host runs for a `labnet test`: see its header.
//
//go:embed agent.py
var agentPy string

// request is one line to an agent; event one line back.
type request struct {
	ID      int     `json:"id"`
	Op      string  `json:"op"`
	Netns   string  `json:"netns,omitempty"`
	Mnt     string  `json:"mnt,omitempty"` // exec: a container's own mount and UTS namespaces
	Uts     string  `json:"uts,omitempty"`
	Addr    string  `json:"addr,omitempty"`
	Port    int     `json:"port,omitempty"`
	Proto   string  `json:"proto,omitempty"`
	Token   string  `json:"token,omitempty"`
	Cmd     string  `json:"cmd,omitempty"`
	Timeout float64 `json:"timeout,omitempty"`
	Wait    float64 `json:"wait,omitempty"`
	Of      int     `json:"of,omitempty"`
}

type event struct {
	ID    int    `json:"id"`
	Event string `json:"event"`
	Msg   string `json:"msg"`
	Addr  string `json:"addr"`
	Port  int    `json:"port"`
	Code  int    `json:"code"`
	Out   string `json:"out"`
}

// agentScript starts the agent, marked with owner so that destroy finds it
// should labnet die before it. -I -S (no PYTHON* variables, user site or
// site-packages): it starts a third faster, and the host's Python setup
// cannot change what runs. The same holds for labnet's other programs.
func agentScript(owner string) string {
	argv := []string{"python3", "-I", "-S", "-c", agentPy}
	if owner != "" {
		argv = append([]string{"env", "LABNET_OWNER=" + owner}, argv...)
	}
	return "exec " + remote.Join(argv...)
}

// agent is one host's running agent.
type agent struct {
	host   string
	mu     sync.Mutex
	in     *io.PipeWriter
	nextID int
	subs   map[int]chan event
	dead   error // why its output ended; nil while it runs
	ended  chan struct{}
}

func startAgent(ctx context.Context, c *remote.Conn, host, owner string) *agent {
	pr, pw := io.Pipe()
	a := &agent{host: host, in: pw, subs: map[int]chan event{}, ended: make(chan struct{})}
	outR, outW := io.Pipe()
	var stderr strings.Builder
	result := make(chan error, 1)
	go func() {
		code, err := c.Stream(ctx, agentScript(owner), pr, outW, &stderr)
		if err == nil && code != 0 {
			err = fmt.Errorf("exit status %d", code)
		}
		outW.Close()
		pr.Close()
		result <- err
	}()
	go func() {
		defer close(a.ended)
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var ev event
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			a.mu.Lock()
			if ch := a.subs[ev.ID]; ch != nil {
				select {
				case ch <- ev:
				default: // a listener sends at most three; never block the reader
				}
			}
			a.mu.Unlock()
		}
		err := <-result
		why := strings.TrimSpace(lastLine(stderr.String()))
		if err == nil {
			err = errors.New("it ended")
		}
		if why != "" {
			err = fmt.Errorf("%w: %s", err, why)
		}
		a.mu.Lock()
		a.dead = fmt.Errorf("check agent on %s: %w", host, err)
		for id, ch := range a.subs {
			close(ch)
			delete(a.subs, id)
		}
		a.mu.Unlock()
	}()
	return a
}

// start sends req and returns its id and the channel its events come on;
// the channel is closed if the agent ends.
func (a *agent) start(req request) (int, chan event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.nextID++
	req.ID = a.nextID
	ch := make(chan event, 4)
	if a.dead != nil {
		close(ch)
		return req.ID, ch
	}
	a.subs[req.ID] = ch
	b, _ := json.Marshal(req)
	// Written under the lock: lines never interleave. The agent reads
	// continuously, so the pipe does not stay full.
	if _, err := a.in.Write(append(b, '\n')); err != nil {
		delete(a.subs, req.ID)
		close(ch)
	}
	return req.ID, ch
}

// next waits up to d for the next event on ch.
func (a *agent) next(ctx context.Context, ch chan event, d time.Duration) (event, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case ev, ok := <-ch:
		if !ok {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.dead != nil {
				return event{}, a.dead
			}
			return event{}, fmt.Errorf("check agent on %s: cannot send to it", a.host)
		}
		return ev, nil
	case <-t.C:
		return event{}, fmt.Errorf("no answer from the check agent on %s within %s", a.host, d)
	case <-ctx.Done():
		return event{}, ctx.Err()
	}
}

// do sends req and waits for its one answer.
func (a *agent) do(ctx context.Context, req request, d time.Duration) (event, error) {
	id, ch := a.start(req)
	defer a.forget(id)
	return a.next(ctx, ch, d)
}

// stop ends listener id; it then says "nothing" unless it heard its client.
func (a *agent) stop(id int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dead == nil {
		b, _ := json.Marshal(request{Op: "stop", Of: id})
		_, _ = a.in.Write(append(b, '\n'))
	}
}

func (a *agent) forget(id int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.subs, id)
}

// agents starts one agent per host on first use.
type agents struct {
	conns  Conns
	nodes  map[string]Node
	mu     sync.Mutex
	m      map[string]*agentCall
	cancel []context.CancelFunc
}

type agentCall struct {
	ready chan struct{}
	a     *agent
	err   error
}

func (s *agents) get(ctx context.Context, n Node) (*agent, error) {
	s.mu.Lock()
	call, ok := s.m[n.Host]
	if !ok {
		call = &agentCall{ready: make(chan struct{})}
		s.m[n.Host] = call
		// The agent outlives the check that started it: its session ends
		// with close, not with that check.
		actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		s.cancel = append(s.cancel, cancel)
		s.mu.Unlock()
		c, err := s.conns(ctx, n.Host)
		if err != nil {
			call.err = err
		} else {
			call.a = startAgent(actx, c, n.Host, n.Owner)
		}
		close(call.ready)
		return call.a, call.err
	}
	s.mu.Unlock()
	<-call.ready
	return call.a, call.err
}

// close ends every agent (EOF on its stdin) and waits a little for them.
func (s *agents) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, call := range s.m {
		<-call.ready
		if call.a != nil {
			call.a.in.Close()
		}
	}
	deadline := time.After(5 * time.Second)
	for _, call := range s.m {
		if call.a == nil {
			continue
		}
		select {
		case <-call.a.ended:
		case <-deadline:
		}
	}
	for _, cancel := range s.cancel {
		cancel()
	}
}
