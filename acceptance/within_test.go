package acceptance

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCheckWithin: a check with `within` is tried until it passes, and the
// report says how long that took and how many tries; one that never passes
// fails once its time is up, not at the first try.
func TestCheckWithin(t *testing.T) {
	l := newLab(t, "testdata/within")
	l.must(0, "apply", "-auto-approve")
	out, _, code := l.run("test")
	if code != 1 || !strings.Contains(out, "4 passed, 3 failed") {
		t.Fatalf("test: exit %d\n%s", code, out)
	}
	// expect_output: the output decides, and the report says why not.
	if !regexp.MustCompile(`(?m)^output-matches .* pass`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^output-differs .* FAIL`).MatchString(out) ||
		!strings.Contains(out, `output-differs: output does not match "hello": goodbye`) {
		t.Errorf("expect_output:\n%s", out)
	}
	// route: read from the node's routing table, next hops counted.
	if !regexp.MustCompile(`(?m)^two-paths .*route 10.0.4.0/24 .* pass`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^no-route .* blocked .* pass`).MatchString(out) ||
		!strings.Contains(out, `wrong-count: 192.168.91.0/24 via dev eth0: 1 next hops, wants 2`) {
		t.Errorf("route checks:\n%s", out)
	}
	row := regexp.MustCompile(`(?m)^(appears|never|two-paths) .* (\S+) \((\d+) tries\)\s+(pass|FAIL)`)
	got := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(out, -1) {
		got[m[1]] = m[2:]
	}
	if len(got) != 3 {
		t.Fatalf("rows with tries: %v\n%s", got, out)
	}
	took, _ := time.ParseDuration(got["appears"][0])
	tries, _ := strconv.Atoi(got["appears"][1])
	if got["appears"][2] != "pass" || took < time.Second || tries < 2 {
		t.Errorf("appears: %v, want a pass after >= 1s and several tries\n%s", got["appears"], out)
	}
	took, _ = time.ParseDuration(got["never"][0])
	if got["never"][2] != "FAIL" || took < 1750*time.Millisecond || took > 4*time.Second {
		t.Errorf("never: %v, want a failure after about 2s\n%s", got["never"], out)
	}
}
