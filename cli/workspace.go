package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/labnet-dev/labnet/apply"
	"github.com/labnet-dev/labnet/check"
	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/plan"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/remote"
	"github.com/labnet-dev/labnet/state"
	"golang.org/x/crypto/ssh"
)

// varFlags collects -var NAME=VALUE.
type varFlags map[string]string

func (v varFlags) String() string { return "" }
func (v varFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("-var wants NAME=VALUE, got %q", s)
	}
	v[name] = value
	return nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// workspace is a loaded lab with its state directory.
type workspace struct {
	ui    *ui
	lab   *config.Lab
	files map[string]*hcl.File
	dir   state.Dir
	want  []*kinds.Resource // the lab expanded, made once (resources)
}

// resources is the lab expanded into resources.
func (w *workspace) resources() []*kinds.Resource {
	if w.want == nil {
		w.want = kinds.Expand(w.lab)
	}
	return w.want
}

// hosts are the lab's host resources.
func (w *workspace) hosts() []*kinds.Resource {
	var hs []*kinds.Resource
	for _, r := range w.resources() {
		if kinds.Of(r.Kind).Provider == "host" {
			hs = append(hs, r)
		}
	}
	return hs
}

// load reads and validates the lab; diagnostics are printed.
// images: open the lab's images (digests and configurations are needed:
// plan, apply, validate); commands that make nothing from them do not, so
// that they work while a registry is away.
func (u *ui) load(vars varFlags, varFiles []string, statePath string, images bool) (*workspace, bool) {
	// *.auto.vars files (HCL, name = value) are read first, as Terraform
	// reads *.auto.tfvars; -var-file and -var override them.
	auto, _ := filepath.Glob("*.auto.vars")
	sort.Strings(auto)
	lab, files, diags := config.Load(".", config.Options{Vars: vars, VarFiles: append(auto, varFiles...), Env: os.Environ(), NoImages: !images})
	if len(diags) > 0 {
		_ = config.WriteDiagnostics(u.stderr, files, diags, u.color)
	}
	if diags.HasErrors() {
		return nil, false
	}
	if statePath == "" {
		statePath = ".labnet"
	}
	return &workspace{ui: u, lab: lab, files: files, dir: state.Dir{Path: statePath}}, true
}

// keys loads the lab's client key, making it on first use (0600 in 0700).
func (w *workspace) keys() (provider.Keys, error) {
	if err := w.dir.Ensure(); err != nil {
		return provider.Keys{}, err
	}
	path := filepath.Join(w.dir.Path, "id_ed25519")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return provider.Keys{}, gerr
		}
		block, merr := ssh.MarshalPrivateKey(priv, "labnet "+w.lab.Name)
		if merr != nil {
			return provider.Keys{}, merr
		}
		b = pem.EncodeToMemory(block)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return provider.Keys{}, err
		}
	} else if err != nil {
		return provider.Keys{}, err
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return provider.Keys{}, fmt.Errorf("%s: %w", path, err)
	}
	return provider.Keys{Client: signer}, nil
}

func (w *workspace) engine(parallelism int) (*apply.Engine, error) {
	keys, err := w.keys()
	if err != nil {
		return nil, err
	}
	e := apply.New(w.lab.Name, w.dir, keys)
	if parallelism > 0 {
		e.Parallelism = parallelism
	}
	return e, nil
}

// loadState reads the state, every value checked (a broken one stops the
// command before any host is read), or starts a new one; a state of
// another lab is refused.
func (w *workspace) loadState() (*state.State, error) {
	st, err := w.dir.Load(kinds.StateCodec)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return state.New(w.lab.Name), nil
	}
	if st.Lab != w.lab.Name {
		return nil, fmt.Errorf("%s holds the state of lab %q, not %q: rename the lab back or use -state", w.dir.Path, st.Lab, w.lab.Name)
	}
	return st, nil
}

// makePlan reads the hosts and plans; with refresh false it reads nothing
// and plans from the state alone (-refresh=false, as in Terraform): every
// resource counts as it was last applied, so drift is neither seen nor
// repaired, and a deletion of what is already gone fails.
//
// With removeEarly (apply -auto-approve, no saved plan) the guest deletions
// that do not depend on the read (plan.EarlyRemovals) are made during it,
// in the same exchange with each host; the plan then finds them removed.
func (w *workspace) makePlan(ctx context.Context, e *apply.Engine, st *state.State, opt plan.Options, refresh, removeEarly bool) (*plan.Plan, plan.Observations, error) {
	want := w.resources()
	keep := want
	if opt.Destroy && len(opt.Targets) == 0 {
		keep = nil // all of it goes
	}
	obs := plan.Observations{Networks: map[string]plan.Status{}, Hosts: map[string]provider.Status{}, Kernel: map[string]*hostnet.Observed{}}
	if refresh {
		var remove map[string][]*plan.Change
		if removeEarly {
			remove = plan.EarlyRemovals(w.lab.Name, want, st, opt)
		}
		var err error
		if obs, err = e.Refresh(ctx, keep, st, remove); err != nil {
			return nil, obs, fmt.Errorf("refresh: %w", err)
		}
	}
	return plan.Make(w.lab.Name, want, st, obs, opt), obs, nil
}

// nodes maps every applied host and guest to where checks run.
func (w *workspace) nodes(st *state.State) map[string]check.Node {
	m := map[string]check.Node{}
	names := hostnet.Names{Lab: w.lab.Name}
	hostName := map[string]string{}
	for _, r := range st.Resources {
		if kinds.Of(r.Kind).Provider == "host" {
			hostName[r.Addr] = r.Attrs["name"]
		}
	}
	for _, r := range st.Resources {
		p, isNode, err := kinds.PlaceOf(r.Kind, r.Addr, r.Attrs)
		if !isNode || err != nil {
			continue
		}
		owner := names.Owner(hostName[r.Host], "check")
		m[r.Addr] = check.Node{Addr: r.Addr, Host: r.Host, Netns: p.Netns, MountNS: p.MountNS, UTSNS: p.UTSNS,
			Runc: p.Runc, Log: p.Log, Address: p.Address, Owner: owner}
	}
	return m
}

func (w *workspace) conns(e *apply.Engine, st *state.State) check.Conns {
	return func(ctx context.Context, host string) (*remote.Conn, error) {
		r := st.Get(host)
		if r == nil {
			return nil, fmt.Errorf("%s is not applied", host)
		}
		return e.Conn(ctx, r)
	}
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// providerNotes names the hosts the state says were made by another
// provider than the lab now gives them (a lab read without the -var
// provider=... it was applied with): what is there is read through the
// state's provider, and plan replaces them.
func (w *workspace) providerNotes(st *state.State) []string {
	var notes []string
	for _, h := range w.lab.Hosts() {
		r := st.Get(h.Addr)
		if r == nil {
			continue
		}
		applied := r.Attrs["provider"]
		if applied == "" {
			applied = provider.Default
		}
		if applied != h.Provider {
			notes = append(notes, fmt.Sprintf("%s was applied with provider %s; the lab now says %s (read as %s; plan and apply would replace it; pass -var as at apply, or set LABNET_VAR_<name>)",
				h.Addr, applied, h.Provider, applied))
		}
	}
	return notes
}
