package check

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Table prints results as a table and a summary line.
func Table(w io.Writer, results []Result, color bool) {
	green, red, reset := colors(color)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tFROM\tTO\tKIND\tEXPECTED\tOBSERVED\tSOURCE SEEN\tTIME\tRESULT")
	passed, failed := 0, 0
	for _, r := range results {
		res := green + "pass" + reset
		if r.Pass {
			passed++
		} else {
			failed++
			res = red + "FAIL" + reset
		}
		kind := r.Kind
		if r.Target != "" {
			kind += " " + r.Target
		}
		took := r.Elapsed.Round(time.Millisecond).String()
		if r.Tries > 1 {
			took += fmt.Sprintf(" (%d tries)", r.Tries)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.From, dash(r.To), kind, r.Expected, dash(r.Observed), dash(r.Seen),
			took, res)
	}
	tw.Flush()
	for _, r := range results {
		if r.Detail != "" && !r.Pass {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, r.Detail)
		}
	}
	fmt.Fprintf(w, "\n%d passed, %d failed\n", passed, failed)
}

// colors are the terminal's green, red and reset, or nothing.
func colors(on bool) (green, red, reset string) {
	if on {
		return "\033[32m", "\033[31m", "\033[0m"
	}
	return "", "", ""
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Output    string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes results as a JUnit XML test suite.
func WriteJUnit(path, lab string, results []Result, total time.Duration) error {
	s := junitSuite{Name: "labnet." + lab, Tests: len(results), Time: secs(total)}
	for _, r := range results {
		c := junitCase{Name: r.Name, Classname: "labnet." + lab, Time: secs(r.Elapsed),
			Output: fmt.Sprintf("from=%s to=%s kind=%s target=%s expected=%s observed=%s source_seen=%s", r.From, r.To, r.Kind, r.Target, r.Expected, r.Observed, r.Seen)}
		if !r.Pass {
			s.Failures++
			msg := fmt.Sprintf("expected %s, observed %s", r.Expected, dash(r.Observed))
			c.Failure = &junitFailure{Message: msg, Text: strings.TrimSpace(msg + "\n" + r.Detail)}
		}
		s.Cases = append(s.Cases, c)
	}
	b, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// StepTable prints the steps of scenarios: what each did, how long it
// took, and for a step of checks each check's result and time (a check
// with `within` shows how long convergence took).
func StepTable(w io.Writer, steps []Result, color bool) {
	green, red, reset := colors(color)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO STEP\tDOES\tTIME\tRESULT")
	passed, failed, skipped := 0, 0, 0
	for _, r := range steps {
		res := green + "pass" + reset
		switch {
		case r.Observed == "skipped":
			skipped++
			res = "skipped"
		case r.Pass:
			passed++
		default:
			failed++
			res = red + "FAIL" + reset
		}
		does := r.Kind
		if r.From != "" {
			does = r.From + " " + strings.TrimPrefix(r.Kind, "fault ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, does, r.Elapsed.Round(time.Millisecond), res)
	}
	tw.Flush()
	for _, r := range steps {
		if r.Detail != "" && r.Observed != "skipped" {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, r.Detail)
		}
	}
	fmt.Fprintf(w, "\n%d steps passed, %d failed, %d skipped\n", passed, failed, skipped)
}
