// Package apply carries plans out on real hosts: it refreshes (reads what is
// there), walks the plan's changes stage by stage in dependency order,
// sends each host one script per stage over its one SSH connection, runs
// hosts in parallel, and saves the state after every stage.
package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/plan"
	"github.com/labnet-dev/labnet/provider"
	_ "github.com/labnet-dev/labnet/provider/all" // every provider registers itself
	"github.com/labnet-dev/labnet/remote"
	"github.com/labnet-dev/labnet/state"
)

// Event reports progress.
type Event struct {
	Addr    string
	Action  plan.Action
	Phase   string // "start", "done", "failed", "skipped"
	Elapsed time.Duration
	Err     error
}

// Engine holds one command run's connections and providers.
type Engine struct {
	Lab         string
	Dir         state.Dir
	Keys        provider.Keys
	Parallelism int
	// OnEvent gets progress; the events of one host's script come in one
	// call (a thousand containers' lines are then one write, not 2,000).
	OnEvent func(...Event)
	// Ticker, when set, is called every 10 s for each change still running.
	Ticker func(addr string, a plan.Action, elapsed time.Duration)

	providers provider.Set
	mu        sync.Mutex
	conns     map[string]*remote.Conn
	early     map[string]*remote.Early // logins started before the state was read (DialEarly)
	earlyUsed map[string]bool          // hosts whose early login became their connection
	pinned    bool
	// goneWithHost: netns hosts and Lima VMs this apply removes, whose contents go with them.
	goneWithHost map[string]bool
	// imagesSent: per host, the images whose rootfs a script carried (digest -> bytes).
	imagesSent map[string]map[string]int64
}

// Pinned says whether a host key was pinned on first use during this run:
// the state must be saved for the pin to hold.
func (e *Engine) Pinned() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pinned
}

// New makes an engine for a lab.
func New(lab string, dir state.Dir, keys provider.Keys) *Engine {
	return &Engine{Lab: lab, Dir: dir, Keys: keys, Parallelism: 10,
		providers: provider.Registered(),
		conns:     map[string]*remote.Conn{}, early: map[string]*remote.Early{}, earlyUsed: map[string]bool{}}
}

func (e *Engine) names() hostnet.Names { return hostnet.Names{Lab: e.Lab} }

func (e *Engine) emit(evs ...Event) {
	if e.OnEvent != nil && len(evs) > 0 {
		e.OnEvent(evs...)
	}
}

// Provider returns the provider of a host or network by its attributes.
func (e *Engine) Provider(attrs map[string]string) (provider.Provider, error) {
	return e.providers.For("", attrs)
}

// Providers lists the providers a run can use.
func (e *Engine) Providers() provider.Set { return e.providers }

// Close ends every connection and every early login not claimed.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for h, c := range e.conns {
		c.Close()
		delete(e.conns, h)
	}
	for h, ea := range e.early {
		ea.Abandon()
		delete(e.early, h)
	}
}

// DialEarly starts logging in to hosts (the lab's hosts as its files
// configure them) before the state is read: Conn then claims the login
// if the state leads to the same target, and the host presents the key
// the state pinned (remote.Early). Hosts whose provider needs the state's
// record to be found at all (Lima VMs) are left to Conn.
func (e *Engine) DialEarly(ctx context.Context, hosts []*kinds.Resource) {
	for _, h := range hosts {
		p, err := e.providers.For(h.Addr, h.Attrs)
		if err != nil {
			continue
		}
		hh, err := kinds.HostOf(h.Addr, h.Attrs)
		if err != nil {
			continue // plan reports it
		}
		t, err := p.Target(e.Lab, hh, provider.Record{}, e.Keys)
		if err != nil || !t.Addr.IsValid() {
			continue
		}
		e.mu.Lock()
		if e.early[h.Addr] == nil {
			e.early[h.Addr] = remote.DialEarly(ctx, t)
		}
		e.mu.Unlock()
	}
}

