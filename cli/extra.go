package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/hcl/v2"
	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/graph"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/labs"
	"github.com/labnet-dev/labnet/plan"
)

func (u *ui) graph(args []string) int {
	fs := newFlags(u, "graph", "graph [-format=dot|mermaid|svg] [-o FILE] [-var N=V]...\n\nDraws the lab's topology: hosts, bridges, segments, guests, pods, published\nports and the pod network's tunnels.\n\nExamples:\n  labnet graph | dot -Tpng > lab.png\n  labnet graph -format=svg -o lab.svg\n  labnet graph -format=mermaid")
	format := fs.String("format", "dot", "dot, mermaid or svg (svg needs Graphviz's dot)")
	out := fs.String("o", "", "write to FILE instead of stdout")
	var rf runFlags
	rf.add(fs)
	if fs.Parse(args) != nil {
		return 1
	}
	w, ok := u.load(rf.vars, rf.varFiles, rf.statePath, false)
	if !ok {
		return 1
	}
	// An applied host is drawn as it was made.
	if st, err := w.dir.Load(kinds.StateCodec); err == nil && st != nil {
		for _, note := range w.providerNotes(st) {
			u.warnf("%s", note)
		}
		for _, h := range w.lab.Hosts() {
			if r := st.Get(h.Addr); r != nil && r.Attrs["provider"] != "" {
				h.Provider = r.Attrs["provider"]
			}
		}
	}
	var buf bytes.Buffer
	switch *format {
	case "dot":
		graph.Dot(&buf, w.lab)
	case "mermaid":
		graph.Mermaid(&buf, w.lab)
	case "svg":
		dot, err := exec.LookPath("dot")
		if err != nil {
			u.errorf("-format=svg needs Graphviz's dot: install the graphviz package (apt-get install graphviz), or use -format=dot")
			return 1
		}
		var src bytes.Buffer
		graph.Dot(&src, w.lab)
		cmd := exec.Command(dot, "-Tsvg")
		cmd.Stdin, cmd.Stdout = &src, &buf
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			u.errorf("dot: %v: %s", err, stderr.String())
			return 1
		}
	default:
		u.errorf("unknown -format %q: use dot, mermaid or svg", *format)
		return 1
	}
	if *out == "" {
		_, _ = u.stdout.Write(buf.Bytes())
		return 0
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		u.errorf("%v", err)
		return 1
	}
	return 0
}

