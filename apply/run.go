package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/image"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/plan"
	"github.com/labnet-dev/labnet/state"
)

// ChangeError is a change that failed, with where and why.
type ChangeError struct {
	Addr   string
	Host   string
	Action plan.Action
	Err    error
}

func (e *ChangeError) Error() string {
	where := ""
	if e.Host != "" && e.Host != e.Addr {
		where = " on " + e.Host
	}
	return fmt.Sprintf("%s%s: %s failed: %v", e.Addr, where, verb(e.Action), e.Err)
}

func verb(a plan.Action) string {
	switch a {
	case plan.Create:
		return "create"
	case plan.Update:
		return "update"
	case plan.Replace:
		return "replace"
	case plan.Delete:
		return "destroy"
	}
	return string(a)
}

// Errors is every failed change of a run.
type Errors []error

func (es Errors) Error() string {
	var s []string
	for _, e := range es {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

// Apply carries out the plan against st (the prior state, updated and saved
// as changes complete). obs must be the observations the plan was made from.
func (e *Engine) Apply(ctx context.Context, p *plan.Plan, st *state.State, obs plan.Observations) error {
	var errs Errors
	failed := map[string]bool{} // addresses whose change failed or was skipped
	e.goneWithHost = map[string]bool{}
	for _, c := range p.Changes {
		if kinds.Of(c.Kind).Provider == "host" && (c.Action == plan.Delete || c.Action == plan.Replace) && c.Before != nil && e.contentsGoWithHost(c.Before) {
			e.goneWithHost[c.Addr] = true
		}
	}
	var mu sync.Mutex
	for _, stage := range stages(p) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Skip what depends on a failure.
		var run []*node
		for _, n := range stage {
			if why := blockedBy(n, failed); why != "" {
				failed[n.change.Addr] = true
				err := &ChangeError{Addr: n.change.Addr, Host: n.change.Host, Action: n.change.Action, Err: fmt.Errorf("skipped: %s", why)}
				e.emit(Event{Addr: n.change.Addr, Action: n.change.Action, Phase: "skipped", Err: err})
				continue
			}
			run = append(run, n)
		}
		// Mark what is about to be made as tainted, so a crash leaves it
		// to be replaced by the next apply.
		marked := false
		for _, n := range run {
			if !n.delete && n.change.Action != plan.Update {
				st.Put(&state.Resource{Addr: n.change.Addr, Kind: n.change.Kind, Host: n.change.Host,
					Attrs: n.change.After, Deps: n.change.Deps, Tainted: true, Record: recordOf(st, n.change.Addr)})
				marked = true
			}
		}
		if marked {
			if err := e.Dir.Save(st, kinds.StateCodec); err != nil {
				return err
			}
		}
		results := e.runStage(ctx, run, st, obs)
		mu.Lock()
		var removed []string
		for _, n := range run {
			r := results[n]
			c := n.change
			if r.err != nil {
				failed[c.Addr] = true
				errs = append(errs, &ChangeError{Addr: c.Addr, Host: c.Host, Action: c.Action, Err: r.err})
				continue
			}
			switch {
			case n.delete && c.Action == plan.Delete:
				removed = append(removed, c.Addr)
			case n.delete:
				// the create half follows in a later stage
			default:
				res := &state.Resource{Addr: c.Addr, Kind: c.Kind, Host: c.Host, Attrs: c.After, Deps: c.Deps, Record: r.record}
				if res.Record == nil {
					res.Record = recordOf(st, c.Addr)
				}
				st.Put(res)
			}
		}
		st.Remove(removed...)
		mu.Unlock()
		if err := e.Dir.Save(st, kinds.StateCodec); err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func recordOf(st *state.State, addr string) json.RawMessage {
	if r := st.Get(addr); r != nil {
		return r.Record
	}
	return nil
}

func blockedBy(n *node, failed map[string]bool) string {
	c := n.change
	if n.delete {
		return "" // dependants' failed deletions block via failed parents below
	}
	if failed[c.Addr] {
		return "its own destruction failed"
	}
	for _, d := range c.Deps {
		if failed[d] {
			return d + " failed"
		}
	}
	return ""
}

type result struct {
	err    error
	record json.RawMessage
}

// runStage runs one stage: provider work (networks, hosts) one by one in
// parallel, kernel work as one script per host.
func (e *Engine) runStage(ctx context.Context, nodes []*node, st *state.State, obs plan.Observations) map[*node]result {
	results := map[*node]result{}
	var mu sync.Mutex
	set := func(n *node, r result) {
		mu.Lock()
		results[n] = r
		mu.Unlock()
	}
	byHost := map[string][]*node{}
	var provNodes []*node
	var goneEvs []Event // deletions with nothing left to delete: reported all the same
	for _, n := range nodes {
		// A netns host or Lima VM takes everything on it when it goes: its contents
		// need no commands of their own (and its sshd may be gone).
		if n.delete && e.goneWithHost[n.change.Host] && kinds.Of(n.change.Kind).Provider != "host" {
			results[n] = result{}
			continue
		}
		// Gone already (a half-made, tainted resource; or its host went
		// with it): only the state changes, but it is reported like any
		// deletion (a retried host's replacement printed "1 destroyed"
		// with no line for it).
		if n.delete && !n.change.Status.Exists && !n.change.Status.Unknown {
			results[n] = result{}
			goneEvs = append(goneEvs, Event{Addr: n.change.Addr, Action: plan.Delete, Phase: "start"},
				Event{Addr: n.change.Addr, Action: plan.Delete, Phase: "done"})
			continue
		}
		if kinds.Of(n.change.Kind).Provider != "" {
			provNodes = append(provNodes, n)
		} else {
			byHost[n.change.Host] = append(byHost[n.change.Host], n)
		}
	}
	e.emit(goneEvs...)
	var jobs []func()
	for _, n := range provNodes {
		jobs = append(jobs, func() {
			start := time.Now()
			e.emit(Event{Addr: n.change.Addr, Action: act(n), Phase: "start"})
			stopTick := e.ticking(n, start)
			rec, err := e.provide(ctx, n, st)
			stopTick()
			e.emit(finished(n, start, err))
			set(n, result{err: err, record: rec})
		})
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		jobs = append(jobs, func() {
			ns := byHost[h]
			start := time.Now()
			evs := make([]Event, len(ns))
			for i, n := range ns {
				evs[i] = Event{Addr: n.change.Addr, Action: act(n), Phase: "start"}
			}
			e.emit(evs...)
			errsByNode := e.runHost(ctx, h, ns, st, obs)
			for i, n := range ns {
				evs[i] = finished(n, start, errsByNode[n])
				set(n, result{err: errsByNode[n]})
			}
			e.emit(evs...)
		})
	}
	e.parallel(jobs)
	return results
}

func act(n *node) plan.Action {
	if n.delete {
		return plan.Delete
	}
	if n.change.Action == plan.Replace {
		return plan.Create
	}
	return n.change.Action
}

// ticking reports a change that is still running every 10 s until done is closed.
func (e *Engine) ticking(n *node, start time.Time) (done func()) {
	if e.Ticker == nil {
		return func() {}
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				e.Ticker(n.change.Addr, act(n), time.Since(start))
			}
		}
	}()
	return func() { close(stop) }
}

func finished(n *node, start time.Time, err error) Event {
	ev := Event{Addr: n.change.Addr, Action: act(n), Phase: "done", Elapsed: time.Since(start), Err: err}
	if err != nil {
		ev.Phase = "failed"
	}
	return ev
}

// provide does a network's or a host's change through its provider.
func (e *Engine) provide(ctx context.Context, n *node, st *state.State) (json.RawMessage, error) {
	c := n.change
	attrs := kinds.Op{Delete: n.delete, Before: c.Before, After: c.After}.Attrs()
	p, err := e.providers.For(c.Addr, attrs)
	if err != nil {
		return nil, err
	}
	if kinds.Of(c.Kind).Provider == "network" {
		nw, err := kinds.NetworkOf(c.Addr, attrs)
		if err != nil {
			return nil, err
		}
		if n.delete {
			return nil, p.DestroyNetwork(ctx, e.Lab, nw)
		}
		return nil, p.EnsureNetwork(ctx, e.Lab, nw)
	}
	h, err := kinds.HostOf(c.Addr, attrs)
	if err != nil {
		return nil, err
	}
	old := st.Get(c.Addr)
	switch {
	case n.delete:
		if !e.contentsGoWithHost(attrs) {
			// The machine stays: whatever of the lab is left on it goes
			// (netns hosts and Lima VMs take everything with them).
			if err := e.SweepHost(ctx, old); err != nil {
				return nil, err
			}
		}
		e.dropConn(c.Addr)
		return nil, p.DestroyHost(ctx, e.Lab, h, record(old))
	case c.Action == plan.Update:
		rec, err := p.RepairHost(ctx, e.Lab, h, record(old), e.Keys)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(rec)
		return b, nil
	default:
		e.dropConn(c.Addr)
		rec, err := p.CreateHost(ctx, e.Lab, h, e.Keys)
		b, _ := json.Marshal(rec)
		if err != nil {
			// Keep what was made in the state (tainted) so destroy finds it.
			if r := st.Get(c.Addr); r != nil {
				r.Record = b
			}
			return b, err
		}
		return b, nil
	}
}

// runHost sends one script with every node's step to the host.
func (e *Engine) runHost(ctx context.Context, hostAddr string, nodes []*node, st *state.State, obs plan.Observations) map[*node]error {
	out := map[*node]error{}
	fail := func(err error) map[*node]error {
		for _, n := range nodes {
			out[n] = err
		}
		return out
	}
	host := st.Get(hostAddr)
	if host == nil {
		return fail(fmt.Errorf("host %s is not in the state", hostAddr))
	}
	conn, err := e.Conn(ctx, host)
	if err != nil {
		return fail(err)
	}
	script, bad := hostScript(e.names(), nodes, obs.Kernel[hostAddr])
	for n, err := range bad {
		out[n] = err
	}
	failed, sent := shipImages(&script)
	for id, err := range failed {
		out[nodes[id]] = err
	}
	if len(script.Steps) == 0 {
		return out
	}
	outcome, err := script.Run(ctx, conn)
	if err != nil {
		return fail(err)
	}
	for d, n := range sent {
		e.imageSent(hostAddr, d, n)
	}
	for id, serr := range outcome {
		if serr != nil && id >= 0 && id < len(nodes) {
			out[nodes[id]] = serr
		}
	}
	return out
}

// hostScript is one host's script for a stage: every node's step, with the
// node's index in nodes as its ID; a node whose step cannot be built (its
// attributes do not parse) is left out with its error.
func hostScript(n hostnet.Names, nodes []*node, obs *hostnet.Observed) (hostnet.Script, map[*node]error) {
	var s hostnet.Script
	var bad map[*node]error
	makes := false
	for i, nd := range nodes {
		step, err := Step(n, nd.change, nd.delete, obs)
		if err != nil {
			if bad == nil {
				bad = map[*node]error{}
			}
			bad[nd] = err
			continue
		}
		step.ID = i
		s.Steps = append(s.Steps, step)
		makes = makes || !nd.delete
	}
	if makes {
		s.Header = hostnet.HostPrep(n)
	}
	return s, bad
}

// Step builds one change's share of its host's script: the change's kind
// makes it (kinds.Kind.Step). obs (may be nil) is what refresh saw on the
// host, so deletions touch only what is there.
func Step(n hostnet.Names, c *plan.Change, del bool, obs *hostnet.Observed) (hostnet.Step, error) {
	k, err := kinds.Get(c.Kind)
	if err != nil {
		return hostnet.Step{}, fmt.Errorf("%s: %w", c.Addr, err)
	}
	op := kinds.Op{Addr: c.Addr, Delete: del, Update: !del && c.Action == plan.Update, Replace: c.Action == plan.Replace,
		Before: c.Before, After: c.After}
	return k.Step(n, op, obs)
}

// IsChangeErrors says whether err lists failed changes (as opposed to a
// failure of the run itself).
func IsChangeErrors(err error) bool {
	var es Errors
	return errors.As(err, &es)
}

// SweepHost removes from one host everything its marks say belongs to the
// lab: processes, namespaces, aliased links, the nft table, the lab's
// files. It is how destroy cleans a machine labnet does not own, and how a
// lost state is recovered.
func (e *Engine) SweepHost(ctx context.Context, host *state.Resource) error {
	if host == nil {
		return nil
	}
	c, err := e.Conn(ctx, host)
	if err != nil {
		return err
	}
	// What is inside the namespaces does not matter: they all go.
	out, err := c.Must(ctx, hostnet.ObserveScript(e.names(), host.Attrs["name"], hostnet.ReadAll))
	if err != nil {
		return err
	}
	o, err := hostnet.ParseObserved(out)
	if err != nil {
		return err
	}
	_, err = c.Must(ctx, hostnet.SweepScript(e.names(), host.Attrs["name"], o))
	return err
}

// shipImages puts into the script, ahead of the first step that needs
// each image (Step.Image), the image's flattened rootfs and the shell
// that unpacks it on the host: once per digest per script, and only for
// what refresh did not find there. A step whose image cannot be read (the
// archive changed since the lab was loaded) is dropped with its error.
// sent has the bytes of each image's rootfs put into the script.
func shipImages(s *hostnet.Script) (failed map[int]error, sent map[string]int64) {
	failed, sent = map[int]error{}, map[string]int64{}
	shipped := map[string]error{}
	kept := s.Steps[:0]
	for _, st := range s.Steps {
		need := st.Image
		if need != nil {
			err, done := shipped[need.Digest]
			if !done {
				var tar []byte
				tar, err = imageRootfs(need)
				shipped[need.Digest] = err
				if err == nil {
					st.Shell = hostnet.ImageShipShell(need.Digest, tar, st.Shell)
					sent[need.Digest] = int64(len(tar))
				}
			}
			if err != nil {
				failed[st.ID] = err
				continue
			}
		}
		kept = append(kept, st)
	}
	s.Steps = kept
	return failed, sent
}

// imageRootfs reads an image's archive, checks its digest and flattens it.
func imageRootfs(need *hostnet.ImageNeed) ([]byte, error) {
	im, err := image.Open(need.Transport, need.Archive)
	if err != nil {
		return nil, fmt.Errorf("image %s:%s: %w", need.Transport, need.Archive, err)
	}
	defer im.Close()
	if im.Digest != need.Digest {
		return nil, fmt.Errorf("image %s:%s is %s now, the plan wants %s: plan again", need.Transport, need.Archive, im.Digest, need.Digest)
	}
	var b bytes.Buffer
	if err := im.Rootfs(&b); err != nil {
		return nil, fmt.Errorf("image %s:%s: %w", need.Transport, need.Archive, err)
	}
	return b.Bytes(), nil
}
