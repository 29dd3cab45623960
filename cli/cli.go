// Package cli is labnet's command line: verbs, flags, human and JSON
// output, exit codes.
package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/labnet-dev/labnet/apply"
	"github.com/labnet-dev/labnet/check"
	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/plan"
	"github.com/labnet-dev/labnet/provider"
	"github.com/labnet-dev/labnet/state"
)

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "0.1.0-dev"

type ui struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	color          bool
}

func (u *ui) errorf(format string, a ...any) {
	fmt.Fprintf(u.stderr, "Error: "+format+"\n", a...)
}

func (u *ui) warnf(format string, a ...any) {
	fmt.Fprintf(u.stderr, "Warning: "+format+"\n", a...)
}

const usage = `Usage: labnet [-chdir=DIR] <command> [options]

labnet makes network labs described in HCL real on Linux kernels, over SSH.
It acts on the lab in the current directory (all its *.hcl files).

Main commands:
  validate      Check the lab files (syntax, types, references, addresses)
  plan          Show what apply would change, after reading the hosts
  apply         Make the hosts match the lab
  destroy       Remove everything the lab made, hosts included
  test          Run the lab's check blocks by real traffic

Working with a running lab:
  inspect       List every node with its addresses, ports and live state
  graph         Draw the lab's topology (dot, mermaid, svg)
  exec          Run a command inside a host, container, VM or pod
  ssh           Open a shell inside a host, container, VM or pod
  capture       Stream a tcpdump capture from inside a node (pcap)
  logs          Print a container's output (containers run from an image)
  fault         Take a link down or up, stop or start a node's processes

Other commands:
  init          Start a new lab from one of the example labs
  fmt           Rewrite lab files in canonical format
  show          Show the applied resources
  output        Show output values
  state list    List resource addresses in the state
  state rm-hostkey HOST  Forget a host's pinned SSH key (a host rebuilt on purpose)
  force-unlock  Remove a stale lock
  completion    Print a shell completion script (bash, zsh, fish)
  version       Print the version

Global options:
  -chdir=DIR    Switch to DIR before doing anything

Examples:
  labnet -chdir=labs/docker apply -auto-approve
  labnet -chdir=labs/docker test
  labnet -chdir=labs/docker plan -detailed-exitcode
  labnet -chdir=labs/docker destroy -auto-approve
`

// Main runs labnet with args (without the program name) and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	u := &ui{stdin: stdin, stdout: stdout, stderr: stderr, color: isTerminal(stdout) && os.Getenv("NO_COLOR") == ""}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		switch {
		case strings.HasPrefix(a, "-chdir=") || strings.HasPrefix(a, "--chdir="):
			dir := a[strings.IndexByte(a, '=')+1:]
			if err := os.Chdir(dir); err != nil {
				u.errorf("-chdir: %v", err)
				return 1
			}
		case a == "-h" || a == "-help" || a == "--help":
			fmt.Fprint(stdout, usage)
			return 0
		case a == "-v" || a == "-version" || a == "--version":
			args = []string{"version"}
			continue
		default:
			u.errorf("unknown global option %s\n\n%s", a, usage)
			return 1
		}
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A reader that goes away (`labnet plan | head`) must not kill labnet
	// half-way through an apply, holding the lab's lock: with SIGPIPE
	// asked for, a write to a closed stdout only fails (EPIPE), and the
	// run finishes. (Not signal.Ignore: that would be inherited by what
	// labnet starts.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "validate":
		return u.validate(rest)
	case "fmt":
		return u.fmt(rest)
	case "plan":
		return u.plan(ctx, rest)
	case "apply":
		return u.apply(ctx, rest, false)
	case "destroy":
		return u.apply(ctx, rest, true)
	case "test":
		return u.test(ctx, rest)
	case "show":
		return u.show(rest)
	case "output":
		return u.output(rest)
	case "state":
		return u.stateCmd(rest)
	case "force-unlock":
		return u.forceUnlock(rest)
	case "graph":
		return u.graph(rest)
	case "inspect":
		return u.inspect(ctx, rest)
	case "init":
		return u.initCmd(rest)
	case "completion":
		return u.completion(rest)
	case "exec":
		return u.exec(ctx, rest)
	case "ssh":
		return u.sshCmd(ctx, rest)
	case "capture":
		return u.capture(ctx, rest)
	case "logs":
		return u.logs(ctx, rest)
	case "fault":
		return u.fault(ctx, rest)
	case "version":
		fmt.Fprintf(stdout, "labnet %s\n", Version)
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	u.errorf("unknown command %q\n\n%s", cmd, usage)
	return 1
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newFlags(u *ui, name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(u.stderr)
	fs.Usage = func() {
		fmt.Fprintf(u.stderr, "Usage: labnet %s\n\n", help)
		fs.PrintDefaults()
	}
	return fs
}