// inspect reads the hosts and lists every node with what is really there.
func (u *ui) inspect(ctx context.Context, args []string) int {
	fs := newFlags(u, "inspect", "inspect [-json] [-var N=V]...\n\nLists every node (hosts, containers, VMs, pods) with its host, kind, addresses,\npublished ports and state (running, missing, drifted), read live from the hosts.\n\nExample:\n  labnet -chdir=labs/docker inspect")
	asJSON := fs.Bool("json", false, "print JSON")
	var rf runFlags
	rf.add(fs)
	rf.addParallelism(fs, 10, "hosts read at once")
	if fs.Parse(args) != nil {
		return 1
	}
	w, st, e, done, ok := u.open(ctx, rf, "", true, true)
	if !ok {
		return 1
	}
	defer done()
	for _, note := range w.providerNotes(st) {
		u.warnf("%s", note)
	}
	p, _, err := w.makePlan(ctx, e, st, plan.Options{}, true, false)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	type row struct {
		Node      string   `json:"node"`
		Kind      string   `json:"kind"`
		Host      string   `json:"host"`
		Addresses []string `json:"addresses"`
		Ports     []string `json:"ports,omitempty"`
		State     string   `json:"state"`
		Detail    []string `json:"detail,omitempty"`
	}
	var rows []row
	for _, c := range append(append([]*plan.Change{}, p.NoOps...), p.Changes...) {
		a := c.After
		if a == nil {
			a = c.Before
		}
		r := row{Node: c.Addr, Kind: c.Kind, Host: c.Host, Addresses: []string{a["address"]}}
		if d, ok := kinds.DescriberOf(c.Kind); ok {
			r.Addresses = d.Describe(a)
		} else if !kinds.Of(c.Kind).Node {
			continue
		}
		if a["ports"] != "" {
			r.Ports = strings.Fields(a["ports"])
		}
		switch {
		case c.Before == nil:
			r.State = "not applied"
		case c.Status.Unknown:
			r.State = "unknown"
		case !c.Status.Exists:
			r.State = "missing"
		case !c.Status.Complete:
			r.State = "drifted"
		default:
			r.State = "running"
		}
		if c.Action == plan.Delete {
			r.State += " (not in the lab)"
		}
		r.Detail = c.Status.Drift
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Host != rows[j].Host {
			return rows[i].Host < rows[j].Host
		}
		return kinds.Of(rows[i].Kind).Order < kinds.Of(rows[j].Kind).Order
	})
	if *asJSON {
		enc := json.NewEncoder(u.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rows)
		return 0
	}
	tw := tabwriter.NewWriter(u.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tHOST\tADDRESS\tPORTS\tSTATE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Node, r.Kind, r.Host, strings.Join(r.Addresses, " | "), dash(strings.Join(r.Ports, " ")), r.State)
	}
	tw.Flush()
	for _, r := range rows {
		for _, d := range r.Detail {
			fmt.Fprintf(u.stdout, "  %s: %s\n", r.Node, d)
		}
	}
	return 0
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// initCmd starts a lab in the current directory from an embedded example.
func (u *ui) initCmd(args []string) int {
	fs := newFlags(u, "init", "init [TEMPLATE]\n\nWrites a new lab into the current directory from one of the example labs\n(default docker). Lists the templates with -list.\n\nExamples:\n  mkdir mylab && labnet -chdir=mylab init kubernetes-flat\n  labnet init -list")
	list := fs.Bool("list", false, "list the templates")
	if fs.Parse(args) != nil {
		return 1
	}
	entries, _ := labs.FS.ReadDir(".")
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if *list {
		for _, n := range names {
			fmt.Fprintln(u.stdout, n)
		}
		return 0
	}
	tmpl := "docker"
	if fs.NArg() > 0 {
		tmpl = fs.Arg(0)
	}
	files, err := templateFiles(tmpl)
	if err != nil {
		u.errorf("no template %q; templates: %s", tmpl, strings.Join(names, ", "))
		return 1
	}
	for _, f := range files {
		if _, err := os.Stat(strings.TrimPrefix(f, tmpl+"/")); err == nil {
			u.errorf("%s exists already; labnet init writes into an empty lab directory", strings.TrimPrefix(f, tmpl+"/"))
			return 1
		}
	}
	wd, _ := os.Getwd()
	name := strings.ToLower(path.Base(wd))
	for _, f := range files {
		b, _ := labs.FS.ReadFile(f)
		// The new lab is named after its directory, not after the template.
		b = regexp.MustCompile(`(?m)^lab \{\n  name = "[^"]*"\n\}\n\n?`).ReplaceAll(b, nil)
		rel := strings.TrimPrefix(f, tmpl+"/") // files of subdirectories (templates) keep their place
		if dir := path.Dir(rel); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				u.errorf("%v", err)
				return 1
			}
		}
		if err := os.WriteFile(rel, b, 0o644); err != nil {
			u.errorf("%v", err)
			return 1
		}
		fmt.Fprintf(u.stdout, "wrote %s\n", rel)
	}
	fmt.Fprintf(u.stdout, "\nA new lab %q from the %s template. Next: labnet validate && labnet apply\n", name, tmpl)
	return 0
}

// templateFiles lists a template's files: its *.hcl and what they read
// (templates in subdirectories).
func templateFiles(tmpl string) ([]string, error) {
	var files []string
	err := fs.WalkDir(labs.FS, tmpl, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil || !slices.ContainsFunc(files, func(f string) bool { return path.Ext(f) == ".hcl" }) {
		return nil, errors.New("no such template")
	}
	return files, nil
}

// validateJSON prints diagnostics as JSON, Terraform's shape.
func validateJSON(u *ui, lab *config.Lab, diags hcl.Diagnostics) int {
	type pos struct {
		Line   int `json:"line"`
		Column int `json:"column"`
	}
	type rng struct {
		Filename string `json:"filename"`
		Start    pos    `json:"start"`
		End      pos    `json:"end"`
	}
	type diag struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail,omitempty"`
		Range    *rng   `json:"range,omitempty"`
	}
	out := struct {
		Valid        bool   `json:"valid"`
		ErrorCount   int    `json:"error_count"`
		WarningCount int    `json:"warning_count"`
		Diagnostics  []diag `json:"diagnostics"`
	}{Valid: !diags.HasErrors(), Diagnostics: []diag{}}
	for _, d := range diags {
		dd := diag{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			dd.Severity = "warning"
			out.WarningCount++
		} else {
			out.ErrorCount++
		}
		if d.Subject != nil {
			dd.Range = &rng{d.Subject.Filename, pos{d.Subject.Start.Line, d.Subject.Start.Column}, pos{d.Subject.End.Line, d.Subject.End.Column}}
		}
		out.Diagnostics = append(out.Diagnostics, dd)
	}
	enc := json.NewEncoder(u.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	if diags.HasErrors() {
		return 1
	}
	return 0
}

// filterChecks keeps the checks whose name matches -run.
func filterChecks(checks []*config.Check, run string) ([]*config.Check, error) {
	if run == "" {
		return checks, nil
	}
	re, err := regexp.Compile(run)
	if err != nil {
		return nil, fmt.Errorf("-run: %w", err)
	}
	var out []*config.Check
	for _, c := range checks {
		if re.MatchString(c.Name) {
			out = append(out, c)
		}
	}
	return out, nil
}
