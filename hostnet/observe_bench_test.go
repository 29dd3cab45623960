package hostnet

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labnet-dev/labnet/internal/testutil"
)

// BenchmarkObserveNetns measures the per-namespace part of a refresh on a
// host with 100 guests, 10 of them shaped, for the ways of reading eth0's
// root qdisc (see ObserveScript). Needs root:
//
//	go test ./hostnet/ -run '^$' -bench ObserveNetns -benchtime 20x
func BenchmarkObserveNetns(b *testing.B) {
	testutil.NeedRoot(b)
	if _, err := exec.LookPath("tc"); err != nil {
		b.Skip("no tc")
	}
	n := Names{Lab: testutil.LabName("bobs")}
	var setup, teardown strings.Builder
	for i := range 100 {
		ns := n.Netns(fmt.Sprintf("g-%d", i))
		fmt.Fprintf(&setup, "ip netns add %s && ip -n %s link add eth0 type veth peer name p0 && ip -n %s link set eth0 up && ip -n %s link set p0 up && ip -n %s addr add 10.0.0.2/24 dev eth0 || exit 1\n", ns, ns, ns, ns, ns)
		if i%10 == 0 {
			fmt.Fprintf(&setup, "tc -n %s qdisc replace dev eth0 root tbf rate 10mbit burst 16384 latency 50ms || exit 1\n", ns)
		}
		fmt.Fprintf(&teardown, "ip netns del %s\n", ns)
	}
	b.Cleanup(func() { _ = exec.Command("sh", "-c", teardown.String()).Run() })
	if out, err := exec.Command("sh", "-c", setup.String()).CombinedOutput(); err != nil {
		b.Fatalf("setup: %v\n%s", err, out)
	}
	loop := func(body string) string {
		return fmt.Sprintf("for f in /run/netns/%s*; do [ -e \"$f\" ] || continue; ns=${f##*/}; echo \"@@ns $ns\"; %s; done\necho @@end\n", n.NetnsPrefix(), body)
	}
	ipOnly := `printf 'addr show\nroute show default\n' | ip -d -j -n "$ns" -batch -; echo`
	variants := []struct{ name, script string }{
		{"ip-only-before", loop(ipOnly)},
		{"tc-when-shaped-heredoc-chosen", loop(netnsObserve)},
		{"tc-when-shaped-printf", loop(`nsout=$(printf 'addr show\nroute show default\n' | ip -d -j -n "$ns" -batch -); printf '%s\n' "$nsout"; case $nsout in *'"qdisc":"tbf"'*|*'"qdisc":"netem"'*) echo "@@tc $ns"; tc -j -n "$ns" qdisc show dev eth0; echo;; esac`)},
		{"capture-no-tc", loop(`nsout=$(printf 'addr show\nroute show default\n' | ip -d -j -n "$ns" -batch -); printf '%s\n' "$nsout"`)},
		{"tc-always", loop(ipOnly + `; echo "@@tc $ns"; tc -j -n "$ns" qdisc show dev eth0; echo`)},
		{"netns-exec-sh", loop(`ip netns exec "$ns" sh -c 'printf "addr show\nroute show default\n" | ip -d -j -batch -; echo; echo "@@tc $1"; tc -j qdisc show dev eth0; echo' sh "$ns"`)},
	}
	for _, v := range variants {
		out, err := exec.Command("sh", "-c", v.script).Output()
		if err != nil {
			b.Fatalf("%s: %v", v.name, err)
		}
		o, err := ParseObserved(append([]byte("@@links\n[]\n"), out...))
		if err != nil || len(o.Netns) != 100 {
			b.Fatalf("%s: %v, %d namespaces", v.name, err, len(o.Netns))
		}
	}
	// The variants run interleaved, in a rotating order, and each reports
	// its median: other work on the machine then weighs on all of them
	// alike.
	times := make([][]time.Duration, len(variants))
	i := 0
	for b.Loop() {
		for k := range variants {
			j := (i + k) % len(variants)
			start := time.Now()
			if err := exec.Command("sh", "-c", variants[j].script).Run(); err != nil {
				b.Fatal(err)
			}
			times[j] = append(times[j], time.Since(start))
		}
		i++
	}
	for j, v := range variants {
		slices.Sort(times[j])
		b.ReportMetric(float64(times[j][len(times[j])/2])/1e6, v.name+"-ms")
	}
}