// takeEarly removes and returns the early login to addr, if any.
func (e *Engine) takeEarly(addr string) *remote.Early {
	e.mu.Lock()
	defer e.mu.Unlock()
	ea := e.early[addr]
	delete(e.early, addr)
	return ea
}

// Sent counts the bytes of scripts sent per host so far (for tests of
// what a run ships).
func (e *Engine) Sent() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := map[string]int64{}
	for h, c := range e.conns {
		m[h] = c.Sent()
	}
	return m
}

// ImagesSent lists, per host, the images this run sent it: digest ->
// bytes of the flattened rootfs. An image a host already holds is not sent.
func (e *Engine) ImagesSent() map[string]map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := map[string]map[string]int64{}
	for h, ims := range e.imagesSent {
		m[h] = maps.Clone(ims)
	}
	return m
}

// imageSent records that a script to host carried an image.
func (e *Engine) imageSent(host, digest string, n int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.imagesSent == nil {
		e.imagesSent = map[string]map[string]int64{}
	}
	if e.imagesSent[host] == nil {
		e.imagesSent[host] = map[string]int64{}
	}
	e.imagesSent[host][digest] += n
}

// Exchanges counts SSH exchanges per host so far (for tests of batching).
func (e *Engine) Exchanges() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := map[string]int64{}
	for h, c := range e.conns {
		m[h] = c.Exchanges()
	}
	return m
}

// EarlyLogins lists the hosts whose early login (DialEarly) was used.
func (e *Engine) EarlyLogins() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return sortedKeys(e.earlyUsed)
}

