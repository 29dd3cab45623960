package hostnet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/remote"
)

// Step is one change's share of a host's script for one stage.
type Step struct {
	ID     int      // the change's index in the plan
	Batch  []string // lines for the host namespace's `ip -force -batch`
	Inside *Inside  // the guest's namespace, set up after the batch if this step's lines succeeded
	Shell  string   // runs after the batch and Inside, only if both succeeded for this step
	Verify string   // runs after every step's Shell (and one short pause); non-zero fails the step
	// Unbind: namespace files to unmount and remove (a deleted container's
	// mount and UTS namespaces), by one python3 for every step, after
	// the batch.
	Unbind *Unbind
	// Image: an image the step needs on the host; apply ships it (once
	// per digest per script) ahead of the first step that needs it.
	Image *ImageNeed
}

// ImageNeed is an image a step needs on its host, read from Archive
// (Transport: docker-archive, oci-archive, oci or docker; image.Open's
// location) on the machine labnet runs on.
type ImageNeed struct {
	Digest, Transport, Archive string
}

// Script is everything one host does in one stage: one SSH exchange.
type Script struct {
	Header string // runs first; if it fails, every step fails with its output
	Steps  []Step
}

// Render turns the steps into one POSIX sh script. All batch lines go to
// one `ip -force -batch` (one process however many objects); its failures
// are mapped back to steps by line number, then each step's shell part runs.
// The script reports per step: "@@ok ID", or "@@fail ID" followed by
// "@@err ID <line>" lines; except that a step made of batch lines alone is
// judged from the batch's failed lines ("@@ip ..." before "@@batch"): a
// stage that removes 1,000 guests then sends and runs no per-guest shell.
func (s Script) Render() string {
	var b strings.Builder
	b.WriteString("set -u\n")
	if s.Header != "" {
		var ids []string
		for _, st := range s.Steps {
			ids = append(ids, strconv.Itoa(st.ID))
		}
		fmt.Fprintf(&b, "hout=$( {\n%s\n} 2>&1 ) || { for id in %s; do echo \"@@fail $id\"; printf '%%s\\n' \"$hout\" | sed \"s/^/@@err $id /\"; done; exit 0; }\n",
			trimNL(s.Header), strings.Join(ids, " "))
	}
	spans := map[int][2]int{}
	var lines []string
	for _, st := range s.Steps {
		if len(st.Batch) == 0 {
			continue
		}
		sp := [2]int{len(lines) + 1, len(lines) + len(st.Batch)}
		spans[st.ID] = sp
		lines = append(lines, st.Batch...)
	}
	renderUnbindWhole(&b, s.Steps)
	b.WriteString("ipfail=''\n")
	if len(lines) > 0 {
		b.WriteString("ipout=$(ip -force -batch - 2>&1 <<'LABNET_BATCH'\n")
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		b.WriteString("LABNET_BATCH\n)\n")
		b.WriteString("iprc=$?\n")
		// Only a failed ip has lines to find (no sed on success).
		b.WriteString(`[ $iprc -ne 0 ] && ipfail=$(printf '%s\n' "$ipout" | sed -n 's/^Command failed -:\([0-9][0-9]*\)$/\1/p')` + "\n")
		// ip failed without naming a line (missing, killed): every batch line failed.
		fmt.Fprintf(&b, "if [ $iprc -ne 0 ] && [ -z \"$ipfail\" ]; then ipfail=$(seq 1 %d); printf '%%s\\n' \"$ipout\" | sed 's/^/@@ip /'; for l in $ipfail; do echo \"@@ip Command failed -:$l\"; done; ipout=''; fi\n", len(lines))
		b.WriteString(`[ -n "$ipout" ] && printf '%s\n' "$ipout" | sed 's/^/@@ip /'` + "\n")
	}
	b.WriteString("echo @@batch\n")
	b.WriteString(`batchok() { for l in $ipfail; do if [ "$l" -ge "$1" ] && [ "$l" -le "$2" ]; then return 1; fi; done; return 0; }` + "\n")
	b.WriteString(`report() { if [ "$2" -eq 0 ]; then echo "@@ok $1"; else echo "@@fail $1"; printf '%s\n' "$3" | sed "s/^/@@err $1 /"; fi; }` + "\n")
	renderInside(&b, s.Steps, spans)
	b.WriteString(`insideok() { for i in $insfail; do [ "$i" = "$1" ] && return 1; done; return 0; }` + "\n")
	renderUnbind(&b, s.Steps)
	b.WriteString("failed=''\n")
	verify := false
	for _, st := range s.Steps {
		if st.batchOnly() {
			continue
		}
		cond := "true"
		if sp, ok := spans[st.ID]; ok {
			cond = fmt.Sprintf("batchok %d %d", sp[0], sp[1])
		}
		if st.Inside != nil {
			cond += fmt.Sprintf(" && insideok %d", st.ID)
		}
		if st.Unbind != nil {
			cond += fmt.Sprintf(" && unbindok %d", st.ID)
		}
		if st.Verify != "" {
			verify = true
		}
		fmt.Fprintf(&b, "# step %d\nif %s; then\n", st.ID, cond)
		if st.Shell == "" {
			if st.Verify == "" {
				fmt.Fprintf(&b, "  echo '@@ok %d'\n", st.ID)
			} else {
				b.WriteString("  :\n")
			}
		} else {
			fmt.Fprintf(&b, "  out=$( {\n%s\n} 2>&1 ); rc=$?\n", trimNL(st.Shell))
			if st.Verify == "" {
				fmt.Fprintf(&b, "  report %d $rc \"$out\"\n", st.ID)
			} else {
				fmt.Fprintf(&b, "  [ $rc -eq 0 ] || { report %d $rc \"$out\"; failed=\"$failed %d\"; }\n", st.ID, st.ID)
			}
		}
		fmt.Fprintf(&b, "else\n  failed=\"$failed %d\"\nfi\n", st.ID)
	}
	if verify {
		b.WriteString("sleep 0.2\n")
		for _, st := range s.Steps {
			if st.Verify == "" {
				continue
			}
			fmt.Fprintf(&b, "case \" $failed \" in *\" %d \"*) ;; *)\n  out=$( {\n%s\n} 2>&1 ); report %d $? \"$out\";;\nesac\n", st.ID, trimNL(st.Verify), st.ID)
		}
	}
	b.WriteString("exit 0\n")
	return b.String()
}