func (u *ui) validate(args []string) int {
	fs := newFlags(u, "validate", "validate [-json] [-var NAME=VALUE]... [-var-file=FILE]\n\nChecks the lab files; touches no host.\n\nExamples:\n  labnet validate\n  labnet -chdir=labs/vms validate -json")
	vars := varFlags{}
	var varFiles listFlag
	fs.Var(vars, "var", "set a variable (repeatable)")
	fs.Var(&varFiles, "var-file", "read variables from an HCL file (repeatable)")
	asJSON := fs.Bool("json", false, "print the result and diagnostics as JSON")
	if fs.Parse(args) != nil {
		return 1
	}
	if *asJSON {
		lab, _, diags := config.Load(".", config.Options{Vars: vars, VarFiles: varFiles, Env: os.Environ()})
		return validateJSON(u, lab, diags)
	}
	w, ok := u.load(vars, varFiles, "", true)
	if !ok {
		return 1
	}
	var found []string
	for _, c := range w.lab.Counts() {
		found = append(found, c.String())
	}
	fmt.Fprintf(u.stdout, "Success! Lab %q is valid: %s.\n", w.lab.Name, strings.Join(found, ", "))
	return 0
}

// runFlags are the flags commands share; each command registers only the
// ones it uses (a flag a command ignored would be accepted silently).
type runFlags struct {
	vars        varFlags
	varFiles    listFlag
	targets     listFlag
	replace     listFlag
	statePath   string
	parallelism int
}

// add registers what every command that reads the lab takes: -var,
// -var-file, -state.
func (r *runFlags) add(fs *flag.FlagSet) {
	r.vars = varFlags{}
	fs.Var(r.vars, "var", "set a variable, NAME=VALUE (repeatable)")
	fs.Var(&r.varFiles, "var-file", "read variables from an HCL file (repeatable)")
	fs.StringVar(&r.statePath, "state", "", "state directory (default .labnet in the lab)")
}

// addParallelism registers -parallelism with the command's default and meaning.
func (r *runFlags) addParallelism(fs *flag.FlagSet, def int, usage string) {
	fs.IntVar(&r.parallelism, "parallelism", def, usage)
}

// addTargets registers -target and -replace (plan, apply, destroy).
func (r *runFlags) addTargets(fs *flag.FlagSet) {
	fs.Var(&r.targets, "target", "limit the plan to this resource (and what it needs); repeatable")
	fs.Var(&r.replace, "replace", "replace this resource even if it is unchanged; repeatable")
}