// Conn returns the open connection to a host, dialing it if needed.
func (e *Engine) Conn(ctx context.Context, host *state.Resource) (*remote.Conn, error) {
	e.mu.Lock()
	c := e.conns[host.Addr]
	e.mu.Unlock()
	if c != nil {
		return c, nil
	}
	p, err := e.providers.For(host.Addr, host.Attrs)
	if err != nil {
		return nil, err
	}
	var rec provider.Record
	if len(host.Record) > 0 {
		if err := json.Unmarshal(host.Record, &rec); err != nil {
			return nil, fmt.Errorf("%s: record: %w", host.Addr, err)
		}
	}
	h, err := kinds.HostOf(host.Addr, host.Attrs)
	if err != nil {
		return nil, err
	}
	t, err := p.Target(e.Lab, h, rec, e.Keys)
	if err != nil {
		return nil, err
	}
	early := false
	if ea := e.takeEarly(host.Addr); ea != nil {
		c, early = ea.Claim(ctx, t)
	}
	if c == nil {
		if c, err = remote.Dial(ctx, t); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if rec.HostKey == "" {
		// Trust on first use: pin what the host presented. The caller
		// saves the state (Pinned says so).
		rec.HostKey = remote.AuthorizedKey(c.HostKey())
		if b, err := json.Marshal(rec); err == nil {
			host.Record = b
			e.pinned = true
		}
	}
	if old := e.conns[host.Addr]; old != nil {
		c.Close()
		return old, nil
	}
	e.conns[host.Addr] = c
	if early {
		e.earlyUsed[host.Addr] = true
	}
	return c, nil
}

// dropConn ends the connection to a host that the provider is about to
// make or remove (and an early login to it: it reached the host as it was).
func (e *Engine) dropConn(addr string) {
	if ea := e.takeEarly(addr); ea != nil {
		ea.Abandon()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.conns[addr]; c != nil {
		c.Close()
		delete(e.conns, addr)
	}
}

func record(r *state.Resource) provider.Record {
	var rec provider.Record
	if r != nil && len(r.Record) > 0 {
		_ = json.Unmarshal(r.Record, &rec)
	}
	return rec
}

// Refresh reads every network, host and host kernel the lab wants or the
// state knows, hosts in parallel. want is what the lab keeps (nil when all
// of it goes): only kept guests are read inside their namespace. remove
// (plan.EarlyRemovals, by host; nil for a plain read) are guest deletions
// to make in the same exchange, after the read: the observations list
// those done in Removed (and events report them), a failed one is left to
// the plan, judged from the read like any other.
func (e *Engine) Refresh(ctx context.Context, want []*kinds.Resource, prior *state.State, remove map[string][]*plan.Change) (plan.Observations, error) {
	obs := plan.Observations{Networks: map[string]plan.Status{}, Hosts: map[string]provider.Status{}, Kernel: map[string]*hostnet.Observed{}, Removed: map[string]bool{}}
	if prior == nil {
		prior = &state.State{}
	}
	type item struct {
		addr, kind string
		attrs      map[string]string
	}
	var items []item
	seen := map[string]bool{} // hosts and networks the lab wants
	for _, w := range want {
		if kinds.Of(w.Kind).Provider != "" {
			// What was made is read through the provider that made it: a
			// lab read with another provider (a -var forgotten) must not
			// report a running VM as a missing netns host.
			attrs := w.Attrs
			if old := prior.Get(w.Addr); old != nil && old.Attrs["provider"] != w.Attrs["provider"] {
				attrs = old.Attrs
			}
			items = append(items, item{w.Addr, w.Kind, attrs})
			seen[w.Addr] = true
		}
	}
	for _, r := range prior.Resources {
		if (kinds.Of(r.Kind).Provider != "") && !seen[r.Addr] {
			items = append(items, item{r.Addr, r.Kind, r.Attrs})
		}
	}
	// Each host is read only as far as the lab's resources on it need.
	reads := plan.HostReads(want, prior)
	var mu sync.Mutex
	var firstErr error
	var jobs []func()
	for _, it := range items {
		jobs = append(jobs, func() {
			err := e.refreshOne(ctx, it.addr, it.kind, it.attrs, seen[it.addr], reads[it.addr], remove[it.addr], prior, &obs, &mu)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	e.parallel(jobs)
	if firstErr == nil {
		firstErr = checkTools(want, obs)
	}
	if firstErr == nil {
		firstErr = e.checkNetem(ctx, want, prior, obs)
	}
	return obs, firstErr
}

// parallel runs jobs, at most Parallelism at once, and waits for them all.
func (e *Engine) parallel(jobs []func()) {
	sem := make(chan struct{}, max(1, e.Parallelism))
	var wg sync.WaitGroup
	for _, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			job()
		}()
	}
	wg.Wait()
}

// checkTools stops a plan before anything changes when a host that was
// read lacks a program the lab's resources there run (an ssh host without
// runc for an image container, without tc for shaping), naming the host,
// the programs, their Debian packages and a resource that needs each.
func checkTools(want []*kinds.Resource, obs plan.Observations) error {
	type need struct{ host, tool string }
	first := map[need]string{}
	for _, w := range want {
		k := obs.Kernel[w.Host]
		if k == nil || len(k.Missing) == 0 {
			continue
		}
		for _, t := range kinds.ToolsOf(w.Kind, w.Attrs) {
			if n := (need{w.Host, t}); slices.Contains(k.Missing, t) && first[n] == "" {
				first[n] = w.Addr
			}
		}
	}
	if len(first) == 0 {
		return nil
	}
	var lines []string
	for n, by := range first {
		lines = append(lines, fmt.Sprintf("%s has no %s (Debian package %s), which %s needs", n.host, n.tool, hostnet.ToolPackage(n.tool), by))
	}
	sort.Strings(lines)
	return fmt.Errorf("missing programs; install them on the host (apt-get install PACKAGE) and try again:\n  %s", strings.Join(lines, "\n  "))
}

// checkNetem stops a plan before anything changes when the lab asks for
// delay or loss on a host whose kernel has no netem: it tries a netem qdisc
// in a throwaway namespace of the lab's on each such host that exists.
func (e *Engine) checkNetem(ctx context.Context, want []*kinds.Resource, prior *state.State, obs plan.Observations) error {
	need := map[string]bool{}
	for _, w := range want {
		if kinds.NeedsNetem(w.Kind, w.Attrs) {
			need[w.Host] = true
		}
	}
	var missing []string
	for _, h := range sortedKeys(need) {
		host := prior.Get(h)
		if host == nil || obs.Kernel[h] == nil {
			continue // not made yet: apply says it if the kernel lacks netem
		}
		c, err := e.Conn(ctx, host)
		if err != nil {
			return err
		}
		ns := remote.Quote(e.names().NetnsPrefix() + "netem-probe")
		r, err := c.Run(ctx, fmt.Sprintf("ip netns add %s && tc -n %s qdisc add dev lo root netem delay 1ms >/dev/null 2>&1; rc=$?; ip netns del %s; exit $rc", ns, ns, ns))
		if err != nil {
			return err
		}
		if r.Code != 0 {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("delay and loss need the kernel's netem qdisc (sch_netem), which %s lacks: remove delay/loss there, or load sch_netem (modprobe sch_netem) where the kernel has it", strings.Join(missing, ", "))
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (e *Engine) refreshOne(ctx context.Context, addr, kind string, attrs map[string]string, wanted bool, reads *hostnet.Reads, remove []*plan.Change, prior *state.State, obs *plan.Observations, mu *sync.Mutex) error {
	p, err := e.providers.For(addr, attrs)
	if err != nil {
		return err
	}
	if kinds.Of(kind).Provider == "network" {
		nw, err := kinds.NetworkOf(addr, attrs)
		if err != nil {
			return err
		}
		ok, why, err := p.ObserveNetwork(ctx, e.Lab, nw)
		if err != nil {
			return err
		}
		_, shared := p.(provider.AlwaysThere)
		st := plan.Status{Exists: ok, Complete: ok, Repairable: true, Shared: shared}
		if !ok {
			st.Drift = []string{why}
		}
		mu.Lock()
		obs.Networks[addr] = st
		mu.Unlock()
		return nil
	}
	old := prior.Get(addr)
	if old == nil {
		mu.Lock()
		obs.Hosts[addr] = provider.Status{Reason: "not made yet"}
		mu.Unlock()
		return nil
	}
	h, err := kinds.HostOf(addr, old.Attrs)
	if err != nil {
		return err
	}
	st, err := p.ObserveHost(ctx, e.Lab, h, record(old))
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	mu.Lock()
	obs.Hosts[addr] = st
	mu.Unlock()
	// A host that goes and takes its contents along (Apply deletes
	// nothing on it one by one) needs no reading inside.
	if !st.Exists || !st.SSHUp || (!wanted && e.contentsGoWithHost(old.Attrs)) {
		return nil
	}
	c, err := e.Conn(ctx, old)
	if err != nil {
		return err
	}
	if reads == nil {
		reads = &hostnet.Reads{} // nothing of the lab's on it: its namespaces are still listed
	}
	// rm, when there are removals, runs right after the read, in its
	// exchange. (Removing first and reading after was ~5 ms slower at
	// 1,000 guests: the read's netlink requests met the kernel tearing the
	// namespaces down.)
	read := func(r hostnet.Reads, rm *hostnet.Script) (*hostnet.Observed, []byte, error) {
		script := hostnet.ObserveScript(e.names(), old.Attrs["name"], r)
		if rm != nil {
			script = hostnet.Then(script, rm.Render())
		}
		out, err := c.Must(ctx, script)
		if err != nil {
			return nil, nil, fmt.Errorf("refresh %s: %w", addr, err)
		}
		var rmOut []byte
		if rm != nil {
			out, rmOut = hostnet.SplitThen(out)
		}
		k, err := hostnet.ParseObserved(out)
		if err != nil {
			return nil, nil, fmt.Errorf("refresh %s: %w", addr, err)
		}
		return k, rmOut, nil
	}
	var rm *hostnet.Script
	if len(remove) > 0 {
		nodes := make([]*node, len(remove))
		for i, c := range remove {
			nodes[i] = &node{change: c, delete: true}
		}
		s, bad := hostScript(e.names(), nodes, nil)
		for _, err := range bad {
			return err
		}
		rm = &s
	}
	start := time.Now()
	k, rmOut, err := read(*reads, rm)
	if err != nil {
		return err
	}
	if rm != nil {
		r := *reads
		r.Gone = maps.Clone(reads.Gone)
		var evs []Event
		outcome := rm.ParseOutcome(rmOut)
		for i, c := range remove {
			if outcome[i] != nil {
				continue // not removed (gone already, or it failed): the plan judges it from the read
			}
			kinds.ForgetRemoved(c.Before, k, &r)
			evs = append(evs, Event{Addr: c.Addr, Action: plan.Delete, Phase: "start"})
			mu.Lock()
			obs.Removed[c.Addr] = true
			mu.Unlock()
		}
		e.emit(evs...)
		for i := range evs {
			evs[i].Phase, evs[i].Elapsed = "done", time.Since(start)
		}
		e.emit(evs...)
		reads = &r
	}
	if strays := reads.Strays(k); len(strays) > 0 {
		more, _, err := read(hostnet.Reads{Links: strays}, nil)
		if err != nil {
			return err
		}
		maps.Copy(k.Links, more.Links)
	}
	mu.Lock()
	obs.Kernel[addr] = k
	mu.Unlock()
	return nil
}

// contentsGoWithHost says whether deleting the host removes everything on
// it (provider.ContentsGoWithHost): then what is on it needs no deletion
// of its own (a stopped or half-made VM cannot even be reached).
func (e *Engine) contentsGoWithHost(hostAttrs map[string]string) bool {
	p, err := e.providers.For("", hostAttrs)
	return err == nil && p.ContentsGoWithHost()
}

// node is one half of a change: its delete part or its create/update part.
type node struct {
	change *plan.Change
	delete bool
	level  int
}

// stages orders the plan: all deletions first, dependants before what they
// depend on; then creations and updates, dependencies first.
func stages(p *plan.Plan) [][]*node {
	dels := map[string]*node{}
	mk := map[string]*node{}
	for _, c := range p.Changes {
		if c.Action == plan.Delete || c.Action == plan.Replace {
			dels[c.Addr] = &node{change: c, delete: true, level: -1}
		}
		if c.Action != plan.Delete {
			mk[c.Addr] = &node{change: c, level: -1}
		}
	}
	// dependants[x] = deletions that must run before x's deletion
	dependants := map[string][]string{}
	for _, n := range dels {
		for _, d := range n.change.OldDeps {
			dependants[d] = append(dependants[d], n.change.Addr)
		}
	}
	// Levels are memoised in node.level: -1 not yet seen, visiting while
	// its dependencies are walked (a cycle cannot come from a valid lab;
	// it is cut there instead of recursing forever).
	const visiting = -2
	var delLevel func(n *node) int
	delLevel = func(n *node) int {
		if n.level == visiting {
			return 0
		}
		if n.level >= 0 {
			return n.level
		}
		n.level = visiting
		l := 0
		for _, d := range dependants[n.change.Addr] {
			if dn := dels[d]; dn != nil {
				l = max(l, delLevel(dn)+1)
			}
		}
		n.level = l
		return l
	}
	maxDel := -1
	for _, n := range dels {
		maxDel = max(maxDel, delLevel(n))
	}
	var mkLevel func(n *node) int
	mkLevel = func(n *node) int {
		if n.level == visiting {
			return maxDel + 1
		}
		if n.level >= 0 {
			return n.level
		}
		n.level = visiting
		l := maxDel + 1
		for _, d := range n.change.Deps {
			if dn := mk[d]; dn != nil {
				l = max(l, mkLevel(dn)+1)
			}
		}
		n.level = l
		return l
	}
	top := maxDel
	for _, n := range mk {
		top = max(top, mkLevel(n))
	}
	out := make([][]*node, top+1)
	for _, n := range dels {
		out[n.level] = append(out[n.level], n)
	}
	for _, n := range mk {
		out[n.level] = append(out[n.level], n)
	}
	var res [][]*node
	for _, s := range out {
		if len(s) == 0 {
			continue
		}
		sort.Slice(s, func(i, j int) bool { return s[i].change.ID < s[j].change.ID })
		res = append(res, s)
	}
	return res
}