// Then joins two scripts into one exchange: next runs after first (which
// must not exit), with "@@then" between their outputs; SplitThen parts
// the output again.
func Then(first, next string) string {
	return first + "echo @@then\n" + next
}

// SplitThen parts the output of a Then script: first's and next's. Without
// the "@@then" line (first ended the shell) all of it is first's.
func SplitThen(out []byte) (first, next []byte) {
	if i := bytes.Index(out, []byte("\n@@then\n")); i >= 0 {
		return out[:i+1], out[i+len("\n@@then\n"):]
	}
	if rest, ok := bytes.CutPrefix(out, []byte("@@then\n")); ok {
		return nil, rest
	}
	return out, nil
}

// batchOnly: the step is its batch lines and nothing else.
func (st Step) batchOnly() bool {
	return st.Inside == nil && st.Shell == "" && st.Verify == "" && st.Unbind == nil
}

// trimNL drops trailing newlines; shell text is never indented, which
// would break its here-documents.
func trimNL(s string) string {
	return strings.TrimRight(s, "\n")
}

// Outcome of a step: nil error for success.
type Outcome map[int]error

// StepError is a failed step with what the host said.
type StepError struct {
	Lines []string
}

func (e *StepError) Error() string {
	if len(e.Lines) == 0 {
		return "failed without a message"
	}
	return strings.Join(e.Lines, "; ")
}

// Run sends the script to its host in one exchange and reads each step's
// outcome; an error is the connection's, or the script as a whole failing.
func (s Script) Run(ctx context.Context, conn *remote.Conn) (Outcome, error) {
	r, err := conn.Run(ctx, s.Render())
	if err != nil {
		return nil, err
	}
	if r.Code != 0 {
		return nil, fmt.Errorf("script exited %d: %s", r.Code, strings.TrimSpace(string(r.Stderr)))
	}
	return s.ParseOutcome(r.Stdout), nil
}

// ParseOutcome reads a rendered script's output. Steps that report nothing
// (the script died early) are failures.
func (s Script) ParseOutcome(stdout []byte) Outcome {
	// Map batch line numbers (from 1) to steps again.
	lineStep := []int{0}
	lineText := []string{""}
	for _, st := range s.Steps {
		for _, l := range st.Batch {
			lineStep = append(lineStep, st.ID)
			lineText = append(lineText, l)
		}
	}
	res := Outcome{}
	batchDone := false
	msgs := map[int][]string{}
	var pending []string
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<26) // grows only for a long line
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "@@ip "):
			t := strings.TrimPrefix(line, "@@ip ")
			if rest, ok := strings.CutPrefix(t, "Command failed -:"); ok {
				if ln, err := strconv.Atoi(rest); err == nil && ln > 0 && ln < len(lineStep) {
					id := lineStep[ln]
					msgs[id] = append(msgs[id], "ip "+lineText[ln]+": "+strings.Join(pending, " "))
					res[id] = &StepError{Lines: msgs[id]}
				}
				pending = nil
			} else if t != "" {
				pending = append(pending, t)
			}
		case line == "@@batch":
			batchDone = true
		case strings.HasPrefix(line, "@@ok "):
			id, _ := strconv.Atoi(strings.TrimPrefix(line, "@@ok "))
			if _, failed := res[id]; !failed {
				res[id] = nil
			}
		case strings.HasPrefix(line, "@@fail "):
			id, _ := strconv.Atoi(strings.TrimPrefix(line, "@@fail "))
			res[id] = &StepError{}
		case strings.HasPrefix(line, "@@err "):
			f := strings.SplitN(strings.TrimPrefix(line, "@@err "), " ", 2)
			id, _ := strconv.Atoi(f[0])
			if len(f) == 2 && f[1] != "" {
				if se, ok := res[id].(*StepError); ok {
					se.Lines = append(se.Lines, f[1])
				}
			}
		}
	}
	for _, st := range s.Steps {
		if _, ok := res[st.ID]; !ok && batchDone && st.batchOnly() {
			res[st.ID] = nil // none of its lines failed
		}
		if _, ok := res[st.ID]; !ok {
			res[st.ID] = &StepError{Lines: []string{"no report from host (script ended early)"}}
		}
	}
	return res
}

// IDs lists the step IDs in order.
func (s Script) IDs() []int {
	ids := make([]int, 0, len(s.Steps))
	for _, st := range s.Steps {
		ids = append(ids, st.ID)
	}
	sort.Ints(ids)
	return ids
}