func (u *ui) plan(ctx context.Context, args []string) int {
	fs := newFlags(u, "plan", "plan [options]\n\nReads the hosts and shows what apply would change.\n\nExamples:\n  labnet plan\n  labnet plan -detailed-exitcode -var hosts=3\n  labnet plan -out=lab.plan && labnet apply lab.plan\n  labnet plan -refresh-only")
	var rf runFlags
	rf.add(fs)
	rf.addParallelism(fs, 10, "hosts worked on at once")
	rf.addTargets(fs)
	out := fs.String("out", "", "save the plan to FILE for `labnet apply FILE`")
	detailed := fs.Bool("detailed-exitcode", false, "exit 0 when there are no changes, 1 on error, 2 when there are changes")
	destroy := fs.Bool("destroy", false, "plan to destroy everything")
	refreshOnly := fs.Bool("refresh-only", false, "report drift only; plan no changes")
	refresh := refreshFlag(fs)
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	if fs.Parse(args) != nil {
		return 1
	}
	if *refreshOnly && !*refresh {
		u.errorf("-refresh-only and -refresh=false contradict each other")
		return 1
	}
	w, st, e, done, ok := u.open(ctx, rf, "plan", *refresh && !(*destroy && len(rf.targets) == 0), !(*destroy && len(rf.targets) == 0))
	if !ok {
		return 1
	}
	defer done()
	p, _, err := w.makePlan(ctx, e, st, plan.Options{Destroy: *destroy, RefreshOnly: *refreshOnly, Targets: rf.targets, Replace: rf.replace}, *refresh, false)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	if e.Pinned() {
		if err := w.dir.Save(st, kinds.StateCodec); err != nil {
			u.errorf("%v", err)
			return 1
		}
		p.Serial = st.Serial
	}
	if *asJSON {
		enc := json.NewEncoder(u.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(planJSON(p))
	} else {
		plan.Render(u.stdout, p, u.color)
	}
	if *out != "" {
		if err := savePlan(*out, p, rf.vars, rf.varFiles, *destroy); err != nil {
			u.errorf("%v", err)
			return 1
		}
		fmt.Fprintf(u.stdout, "\nSaved the plan to %s. To carry it out: labnet apply %s\n", *out, *out)
	}
	if *detailed && len(p.Changes) > 0 {
		return 2
	}
	return 0
}

type planFile struct {
	Format   int               `json:"format"`
	Lab      string            `json:"lab"`
	Serial   int64             `json:"serial"`
	Lineage  string            `json:"lineage"`
	Vars     map[string]string `json:"vars,omitempty"`
	VarFiles []string          `json:"var_files,omitempty"`
	Destroy  bool              `json:"destroy,omitempty"`
	Changes  []*plan.Change    `json:"changes"`
}

func savePlan(path string, p *plan.Plan, vars map[string]string, varFiles []string, destroy bool) error {
	b, err := json.MarshalIndent(planFile{Format: 1, Lab: p.Lab, Serial: p.Serial, Lineage: p.Lineage, Vars: vars, VarFiles: varFiles, Destroy: destroy, Changes: p.Changes}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func planJSON(p *plan.Plan) any {
	add, change, destroy := p.Counts()
	type rc struct {
		Address string            `json:"address"`
		Kind    string            `json:"kind"`
		Host    string            `json:"host,omitempty"`
		Action  plan.Action       `json:"action"`
		Reasons []string          `json:"reasons,omitempty"`
		Forced  []string          `json:"forces_replacement,omitempty"`
		Before  map[string]string `json:"before,omitempty"`
		After   map[string]string `json:"after,omitempty"`
	}
	var out []rc
	for _, c := range p.Changes {
		out = append(out, rc{c.Addr, c.Kind, c.Host, c.Action, c.Reasons, c.Forced, c.Before, c.After})
	}
	var drift []map[string]any
	for _, c := range p.Drifted() {
		drift = append(drift, map[string]any{"address": c.Addr, "drift": c.Status.Drift})
	}
	return map[string]any{"lab": p.Lab, "resource_changes": out, "resource_drift": drift,
		"summary": map[string]int{"add": add, "change": change, "destroy": destroy}}
}

func (u *ui) apply(ctx context.Context, args []string, destroy bool) int {
	name := "apply"
	help := "apply [options] [PLANFILE]\n\nMakes the hosts match the lab. Without -auto-approve it shows the plan and asks.\n\nExamples:\n  labnet apply\n  labnet apply -auto-approve -var hosts=3\n  labnet apply -target=container.web[1] -replace=process.web[0]\n  labnet apply lab.plan"
	if destroy {
		name = "destroy"
		help = "destroy [options]\n\nRemoves everything the lab made, hosts included; also what the lab's marks\nname when the state was lost.\n\nExamples:\n  labnet destroy\n  labnet destroy -auto-approve"
	}
	fs := newFlags(u, name, help)
	var rf runFlags
	rf.add(fs)
	rf.addParallelism(fs, 10, "hosts worked on at once")
	rf.addTargets(fs)
	auto := fs.Bool("auto-approve", false, "do not ask for confirmation (guests that go whatever the hosts hold are then removed while the hosts are read)")
	quiet := fs.Bool("quiet", false, "no progress lines (for CI)")
	asJSON := fs.Bool("json", false, "stream progress as JSON lines, one event per line (implies -auto-approve)")
	refresh := refreshFlag(fs)
	if fs.Parse(args) != nil {
		return 1
	}
	var saved *planFile
	if fs.NArg() > 1 || (destroy && fs.NArg() > 0) {
		u.errorf("too many arguments")
		return 1
	}
	if fs.NArg() == 1 {
		b, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			u.errorf("read plan: %v", err)
			return 1
		}
		saved = &planFile{}
		if err := json.Unmarshal(b, saved); err != nil || saved.Format != 1 {
			u.errorf("%s is not a labnet plan file", fs.Arg(0))
			return 1
		}
		rf.vars, rf.varFiles, destroy = saved.Vars, saved.VarFiles, saved.Destroy
		*auto = true // a saved plan was already reviewed
	}
	if *asJSON {
		*auto = true
	}
	w, st, e, done, ok := u.open(ctx, rf, name, !(destroy && len(rf.targets) == 0), !(destroy && len(rf.targets) == 0))
	if !ok {
		return 1
	}
	defer done()
	switch {
	case *asJSON:
		e.OnEvent = func(evs ...apply.Event) {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			for _, ev := range evs {
				m := map[string]any{"type": "resource", "address": ev.Addr, "action": ev.Action, "phase": ev.Phase, "elapsed_ms": ev.Elapsed.Milliseconds()}
				if ev.Err != nil {
					m["error"] = ev.Err.Error()
				}
				_ = enc.Encode(m)
			}
			_, _ = u.stdout.Write(b.Bytes())
		}
	case !*quiet:
		e.OnEvent = u.progress
		e.Ticker = u.stillGoing
	}
	// Approved in advance (and no saved plan, whose changes were fixed
	// when it was made): what goes whatever the hosts hold is removed
	// while they are read (so the time reported includes the read).
	start := time.Now()
	p, obs, err := w.makePlan(ctx, e, st, plan.Options{Destroy: destroy, Targets: rf.targets, Replace: rf.replace}, *refresh, *auto && saved == nil)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	if saved != nil {
		// Serial 0 means no state existed: lineage is not yet fixed then.
		if saved.Lab != w.lab.Name || saved.Serial != p.Serial || (saved.Serial > 0 && saved.Lineage != p.Lineage) {
			u.errorf("the saved plan is stale: the state changed since it was made (plan serial %d, state serial %d); run `labnet plan -out=FILE` again", saved.Serial, p.Serial)
			return 1
		}
		p.Changes = saved.Changes
	}
	if !*auto {
		plan.Render(u.stdout, p, u.color)
		if len(p.Changes) == 0 {
			return 0
		}
		fmt.Fprintf(u.stdout, "\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: ")
		line, _ := bufio.NewReader(u.stdin).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			fmt.Fprintf(u.stdout, "\n%s cancelled.\n", strings.ToUpper(name[:1])+name[1:])
			return 1
		}
		start = time.Now() // not the time spent answering
	}
	err = e.Apply(ctx, p, st, obs)
	if err == nil && !destroy && repairedHost(p) {
		// What lives on a host that had to be repaired could not be read
		// before (a rebooted VM has lost it): read it now and make the rest.
		var p2 *plan.Plan
		if p2, obs, err = w.makePlan(ctx, e, st, plan.Options{Targets: rf.targets}, true, false); err == nil && len(p2.Changes) > 0 {
			if !*quiet && !*asJSON {
				fmt.Fprintf(u.stdout, "A host was repaired; %d more changes on it after reading it again.\n", len(p2.Changes))
			}
			err = e.Apply(ctx, p2, st, obs)
			p.Changes = append(p.Changes, p2.Changes...)
		}
	}
	writeStats(e, start)
	add, change, del := p.Counts()
	if *asJSON {
		m := map[string]any{"type": "summary", "add": add, "change": change, "destroy": del, "elapsed_ms": time.Since(start).Milliseconds(), "ok": err == nil}
		if sent := e.ImagesSent(); len(sent) > 0 {
			m["images_sent"] = sent
		}
		if err != nil {
			m["error"] = err.Error()
		}
		_ = json.NewEncoder(u.stdout).Encode(m)
	}
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	if *asJSON {
		if destroy {
			if err := w.sweep(ctx, e); err != nil {
				u.errorf("sweep: %v", err)
				return 1
			}
		}
		return 0
	}
	if destroy {
		// Whatever the marks say is still the lab's goes too (lost state, crashes).
		if err := w.sweep(ctx, e); err != nil {
			u.errorf("sweep: %v", err)
			return 1
		}
		fmt.Fprintf(u.stdout, "\nDestroy complete! Resources: %d destroyed. (%s)\n", del, time.Since(start).Round(time.Millisecond))
		return 0
	}
	printImagesSent(u.stdout, e.ImagesSent())
	fmt.Fprintf(u.stdout, "\nApply complete! Resources: %d added, %d changed, %d destroyed. (%s)\n", add, change, del, time.Since(start).Round(time.Millisecond))
	if len(w.lab.Outputs) > 0 {
		fmt.Fprintln(u.stdout, "\nOutputs:")
		u.printOutputs(w, "")
	}
	return 0
}

// writeStats records, when LABNET_STATS names a file, what a run cost:
// SSH exchanges per host (refresh included), the hosts whose login began
// before the state was read, peak memory and time. The
// benchmarks and the batching tests read it.
func writeStats(e *apply.Engine, start time.Time) {
	path := os.Getenv("LABNET_STATS")
	if path == "" {
		return
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b, _ := json.MarshalIndent(map[string]any{
		"exchanges":    e.Exchanges(),
		"sent_bytes":   e.Sent(),
		"images_sent":  e.ImagesSent(),
		"early_logins": e.EarlyLogins(),
		"max_rss_kb":   ru.Maxrss,
		"apply_ms":     time.Since(start).Milliseconds(),
	}, "", "  ")
	_ = os.WriteFile(path, b, 0o644)
}

// printImagesSent says which images went to which host, and how big:
// shipping an image is what makes a first apply slow, and an image a host
// already holds is never sent again.
func printImagesSent(w io.Writer, sent map[string]map[string]int64) {
	for _, h := range sortedKeys(sent) {
		for _, d := range sortedKeys(sent[h]) {
			fmt.Fprintf(w, "Image %s sent to %s (%.1f MB).\n", d, h, float64(sent[h][d])/1e6)
		}
	}
}

// stillGoing is printed every 10 s for a change that takes long (a booting VM).
func (u *ui) stillGoing(addr string, a plan.Action, elapsed time.Duration) {
	ing := map[plan.Action]string{plan.Create: "creating", plan.Update: "modifying", plan.Delete: "destroying"}[a]
	fmt.Fprintf(u.stdout, "%s: Still %s... [%s elapsed]\n", addr, ing, elapsed.Round(time.Second))
}

// refreshFlag is -refresh of plan, apply and destroy (Terraform's).
func refreshFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("refresh", true, "read the hosts first; -refresh=false plans from the state alone (faster, blind to drift)")
}

// repairedHost says whether the plan repairs a host in place (its contents
// were unreadable when the plan was made).
func repairedHost(p *plan.Plan) bool {
	for _, c := range p.Changes {
		if kinds.Of(c.Kind).Provider == "host" && c.Action == plan.Update {
			return true
		}
	}
	return false
}

// open loads the lab, takes the lock for op (none when op is ""), reads
// the state and makes the engine; done releases them. With dialEarly the
// logins to the lab's hosts start before the state is read (a full
// destroy of netns or Lima hosts logs in to none of them).
func (u *ui) open(ctx context.Context, rf runFlags, op string, dialEarly, images bool) (w *workspace, st *state.State, e *apply.Engine, done func(), ok bool) {
	w, ok = u.load(rf.vars, rf.varFiles, rf.statePath, images)
	if !ok {
		return nil, nil, nil, nil, false
	}
	unlock := func() {}
	if op != "" {
		var err error
		if unlock, err = w.dir.Lock(op); err != nil {
			u.errorf("%v", err)
			return nil, nil, nil, nil, false
		}
	}
	e, err := w.engine(rf.parallelism)
	if err == nil {
		if dialEarly {
			e.DialEarly(ctx, w.hosts())
		}
		if st, err = w.loadState(); err != nil {
			e.Close()
		}
	}
	if err != nil {
		unlock()
		u.errorf("%v", err)
		return nil, nil, nil, nil, false
	}
	return w, st, e, func() { e.Close(); unlock() }, true
}

// progress prints Terraform's progress lines, one write per call.
func (u *ui) progress(evs ...apply.Event) {
	var b bytes.Buffer
	for _, ev := range evs {
		switch ev.Phase {
		case "start":
			b.WriteString(ev.Addr + ": " + progressIng[ev.Action] + "...\n")
		case "done":
			b.WriteString(ev.Addr + ": " + progressEd[ev.Action] + " complete after " + ev.Elapsed.Round(time.Millisecond).String() + "\n")
		case "failed":
			b.WriteString(ev.Addr + ": " + progressEd[ev.Action] + " failed after " + ev.Elapsed.Round(time.Millisecond).String() + "\n")
		case "skipped":
			fmt.Fprintf(&b, "%s: skipped (%v)\n", ev.Addr, ev.Err)
		}
	}
	_, _ = u.stdout.Write(b.Bytes())
}

var (
	progressIng = map[plan.Action]string{plan.Create: "Creating", plan.Update: "Modifying", plan.Delete: "Destroying", plan.Replace: "Replacing"}
	progressEd  = map[plan.Action]string{plan.Create: "Creation", plan.Update: "Modifications", plan.Delete: "Destruction", plan.Replace: "Replacement"}
)

// sweep removes what the lab's marks name, wherever the state has lost
// track of it: the lab's hosts of every provider whose hosts take their
// contents along (netns holders, Lima VMs), and the lab's objects on the
// machines of the other hosts the lab names (ssh).
func (w *workspace) sweep(ctx context.Context, e *apply.Engine) error {
	used := map[string]bool{provider.Default: true} // the default costs nothing to sweep
	for _, h := range w.lab.Hosts() {
		used[h.Provider] = true
	}
	for _, name := range sortedKeys(e.Providers()) {
		if p := e.Providers()[name]; used[name] && p.ContentsGoWithHost() {
			if err := p.Sweep(ctx, w.lab.Name); err != nil {
				return err
			}
		}
	}
	for _, r := range w.hosts() {
		p, err := e.Provider(r.Attrs)
		if err != nil {
			return fmt.Errorf("%s: %w", r.Addr, err)
		}
		if !p.ContentsGoWithHost() {
			if err := e.SweepHost(ctx, &state.Resource{Addr: r.Addr, Kind: r.Kind, Attrs: r.Attrs}); err != nil {
				return fmt.Errorf("%s: %w", r.Addr, err)
			}
		}
	}
	return nil
}

func (u *ui) test(ctx context.Context, args []string) int {
	fs := newFlags(u, "test", "test [options]\n\nRuns the lab's check blocks against the applied lab. Exit 0 when all pass, 1 otherwise.\n\nExamples:\n  labnet test\n  labnet test -run 'pod-to-pod' -junit=checks.xml")
	var rf runFlags
	rf.add(fs)
	// Checks are cheap requests to one agent per host, so many run at once;
	// the default is higher than apply's host parallelism.
	rf.addParallelism(fs, 50, "checks run at once")
	junit := fs.String("junit", "", "also write a JUnit XML report to FILE")
	asJSON := fs.Bool("json", false, "print results as JSON")
	runRE := fs.String("run", "", "run only the checks whose name matches this regular expression")
	if fs.Parse(args) != nil {
		return 1
	}
	w, ok := u.load(rf.vars, rf.varFiles, rf.statePath, false)
	if !ok {
		return 1
	}
	st, err := w.dir.Load(kinds.StateCodec)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	if st == nil || len(st.Resources) == 0 {
		u.errorf("the lab is not applied: run `labnet apply` first")
		return 1
	}
	inScenario := scenarioChecks(w.lab)
	var plain []*config.Check
	for _, c := range w.lab.Checks() {
		if !inScenario[c.Addr] {
			plain = append(plain, c)
		}
	}
	checks, err := filterChecks(plain, *runRE)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	var scenarios []*config.Scenario
	for _, sc := range w.lab.Scenarios() {
		if *runRE == "" || regexp.MustCompile(*runRE).MatchString(sc.Name) {
			scenarios = append(scenarios, sc)
		}
	}
	if len(checks) == 0 && len(scenarios) == 0 {
		fmt.Fprintln(u.stdout, "No check to run.")
		return 0
	}
	e, err := w.engine(rf.parallelism)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	defer e.Close()
	start := time.Now()
	var results []check.Result
	if len(checks) > 0 {
		results = check.Run(ctx, checks, w.nodes(st), w.conns(e, st), rf.parallelism)
	}
	var steps []check.Result
	for _, sc := range scenarios {
		steps = append(steps, runScenario(ctx, e, st, w, sc, rf.parallelism)...)
	}
	if *asJSON {
		enc := json.NewEncoder(u.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(append(results, steps...))
	} else {
		if len(results) > 0 {
			check.Table(u.stdout, results, u.color)
		}
		if len(steps) > 0 {
			if len(results) > 0 {
				fmt.Fprintln(u.stdout)
			}
			check.StepTable(u.stdout, steps, u.color)
		}
	}
	results = append(results, steps...)
	if *junit != "" {
		if err := check.WriteJUnit(*junit, w.lab.Name, results, time.Since(start)); err != nil {
			u.errorf("%v", err)
			return 1
		}
	}
	for _, r := range results {
		if !r.Pass {
			return 1
		}
	}
	return 0
}

func (u *ui) show(args []string) int {
	fs := newFlags(u, "show", "show [-json] [-state=DIR]\n\nShows the applied resources from the state.\n\nExample:\n  labnet show -json | jq '.resources[].addr'")
	asJSON := fs.Bool("json", false, "print the state as JSON")
	statePath := fs.String("state", ".labnet", "state directory")
	if fs.Parse(args) != nil {
		return 1
	}
	st, err := state.Dir{Path: *statePath}.Load(kinds.StateCodec)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	if st == nil {
		st = &state.State{Version: state.Version}
	}
	if *asJSON {
		// Records hold no private keys (only pinned public host keys).
		enc := json.NewEncoder(u.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
		return 0
	}
	if len(st.Resources) == 0 {
		fmt.Fprintln(u.stdout, "The state is empty.")
		return 0
	}
	for _, r := range st.Resources {
		t := ""
		if r.Tainted {
			t = " (tainted)"
		}
		fmt.Fprintf(u.stdout, "# %s%s\n", r.Addr, t)
		for _, k := range sortedKeys(r.Attrs) {
			v := r.Attrs[k]
			if shown, ok := kinds.Display(k, v); ok {
				v = shown // a file: its mode, size and digest, not its base64
			}
			fmt.Fprintf(u.stdout, "    %-16s = %q\n", k, v)
		}
		fmt.Fprintln(u.stdout)
	}
	return 0
}

func (u *ui) output(args []string) int {
	fs := newFlags(u, "output", "output [-json] [NAME]\n\nShows the lab's output values.\n\nExamples:\n  labnet output\n  labnet output -json web")
	asJSON := fs.Bool("json", false, "print as JSON")
	var rf runFlags
	rf.add(fs)
	if fs.Parse(args) != nil {
		return 1
	}
	w, ok := u.load(rf.vars, rf.varFiles, rf.statePath, false)
	if !ok {
		return 1
	}
	name := fs.Arg(0)
	if *asJSON {
		return u.outputsJSON(w, name)
	}
	if name != "" {
		for _, o := range w.lab.Outputs {
			if o.Name == name {
				fmt.Fprintln(u.stdout, ctyString(o.Value, true))
				return 0
			}
		}
		u.errorf("no output named %q", name)
		return 1
	}
	u.printOutputs(w, "")
	return 0
}

func (u *ui) stateCmd(args []string) int {
	if len(args) > 0 && args[0] == "rm-hostkey" {
		return u.rmHostKey(args[1:])
	}
	if len(args) == 0 || args[0] != "list" {
		u.errorf("usage: labnet state list [-state=DIR] | labnet state rm-hostkey [-state=DIR] HOST")
		return 1
	}
	fs := newFlags(u, "state list", "state list [-state=DIR]\n\nLists resource addresses in the state, one per line.\n\nExample:\n  labnet state list | grep container")
	statePath := fs.String("state", ".labnet", "state directory")
	if fs.Parse(args[1:]) != nil {
		return 1
	}
	st, err := state.Dir{Path: *statePath}.Load(kinds.StateCodec)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	if st == nil {
		return 0
	}
	for _, r := range st.Resources {
		fmt.Fprintln(u.stdout, r.Addr)
	}
	return 0
}

// rmHostKey forgets a host's pinned key; the next command that connects
// pins whatever the host presents then (for a host rebuilt on purpose).
func (u *ui) rmHostKey(args []string) int {
	fs := newFlags(u, "state rm-hostkey", "state rm-hostkey [-state=DIR] HOST\n\nForgets the pinned SSH host key of HOST; the next run pins the key the host presents.\n\nExample:\n  labnet state rm-hostkey host.node[0]")
	statePath := fs.String("state", ".labnet", "state directory")
	if fs.Parse(args) != nil || fs.NArg() != 1 {
		u.errorf("usage: labnet state rm-hostkey [-state=DIR] HOST")
		return 1
	}
	d := state.Dir{Path: *statePath}
	unlock, err := d.Lock("state rm-hostkey")
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	defer unlock()
	st, err := d.Load(kinds.StateCodec)
	if err != nil || st == nil {
		u.errorf("no state (%v)", err)
		return 1
	}
	r := st.Get(fs.Arg(0))
	if r == nil || r.Kind != "host" {
		u.errorf("%s is not a host in the state", fs.Arg(0))
		return 1
	}
	var rec map[string]any
	if len(r.Record) > 0 {
		_ = json.Unmarshal(r.Record, &rec)
	}
	delete(rec, "host_key")
	r.Record, _ = json.Marshal(rec)
	if err := d.Save(st, kinds.StateCodec); err != nil {
		u.errorf("%v", err)
		return 1
	}
	fmt.Fprintf(u.stdout, "Forgot the host key of %s; the next run pins the key it presents.\n", r.Addr)
	return 0
}

func (u *ui) forceUnlock(args []string) int {
	fs := newFlags(u, "force-unlock", "force-unlock [-state=DIR]\n\nRemoves the lab's lock. Use it only when no labnet runs on the lab.\n\nExample:\n  labnet force-unlock")
	statePath := fs.String("state", ".labnet", "state directory")
	if fs.Parse(args) != nil {
		return 1
	}
	d := state.Dir{Path: *statePath}
	info, err := d.ReadLock()
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	if info == nil {
		fmt.Fprintln(u.stdout, "The lab is not locked.")
		return 0
	}
	if err := d.ForceUnlock(); err != nil {
		u.errorf("%v", err)
		return 1
	}
	fmt.Fprintf(u.stdout, "Removed the lock held by `labnet %s` (pid %d on %s).\n", info.Op, info.PID, info.Hostname)
	return 0
}
